"""v1 of the lifecycle workflow, frozen: projects started before rule engine v2.

This is the code of main at 766af5b (2026-11-23), kept so that histories recorded with it
replay exactly. Its only change is the `workflow.patched(UPGRADE_PATCH)` block: on its first
new workflow task after the upgrade, a v1 project continues-as-new into the v2 workflow
(`workflows.upgrade`), carrying its documents, clock stops, extensions and notices.

It interprets the policy pack in its input with the calendar snapshot in its input, sleeps
on one durable timer until the next rung of any escalation ladder, and wakes on documents.
Everything it decides from is in its history: input, updates, signals, activity results.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.notices import NoticeInput, send_notice
    from activities.read_model import ReadModelUpdate, record_status
    from calendars.engine import WorkCalendar
    from calendars.model import CalendarError
    from calendars.periods import end_of_day
    from workflows import search_attributes as sa
    from workflows.upgrade import UPGRADED_WORKFLOW_TYPE, upgraded_input
    from workflows.v1.ledger import Ledger, Refused, business_date
    from workflows.v1.models import (
        CalendarApplied,
        CalendarUpdate,
        ClockChange,
        DocumentArrival,
        Extension,
        ExtensionRequest,
        LedgerState,
        LifecycleInput,
        RecordOutcome,
        RecordResult,
        StatusView,
        Termination,
    )

# Continue-as-new well before the server's 4,096-event suggestion; a multi-year life then
# keeps each run's history small and replay fast.
HISTORY_EVENTS_BEFORE_CONTINUE = 2_000

NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)


UPGRADE_PATCH = "shixian-rule-engine-v2"


@workflow.defn(name="ProjectLifecycleWorkflow")
class ProjectLifecycleWorkflowV1:
    """政务信息化项目全生命周期: one project from launch notice to self-evaluation."""

    @workflow.init
    def __init__(self, inp: LifecycleInput) -> None:
        state = inp.carried or LedgerState(calendar=inp.calendar)
        calendar = WorkCalendar.from_snapshot(state.calendar or inp.calendar)
        self._input = inp
        self._ledger = Ledger(inp.project, inp.pack, calendar, state)
        self._wakeup = False
        self._published: tuple[object, ...] | None = None
        self._synced: dict[str, object] | None = None
        if inp.carried is None:
            # In init, not run: an update delivered with the first task is validated
            # against the imported documents, not an empty project.
            self._import_documents()

    # ---- main loop -----------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: LifecycleInput) -> StatusView:
        ledger = self._ledger
        while True:
            # Cleared before any await: a handler that runs while this iteration awaits an
            # activity leaves it set, so the wait below returns at once instead of missing it.
            self._wakeup = False
            if workflow.patched(UPGRADE_PATCH):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    upgraded_input(inp, ledger.state), workflow=UPGRADED_WORKFLOW_TYPE
                )
            now = workflow.now()
            for notice in ledger.escalate(now):
                await workflow.execute_activity(
                    send_notice,
                    NoticeInput(
                        workflow_id=workflow.info().workflow_id,
                        project_id=inp.project.id,
                        jurisdiction=inp.pack.jurisdiction,
                        notice=notice,
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=NOTICE_RETRY,
                )
                notice.delivered = True
            finished = ledger.finished(business_date(now))
            if finished:
                ledger.log(now, "finished", "all obligations are done, waived or cancelled")
            await self._sync_read_model()
            self._publish_search_attributes()
            if finished:
                break
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    LifecycleInput(
                        project=inp.project,
                        pack=inp.pack,
                        calendar=ledger.state.calendar,
                        carried=ledger.state,
                    )
                )
            wake = ledger.next_wake(now)
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: self._wakeup,
                    timeout=None if wake is None else max(wake - now, timedelta(seconds=1)),
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ledger.status(workflow.now())

    def _import_documents(self) -> None:
        """Documents already received (a project imported half-way) enter in date order."""
        now = workflow.now()
        ledger = self._ledger
        project = self._input.project
        ledger.log(now, "started", f"{project.name} under {self._input.pack.id}",
                   {"started_on": project.started_on.isoformat()}, on=project.started_on)
        for doc in sorted(project.documents, key=lambda d: d.on):
            try:
                outcome = ledger.check_document(doc, business_date(now))
            except Refused as exc:
                ledger.log(now, "document_refused", f"import of {doc.type}: {exc.message}",
                           doc.model_dump(mode="json"), on=doc.on)
                continue
            if outcome is RecordOutcome.ACCEPTED:
                ledger.add_document(doc, now)

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (info.is_continue_as_new_suggested()
                or info.get_current_history_length() > HISTORY_EVENTS_BEFORE_CONTINUE)

    async def _sync_read_model(self) -> None:
        """Report the state to the read model when it changed since the last report."""
        state = self._ledger.state
        status = self._ledger.status(workflow.now())
        view = status.model_dump(exclude={"as_of", "today", "events", "notices"})
        if view == self._synced and state.read_model_events == state.next_seq - 1:
            return
        state.read_model_seq += 1
        await workflow.execute_activity(
            record_status,
            ReadModelUpdate(
                workflow_id=workflow.info().workflow_id,
                seq=state.read_model_seq,
                investment_wan=self._input.project.investment_wan,
                status=status.model_copy(update={"events": [], "notices": []}),
                new_events=[e for e in state.events if e.seq > state.read_model_events],
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=NOTICE_RETRY,
        )
        state.read_model_events = state.next_seq - 1
        self._synced = view

    def _publish_search_attributes(self) -> None:
        """Upsert only what changed: every upsert is a history event."""
        status = self._ledger.status(workflow.now())
        next_due = end_of_day(status.next_due_on) if status.next_due_on else None
        values = (status.stage, status.overdue, status.escalation_level, next_due)
        if values == self._published:
            return
        self._published = values
        updates: list[SearchAttributeUpdate] = [  # type: ignore[type-arg]
            sa.JURISDICTION.value_set(status.jurisdiction),
            sa.STAGE.value_set(status.stage),
            sa.OWNER.value_set(status.owner),
            sa.OVERDUE.value_set(status.overdue),
            sa.ESCALATION_LEVEL.value_set(status.escalation_level),
            sa.NEXT_DUE.value_set(next_due) if next_due else sa.NEXT_DUE.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)

    def _wake(self) -> None:
        self._wakeup = True

    # ---- documents -----------------------------------------------------------------------
    @workflow.update
    def record_document(self, doc: DocumentArrival) -> RecordResult:
        """Record an arrived document; the validator refuses bad ones before they enter history."""
        now = workflow.now()
        outcome = self._ledger.check_document(doc, business_date(now))
        if outcome is RecordOutcome.ACCEPTED:
            self._ledger.add_document(doc, now)
            self._wake()
        return RecordResult(outcome=outcome, stage=self._ledger.stage(business_date(now)))

    @record_document.validator
    def _validate_document(self, doc: DocumentArrival) -> None:
        self._ledger.check_document(doc, business_date(workflow.now()))

    @workflow.signal
    def document_arrived(self, doc: DocumentArrival) -> None:
        """Fire-and-forget form for scripts: a refusal is logged as an event, never raised."""
        now = workflow.now()
        try:
            outcome = self._ledger.check_document(doc, business_date(now))
        except Refused as exc:
            self._ledger.log(now, "document_refused", exc.message, doc.model_dump(mode="json"))
            return
        if outcome is RecordOutcome.ACCEPTED:
            self._ledger.add_document(doc, now)
            self._wake()

    # ---- clocks, extensions, termination -------------------------------------------------
    @workflow.update
    def stop_clock(self, change: ClockChange) -> str:
        now = workflow.now()
        pause = self._ledger.check_stop_clock(change.obligation, change.on, business_date(now))
        if change.reason:
            pause.reason = f"{pause.reason}: {change.reason}"
        self._ledger.state.manual_pauses.append(pause)
        self._ledger.log(now, "clock_stopped", f"{change.obligation} stopped on {change.on} "
                         f"({pause.reason})", change.model_dump(mode="json"), on=change.on)
        self._wake()
        return f"{change.obligation}: clock stopped on {change.on}"

    @stop_clock.validator
    def _validate_stop_clock(self, change: ClockChange) -> None:
        self._ledger.check_stop_clock(change.obligation, change.on, business_date(workflow.now()))

    @workflow.update
    def restart_clock(self, change: ClockChange) -> str:
        now = workflow.now()
        pause = self._ledger.check_restart_clock(change.obligation, change.on, business_date(now))
        pause.until = change.on
        due = self._ledger.due_map(business_date(now)).get(change.obligation)
        self._ledger.log(now, "clock_restarted", f"{change.obligation} restarted on {change.on}; "
                         f"due {due}", change.model_dump(mode="json"), on=change.on)
        self._wake()
        return f"{change.obligation}: clock restarted on {change.on}, due {due}"

    @restart_clock.validator
    def _validate_restart_clock(self, change: ClockChange) -> None:
        self._ledger.check_restart_clock(change.obligation, change.on,
                                         business_date(workflow.now()))

    @workflow.update
    def grant_extension(self, request: ExtensionRequest) -> str:
        now = workflow.now()
        self._ledger.check_extension(request.obligation, request.until, business_date(now))
        before = self._ledger.due_map(business_date(now))
        self._ledger.apply_extension(
            Extension(obligation=request.obligation, until=request.until,
                      reason=request.reason, granted_on=request.on),
            now,
        )
        self._ledger.record_moves(before, now, "extension granted")
        self._wake()
        return f"{request.obligation}: due {request.until}"

    @grant_extension.validator
    def _validate_extension(self, request: ExtensionRequest) -> None:
        self._ledger.check_extension(request.obligation, request.until,
                                     business_date(workflow.now()))

    @workflow.update
    def terminate(self, termination: Termination) -> str:
        now = workflow.now()
        self._ledger.state.terminated = f"{termination.on}: {termination.reason}"
        self._ledger.log(now, "terminated", termination.reason,
                         termination.model_dump(mode="json"), on=termination.on)
        self._wake()
        return "terminated"

    @terminate.validator
    def _validate_terminate(self, termination: Termination) -> None:
        if self._ledger.state.terminated is not None:
            raise Refused(f"already terminated ({self._ledger.state.terminated})")
        if termination.on > business_date(workflow.now()):
            raise Refused(f"termination dated {termination.on} is in the future")
        if not termination.reason.strip():
            raise Refused("a termination needs a reason")

    # ---- calendar ------------------------------------------------------------------------
    @workflow.update
    def apply_calendar(self, update: CalendarUpdate) -> CalendarApplied:
        """New day data (a published year): re-time open deadlines and record what moved.

        Only the years this project's calendar covers are taken; data it already has
        changes nothing and is not logged, so publishing twice is harmless.
        """
        now = workflow.now()
        ledger = self._ledger
        incoming = self._overlapping(update)
        if incoming is None:
            return CalendarApplied(years=[], moved=[], unchanged=True)
        in_first, in_last = incoming.covered_years
        applied = list(range(in_first, in_last + 1))
        merged = ledger.calendar.merge(incoming)
        if merged == ledger.calendar:
            return CalendarApplied(years=applied, moved=[], unchanged=True)
        before = ledger.due_map(business_date(now))
        ledger.calendar = merged
        first, last = merged.covered_years
        ledger.state.calendar = dict(merged.snapshot(first, last))
        ledger.log(now, "calendar_applied",
                   f"calendar data for {', '.join(map(str, applied))} applied"
                   + (f" ({update.note})" if update.note else ""), {"years": applied})
        moved = ledger.record_moves(before, now, f"calendar {', '.join(map(str, applied))}")
        self._wake()
        return CalendarApplied(years=applied, moved=moved)

    def _overlapping(self, update: CalendarUpdate) -> WorkCalendar | None:
        """The part of the update within this project's years, or None if none is."""
        incoming = WorkCalendar.from_snapshot(update.snapshot)
        first, last = self._ledger.calendar.covered_years
        in_first, in_last = incoming.covered_years
        lo, hi = max(first, in_first), min(last, in_last)
        if lo > hi:
            return None
        return WorkCalendar.from_snapshot(incoming.snapshot(lo, hi))

    @apply_calendar.validator
    def _validate_calendar(self, update: CalendarUpdate) -> None:
        try:
            self._overlapping(update)
        except CalendarError as exc:
            raise Refused(f"calendar data refused: {exc}") from None

    # ---- query ---------------------------------------------------------------------------
    @workflow.query
    def status(self) -> StatusView:
        return self._ledger.status(workflow.now())
