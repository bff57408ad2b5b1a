"""The obligation ledger: one project's state, and the one place that ties the engine together.

Pure and deterministic — given the same input, documents and `now` it answers the same — so
the workflow calls it from handlers and its main loop, the starter uses it to check a
projects file before anything starts, and tests drive it without Temporal.

The work is split by what it does: `plan` (conditions, once), `schedule` (instances and due
days from facts), `intake` (what a document may be), `escalation` (rungs, consequences,
breaches, corrections), `views` (what a manager reads). The ledger keeps the state and a
cache of the schedule, invalidated whenever the state changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from calendars.engine import WorkCalendar
from policies.model import FactValue, PolicyPack, ProjectFacts, coerce_facts
from workflows import escalation, intake, views
from workflows.base import OPEN_STATES, Refused, business_date, start_of_day
from workflows.models import (
    DocumentArrival,
    EventRecord,
    Extension,
    LedgerState,
    ManualPause,
    NoticeRecord,
    ObligationState,
    ObligationView,
    Project,
    RecordOutcome,
    StatusView,
)
from workflows.plan import Plan, election_documents, shared_plan
from workflows.schedule import Instance, Schedule


class Ledger:
    def __init__(
        self, project: Project, pack: PolicyPack, calendar: WorkCalendar, state: LedgerState
    ) -> None:
        self.project = project.model_copy(
            update={"facts": coerce_facts(pack, project.facts)}) if project.facts else project
        self.pack = pack
        self._calendar = calendar
        self.state = state
        self._elections = election_documents(pack)
        self._plans: dict[tuple[frozenset[str], tuple[tuple[str, str], ...]], Plan] = {}
        self._cache: tuple[tuple[object, ...], list[Instance]] | None = None
        # `intake.breaches`' rules part, with the instances and plan it came from
        self.broken_rules: tuple[list[Instance], Plan, list[intake.Breach]] | None = None

    # ---- derived state -------------------------------------------------------------------
    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    @calendar.setter
    def calendar(self, calendar: WorkCalendar) -> None:
        self._calendar = calendar
        self._cache = None

    @property
    def plan(self) -> Plan:
        elected = frozenset(d.type for d in self.state.documents if d.type in self._elections)
        stated = tuple(sorted((k, str(v)) for d in self.state.documents for k, v in
                              d.facts.items()))
        key = (elected, stated)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = shared_plan(self.pack, self.facts(elected))
        return plan

    def facts(self, elected: frozenset[str] = frozenset()) -> ProjectFacts:
        """The project's facts: the pack's declared defaults, the project record, then what
        documents stated (the latest wins), each coerced to its declared type."""
        facts = self.project.project_facts(elected)
        return facts.model_copy(update={"extra": self.fact_values()})

    def fact_values(self) -> dict[str, FactValue]:
        defaults = {k: f.default for k, f in self.pack.facts.items() if f.default is not None}
        stated: dict[str, FactValue] = {}
        for doc in sorted(self.state.documents, key=lambda d: d.on):
            stated.update(doc.facts)
        return {**defaults, **self.project.facts, **coerce_facts(self.pack, stated)}

    def with_election(self, doc_type: str) -> Plan:
        """The plan as it would be once `doc_type` is recorded (an owner's election)."""
        elected = frozenset(d.type for d in self.state.documents if d.type in self._elections)
        return shared_plan(self.pack, self.facts(elected | {doc_type}))

    def is_election(self, doc_type: str) -> bool:
        return doc_type in self._elections

    def schedule(self) -> Schedule:
        return Schedule(self.project, self.plan, self._calendar, self.state.documents,
                        self.state.manual_pauses, self.state.extensions,
                        self.fact_values())

    def instances(self, today: date) -> list[Instance]:
        """Every instance as the facts now stand; cached until the state changes."""
        s = self.state
        key = (today, len(s.documents), len(s.manual_pauses),
               tuple(p.until for p in s.manual_pauses), len(s.extensions), s.terminated)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self.schedule().instances(today))
        return self._cache[1]

    def invalidate(self) -> None:
        self._cache = None

    def shed(self) -> None:
        """Drop what is derived from the state (plans, instances) while the project
        sleeps: a cached project then holds its state, not its working set, and the next
        wake or query derives them again from the same state."""
        self._plans.clear()
        self._cache = None
        self.broken_rules = None

    def all_docs(self) -> list[DocumentArrival]:
        start = DocumentArrival(type=self.pack.starts_with, on=self.project.started_on)
        return [start, *self.state.documents]

    def docs(self, doc_type: str) -> list[DocumentArrival]:
        return sorted((d for d in self.state.documents if d.type == doc_type), key=lambda d: d.on)

    # ---- states --------------------------------------------------------------------------
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
        """Working days late as the facts stand on `today` (or when it was done).

        An extension granted after the due day keeps the lateness accrued until it was
        granted: only the time after the grant is measured against the new due day.
        """
        if inst.base_due_on is None or inst.waived:
            return 0
        until = inst.done_on if inst.done_on is not None and inst.done_on <= today else today
        cal = self._calendar
        last = cal.covered_range[1]
        until = min(until, last)  # past the calendar's years lateness cannot be counted
        if inst.base_due_on > last:
            return 0
        late = 0
        due = inst.base_due_on
        for granted_on, new_due in sorted(inst.extensions):
            if new_due <= due:
                continue
            if granted_on > due:  # granted once lateness had begun: it stands
                late += cal.working_days_between(due, min(granted_on, until))
                if granted_on >= until:
                    return late
            due = new_due
        if until > due:
            late += cal.working_days_between(due, until)
        return late

    def stage(self, today: date) -> str:
        received = {d.type for d in self.all_docs() if d.on <= today}
        current = self.pack.stages[0].id
        for stage in self.pack.stages:
            if received.intersection(stage.entered_by):
                current = stage.id
        return current

    def in_phase(self, phase: str | None, today: date) -> bool:
        if phase is None:
            return True
        stage = self.stage(today)
        return next(s.phase for s in self.pack.stages if s.id == stage) == phase

    def finished(self, today: date) -> bool:
        if self.state.terminated is not None:
            return True
        if any(self._recurring_ongoing(r.rule.from_event, r.rule.until_event)
               for r in self.plan.recurring if r.applies):
            return False
        return all(self.state_of(i, today) in (ObligationState.DONE, ObligationState.WAIVED)
                   for i in self.instances(today))

    def _recurring_ongoing(self, from_event: str, until_event: str) -> bool:
        """A recurring duty's phase has begun and not ended: more periods will come."""
        sched = self.schedule()
        return bool(sched.event_dates(from_event)) and not sched.event_dates(until_event)

    def actor_name(self, actor: str) -> str:
        return self.project.owner if actor == "owner" else self.pack.actors.get(actor, actor)

    def due_map(self, today: date) -> dict[str, date]:
        return {i.id: i.due_on for i in self.instances(today)
                if i.due_on is not None and i.done_on is None and not i.waived}

    def instance(self, obligation: str, today: date) -> Instance:
        insts = {i.id: i for i in self.instances(today)}
        if obligation not in insts:
            raise Refused(f"no obligation {obligation!r} in this project; "
                          f"known: {', '.join(insts)}")
        return insts[obligation]

    # ---- the event log -------------------------------------------------------------------
    def log(self, now: datetime, kind: str, text: str, data: Mapping[str, object] | None = None,
            on: date | None = None) -> None:
        self.state.events.append(EventRecord(
            seq=self.state.next_seq, at=now, on=on or business_date(now), kind=kind, text=text,
            data=dict(data or {}),
        ))
        self.state.next_seq += 1

    def record_moves(
        self, before: dict[str, date], now: datetime, why: str
    ) -> list[dict[str, str]]:
        """Log each open deadline whose due day changed."""
        self.invalidate()
        after = self.due_map(business_date(now))
        moved: list[dict[str, str]] = []
        for iid, old in sorted(before.items()):
            new = after.get(iid)
            if new is not None and new != old:
                moved.append({"obligation": iid, "from": old.isoformat(), "to": new.isoformat()})
                self.log(now, "deadline_moved", f"{iid}: due {old} → {new} ({why})",
                         moved[-1])
        return moved

    # ---- the engine's parts, as the workflow and the starter call them -------------------
    def check_document(self, doc: DocumentArrival, today: date) -> RecordOutcome:
        return intake.check_document(self, doc, today)

    def add_document(self, doc: DocumentArrival, now: datetime) -> None:
        intake.add_document(self, doc, now)

    def check_stop_clock(self, obligation: str, on: date, today: date) -> ManualPause:
        return intake.check_stop_clock(self, obligation, on, today)

    def check_restart_clock(self, obligation: str, on: date, today: date) -> ManualPause:
        return intake.check_restart_clock(self, obligation, on, today)

    def check_extension(self, obligation: str, until: date, on: date, today: date) -> None:
        intake.check_extension(self, obligation, until, on, today)

    def apply_extension(self, ext: Extension, now: datetime) -> None:
        intake.apply_extension(self, ext, now)

    def escalate(self, now: datetime) -> list[NoticeRecord]:
        return escalation.escalate(self, now)

    def next_wake(self, now: datetime) -> datetime | None:
        return escalation.next_wake(self, now)

    def views(self, today: date) -> list[ObligationView]:
        return views.obligation_views(self, today)

    def status(self, now: datetime, today: date | None = None) -> StatusView:
        return views.status(self, now, today or business_date(now))


__all__ = ["OPEN_STATES", "Ledger", "Refused", "business_date", "start_of_day"]
