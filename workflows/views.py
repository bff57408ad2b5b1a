"""What a manager reads: the status of one project, from facts, as of the caller's day.

Rung labels and colours come from the pack's ladder, so every view (CLI, dashboard, ICS)
speaks the jurisdiction's terms. Pure: runs in the sandbox (the `status` query).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from calendars.periods import end_of_day
from policies.model import Recurring
from workflows.base import OPEN_STATES
from workflows.escalation import delay_total, shown_levels
from workflows.intake import breaches, fact
from workflows.models import (
    BreachView,
    FactView,
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
    levels = shown_levels(ledger)
    for inst in ledger.instances(today):
        level = levels.get(inst.id, 0)
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
    return end_of_day(day) if day else None


def status(ledger: Ledger, now: datetime, today: date) -> StatusView:
    """The status as of `today` (the caller's Beijing date); `now` only stamps it."""
    base = summary(ledger, now, today)
    total, _ = delay_total(ledger, today)
    return base.model_copy(update={
        "documents": sorted(ledger.state.documents, key=lambda d: d.on),
        "events": list(ledger.state.events),
        "notices": list(ledger.state.notices),
        "policy_status": policy_status(ledger),
        "policy_note": ledger.pack.validity_on(ledger.project.started_on),
        "breaches": [BreachView(id=b.id, rule=b.rule, title=b.title, citation=b.citation,
                                document=b.document, on=b.on, detail=b.detail)
                     for b in breaches(ledger, today)],
        "delay_working_days": total,
        "withdrawn_notices": len(ledger.state.withdrawn),
        "facts": status_facts(ledger),
    })


def summary(ledger: Ledger, now: datetime, today: date) -> StatusView:
    """The status without documents, events, notices, breaches and facts: what the read
    model, the search attributes and the Web UI's details take, computed at every wake
    (and every replayed one) of the lifecycle workflow."""
    views = obligation_views(ledger, today)
    live = [v for v in views if v.state in OPEN_STATES]
    dues = [v.due_on for v in live if v.due_on is not None]
    stage = ledger.stage(today)
    pack = ledger.pack
    level = max((v.escalation_level for v in live), default=0)
    rung = pack.rung(level)
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
        documents=[],
        events=[],
        notices=[],
    )


def status_facts(ledger: Ledger) -> list[FactView]:
    """The declared facts that have a value, as `status` shows them (see `fact_views`)."""
    out = []
    for f in fact_views(ledger):
        if f["value"] is None:
            continue
        source = f["source"]
        by = ledger.pack.documents[str(source)].title if source in ledger.pack.documents \
            else None
        out.append(FactView(id=str(f["id"]), label=str(f["label"]), value=str(f["shown"]),
                            stated_by=by))
    return out


def policy_status(ledger: Ledger) -> str:
    """draft, expired (the text lapsed before this project started), or in_force."""
    pack = ledger.pack
    if pack.status != "in_force":
        return pack.status
    started = ledger.project.started_on
    return "expired" if pack.expires_on is not None and started > pack.expires_on else "in_force"


# ---- the dry run: every rule that applies to a project, in words -----------------------------
def event_title(ledger: Ledger, event: str | None) -> str:
    """A document's, period's or date fact's Chinese name (计划开工时间), else the id."""
    pack = ledger.pack
    if event is None:
        return "?"
    if event in pack.documents:
        return pack.documents[event].title
    if event.startswith("fact:") and event[5:] in pack.facts:
        return pack.facts[event[5:]].label
    period = next((p for p in pack.periods if p.id == event), None)
    return period.title if period is not None else event


def _no_limit_words(text: str) -> str:
    return f"no due day ({text})" if "未规定" in text else f"no due day (文中未规定时限：{text})"


def due_words(ledger: Ledger, inst: Instance) -> str:
    """The due day, or why there is none, as the dry run prints it: `2026-11-20`,
    `no due day (文中未规定)`, `open from 2027-10-18, no closing day`, or what it will count
    from (`5wd after 中标通知书 (not yet)`)."""
    rule = inst.rule
    if inst.due_on is not None:
        return inst.due_on.isoformat() + ("*" if inst.provisional else "")
    no_limit = getattr(rule, "no_limit", None)
    if no_limit:
        return _no_limit_words(no_limit)
    if inst.opens_on is not None:
        return f"open from {inst.opens_on}, no closing day (文中未规定截止日)"
    resolved = ledger.plan.obligation(rule.id) if not isinstance(rule, Recurring) else None
    trigger = event_title(ledger, resolved.trigger) if resolved is not None else "?"
    if getattr(rule, "opens_only", False):
        return f"opens {rule.opens} after {trigger} (not yet), no closing day"  # type: ignore[union-attr]
    due_by = getattr(rule, "due_by", None)
    if due_by is not None and due_by.before_event is not None:
        what = event_title(ledger, due_by.before_event)
        if due_by.before_event.startswith("fact:"):
            return f"before {what} (the fact is not given yet)"
        return f"before {what} (not yet)"
    if due_by is not None and due_by.month is not None:
        return f"{limit_text(ledger, inst)} of the year of {trigger} (not yet)"
    if inst.starts_on is None:
        return f"{limit_text(ledger, inst) or 'counted'} after {trigger} (not yet)"
    return "no due day (文中未规定)"


def _state_of_minimum(start: date | None, end: date | None, docs: list[date], today: date,
                      ) -> str:
    if start is None or end is None:
        return "pending"  # what it counts from has not happened
    if any(start <= d < end for d in docs):
        return "breached"
    if docs:
        return "met"
    return "running" if today < end else "over"


def minimum_views(ledger: Ledger, today: date) -> list[dict[str, object]]:
    """Each minimum duration on the project's path: from when, until when, and whether the
    document it guards came too early (breached), after it (met), or not yet."""
    sched = ledger.schedule()
    out: list[dict[str, object]] = []
    for mini in ledger.plan.minimums:
        rule = mini.rule
        starts = sched.event_dates(rule.after)[:1]
        start = starts[0] if starts else None
        end = sched.period_end(start, mini.length, moves_to_workday=False) if start else None
        docs = [d.on for d in ledger.docs(rule.document)]
        out.append({
            "id": rule.id, "title": rule.title, "after": rule.after,
            "after_title": event_title(ledger, rule.after), "length": mini.length,
            "document": rule.document, "document_title": event_title(ledger, rule.document),
            "starts_on": start, "ends_on": end,
            "state": _state_of_minimum(start, end, docs, today),
            "citation": rule.citation, "interpretation": rule.interpretation,
        })
    return out


def gate_views(ledger: Ledger, today: date) -> list[dict[str, object]]:
    """Each order the text imposes on the project's path: what must come first, what is
    still missing, and whether the guarded document already broke it."""
    recorded = {d.type for d in ledger.all_docs()}
    broken = {b.rule for b in breaches(ledger, today)}
    out: list[dict[str, object]] = []
    for gate in ledger.plan.gates:
        missing = [r for r in gate.requires if r not in recorded]
        if gate.requires_any and not recorded & set(gate.requires_any):
            missing.append(" / ".join(gate.requires_any))
        if gate.id in broken:
            state = "breached"
        elif ledger.docs(gate.document):
            state = "passed"
        else:
            state = "closed" if missing else "open"
        out.append({
            "id": gate.id, "title": gate.title, "document": gate.document,
            "document_title": event_title(ledger, gate.document),
            "requires": [event_title(ledger, r) for r in gate.requires],
            "requires_any": [event_title(ledger, r) for r in gate.requires_any],
            "missing": [" / ".join(event_title(ledger, x) for x in m.split(" / "))
                        for m in missing],
            "state": state, "citation": gate.citation, "interpretation": gate.interpretation,
        })
    return out


def check_views(ledger: Ledger, today: date) -> list[dict[str, object]]:
    """Each bound on a fact on the project's path: the bound, the value known today (from
    the project record or the latest document stating it), and whether it holds."""
    pack = ledger.pack
    broken = {b.rule for b in breaches(ledger, today)}

    def label(name: str) -> str:
        return "投资额（万元）" if name == "investment_wan" else (
            pack.facts[name].label if name in pack.facts else name)

    out: list[dict[str, object]] = []
    for chk in ledger.plan.checks:
        value, source = fact(ledger, chk.fact)
        parts = []
        if chk.max is not None:
            parts.append(f"≤ {chk.max:g}")
        if chk.min is not None:
            parts.append(f"≥ {chk.min:g}")
        if chk.max_ratio_of is not None and chk.ratio is not None:
            parts.append(f"≤ {chk.ratio:g} × {label(chk.max_ratio_of)}")
        state = "breached" if chk.id in broken else ("unknown" if value is None else "ok")
        out.append({
            "id": chk.id, "title": chk.title, "fact": chk.fact, "fact_label": label(chk.fact),
            "bound": " and ".join(parts), "value": value,
            "stated_by": source.type if source is not None else (
                "project" if value is not None else None),
            "state": state, "citation": chk.citation, "interpretation": chk.interpretation,
        })
    return out


def recurring_views(ledger: Ledger) -> list[dict[str, object]]:
    """Each repeating duty on the project's path, with its period and when each is due."""
    out: list[dict[str, object]] = []
    every = {"quarter": "每季度", "month": "每月", "year": "每年"}
    for rec in ledger.plan.recurring:
        if not rec.applies:
            continue
        rule = rec.rule
        if rule.due_by is not None:
            day = "底" if rule.due_by.day == "end" else f"{rule.due_by.day}日"
            due = f"每年{rule.due_by.month}月{day}前"
        elif rule.due_after_period_end in ("0d", "0wd"):
            due = "on the period's last day (moved to a working day)"
        else:
            due = f"{rule.due_after_period_end} after each period ends"
        out.append({
            "id": rule.id, "title": rule.title, "every": rule.every,
            "every_title": every[rule.every], "due": due,
            "actor": rec.actor, "actor_name": ledger.actor_name(rec.actor),
            "from_event": event_title(ledger, rule.from_event),
            "until_event": event_title(ledger, rule.until_event),
            "first_partial": rule.first_partial, "last_partial": rule.last_partial,
            "citation": rule.citation, "interpretation": rule.interpretation,
        })
    return out


def fact_views(ledger: Ledger) -> list[dict[str, object]]:
    """The pack's declared facts with this project's values (project record, a document's
    statement, or the pack's default) — what the path above was chosen on."""
    values = ledger.fact_values()
    stated = {n: d.type for d in sorted(ledger.state.documents, key=lambda d: d.on)
              for n in d.facts}
    out: list[dict[str, object]] = []
    for name, spec in ledger.pack.facts.items():
        value = values.get(name)
        source: str | None
        if name in stated:
            source = stated[name]
        elif name in ledger.project.facts:
            source = "project"
        else:
            source = "default" if value is not None else None
        shown: object = value
        if spec.choices and value is not None:
            shown = spec.choices.get(str(value), value)
        elif isinstance(value, bool):
            shown = "是" if value else "否"
        elif isinstance(value, float) and value.is_integer():
            shown = int(value)
        out.append({"id": name, "label": spec.label, "type": spec.type, "value": value,
                    "shown": shown, "source": source, "required": spec.required})
    return out


def occasional_views(ledger: Ledger, today: date) -> list[dict[str, object]]:
    """Duties on the project's path that arise only when their document does (each 编修
    request, a change, a termination) and have not arisen yet: what starts them and the
    time they then give, so the dry run lists every applicable duty."""
    listed = {inst.rule.id for inst in ledger.instances(today)}
    out: list[dict[str, object]] = []
    for ob in ledger.plan.obligations:
        rule = ob.rule
        if not ob.applies or rule.id in listed:
            continue
        trigger = event_title(ledger, ob.trigger)
        if rule.no_limit:
            due = _no_limit_words(rule.no_limit)
        elif rule.opens_only:
            due = f"opens {rule.opens} after it, no closing day"
        elif rule.due_by is not None and rule.due_by.before_event is not None:
            due = f"before {event_title(ledger, rule.due_by.before_event)}"
        elif rule.due_by is not None:
            day = "底" if rule.due_by.day == "end" else f"{rule.due_by.day}日"
            due = f"by {rule.due_by.month}月{day} of its year"
        else:
            due = f"{ob.limit} after it"
        out.append({
            "id": rule.id, "title": rule.title, "actor": ob.actor,
            "actor_name": ledger.actor_name(ob.actor), "starts_with": ob.trigger,
            "starts_with_title": trigger, "due": due, "citation": rule.citation,
            "interpretation": rule.interpretation,
        })
    return out
