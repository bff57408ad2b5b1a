"""The schedule: every obligation instance with its start, due day and fulfilment, from facts.

Everything here is derived from the documents' business dates, the plan and the calendar;
nothing depends on when a fact became known. That is what lets a late document prove an
earlier notice wrong (DESIGN §8 "facts decide"). Pure: runs in the sandbox.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from calendars.periods import Period, PeriodUnit, add_months, days_in_month
from policies.model import CalendarDue, FactValue, Obligation, Recurring
from workflows.models import DocumentArrival, Extension, ManualPause, Project
from workflows.plan import Plan, ResolvedObligation, ResolvedRecurring


@dataclass
class Instance:
    """One occurrence of an obligation (a repeatable trigger or a period makes several)."""

    id: str
    rule: Obligation | Recurring
    actor: str
    title: str
    starts_on: date | None = None
    opens_on: date | None = None
    limit: str | None = None
    due_on: date | None = None
    base_due_on: date | None = None  # before any extension
    provisional: bool = False
    done_on: date | None = None
    done_by: DocumentArrival | None = None
    paused_since: date | None = None
    waived: str | None = None
    note: str | None = None
    open_ended: bool = False  # a window with no closing day, or no limit in the text
    pauses: list[tuple[date, date | None]] = field(default_factory=list)
    extensions: list[tuple[date, date]] = field(default_factory=list)  # (granted_on, until)

    @property
    def citation(self) -> str:
        return self.rule.citation

    def due_known_on(self, day: date) -> date | None:
        """The due day as it stood on `day`: extensions granted later do not count."""
        due = self.base_due_on
        for granted_on, until in self.extensions:
            if due is not None and granted_on <= day:
                due = max(due, until)
        return due


class Schedule:
    """Instances for one project; rebuilt from facts on each call, cached by the ledger."""

    def __init__(
        self,
        project: Project,
        plan: Plan,
        calendar: WorkCalendar,
        documents: list[DocumentArrival],
        manual_pauses: list[ManualPause],
        extensions: list[Extension],
        facts: dict[str, FactValue] | None = None,
    ) -> None:
        self.project = project
        self.facts = facts if facts is not None else dict(project.facts)
        self.plan = plan
        self.pack = plan.pack
        self.calendar = calendar
        self.manual_pauses = manual_pauses
        self.extensions = extensions
        self._by_type: dict[str, list[DocumentArrival]] = {}
        for doc in sorted(documents, key=lambda d: d.on):
            self._by_type.setdefault(doc.type, []).append(doc)

    # ---- events --------------------------------------------------------------------------
    def docs(self, doc_type: str) -> list[DocumentArrival]:
        return self._by_type.get(doc_type, [])

    def event_dates(self, event: str) -> list[date]:
        """When an event happened or will happen: a document, a period's end, a fact date."""
        if event == self.pack.starts_with:
            return [self.project.started_on]
        if event in self.pack.documents:
            return [d.on for d in self.docs(event)]
        if event.startswith("fact:"):
            value = self.facts.get(event[5:])
            return [value] if isinstance(value, date) else []
        period = self.plan.periods.get(event)
        if period is None:
            return []
        out: list[date] = []
        for start in self.event_dates(period.start_event)[:1]:
            with contextlib.suppress(CalendarError):
                out.append(self.period_end(start, period.length,
                                           period.rule.moves_to_workday))
        return out

    def period_end(self, start: date, length: str, moves_to_workday: bool) -> date:
        """The end of a duration; a minimum or a trial run is not moved to a working day."""
        if moves_to_workday:
            return self.calendar.deadline(start, length).last_day
        p = Period.parse(length)
        if p.unit is PeriodUnit.WORKING_DAYS:
            return self.calendar.add_working_days(start, p.count)
        if p.unit is PeriodUnit.DAYS:
            return start + timedelta(days=p.count)
        return add_months(start, p.count * (12 if p.unit is PeriodUnit.YEARS else 1))

    def calendar_due(self, due: CalendarDue, start: date) -> date | None:
        """每年8月底前 / 年底前 / 计划开工时间前, moved to a working day (art. 203)."""
        if due.before_event is not None:
            dates = self.event_dates(due.before_event)
            return dates[0] - timedelta(days=1) if dates else None
        assert due.month is not None and due.day is not None
        year = start.year
        day = self._day_in(year, due.month, due.day)
        if due.next_if_passed and day < start:
            day = self._day_in(year + 1, due.month, due.day)
        return self.calendar.next_workday(day)

    @staticmethod
    def _day_in(year: int, month: int, day: int | str) -> date:
        last = days_in_month(year, month)
        return date(year, month, last if day == "end" else min(int(day), last))

    # ---- instances -----------------------------------------------------------------------
    def instances(self, today: date) -> list[Instance]:
        out: list[Instance] = []
        for ob in self.plan.obligations:
            out += self._obligation_instances(ob)
        for rec in self.plan.recurring:
            out += self._recurring_instances(rec, today)
        return out

    def _obligation_instances(self, res: ResolvedObligation) -> list[Instance]:
        ob = res.rule
        if not res.applies:
            return [Instance(ob.id, ob, res.actor, ob.title, waived="not on this project's path")]
        if res.trigger is None:
            return [Instance(ob.id, ob, res.actor, ob.title, waived="no start event applies")]
        starts = self.event_dates(res.trigger)
        spec = self.pack.documents.get(res.trigger)
        repeatable = spec is not None and spec.repeatable
        if not repeatable:
            starts = starts[:1]
        elif not starts:
            return []  # a duty that exists only once its trigger occurs (编修文本)
        if not starts:
            return [Instance(ob.id, ob, res.actor, ob.title, limit=res.limit)]
        fulfilments = list(self.docs(ob.fulfilled_by))
        out: list[Instance] = []
        for k, start in enumerate(starts):
            iid = ob.id if not repeatable else f"{ob.id}#{k + 1}"
            inst = Instance(iid, ob, res.actor, ob.title, starts_on=start, limit=res.limit)
            # A single duty is done by its document whatever its date (an early filing is a
            # fact, flagged by a minimum or a window); a repeated one by the next after start.
            done = next((d for d in fulfilments if repeatable is False or d.on >= start), None)
            if done is not None:
                fulfilments.remove(done)
                inst.done_on, inst.done_by = done.on, done
            moot = next((d for c in ob.cancelled_by for d in self.docs(c)), None)
            self._fill_due(inst, ob, start, res.limit)
            if moot is not None and inst.done_on is None:
                title = self.pack.documents[moot.type].title
                if inst.due_on is None or moot.on <= inst.due_on:
                    inst.waived = f"moot: {title} on {moot.on} came first"
                else:
                    # Too late to be moot: the duty lapses on that day, and the lateness
                    # until then (and the notices it caused) stands.
                    inst.done_on, inst.done_by = moot.on, moot
                    inst.note = f"lapsed: {title} on {moot.on}, after the due day {inst.due_on}"
            out.append(inst)
        return out

    def _pauses_for(self, inst: Instance, ob: Obligation,
                    start: date) -> list[tuple[date, date | None]]:
        intervals: list[tuple[date, date | None]] = []
        for pause_id in ob.pauses:
            pause = next(p for p in self.pack.pauses if p.id == pause_id)
            ends = [d.on for d in self.docs(pause.ends)]
            for begin in (d.on for d in self.docs(pause.starts)):
                if begin < start or (inst.done_on is not None and begin > inst.done_on):
                    continue
                end = next((e for e in ends if e >= begin), None)
                if end is not None:
                    ends.remove(end)
                intervals.append((begin, end))
        for mp in self.manual_pauses:
            if mp.obligation == inst.id:
                intervals.append((mp.since, mp.until))
        return sorted(intervals, key=lambda iv: iv[0])

    def _fill_due(self, inst: Instance, ob: Obligation, start: date, limit: str | None) -> None:
        cal = self.calendar
        try:
            if ob.opens:
                inst.opens_on = cal.deadline(start, ob.opens).last_day
            inst.pauses = self._pauses_for(inst, ob, start)
            open_pause = next((p for p in inst.pauses if p[1] is None), None)
            if open_pause is not None and inst.done_on is None:
                inst.paused_since = open_pause[0]
            if ob.opens_only or ob.no_limit is not None:
                inst.open_ended = True
                return
            if ob.due_by is not None:
                inst.due_on = self.calendar_due(ob.due_by, start)
                if inst.due_on is not None and inst.due_on < start:
                    # The fixed day had passed when the duty arose: it is due at once, and
                    # lateness counts from the day it arose, never from before it existed.
                    inst.note = (f"到期日 {inst.due_on.isoformat()} 早于事项产生之日 "
                                 f"{start.isoformat()}：按产生之日到期")
                    inst.due_on = self.calendar.next_workday(start)
            elif limit is not None:
                inst.due_on = self._counted_due(inst, start, limit)
            inst.base_due_on = inst.due_on
            for ext in self.extensions:
                if ext.obligation == inst.id:
                    inst.extensions.append((ext.granted_on, ext.until))
            if ob.extended_by:
                for doc in self.docs(ob.extended_by):
                    if doc.until and doc.on >= start:
                        inst.extensions.append((doc.on, doc.until))
            for _, until in inst.extensions:
                if inst.due_on is not None:
                    inst.due_on = max(inst.due_on, until)
            if inst.due_on is not None:
                inst.provisional = cal.is_provisional_between(start, inst.due_on)
        except CalendarError as exc:
            inst.due_on = None
            inst.note = f"cannot compute the due day: {exc}"

    def _counted_due(self, inst: Instance, start: date, limit: str) -> date | None:
        cal = self.calendar
        period = Period.parse(limit)
        if period.unit is not PeriodUnit.WORKING_DAYS:
            due = cal.deadline(start, limit).last_day
            paused = sum((end - begin).days for begin, end in inst.pauses
                         if begin <= due and end is not None)
            if inst.paused_since is not None:
                return None
            return cal.next_workday(due + timedelta(days=paused))
        used = 0
        seg_start = start
        for begin, end in inst.pauses:
            span = cal.working_days_between(seg_start, begin)
            if used + span >= period.count:
                # Used up before this pause began: due on the day the count ran out.
                return cal.add_working_days(seg_start, period.count - used)
            used += span
            if end is None:
                return None if inst.paused_since is not None else \
                    cal.add_working_days(begin, period.count - used)
            seg_start = max(seg_start, end)
        return cal.add_working_days(seg_start, period.count - used)

    def _recurring_instances(self, res: ResolvedRecurring, today: date) -> list[Instance]:
        rec = res.rule
        if not res.applies:
            return [Instance(rec.id, rec, res.actor, rec.title,
                             waived="not on this project's path")]
        begins = self.event_dates(rec.from_event)
        if not begins:
            return []
        ends = self.event_dates(rec.until_event)
        first, stop = begins[0], (ends[0] if ends else None)
        listed_until = min(today, stop) if stop is not None else today
        in_period = rec.due_by is not None or rec.due_after_period_end in ("0d", "0wd")
        fulfilments = list(self.docs(rec.fulfilled_by))
        out: list[Instance] = []
        period_start = period_floor(first, rec.every)
        while period_start <= listed_until:
            period_end = next_period(period_start, rec.every) - timedelta(days=1)
            partial_first = first > period_start
            partial_last = stop is not None and stop < period_end
            # A report due after its period is listed once the period (or the phase) ended;
            # one due inside its period from the period's first day.
            listed = in_period or period_end <= today or (partial_last and stop is not None
                                                          and stop <= today)
            skip = (partial_first and not rec.first_partial) or \
                (partial_last and not rec.last_partial)
            inst = None if skip or not listed else \
                self._period_instance(res, period_start, period_end, first, stop, in_period)
            period_start = next_period(period_start, rec.every)
            if inst is not None:
                out.append(inst)
        for filing in sorted(fulfilments, key=lambda d: d.on):
            target = credited_period(out, filing)
            if target is not None:
                target.done_on, target.done_by = filing.on, filing
        return out

    def _period_instance(self, res: ResolvedRecurring, start: date, end: date, first: date,
                         stop: date | None, in_period: bool) -> Instance | None:
        """One period's report: it starts (and filings count) from the period's first day
        when due inside it, else from the day after the period ends."""
        rec = res.rule
        label = period_label(start, rec.every)
        begins = max(start, first) if in_period else end
        inst = Instance(f"{rec.id}@{label}", rec, res.actor, f"{rec.title} ({label})",
                        starts_on=begins, limit=rec.due_after_period_end,
                        opens_on=begins if in_period else end + timedelta(days=1))
        try:
            if rec.due_by is not None:
                due = self.calendar_due(rec.due_by, start)
                if due is None or due < first or (stop is not None and due > stop):
                    return None  # this year's day fell outside the phase: not due
                inst.due_on = due
            else:
                assert rec.due_after_period_end is not None
                count = Period.parse(rec.due_after_period_end) \
                    if rec.due_after_period_end not in ("0d", "0wd") else None
                if count is None:
                    inst.due_on = self.calendar.next_workday(end)
                elif count.unit is PeriodUnit.WORKING_DAYS:
                    inst.due_on = self.calendar.add_working_days(end, count.count)
                else:
                    inst.due_on = self.calendar.deadline(end, str(count)).last_day
            inst.base_due_on = inst.due_on
            assert inst.due_on is not None
            inst.provisional = self.calendar.is_provisional_between(start, inst.due_on)
        except CalendarError as exc:
            inst.note = f"cannot compute the due day: {exc}"
        return inst


def period_of(inst: Instance) -> str | None:
    """The period a recurring duty's instance is for (`2025Q2` of `quarterly@2025Q2`)."""
    _, at, label = inst.id.partition("@")
    return label if at and not isinstance(inst.rule, Obligation) else None


def credited_period(periods: list[Instance], filing: DocumentArrival) -> Instance | None:
    """Which period's report a filing is: the one it names (`period: 2025Q2`, `doc --period`),
    else the oldest period still open when it was filed — an unstated filing settles the
    oldest outstanding report first (a stated interpretation: a report filed on 7/2 is
    Q2's late one, not Q3's early one). Never a period that had not opened yet."""
    open_before = [p for p in periods if p.done_on is None and p.opens_on is not None
                   and p.opens_on <= filing.on]
    if filing.period:
        named = next((p for p in open_before if period_of(p) == filing.period), None)
        if named is not None:
            return named
    return open_before[0] if open_before else None


def period_floor(d: date, every: str) -> date:
    if every == "month":
        return date(d.year, d.month, 1)
    if every == "year":
        return date(d.year, 1, 1)
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def next_period(d: date, every: str) -> date:
    start = period_floor(d, every)
    if every == "year":
        return date(start.year + 1, 1, 1)
    step = 1 if every == "month" else 3
    month = start.month - 1 + step
    return date(start.year + month // 12, month % 12 + 1, 1)


def period_label(start: date, every: str) -> str:
    if every == "month":
        return f"{start.year}-{start.month:02d}"
    if every == "year":
        return f"{start.year}"
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"
