"""Terminal tables that line up with Chinese text (wide characters take two columns)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from calendars.periods import SHANGHAI
from shixian.readmodel import next_due_day
from shixian.tables import pad, table, width
from workflows.models import ObligationState, StatusView

__all__ = ["dump_json", "pad", "status_text", "table", "termination", "width"]


def dump_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any] | list[Any]) -> str:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, list | tuple):
        data = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    else:
        data = value
    return json.dumps(data, ensure_ascii=False, indent=2)


def _colour(state: ObligationState, text: str) -> str:
    if not sys.stdout.isatty():
        return text
    code = {ObligationState.OVERDUE: "31", ObligationState.OPEN: "33",
            ObligationState.DONE: "32", ObligationState.PAUSED: "36"}.get(state)
    return f"\033[{code}m{text}\033[0m" if code else text


POLICY_MARK = {"draft": "  [征求意见稿 draft: rules not in force]",
               "expired": "  [已过有效期 expired text]"}


TERMINATED = "已终止"


def termination(status: StatusView) -> str | None:
    """"<date>: <reason>" when the project was terminated (撤销/终止), from its events."""
    ended = [e for e in status.events if e.kind == "terminated"]
    return f"{ended[-1].on}: {ended[-1].text}" if ended else None


def next_due(status: StatusView) -> date | None:
    """As `shixian list` shows it (a known pending due day too)."""
    return next_due_day(((o.state, o.due_on) for o in status.obligations), status.next_due_on)


def status_text(status: StatusView, show_waived: bool = False,
                deliveries: dict[str, str] | None = None) -> str:
    """`deliveries`: notice key → a summary of its delivery rows (`shixian notices`)."""
    level = (f"{status.escalation_level} {status.escalation_label}"
             if status.escalation_label else str(status.escalation_level))
    ended = termination(status)
    stage = (f"{TERMINATED} terminated {ended} (was at {status.stage} {status.stage_title})"
             if ended else f"{status.stage} {status.stage_title}")
    head = [
        f"{status.project_id}  {status.name}  ({status.policy}, {status.jurisdiction})"
        + POLICY_MARK.get(status.policy_status, ""),
        f"stage: {stage}   today: {status.today} (Beijing)   "
        f"next due: {next_due(status) or '-'}   overdue: {'yes' if status.overdue else 'no'}"
        f"   escalation: {level}" + ("   [finished]" if status.finished and not ended
                                     else ""),
    ]
    if status.policy_note:
        head.append(f"policy: {status.policy_note}")
    if status.delay_working_days:
        head.append(f"owner delay (前期工作累计延后): {status.delay_working_days} working days")
    if status.facts:
        head.append("facts (项目信息项): " + "; ".join(
            f"{f.label} {f.value}" + (f" (据{f.stated_by})" if f.stated_by else "")
            for f in status.facts))
    head.append("")
    rows = []
    for ob in status.obligations:
        if ob.state is ObligationState.WAIVED and not show_waived:
            continue
        due = ob.due_on.isoformat() if ob.due_on else ("open" if ob.open_ended else "-")
        if ob.provisional:
            due += "*"
        if ob.limit_basis:
            due += "†"
        state = ob.state.value
        if ob.on_time is True:
            state = "done on time"
        elif ob.on_time is False:
            state = "done late"
        rows.append([
            ob.id, ob.title, ob.actor_name, _colour(ob.state, state), due,
            str(ob.overdue_working_days or ""), ob.escalation_label or ob.escalation_rung or "",
            ob.done_on.isoformat() if ob.done_on else "", ob.citation,
        ])
    body = table(["obligation", "事项", "actor", "state", "due", "late wd", "rung", "done",
                  "citation"], rows)
    tail = []
    if any(ob.provisional for ob in status.obligations):
        tail.append("* provisional: counted over days the State Council has not announced yet")
    if any(ob.limit_basis for ob in status.obligations):
        tail.append("† shixian 运营默认: the regulation sets no number; shixian's default")
    if status.breaches:
        tail += ["", "breaches (违规, recorded as facts):"]
        tail += [f"  {b.on or ''}  {b.title}: {b.detail} ({b.citation})" for b in status.breaches]
    if status.notices:
        withdrawn = {n.withdraws for n in status.notices if n.withdraws}
        tail += ["", "notices (Beijing dates):"]
        tail += [f"  {beijing_date(n.fired_at)}  {n.rung:<11} → {', '.join(n.recipients)}: "
                 f"{n.message}" + ("   [withdrawn]" if n.key in withdrawn else "")
                 + (f"\n      delivery: {deliveries[n.key]}" if deliveries and n.key in
                    deliveries else "")
                 for n in status.notices]
    return "\n".join([*head, body, *tail])


def beijing_date(at: datetime) -> str:
    return at.astimezone(SHANGHAI).date().isoformat()
