"""Escalation: ladder rungs, consequences and breach notices — and their withdrawal.

A notice states a fact as it stood when it fired ("逾期 5 个工作日"). When a later document
proves that statement wrong (the duty was done on time, the clock was paused, the delay
total is lower), the notice is withdrawn by a correction to the same recipients; the outbox
keeps both. Nothing here depends on when a fact became known. Pure: runs in the sandbox.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from calendars.model import CalendarError
from calendars.periods import end_of_day
from policies.model import Consequence, Obligation
from workflows.base import business_date, start_of_day
from workflows.intake import Breach, breaches
from workflows.models import NoticeKind, NoticeRecord, ObligationState
from workflows.schedule import Instance, next_period

if TYPE_CHECKING:
    from workflows.ledger import Ledger


def rung_instant(ledger: Ledger, level: int, due_on: date) -> datetime | None:
    """When rung `level` fires for a due day: -Nwd at the start of that working day, 0wd at
    24:00 of the due day, +Nwd at the start of the N-th working day after."""
    rung = ledger.pack.rung(level)
    if rung is None:
        return None
    k = int(rung.offset[:-2])
    cal = ledger.calendar
    try:
        if k < 0:
            return start_of_day(cal.subtract_working_days(due_on, -k))
        if k == 0:
            return end_of_day(due_on)
        return start_of_day(cal.add_working_days(due_on, k))
    except CalendarError:
        return None


def rung_instants(ledger: Ledger, due_on: date | None) -> list[tuple[int, str, datetime]]:
    if due_on is None:
        return []
    out: list[tuple[int, str, datetime]] = []
    for rung in ledger.pack.escalation.ladder:
        at = rung_instant(ledger, rung.level, due_on)
        if at is not None:
            out.append((rung.level, rung.name, at))
    return out


def live(ledger: Ledger, kind: NoticeKind | None = None) -> list[NoticeRecord]:
    """Notices sent and not withdrawn."""
    return [n for n in ledger.state.notices if n.key not in ledger.state.withdrawn
            and n.kind is not NoticeKind.CORRECTION and (kind is None or n.kind is kind)]


def shown_levels(ledger: Ledger) -> dict[str, int]:
    """The highest rung that still stands for each instance that has one (withdrawn rungs
    do not count), in one pass over the notices."""
    levels: dict[str, int] = {}
    for n in live(ledger, NoticeKind.RUNG):
        if n.level > levels.get(n.obligation, 0):
            levels[n.obligation] = n.level
    return levels


def _notified_for_due(ledger: Ledger, inst: Instance) -> int:
    return max((n.level for n in live(ledger, NoticeKind.RUNG)
                if n.obligation == inst.id and n.due_on == inst.due_on), default=0)


def escalate(ledger: Ledger, now: datetime) -> list[NoticeRecord]:
    """Corrections first, then every rung, consequence and breach due at `now` not yet sent."""
    today = business_date(now)
    fired = corrections(ledger, now)
    for inst in ledger.instances(today):
        if ledger.state_of(inst, today) not in (ObligationState.OPEN, ObligationState.OVERDUE):
            continue
        reached = [r for r in rung_instants(ledger, inst.due_on) if r[2] <= now]
        if not reached:
            continue
        level, name, _ = max(reached)
        if level <= _notified_for_due(ledger, inst):
            continue
        fired.append(_rung_notice(ledger, inst, level, name, now, today))
    fired += _consequences(ledger, now, today)
    fired += _breach_notices(ledger, now, today)
    for notice in fired:
        ledger.state.notices.append(notice)
        ledger.log(now, notice.kind.value if notice.kind is not NoticeKind.RUNG else "notice",
                   f"{notice.rung}: {notice.message}",
                   {"key": notice.key, "recipients": notice.recipients,
                    **({"withdraws": notice.withdraws} if notice.withdraws else {})})
    return fired


def recipients(ledger: Ledger, names: list[str], actor: str) -> tuple[list[str], list[str]]:
    """(display names, actor ids) for a notify list; `actor` is the duty's own actor."""
    ids: list[str] = []
    for name in names:
        who = actor if name == "actor" else name
        if who not in ids:
            ids.append(who)
    labels: list[str] = []
    for who in ids:
        label = ledger.actor_name(who)
        if label not in labels:
            labels.append(label)
    return labels, ids


def _context(ledger: Ledger, title: str, actor: str, ends_with: str) -> dict[str, Any]:
    return {"policy": ledger.pack.id, "project_name": ledger.project.name,
            "owner": ledger.project.owner, "duty_title": title, "actor": actor,
            "actor_name": ledger.actor_name(actor), "ends_with": ends_with,
            "owner_contact": ledger.project.owner_contact}


def _rung_notice(ledger: Ledger, inst: Instance, level: int, name: str, now: datetime,
                 today: date) -> NoticeRecord:
    rung = ledger.pack.escalation.ladder[level - 1]
    overdue = ledger.overdue_days(inst, today)
    due = inst.due_on.isoformat() if inst.due_on else "?"
    if overdue:
        what = f"逾期 {overdue} 个工作日 (到期日 {due})"
    elif inst.due_on is not None and today <= inst.due_on:
        what = f"将于 {due} 到期"
    else:
        what = f"已到期 (到期日 {due})"
    label = rung.label or rung.name
    message = (f"[{ledger.project.id}] {label}: {inst.title} — {ledger.actor_name(inst.actor)} "
               f"{what}; {inst.citation}{draft_mark(ledger)}")
    names, ids = recipients(ledger, rung.notify, inst.actor)
    ends = ledger.pack.documents[inst.rule.fulfilled_by].title
    return NoticeRecord(
        key=f"{inst.id}:{name}@{due}", obligation=inst.id, rung=name, level=level,
        recipients=names, recipient_actors=ids, message=message,
        citation=f"{inst.citation}; ladder: {rung.citation}", due_on=inst.due_on,
        overdue_working_days=overdue, fired_at=now,
        **_context(ledger, inst.title, inst.actor, ends))


# ---- consequences ------------------------------------------------------------------------
def delay_total(ledger: Ledger, today: date) -> tuple[int, int]:
    """Overdue working days of delay-counting duties as the facts stand on `today`, and how
    many of them still grow."""
    total, growing = 0, 0
    for inst in ledger.instances(today):
        # `type() is`, not isinstance: in a workflow task the sandbox wraps isinstance for
        # the whole thread, and this runs for every duty in every escalation pass (#12)
        if type(inst.rule) is Obligation and inst.rule.counts_toward_delay:
            days = ledger.overdue_days(inst, today)
            total += days
            done = inst.done_on is not None and inst.done_on <= today
            if days and not done and inst.paused_since is None:
                growing += 1
    return total, growing


def consequence_holds(ledger: Ledger, cons: Consequence, today: date) -> tuple[bool, int]:
    """Whether a consequence's condition holds on `today` by the facts, and its measure."""
    if cons.kind == "overdue":
        insts = [i for i in ledger.instances(today) if i.rule.id == cons.obligation]
        days = max((ledger.overdue_days(i, today) for i in insts), default=0)
        late = any(i.due_on is not None and today > i.due_on
                   and not (i.done_on is not None and i.done_on <= today) for i in insts)
        need = int(cons.threshold[:-2]) if cons.threshold else 0
        return late and days >= need, days
    total, _ = delay_total(ledger, today)
    assert cons.threshold is not None
    need = int(cons.threshold[:-2])
    if total < need:
        return False, total
    # The phase is judged on the day the total reached the threshold (前期工作 delays count
    # though the facts arrive after the project moved on).
    return ledger.in_phase(cons.phase, _day_total_reached(ledger, need, today)), total


def _day_total_reached(ledger: Ledger, need: int, today: date) -> date:
    """The first day the delay total reached `need` (it never falls as days pass)."""
    lo, hi = ledger.project.started_on.toordinal(), today.toordinal()
    while lo < hi:
        mid = (lo + hi) // 2
        if delay_total(ledger, date.fromordinal(mid))[0] >= need:
            hi = mid
        else:
            lo = mid + 1
    return date.fromordinal(lo)


def _consequences(ledger: Ledger, now: datetime, today: date) -> list[NoticeRecord]:
    out: list[NoticeRecord] = []
    standing = {n.obligation for n in live(ledger, NoticeKind.CONSEQUENCE)}
    for cons in ledger.pack.escalation.consequences:
        if cons.id in standing:
            continue
        holds, measure = consequence_holds(ledger, cons, today)
        if not holds:
            continue
        sent = sum(1 for n in ledger.state.notices if n.obligation == cons.id
                   and n.kind is NoticeKind.CONSEQUENCE)
        names, ids = recipients(ledger, cons.notify, "owner")
        what = (f"累计延后 {measure} 个工作日" if cons.kind == "delay_total"
                else f"逾期 {measure} 个工作日")
        out.append(NoticeRecord(
            key=f"consequence:{cons.id}" + (f"#{sent + 1}" if sent else ""),
            obligation=cons.id, rung="consequence", level=len(ledger.pack.escalation.ladder) + 1,
            recipients=names, recipient_actors=ids, kind=NoticeKind.CONSEQUENCE,
            message=f"[{ledger.project.id}] {cons.title} — {what}; {cons.citation}"
                    f"{draft_mark(ledger)}",
            citation=cons.citation, due_on=None, overdue_working_days=measure, fired_at=now,
            **_context(ledger, cons.title, "owner", "")))
    return out


def draft_mark(ledger: Ledger) -> str:
    """A notice under a draft pack says so: its rules are not in force (玉山 征求意见稿)."""
    return "（依据征求意见稿，规则尚未生效）" if ledger.pack.status == "draft" else ""


# ---- breaches ----------------------------------------------------------------------------
def _breach_notices(ledger: Ledger, now: datetime, today: date) -> list[NoticeRecord]:
    sent = {n.key for n in live(ledger, NoticeKind.VIOLATION)}
    out: list[NoticeRecord] = []
    esc = ledger.pack.escalation
    notify = esc.breach_notify if esc.breach_notify is not None else \
        esc.ladder[min(1, len(esc.ladder) - 1)].notify
    for b in breaches(ledger, today):
        key = f"breach:{b.id}"
        if key in sent or key in ledger.state.withdrawn:
            continue
        names, ids = recipients(ledger, notify, "owner")
        out.append(NoticeRecord(
            key=key, obligation=b.rule, rung="breach", level=0, recipients=names,
            recipient_actors=ids, kind=NoticeKind.VIOLATION,
            message=f"[{ledger.project.id}] 违规: {b.title} — {b.detail}; {b.citation}"
                    f"{draft_mark(ledger)}",
            citation=b.citation, due_on=None, overdue_working_days=0, fired_at=now,
            **_context(ledger, b.title, "owner", "")))
    return out


# ---- corrections -------------------------------------------------------------------------
def corrections(ledger: Ledger, now: datetime) -> list[NoticeRecord]:
    """Withdraw every standing notice that the facts now disprove."""
    today = business_date(now)
    insts = {i.id: i for i in ledger.instances(today)}
    current_breaches = {f"breach:{b.id}" for b in breaches(ledger, today)}
    out: list[NoticeRecord] = []
    for notice in live(ledger):
        reason = _disproved(ledger, notice, insts, current_breaches)
        if reason is None:
            continue
        correction = NoticeRecord(
            key=f"{notice.key}:withdrawn", obligation=notice.obligation, rung="correction",
            level=notice.level, recipients=list(notice.recipients),
            recipient_actors=list(notice.recipient_actors), kind=NoticeKind.CORRECTION,
            withdraws=notice.key,
            message=f"[{ledger.project.id}] 撤回 {business_date(notice.fired_at)} 的通知"
                    f"「{notice.duty_title or notice.obligation} {notice.rung}」: {reason}",
            citation=notice.citation, due_on=notice.due_on, overdue_working_days=0,
            fired_at=now, policy=notice.policy, project_name=notice.project_name,
            owner=notice.owner, duty_title=notice.duty_title, actor=notice.actor,
            actor_name=notice.actor_name, ends_with=notice.ends_with)
        ledger.state.withdrawn[notice.key] = correction.key
        out.append(correction)
    return out


def _disproved(ledger: Ledger, notice: NoticeRecord, insts: dict[str, Instance],
               current_breaches: set[str]) -> str | None:
    fired_on = business_date(notice.fired_at)
    if notice.kind is NoticeKind.VIOLATION:
        return None if notice.key in current_breaches else "按现有事实，不构成该违规"
    if notice.kind is NoticeKind.CONSEQUENCE:
        cons = next((c for c in ledger.pack.escalation.consequences
                     if c.id == notice.obligation), None)
        if cons is None:
            return None
        holds, measure = consequence_holds(ledger, cons, fired_on)
        if holds and measure == notice.overdue_working_days:
            return None
        if holds:  # still true, but the number it stated is not: re-sent with the right one
            return (f"按现有事实，截至 {fired_on} 为 {measure} 个工作日，而非 "
                    f"{notice.overdue_working_days} 个工作日")
        return (f"按现有事实，截至 {fired_on} 累计延后 {measure} 个工作日，未达 {cons.threshold}"
                if cons.kind == "delay_total" else f"按现有事实，{fired_on} 时该事项未逾期")
    inst = insts.get(notice.obligation)
    if inst is None or inst.waived:
        why = inst.waived if inst is not None else "no longer on this project's path"
        return f"该事项不适用于本项目 ({why})"
    if inst.done_on is not None and inst.done_on < fired_on and inst.done_by is not None:
        doc = inst.done_by
        title = ledger.pack.documents[doc.type].title
        ref = f"（{doc.ref}）" if doc.ref else ""
        late = ledger.overdue_days(inst, inst.done_on)
        how = "按时完成" if late == 0 else f"完成（逾期 {late} 个工作日）"
        return f"依据{title}{ref}，该事项已于 {inst.done_on} {how}"
    due = inst.due_known_on(fired_on)
    if due is None:
        return "按现有事实，该事项当时处于暂停计时状态"
    at = rung_instant(ledger, notice.level, due)
    if at is not None and at > notice.fired_at:
        return f"按现有事实，到期日为 {due}，通知发出时尚未到该提醒时点"
    return None


def next_wake(ledger: Ledger, now: datetime) -> datetime | None:
    """The earliest future instant at which something changes without a new input."""
    today = business_date(now)
    cal = ledger.calendar
    candidates: list[datetime] = []
    for inst in ledger.instances(today):
        state = ledger.state_of(inst, today)
        if state in (ObligationState.DONE, ObligationState.WAIVED,
                     ObligationState.CANCELLED, ObligationState.PAUSED):
            continue
        if inst.starts_on is not None and inst.starts_on > today:
            candidates.append(start_of_day(inst.starts_on))
            continue
        notified = _notified_for_due(ledger, inst)
        candidates += [at for lvl, _, at in rung_instants(ledger, inst.due_on)
                       if lvl > notified and at > now]
    total, growing = delay_total(ledger, today)
    standing = {n.obligation for n in live(ledger, NoticeKind.CONSEQUENCE)}
    for cons in ledger.pack.escalation.consequences:
        if cons.id in standing:
            continue
        try:
            if cons.kind == "delay_total" and growing and cons.threshold is not None:
                steps = max(1, -(-(int(cons.threshold[:-2]) - total) // growing))
                candidates.append(start_of_day(cal.add_working_days(today, steps)))
            elif cons.kind == "overdue":
                need = int(cons.threshold[:-2]) if cons.threshold else 0
                for inst in ledger.instances(today):
                    if inst.rule.id == cons.obligation and inst.due_on is not None:
                        candidates.append(end_of_day(inst.due_on) if need == 0 else
                                          start_of_day(cal.add_working_days(inst.due_on, need)))
        except CalendarError:
            continue
    for rec in ledger.plan.recurring:
        if rec.applies and ledger.schedule().event_dates(rec.rule.from_event):
            candidates.append(start_of_day(next_period(today, rec.rule.every)))
    future = [c for c in candidates if c > now]
    return min(future) if future else None


__all__ = ["Breach", "corrections", "delay_total", "escalate", "next_wake", "rung_instants",
           "shown_levels"]
