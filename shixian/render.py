"""Terminal tables that line up with Chinese text (wide characters take two columns)."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from workflows.models import ObligationState, StatusView


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cols: int) -> str:
    return text + " " * max(0, cols - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cols = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, c) for h, c in zip(headers, cols, strict=True)).rstrip()]
    lines += ["  ".join(pad(v, c) for v, c in zip(r, cols, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


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


def status_text(status: StatusView, show_waived: bool = False,
                deliveries: dict[str, str] | None = None) -> str:
    """`deliveries`: notice key → a summary of its delivery rows (`shixian notices`)."""
    head = [
        f"{status.project_id}  {status.name}  ({status.policy}, {status.jurisdiction})",
        f"stage: {status.stage} {status.stage_title}   today: {status.today}   next due: "
        f"{status.next_due_on or '-'}   overdue: {'yes' if status.overdue else 'no'}   "
        f"escalation level: {status.escalation_level}" + ("   [finished]" if status.finished
                                                          else ""),
        "",
    ]
    rows = []
    for ob in status.obligations:
        if ob.state is ObligationState.WAIVED and not show_waived:
            continue
        due = ob.due_on.isoformat() if ob.due_on else "-"
        if ob.provisional:
            due += "*"
        rows.append([
            ob.id, ob.actor_name, _colour(ob.state, ob.state.value), due,
            str(ob.overdue_working_days or ""), ob.escalation_rung or "",
            ob.done_on.isoformat() if ob.done_on else "", ob.citation,
        ])
    body = table(["obligation", "actor", "state", "due", "late wd", "rung", "done", "citation"],
                 rows)
    tail = []
    if any(ob.provisional for ob in status.obligations):
        tail.append("* provisional: counted over days the State Council has not announced yet")
    if status.notices:
        tail += ["", "notices:"]
        tail += [f"  {n.fired_at.date()}  {n.rung:<11} → {', '.join(n.recipients)}: {n.message}"
                 + (f"\n      delivery: {deliveries[n.key]}" if deliveries and n.key in
                    deliveries else "")
                 for n in status.notices]
    return "\n".join([*head, body, *tail])
