"""The obligation ledger: a policy pack applied to one project's documents, on one calendar.

Pure and deterministic — given the same input, documents and `now` it answers the same — so
the workflow can call it from handlers and its main loop, the starter can use it to check a
projects file before anything starts, and tests can drive it without Temporal.

Every obligation instance is re-derived from the documents on each call; the only memory is
what was already notified (so each rung fires once) and the event log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from calendars.periods import SHANGHAI, Period, PeriodUnit, end_of_day
from workflows.v1.models import (
    DocumentArrival,
    EventRecord,
    Extension,
    LedgerState,
    ManualPause,
    NoticeKind,
    NoticeRecord,
    ObligationState,
    ObligationView,
    Project,
    RecordOutcome,
    StatusView,
)
from workflows.v1.policy_model import (
    Obligation,
    PolicyPack,
    Recurring,
    choose,
    holds,
)

OPEN_STATES = (ObligationState.OPEN, ObligationState.OVERDUE, ObligationState.PAUSED)


class Refused(ApplicationError):
    """An input the ledger will not take; the message is the reason given to the caller.

    An ApplicationError, so that raised in an update handler it fails only that update and
    never the workflow task.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, type="Refused", non_retryable=True)


def business_date(now: datetime) -> date:
    """Today in Asia/Shanghai: business dates are Beijing dates whatever the server's zone."""
    return now.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


@dataclass
class Instance:
    """One occurrence of an obligation (a repeatable trigger makes several)."""

    id: str
    rule: Obligation | Recurring
    actor: str
    title: str
    starts_on: date | None = None
    opens_on: date | None = None
    limit: str | None = None
    due_on: date | None = None
    provisional: bool = False
    done_on: date | None = None
    paused_since: date | None = None
    waived: str | None = None
    note: str | None = None
    pauses: list[tuple[date, date | None]] = field(default_factory=list)

    @property
    def citation(self) -> str:
        return self.rule.citation


class Ledger:
    def __init__(
        self, project: Project, pack: PolicyPack, calendar: WorkCalendar, state: LedgerState
    ) -> None:
        self.project = project
        self.pack = pack
        self.calendar = calendar
        self.state = state
        self.facts = project.facts()

    # ---- documents -----------------------------------------------------------------------
    def _docs(self, doc_type: str) -> list[DocumentArrival]:
        return sorted((d for d in self.state.documents if d.type == doc_type), key=lambda d: d.on)

    def _all_docs(self) -> list[DocumentArrival]:
        launch = DocumentArrival(type="launch_notice", on=self.project.started_on)
        return [launch, *self.state.documents]

    def _event_dates(self, event: str) -> list[date]:
        """When an event happened or will happen: a document's dates or a period's end."""
        if event == "launch_notice":
            return [self.project.started_on]
        if event in self.pack.documents:
            return [d.on for d in self._docs(event)]
        for period in self.pack.periods:
            if period.id != event or not holds(period.when, self.facts, self.pack.limits):
                continue
            start_event = choose(period.starts, self.facts, self.pack.limits)
            length = choose(period.length, self.facts, self.pack.limits)
            if start_event is None or length is None:
                return []
            out: list[date] = []
            for start in self._event_dates(start_event)[:1]:
                with contextlib.suppress(CalendarError):
                    out.append(self.calendar.deadline(start, length).last_day)
            return out
        return []

    # ---- obligations ---------------------------------------------------------------------
    def applicable(self, ob: Obligation | Recurring) -> bool:
        return holds(ob.when, self.facts, self.pack.limits)

    def actor_of(self, ob: Obligation | Recurring) -> str:
        return choose(ob.actor, self.facts, self.pack.limits) or "owner"

    def instances(self, today: date) -> list[Instance]:
        out: list[Instance] = []
        for ob in self.pack.obligations:
            out += self._obligation_instances(ob, today)
        for rec in self.pack.recurring:
            out += self._recurring_instances(rec, today)
        return out

    def _obligation_instances(self, ob: Obligation, today: date) -> list[Instance]:
        actor = self.actor_of(ob)
        if not self.applicable(ob):
            return [Instance(ob.id, ob, actor, ob.title, waived="not on this project's path")]
        trigger = choose(ob.starts, self.facts, self.pack.limits)
        limit = choose(ob.limit, self.facts, self.pack.limits)
        if trigger is None or limit is None:
            return [Instance(ob.id, ob, actor, ob.title, waived="no start event applies")]
        starts = self._event_dates(trigger)
        repeatable = trigger in self.pack.documents and self.pack.documents[trigger].repeatable
        if not repeatable:
            starts = starts[:1]
        elif not starts:
            return []  # a duty that exists only once its trigger occurs (编修文本)
        if not starts:
            return [Instance(ob.id, ob, actor, ob.title, limit=limit)]
        fulfilments = [d.on for d in self._docs(ob.fulfilled_by)]
        used: set[int] = set()
        out: list[Instance] = []
        for k, start in enumerate(starts):
            iid = ob.id if not repeatable else f"{ob.id}#{k + 1}"
            inst = Instance(iid, ob, actor, ob.title, starts_on=start, limit=limit)
            for i, on in enumerate(fulfilments):
                if i not in used and on >= start:
                    used.add(i)
                    inst.done_on = on
                    break
            self._fill_due(inst, ob, start, limit, today)
            out.append(inst)
        return out

    def _pauses_for(
        self, inst: Instance, ob: Obligation, start: date
    ) -> list[tuple[date, date | None]]:
        intervals: list[tuple[date, date | None]] = []
        for pause_id in ob.pauses:
            pause = next(p for p in self.pack.pauses if p.id == pause_id)
            ends = [d.on for d in self._docs(pause.ends)]
            for begin in (d.on for d in self._docs(pause.starts)):
                if begin < start or (inst.done_on is not None and begin > inst.done_on):
                    continue
                end = next((e for e in ends if e >= begin), None)
                if end is not None:
                    ends.remove(end)
                intervals.append((begin, end))
        for mp in self.state.manual_pauses:
            if mp.obligation == inst.id:
                intervals.append((mp.since, mp.until))
        return sorted(intervals, key=lambda iv: iv[0])

    def _fill_due(
        self, inst: Instance, ob: Obligation, start: date, limit: str, today: date
    ) -> None:
        cal = self.calendar
        try:
            if ob.opens:
                inst.opens_on = cal.deadline(start, ob.opens).last_day
            inst.pauses = self._pauses_for(inst, ob, start)
            period = Period.parse(limit)
            open_pause = next((p for p in inst.pauses if p[1] is None), None)
            if open_pause is not None and inst.done_on is None:
                inst.paused_since = open_pause[0]
            if period.unit is PeriodUnit.WORKING_DAYS:
                used = 0
                seg_start = start
                for begin, end in inst.pauses:
                    used += max(0, cal.working_days_between(seg_start, begin))
                    if used >= period.count:
                        break
                    if end is None:
                        seg_start = begin
                        break
                    seg_start = max(seg_start, end)
                remaining = period.count - used
                if inst.paused_since is not None and remaining > 0:
                    inst.due_on = None
                elif remaining > 0:
                    inst.due_on = cal.add_working_days(seg_start, remaining)
                else:
                    # Used up before a pause began: due on the day the count ran out.
                    inst.due_on = cal.add_working_days(start, period.count) if not inst.pauses \
                        else self._day_count_ran_out(start, inst.pauses, period.count)
            else:
                deadline = cal.deadline(start, limit)
                due = deadline.last_day
                paused_days = sum(
                    ((end or today) - begin).days for begin, end in inst.pauses if begin <= due
                )
                if inst.paused_since is not None:
                    inst.due_on = None
                else:
                    inst.due_on = cal.next_workday(due + timedelta(days=paused_days))
            for ext in self.state.extensions:
                if ext.obligation == inst.id and inst.due_on is not None:
                    inst.due_on = max(inst.due_on, ext.until)
            if ob.extended_by:
                for doc in self._docs(ob.extended_by):
                    if doc.until and inst.due_on is not None and doc.on >= start:
                        inst.due_on = max(inst.due_on, doc.until)
            if inst.due_on is not None:
                inst.provisional = cal.is_provisional_between(start, inst.due_on)
        except CalendarError as exc:
            inst.due_on = None
            inst.note = f"cannot compute the due day: {exc}"

    def _day_count_ran_out(
        self, start: date, pauses: list[tuple[date, date | None]], n: int
    ) -> date:
        cal = self.calendar
        used = 0
        seg_start = start
        for begin, end in pauses:
            span = cal.working_days_between(seg_start, begin)
            if used + span >= n:
                return cal.add_working_days(seg_start, n - used)
            used += span
            if end is None:
                break
            seg_start = max(seg_start, end)
        return cal.add_working_days(seg_start, n - used)

    def _recurring_instances(self, rec: Recurring, today: date) -> list[Instance]:
        actor = self.actor_of(rec)
        if not self.applicable(rec):
            return [Instance(rec.id, rec, actor, rec.title, waived="not on this project's path")]
        begins = self._event_dates(rec.from_event)
        if not begins:
            return []
        ends = self._event_dates(rec.until_event)
        stop = ends[0] if ends else today
        fulfilments = sorted(d.on for d in self._docs(rec.fulfilled_by))
        out: list[Instance] = []
        period_start = _period_start(begins[0], rec.every)
        k = 0
        while True:
            period_end = _next_period_start(period_start, rec.every) - timedelta(days=1)
            if period_end > stop or period_end >= today + timedelta(days=400):
                break
            k += 1
            label = _period_label(period_start, rec.every)
            inst = Instance(f"{rec.id}@{label}", rec, actor, f"{rec.title} ({label})",
                            starts_on=period_end, limit=rec.due_after_period_end)
            try:
                count = Period.parse(rec.due_after_period_end)
                inst.due_on = (self.calendar.add_working_days(period_end, count.count)
                               if count.unit is PeriodUnit.WORKING_DAYS
                               else self.calendar.deadline(period_end, str(count)).last_day)
                inst.provisional = self.calendar.is_provisional_between(period_end, inst.due_on)
            except CalendarError as exc:
                inst.note = f"cannot compute the due day: {exc}"
            done = next((f for f in fulfilments if f > period_end), None)
            if done is not None:
                fulfilments.remove(done)
                inst.done_on = done
            out.append(inst)
            period_start = _next_period_start(period_start, rec.every)
        return out

    # ---- states and escalation -----------------------------------------------------------
    def state_of(self, inst: Instance, today: date) -> ObligationState:
        if inst.waived:
            return ObligationState.WAIVED
        if inst.done_on is not None:
            return ObligationState.DONE
        if self.state.terminated is not None:
            return ObligationState.CANCELLED
        if inst.starts_on is None or inst.starts_on > today:
            return ObligationState.PENDING
        if inst.paused_since is not None:
            return ObligationState.PAUSED
        if inst.due_on is not None and today > inst.due_on:
            return ObligationState.OVERDUE
        return ObligationState.OPEN

    def overdue_days(self, inst: Instance, today: date) -> int:
        if inst.due_on is None or inst.waived:
            return 0
        until = inst.done_on or today
        if until <= inst.due_on:
            return 0
        return self.calendar.working_days_between(inst.due_on, until)

    def rung_instants(self, inst: Instance) -> list[tuple[int, str, datetime]]:
        """(level, name, instant) of each rung for this instance's due day."""
        if inst.due_on is None:
            return []
        out: list[tuple[int, str, datetime]] = []
        for rung in self.pack.escalation.ladder:
            k = int(rung.offset[:-2])
            try:
                if k < 0:
                    at = start_of_day(self.calendar.subtract_working_days(inst.due_on, -k))
                elif k == 0:
                    at = end_of_day(inst.due_on)
                else:
                    at = start_of_day(self.calendar.add_working_days(inst.due_on, k))
            except CalendarError:
                continue
            out.append((rung.level, rung.name, at))
        return out

    def escalate(self, now: datetime) -> list[NoticeRecord]:
        """Notices due at `now` that have not fired: per instance only the highest rung reached."""
        today = business_date(now)
        fired: list[NoticeRecord] = []
        for inst in self.instances(today):
            if self.state_of(inst, today) not in (ObligationState.OPEN, ObligationState.OVERDUE):
                continue
            if inst.starts_on is not None and inst.starts_on > today:
                continue
            reached = [(lvl, name, at) for lvl, name, at in self.rung_instants(inst) if at <= now]
            if not reached:
                continue
            level, name, _ = max(reached)
            if level <= self.state.notified_level.get(inst.id, 0):
                continue
            self.state.notified_level[inst.id] = level
            fired.append(self._notice_for(inst, level, name, now, today))
        fired += self._consequences(now, today)
        for notice in fired:
            self.state.notices.append(notice)
            self.log(now, "notice", f"{notice.rung}: {notice.message}",
                     {"key": notice.key, "recipients": notice.recipients})
        return fired

    def _recipients(self, names: list[str], actor: str) -> list[str]:
        out: list[str] = []
        for name in names:
            who = actor if name == "actor" else name
            label = self.project.owner if who == "owner" else self.pack.actors.get(who, who)
            if label not in out:
                out.append(label)
        return out

    def _notice_for(
        self, inst: Instance, level: int, name: str, now: datetime, today: date
    ) -> NoticeRecord:
        rung = self.pack.escalation.ladder[level - 1]
        overdue = self.overdue_days(inst, today)
        due = inst.due_on.isoformat() if inst.due_on else "?"
        if overdue:
            what = f"逾期 {overdue} 个工作日 (due {due})"
        elif level == 1:
            what = f"将于 {due} 到期"
        else:
            what = f"已到期 (due {due})"
        message = (f"[{self.project.id}] {inst.title} — {self.actor_name(inst.actor)} "
                   f"{what}; {inst.citation}")
        return NoticeRecord(
            key=f"{inst.id}:{name}",
            obligation=inst.id,
            rung=name,
            level=level,
            recipients=self._recipients(rung.notify, inst.actor),
            message=message,
            citation=f"{inst.citation}; ladder: {rung.citation}",
            due_on=inst.due_on,
            overdue_working_days=overdue,
            fired_at=now,
            recipient_actors=self._recipient_actors(rung.notify, inst.actor),
            **self._notice_context(inst),
        )

    def _recipient_actors(self, names: list[str], actor: str) -> list[str]:
        out: list[str] = []
        for name in names:
            who = actor if name == "actor" else name
            if who not in out:
                out.append(who)
        return out

    def _notice_context(self, inst: Instance) -> dict[str, Any]:
        return {
            "policy": self.pack.id,
            "project_name": self.project.name,
            "owner": self.project.owner,
            "duty_title": inst.title,
            "actor": inst.actor,
            "actor_name": self.actor_name(inst.actor),
            "ends_with": self.pack.documents[inst.rule.fulfilled_by].title,
        }

    def delay_total(self, today: date) -> tuple[int, int]:
        """Cumulative overdue working days of delay-counting duties, and how many still grow."""
        total, growing = 0, 0
        for inst in self.instances(today):
            if isinstance(inst.rule, Obligation) and inst.rule.counts_toward_delay:
                days = self.overdue_days(inst, today)
                total += days
                if days and inst.done_on is None and inst.paused_since is None:
                    growing += 1
        return total, growing

    def _consequences(self, now: datetime, today: date) -> list[NoticeRecord]:
        out: list[NoticeRecord] = []
        total, _ = self.delay_total(today)
        for cons in self.pack.escalation.consequences:
            if cons.id in self.state.consequences_fired:
                continue
            if total < int(cons.threshold[:-2]) or not self._in_phase(cons.phase, today):
                continue
            self.state.consequences_fired.append(cons.id)
            out.append(NoticeRecord(
                key=f"consequence:{cons.id}",
                obligation=cons.id,
                rung="consequence",
                level=len(self.pack.escalation.ladder) + 1,
                recipients=self._recipients(cons.notify, "owner"),
                message=f"[{self.project.id}] {cons.title} — 累计延后 {total} 个工作日; "
                        f"{cons.citation}",
                citation=cons.citation,
                due_on=None,
                overdue_working_days=total,
                fired_at=now,
                kind=NoticeKind.CONSEQUENCE,
                recipient_actors=self._recipient_actors(cons.notify, "owner"),
                policy=self.pack.id,
                project_name=self.project.name,
                owner=self.project.owner,
                duty_title=cons.title,
                actor="owner",
                actor_name=self.project.owner,
            ))
        return out

    def _in_phase(self, phase: str, today: date) -> bool:
        stage = self.stage(today)
        return next(s.phase for s in self.pack.stages if s.id == stage) == phase

    def next_wake(self, now: datetime) -> datetime | None:
        """The earliest future instant at which something changes without a new input."""
        today = business_date(now)
        candidates: list[datetime] = []
        for inst in self.instances(today):
            state = self.state_of(inst, today)
            if state in (ObligationState.DONE, ObligationState.WAIVED,
                         ObligationState.CANCELLED, ObligationState.PAUSED):
                continue
            if inst.starts_on is not None and inst.starts_on > today:
                candidates.append(start_of_day(inst.starts_on))
                continue
            notified = self.state.notified_level.get(inst.id, 0)
            candidates += [at for lvl, _, at in self.rung_instants(inst)
                           if lvl > notified and at > now]
        total, growing = self.delay_total(today)
        for cons in self.pack.escalation.consequences:
            if cons.id in self.state.consequences_fired or not growing:
                continue
            remaining = int(cons.threshold[:-2]) - total
            steps = max(1, -(-remaining // growing))
            with contextlib.suppress(CalendarError):
                candidates.append(start_of_day(self.calendar.add_working_days(today, steps)))
        for rec in self.pack.recurring:
            if self.applicable(rec) and self._event_dates(rec.from_event):
                candidates.append(start_of_day(_next_period_start(today, rec.every)))
        future = [c for c in candidates if c > now]
        return min(future) if future else None

    # ---- stage and status ----------------------------------------------------------------
    def stage(self, today: date) -> str:
        received = {d.type for d in self._all_docs() if d.on <= today}
        current = self.pack.stages[0].id
        for stage in self.pack.stages:
            if received.intersection(stage.entered_by):
                current = stage.id
        return current

    def finished(self, today: date) -> bool:
        if self.state.terminated is not None:
            return True
        return all(self.state_of(i, today) in (ObligationState.DONE, ObligationState.WAIVED)
                   for i in self.instances(today))

    def actor_name(self, actor: str) -> str:
        return self.project.owner if actor == "owner" else self.pack.actors.get(actor, actor)

    def views(self, today: date) -> list[ObligationView]:
        out: list[ObligationView] = []
        for inst in self.instances(today):
            level = self.state.notified_level.get(inst.id, 0)
            rung = self.pack.escalation.ladder[level - 1].name if level else None
            out.append(ObligationView(
                id=inst.id,
                rule=inst.rule.id,
                title=inst.title,
                actor=inst.actor,
                actor_name=self.actor_name(inst.actor),
                state=self.state_of(inst, today),
                starts_on=inst.starts_on,
                opens_on=inst.opens_on,
                due_on=inst.due_on,
                due_at=end_of_day(inst.due_on) if inst.due_on else None,
                provisional=inst.provisional,
                overdue_working_days=self.overdue_days(inst, today),
                escalation_level=level,
                escalation_rung=rung,
                citation=inst.citation,
                interpretation=getattr(inst.rule, "interpretation", None),
                done_on=inst.done_on,
                paused_since=inst.paused_since,
                note=inst.waived or inst.note,
            ))
        return out

    def status(self, now: datetime) -> StatusView:
        today = business_date(now)
        views = self.views(today)
        live = [v for v in views if v.state in OPEN_STATES]
        dues = [v.due_on for v in live if v.due_on is not None]
        stage = self.stage(today)
        return StatusView(
            project_id=self.project.id,
            name=self.project.name,
            policy=self.pack.id,
            jurisdiction=self.pack.jurisdiction,
            owner=self.project.owner,
            stage=stage,
            stage_title=next(s.title for s in self.pack.stages if s.id == stage),
            as_of=now,
            today=today,
            finished=self.finished(today),
            next_due_on=min(dues) if dues else None,
            overdue=any(v.state is ObligationState.OVERDUE for v in views),
            escalation_level=max((v.escalation_level for v in live), default=0),
            obligations=views,
            documents=sorted(self.state.documents, key=lambda d: d.on),
            events=list(self.state.events),
            notices=list(self.state.notices),
        )

    def due_map(self, today: date) -> dict[str, date]:
        return {i.id: i.due_on for i in self.instances(today)
                if i.due_on is not None and i.done_on is None and not i.waived}

    # ---- inputs --------------------------------------------------------------------------
    def check_document(self, doc: DocumentArrival, today: date) -> RecordOutcome:
        """Accept, recognise a duplicate, or raise `Refused` with the reason. Changes nothing."""
        pack = self.pack
        if doc.type not in pack.documents:
            known = ", ".join(pack.documents)
            raise Refused(f"unknown document type {doc.type!r} for {pack.id}; known types: {known}")
        spec = pack.documents[doc.type]
        if doc.on > today:
            raise Refused(f"{doc.type} is dated {doc.on}, after today ({today}, Beijing time); "
                          "record a document on or after the day it arrives")
        if doc.on < self.project.started_on:
            raise Refused(f"{doc.type} is dated {doc.on}, before the launch notice "
                          f"({self.project.started_on})")
        if self.state.terminated is not None:
            raise Refused(f"the project was terminated: {self.state.terminated}")
        same = [d for d in self._all_docs() if d.type == doc.type]
        if any(d.on == doc.on and (doc.ref is None or d.ref in (None, doc.ref)) for d in same):
            return RecordOutcome.DUPLICATE
        if same and not spec.repeatable:
            first = same[0]
            ref = f" (ref {first.ref})" if first.ref else ""
            raise Refused(f"{doc.type} was already recorded on {first.on}{ref}; "
                          "it can be recorded once")
        if spec.needs_until and doc.until is None:
            raise Refused(f"{doc.type} needs the new due day (--until YYYY-MM-DD)")
        self._check_expected(doc, today)
        return RecordOutcome.ACCEPTED

    def _check_expected(self, doc: DocumentArrival, today: date) -> None:
        pack = self.pack
        title = pack.documents[doc.type].title
        insts = self.instances(today)
        fulfils = [i for i in insts if not i.waived and i.rule.fulfilled_by == doc.type]
        for inst in fulfils:
            if inst.done_on is not None or inst.starts_on is None or inst.starts_on > doc.on:
                continue
            if inst.opens_on is not None and doc.on < inst.opens_on:
                raise Refused(f"{doc.type} ({title}) on {doc.on} is too early: the window for "
                              f"{inst.title} opens on {inst.opens_on} ({inst.citation})")
            return
        if fulfils:
            pending = [i for i in fulfils if i.done_on is None]
            if not pending:
                raise Refused(f"{doc.type} ({title}) is not expected: {fulfils[0].title} is done")
            inst = pending[0]
            if inst.starts_on is not None and inst.starts_on > doc.on:
                raise Refused(f"{doc.type} ({title}) on {doc.on} is not expected yet: "
                              f"{inst.title} starts on {inst.starts_on}")
            trigger = choose(inst.rule.starts, self.facts, pack.limits) if isinstance(
                inst.rule, Obligation) else inst.rule.from_event
            raise Refused(f"{doc.type} ({title}) is not expected in this state: {inst.title} "
                          f"counts from {trigger}, which has not been recorded")
        skipped = [i for i in insts if i.waived and i.rule.fulfilled_by == doc.type]
        if skipped and not self._is_trigger(doc.type, stages=False):
            raise Refused(f"{doc.type} ({title}) is not on this project's path under {pack.id}: "
                          f"{skipped[0].title} does not apply ({skipped[0].citation})")
        # Not a fulfilling document: a pause boundary, an extension or a trigger.
        for pause in pack.pauses:
            users = [i for i in insts if isinstance(i.rule, Obligation)
                     and pause.id in i.rule.pauses and not i.waived]
            if doc.type == pause.starts and users:
                if any(i.starts_on is not None and i.starts_on <= doc.on
                       and (i.done_on is None or i.done_on >= doc.on) for i in users):
                    return
                raise Refused(f"{doc.type} ({title}) is not expected: nothing that "
                              f"{pause.title} can pause is under way on {doc.on}")
            if doc.type == pause.ends and users:
                if any(b <= doc.on and e is None for i in users for b, e in i.pauses):
                    return
                raise Refused(f"{doc.type} ({title}) is not expected: no {pause.starts} "
                              "is waiting for it")
        for ob in pack.obligations:
            if ob.extended_by == doc.type and self.applicable(ob):
                target = [i for i in insts if i.rule is ob and i.done_on is None
                          and i.starts_on is not None and i.starts_on <= doc.on]
                if target:
                    return
                raise Refused(f"{doc.type} ({title}) is not expected: {ob.title} is not under way")
        if self._is_trigger(doc.type):
            return
        raise Refused(f"{doc.type} ({title}) is not on this project's path under {pack.id}")

    def _is_trigger(self, doc_type: str, stages: bool = True) -> bool:
        for ob in self.pack.obligations:
            if self.applicable(ob) and choose(ob.starts, self.facts, self.pack.limits) == doc_type:
                return True
        for period in self.pack.periods:
            if holds(period.when, self.facts, self.pack.limits) and \
                    choose(period.starts, self.facts, self.pack.limits) == doc_type:
                return True
        for rec in self.pack.recurring:
            if self.applicable(rec) and doc_type in (rec.from_event, rec.until_event):
                return True
        return stages and any(doc_type in s.entered_by for s in self.pack.stages)

    def add_document(self, doc: DocumentArrival, now: datetime) -> None:
        self.state.documents.append(doc)
        title = self.pack.documents[doc.type].title
        ref = f" ({doc.ref})" if doc.ref else ""
        self.log(now, "document", f"{doc.type} {title} on {doc.on}{ref}",
                 doc.model_dump(mode="json"), on=doc.on)

    def instance(self, obligation: str, today: date) -> Instance:
        insts = {i.id: i for i in self.instances(today)}
        if obligation not in insts:
            raise Refused(f"no obligation {obligation!r} in this project; "
                          f"known: {', '.join(insts)}")
        return insts[obligation]

    def check_stop_clock(self, obligation: str, on: date, today: date) -> ManualPause:
        inst = self.instance(obligation, today)
        if not isinstance(inst.rule, Obligation) or inst.rule.manual_pause is None:
            raise Refused(f"{obligation}: {pack_rule(inst)} has no excluded time that a clock "
                          "stop could mark (only documents pause it)")
        if on > today:
            raise Refused(f"the clock stop is dated {on}, after today ({today})")
        if inst.starts_on is None or on < inst.starts_on or inst.done_on is not None:
            raise Refused(f"{obligation} is not under way on {on}")
        if inst.paused_since is not None:
            raise Refused(f"{obligation}'s clock is already stopped since {inst.paused_since}")
        return ManualPause(obligation=obligation, since=on, reason=inst.rule.manual_pause)

    def check_restart_clock(self, obligation: str, on: date, today: date) -> ManualPause:
        pause = next((p for p in self.state.manual_pauses
                      if p.obligation == obligation and p.until is None), None)
        if pause is None:
            raise Refused(f"{obligation}'s clock is not stopped by hand")
        if on > today or on < pause.since:
            raise Refused(f"restart on {on} must be between the stop ({pause.since}) and today")
        return pause

    def check_extension(self, obligation: str, until: date, today: date) -> Instance:
        inst = self.instance(obligation, today)
        if inst.done_on is not None or inst.waived:
            raise Refused(f"{obligation} is not open")
        if inst.due_on is not None and until <= inst.due_on:
            raise Refused(f"an extension must move the due day later than {inst.due_on}")
        return inst

    def apply_extension(self, ext: Extension, now: datetime) -> None:
        self.state.extensions.append(ext)
        self.log(now, "extension", f"{ext.obligation} extended to {ext.until}: {ext.reason}",
                 ext.model_dump(mode="json"))

    def record_moves(
        self, before: dict[str, date], now: datetime, why: str
    ) -> list[dict[str, str]]:
        """Log each open deadline whose due day changed."""
        after = self.due_map(business_date(now))
        moved: list[dict[str, str]] = []
        for iid, old in sorted(before.items()):
            new = after.get(iid)
            if new is not None and new != old:
                moved.append({"obligation": iid, "from": old.isoformat(), "to": new.isoformat()})
                self.log(now, "deadline_moved", f"{iid}: due {old} → {new} ({why})",
                         moved[-1])
        return moved

    def log(self, now: datetime, kind: str, text: str, data: Mapping[str, object] | None = None,
            on: date | None = None) -> None:
        self.state.events.append(EventRecord(
            seq=self.state.next_seq, at=now, on=on or business_date(now), kind=kind, text=text,
            data=dict(data or {}),
        ))
        self.state.next_seq += 1


def pack_rule(inst: Instance) -> str:
    return f"{inst.title} ({inst.citation})"


def _period_start(d: date, every: str) -> date:
    if every == "month":
        return date(d.year, d.month, 1)
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _next_period_start(d: date, every: str) -> date:
    start = _period_start(d, every)
    step = 1 if every == "month" else 3
    month = start.month - 1 + step
    return date(start.year + month // 12, month % 12 + 1, 1)


def _period_label(start: date, every: str) -> str:
    if every == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"
