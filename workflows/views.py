"""What a manager reads: the status of one project, from facts, as of the caller's day.

Rung labels and colours come from the pack's ladder, so every view (CLI, dashboard, ICS)
speaks the jurisdiction's terms. Pure: runs in the sandbox (the `status` query).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from workflows.base import OPEN_STATES
from workflows.escalation import delay_total, shown_level
from workflows.intake import breaches
from workflows.models import (
    BreachView,
    ObligationState,
    ObligationView,
    StatusView,
)
from workflows.schedule import Instance

COLOUR_OK = "green"

if TYPE_CHECKING:
    from workflows.ledger import Ledger


def limit_text(ledger: Ledger, inst: Instance) -> str | None:
    rule = inst.rule
    due_by = getattr(rule, "due_by", None)
    if due_by is not None:
        if due_by.before_event is not None:
            return f"{due_by.before_event} 前"
        day = "底" if due_by.day == "end" else f"{due_by.day}日"
        return f"每年{due_by.month}月{day}前"
    if getattr(rule, "no_limit", None):
        return f"无时限（{rule.no_limit}）"  # type: ignore[union-attr]
    if getattr(rule, "opens_only", False):
        return f"{rule.opens} 后起"  # type: ignore[union-attr]
    return inst.limit


def obligation_views(ledger: Ledger, today: date) -> list[ObligationView]:
    out: list[ObligationView] = []
    pack = ledger.pack
    withdrawn_by_inst: dict[str, int] = {}
    for n in ledger.state.notices:
        if n.key in ledger.state.withdrawn:
            withdrawn_by_inst[n.obligation] = withdrawn_by_inst.get(n.obligation, 0) + 1
    for inst in ledger.instances(today):
        level = shown_level(ledger, inst.id)
        rung = pack.rung(level)
        state = ledger.state_of(inst, today)
        late = ledger.overdue_days(inst, today)
        on_time = None
        if state is ObligationState.DONE and inst.due_on is not None:
            on_time = late == 0
        out.append(ObligationView(
            id=inst.id, rule=inst.rule.id, title=inst.title, actor=inst.actor,
            actor_name=ledger.actor_name(inst.actor), state=state, starts_on=inst.starts_on,
            opens_on=inst.opens_on, due_on=inst.due_on,
            due_at=_end_of_day(inst.due_on), provisional=inst.provisional,
            overdue_working_days=late, escalation_level=level,
            escalation_rung=rung.name if rung else None,
            escalation_label=(rung.label or rung.name) if rung else None,
            escalation_colour=rung.colour if rung else None,
            citation=inst.citation, interpretation=getattr(inst.rule, "interpretation", None),
            done_on=inst.done_on, paused_since=inst.paused_since,
            note=inst.waived or inst.note, limit=limit_text(ledger, inst),
            limit_basis=getattr(inst.rule, "limit_basis", None), open_ended=inst.open_ended,
            on_time=on_time, withdrawn_notices=withdrawn_by_inst.get(inst.id, 0),
        ))
    return out


def _end_of_day(day: date | None) -> datetime | None:
    from calendars.periods import end_of_day

    return end_of_day(day) if day else None


def status(ledger: Ledger, now: datetime, today: date) -> StatusView:
    """The status as of `today` (the caller's Beijing date); `now` only stamps it."""
    views = obligation_views(ledger, today)
    live = [v for v in views if v.state in OPEN_STATES]
    dues = [v.due_on for v in live if v.due_on is not None]
    stage = ledger.stage(today)
    pack = ledger.pack
    level = max((v.escalation_level for v in live), default=0)
    rung = pack.rung(level)
    total, _ = delay_total(ledger, today)
    note = pack.validity_on(ledger.project.started_on)
    return StatusView(
        project_id=ledger.project.id,
        name=ledger.project.name,
        policy=pack.id,
        jurisdiction=pack.jurisdiction,
        owner=ledger.project.owner,
        stage=stage,
        stage_title=next(s.title for s in pack.stages if s.id == stage),
        as_of=now,
        today=today,
        finished=ledger.finished(today),
        next_due_on=min(dues) if dues else None,
        overdue=any(v.state is ObligationState.OVERDUE for v in views),
        escalation_level=level,
        escalation_label=(rung.label or rung.name) if rung else None,
        escalation_colour=rung.colour if rung else COLOUR_OK,
        obligations=views,
        documents=sorted(ledger.state.documents, key=lambda d: d.on),
        events=list(ledger.state.events),
        notices=list(ledger.state.notices),
        policy_status=policy_status(ledger),
        policy_note=note,
        breaches=[BreachView(id=b.id, rule=b.rule, title=b.title, citation=b.citation,
                             document=b.document, on=b.on, detail=b.detail)
                  for b in breaches(ledger, today)],
        delay_working_days=total,
        withdrawn_notices=len(ledger.state.withdrawn),
    )


def policy_status(ledger: Ledger) -> str:
    """draft, expired (the text lapsed before this project started), or in_force."""
    pack = ledger.pack
    if pack.status != "in_force":
        return pack.status
    started = ledger.project.started_on
    return "expired" if pack.expires_on is not None and started > pack.expires_on else "in_force"
