"""`ProjectLifecycleWorkflow`: one durable workflow per approved project (DESIGN §4).

It interprets the policy pack in its input with the calendar snapshot in its input, sleeps
on one durable timer until the next thing that changes by itself, and wakes on documents.
Everything it decides from is in its history: input, updates, signals, activity results.

The workflow type is `ProjectLifecycleWorkflowV2` (rule engine v2); projects started under
v1 replay on the frozen `workflows.v1` code and continue here (`workflows.upgrade`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.notices import NoticeInput, NoticesInput, send_notice, send_notices
    from activities.read_model import (
        NEEDS_FULL,
        ObligationRow,
        ProjectRow,
        ReadModelChanges,
        ReadModelUpdate,
        obligation_row,
        project_row,
        record_status,
    )
    from activities.wake import WakeInput, WakeResult, record_wake
    from calendars.engine import WorkCalendar, merge_snapshots
    from calendars.model import CalendarError
    from calendars.periods import end_of_day
    from calendars.signing import problem as signature_problem
    from workflows import search_attributes as sa
    from workflows import summaries, views
    from workflows.intake import document_size
    from workflows.ledger import Ledger, Refused, business_date
    from workflows.models import (
        MAX_DOCUMENTS,
        BatchResult,
        CalendarApplied,
        CalendarUpdate,
        ClockChange,
        DocumentArrival,
        DocumentBatch,
        DocumentOutcome,
        Extension,
        ExtensionRequest,
        LedgerState,
        LifecycleInput,
        NoticeKind,
        NoticeRecord,
        RecordOutcome,
        RecordResult,
        StatusView,
        Termination,
        UnreadablePayload,
    )
    from workflows.shared import share_immutable
    from workflows.upgrade import UPGRADED_WORKFLOW_TYPE

# Continue-as-new well before the server's 4,096-event suggestion; a multi-year life then
# keeps each run's history small and replay fast.
HISTORY_EVENTS_BEFORE_CONTINUE = 2_000
# Refused or unreadable signals are counted; only this many are kept as events, so a script
# re-sending a bad document cannot grow the state without bound. Past them a summary event
# at the 100th, 1,000th… and a notice to operators at the 1st, 10th, 100th… unreadable one.
REFUSAL_EVENTS_KEPT = 20
DOCUMENT_SIGNAL = "document_arrived"
OPERATORS = "operators"  # the contacts entry (actor id) that reaches shixian's operators
OPERATORS_LABEL = "运维值班 (shixian operators)"

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)


# An input that does not decode fails the workflow with the reason (DESIGN §7: a task that
# fails on content is retried for ever); anything else still fails only the task.
@workflow.defn(name=UPGRADED_WORKFLOW_TYPE, failure_exception_types=[UnreadablePayload])
class ProjectLifecycleWorkflow:
    """政务信息化项目全生命周期: one project from its first document to self-evaluation."""

    @workflow.init
    def __init__(self, inp: LifecycleInput) -> None:
        share_immutable(inp)  # one pack and calendar per worker process, not per project
        state = inp.carried or LedgerState(calendar=inp.calendar)
        calendar = WorkCalendar.from_snapshot(state.calendar or inp.calendar)
        self._input = inp
        self._ledger = Ledger(inp.project, inp.pack, calendar, state)
        self._wakeup = False
        self._published: tuple[object, ...] | None = None
        self._synced: dict[str, object] | None = None
        # wake_in_one_task: one record_wake in flight at a time, not awaited by the loop
        self._in_flight = False
        self._wake_record_waits = False  # _record_wake was called while one was in flight
        self._outbox: list[NoticeRecord] = []  # raised, waiting for the next record_wake
        self._queued: set[str] = set()  # keys of operator notices queued or in flight
        self._rm_sent: tuple[ProjectRow, dict[str, ObligationRow]] | None = None
        self._rm_sent_events = 0
        self._rm_acked_seq = 0
        self._rm_acked: dict[str, ObligationRow] | None = None  # None: the next one is full
        self._rm_resend_events = False
        self._rm_force = False
        self._failure: ActivityError | None = None
        if state.documents and not state.document_bytes:  # carried from before the bound
            state.document_bytes = sum(document_size(d) for d in state.documents)
        if inp.carried is None:
            # In init, not run: an update delivered with the first task is validated
            # against the imported documents, not an empty project.
            self._import_documents()

    # ---- main loop -----------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: LifecycleInput) -> StatusView:
        if inp.wake_in_one_task:
            return await self._run_in_one_task(inp)
        ledger = self._ledger
        while True:
            # Cleared before any await: a handler that runs while this iteration awaits an
            # activity leaves it set, so the wait below returns at once instead of missing it.
            self._wakeup = False
            now = workflow.now()
            await self._send_notices(ledger.escalate(now))
            await self._notify_operators()
            finished = ledger.finished(business_date(now))
            if finished:
                ledger.log(now, "finished", "all obligations are done, waived or cancelled")
            await self._sync_read_model()
            self._publish_search_attributes()
            if finished and not self._wakeup:
                break
            if finished:
                continue  # a handler ran during the awaits: judge again before ending
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if any(not n.delivered for n in ledger.state.operator_notices):
                    continue  # a signal arrived meanwhile: its notice goes out first
                workflow.continue_as_new(self._next_run_input())
            await self._sleep_until_wake(now)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ledger.status(workflow.now())

    async def _run_in_one_task(self, inp: LifecycleInput) -> StatusView:
        """The main loop of runs started with `wake_in_one_task`: a wake schedules one
        `record_wake` (its notices and its read-model update) and sets its timer in one
        workflow task; the result is taken when it comes (`_on_done`). Nothing ends or
        continues as new while one is in flight, and an activity that fails for good
        fails the workflow, as an awaited one did."""
        ledger = self._ledger
        while True:
            self._wakeup = False
            self._raise_failure()
            now = workflow.now()
            self._queue_notices(ledger.escalate(now))
            self._queue_notices([n for n in ledger.state.operator_notices
                                 if not n.delivered and n.key not in self._queued])
            finished = ledger.finished(business_date(now))
            if finished:
                ledger.log(now, "finished", "all obligations are done, waived or cancelled")
            summary = self._summary()  # once per wake: the read model and search attributes
            self._record_wake(summary)
            self._publish_search_attributes(summary)
            # Not kept while the project sleeps: its views are ~40 KB a cached project.
            del summary
            if finished or self._should_continue_as_new():
                await workflow.wait_condition(
                    lambda: self._failure is not None
                    or (self._settled() and workflow.all_handlers_finished()))
                self._raise_failure()
                if self._wakeup:
                    continue  # a handler ran meanwhile: judge again first
                if finished:
                    break
                workflow.continue_as_new(self._next_run_input())
            await self._sleep_until_wake(now)
        return ledger.status(workflow.now())

    def _next_run_input(self) -> LifecycleInput:
        """The input of the run this one continues as: the state carried, and the newest
        commands (a new run is a new history)."""
        inp, state = self._input, self._ledger.state
        return LifecycleInput(
            project=inp.project, pack=inp.pack, calendar=state.calendar, carried=state,
            calendar_keys=inp.calendar_keys, one_task_wake=True, wake_in_one_task=True,
            search_attribute_changes=True,
            # carried, not turned on: a cluster not told about the attribute would fail
            # the new run's upsert (shixian start refuses instead)
            provisional_years=inp.provisional_years)

    async def _sleep_until_wake(self, now: datetime) -> None:
        """Until the next thing that changes by itself, or a handler wakes the loop. What
        the ledger derived is shed first: a sleeping project keeps only its state."""
        wake = self._ledger.next_wake(now)
        what = summaries.wake_summary(self._ledger, now, wake)
        self._ledger.shed()
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(
                lambda: self._wakeup,
                timeout=None if wake is None else max(wake - now, timedelta(seconds=1)),
                timeout_summary=what,
            )

    def _settled(self) -> bool:
        return not (self._in_flight or self._outbox)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _on_done(self, handle: workflow.ActivityHandle[_T],
                 then: Callable[[_T], None]) -> None:
        """Run `then` with the activity's result when it comes, without holding up the loop.
        A failure for good (retries are unlimited: a non-retryable error) is raised by the
        main loop, which it wakes."""
        async def wait() -> None:
            try:
                result = await handle
            except ActivityError as exc:
                self._failure = exc
                self._wake()
                return
            then(result)

        asyncio.create_task(wait())  # noqa: RUF006 -- the workflow's loop keeps it

    def _queue_notices(self, notices: Sequence[NoticeRecord]) -> None:
        self._outbox.extend(notices)
        self._queued.update(n.key for n in notices if n.kind is NoticeKind.OPERATOR)

    def _summary(self) -> StatusView:
        now = workflow.now()
        return views.summary(self._ledger, now, business_date(now))

    def _record_wake(self, status: StatusView | None = None) -> None:
        """Schedule `record_wake` with the notices raised and the read-model changes since
        the last one — unless one is in flight: its completion sends what came meanwhile,
        so notices go in the order raised and updates never overtake each other."""
        if self._in_flight:
            self._wake_record_waits = True
            return
        self._wake_record_waits = False
        status = status or self._summary()
        day = status.today
        changes, acknowledge = self._read_model_changes(status)
        notices, self._outbox = self._outbox, []
        if changes is None and not notices:
            return
        what = summaries.wake_record_summary(
            notices, None if changes is None else self._ledger.state.read_model_seq, status)
        handle = workflow.start_activity(
            record_wake,
            WakeInput(workflow_id=workflow.info().workflow_id,
                      project_id=self._input.project.id,
                      jurisdiction=self._input.pack.jurisdiction,
                      notices=notices, changes=changes),
            start_to_close_timeout=timedelta(seconds=30 + 5 * len(notices)),
            retry_policy=NOTICE_RETRY,
            summary=what,
        )
        self._in_flight = True

        def done(result: WakeResult) -> None:
            self._in_flight = False
            for notice in notices:
                notice.delivered = True
            acknowledge(result.read_model)
            # What was raised or changed while this was in flight. The read model's rows
            # are a function of the state and the business day: with no handler run, no
            # loop pass since, no notice waiting and the same day, there is nothing to
            # send, and the summary that would show it (~2 ms) is not computed.
            if (self._wake_record_waits or self._wakeup or self._outbox or self._rm_force
                    or business_date(workflow.now()) != day):
                self._record_wake()
            if not self._wakeup:  # the loop sleeps on: keep only the state (see shed)
                self._ledger.shed()

        self._on_done(handle, done)

    def _read_model_changes(
        self, status: StatusView,
    ) -> tuple[ReadModelChanges | None, Callable[[str], None]]:
        """The read-model update when the stored rows would change (or events were logged)
        since the last one sent: the rows that differ from the last acknowledged update
        (all of them at a run's first update or after NEEDS_FULL), and what to do with the
        activity's answer."""
        state = self._ledger.state
        project = project_row(status, self._input.project.investment_wan)
        rows = {o.id: obligation_row(o) for o in status.obligations}
        compared = (dataclasses.replace(project, business_date=date.min, as_of=_EPOCH), rows)
        if (not self._rm_force and compared == self._rm_sent
                and self._rm_sent_events == state.next_seq - 1):
            return None, lambda _: None
        workflow.set_current_details(summaries.current_details(status))
        base = self._rm_acked
        changed = [r for oid, r in rows.items() if base is None or base.get(oid) != r]
        state.read_model_seq += 1
        seq = state.read_model_seq
        # Events a handler logs while this update is in flight are not in it.
        sent_upto = state.next_seq - 1
        since = 0 if self._rm_resend_events else state.read_model_events
        changes = ReadModelChanges(
            workflow_id=workflow.info().workflow_id, seq=seq, full=base is None,
            project=project, obligation_ids=list(rows), changed=changed,
            new_events=[e for e in state.events if e.seq > since])
        self._rm_sent, self._rm_sent_events = compared, sent_upto
        self._rm_resend_events = self._rm_force = False

        def acknowledge(result: str) -> None:
            if result == NEEDS_FULL:  # the project has no row (a rebuilt read model)
                self._rm_acked = None
                self._rm_resend_events = self._rm_force = True
                return
            # APPLIED or STALE: this update's rows, or a newer one's, are stored.
            if seq > self._rm_acked_seq:
                self._rm_acked_seq, self._rm_acked = seq, rows
            state.read_model_events = max(state.read_model_events, sent_upto)

        return changes, acknowledge

    async def _send_notices(self, notices: Sequence[NoticeRecord]) -> None:
        """The notices of this wake: one activity for all of them (one per notice in
        inputs without `one_task_wake`: their recorded histories replay as they were)."""
        if not notices:
            return
        wid, project_id = workflow.info().workflow_id, self._input.project.id
        jurisdiction = self._input.pack.jurisdiction
        if self._input.one_task_wake:
            more = f" (+{len(notices) - 1} more)" if len(notices) > 1 else ""
            await workflow.execute_activity(
                send_notices, NoticesInput(wid, project_id, jurisdiction, list(notices)),
                start_to_close_timeout=timedelta(seconds=30 + 5 * len(notices)),
                retry_policy=NOTICE_RETRY,
                summary=summaries.notice_summary(notices[0]) + more)
            for notice in notices:
                notice.delivered = True
            return
        for notice in notices:
            await workflow.execute_activity(
                send_notice, NoticeInput(wid, project_id, jurisdiction, notice),
                start_to_close_timeout=timedelta(seconds=30), retry_policy=NOTICE_RETRY,
                summary=summaries.notice_summary(notice))
            notice.delivered = True

    def _import_documents(self) -> None:
        """Documents already received (a project imported half-way) enter as one batch."""
        now = workflow.now()
        project = self._input.project
        self._ledger.log(now, "started", f"{project.name} under {self._input.pack.id}",
                         {"started_on": project.started_on.isoformat()}, on=project.started_on)
        for outcome in self._apply_batch(project.documents):
            if outcome.outcome is RecordOutcome.REFUSED:
                self._ledger.log(now, "document_refused",
                                 f"import of {outcome.type}: {outcome.reason}",
                                 {"type": outcome.type, "on": outcome.on.isoformat()},
                                 on=outcome.on)

    def _apply_batch(self, docs: Sequence[DocumentArrival]) -> list[DocumentOutcome]:
        """Check and record documents in date order; each is checked against the ones
        before it. Nothing is escalated here: the main loop judges after the whole batch."""
        now = workflow.now()
        today = business_date(now)
        ledger = self._ledger
        out: list[DocumentOutcome] = []
        for doc in sorted(docs, key=lambda d: d.on):
            try:
                if len(ledger.state.documents) >= MAX_DOCUMENTS:
                    raise Refused(f"this project already holds {MAX_DOCUMENTS} documents; "
                                  "ask an operator to archive it")
                outcome = ledger.check_document(doc, today)
            except Refused as exc:
                out.append(DocumentOutcome(type=doc.type, on=doc.on,
                                           outcome=RecordOutcome.REFUSED, reason=exc.message))
                continue
            if outcome is RecordOutcome.ACCEPTED:
                ledger.add_document(doc, now)
            out.append(DocumentOutcome(type=doc.type, on=doc.on, outcome=outcome))
        return out

    async def _notify_operators(self) -> None:
        """Notices to operators (unreadable signals) through the same outbox as the rest."""
        for notice in self._ledger.state.operator_notices:
            if notice.delivered:
                continue
            await workflow.execute_activity(
                send_notice,
                NoticeInput(workflow_id=workflow.info().workflow_id,
                            project_id=self._input.project.id,
                            jurisdiction=self._input.pack.jurisdiction, notice=notice),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=NOTICE_RETRY,
                summary=summaries.notice_summary(notice),
            )
            notice.delivered = True

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (info.is_continue_as_new_suggested()
                or info.get_current_history_length() > HISTORY_EVENTS_BEFORE_CONTINUE)

    async def _sync_read_model(self) -> None:
        """Report the state to the read model when it changed since the last report."""
        state = self._ledger.state
        status = self._ledger.status(workflow.now())
        view = status.model_dump(exclude={"as_of", "today", "events", "notices", "documents"})
        if view == self._synced and state.read_model_events == state.next_seq - 1:
            return
        workflow.set_current_details(summaries.current_details(status))
        state.read_model_seq += 1
        # Events a handler logs while this activity runs (or retries through a read-model
        # outage) are not in it: only those up to here count as sent.
        sent_upto = state.next_seq - 1
        await workflow.execute_activity(
            record_status,
            ReadModelUpdate(
                workflow_id=workflow.info().workflow_id,
                seq=state.read_model_seq,
                investment_wan=self._input.project.investment_wan,
                # What the read model stores: not the documents, events or notices in full.
                status=status.model_copy(update={"events": [], "notices": [],
                                                 "documents": []}),
                new_events=[e for e in state.events if e.seq > state.read_model_events],
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=NOTICE_RETRY,
            summary=summaries.sync_summary(state.read_model_seq, status),
        )
        state.read_model_events = sent_upto
        self._synced = view

    def _publish_search_attributes(self, status: StatusView | None = None) -> None:
        """Upsert only what changed: every upsert is a history event."""
        status = status or self._ledger.status(workflow.now())
        next_due = end_of_day(status.next_due_on) if status.next_due_on else None
        years = self._provisional_years() if self._input.provisional_years else None
        values = (status.stage, status.overdue, status.escalation_level, next_due, years)
        if values == self._published:
            return
        before, self._published = self._published, values
        # (index in `values`, or None for what never changes within a run; the update)
        pairs: list[tuple[int | None, SearchAttributeUpdate]] = [  # type: ignore[type-arg]
            (None, sa.JURISDICTION.value_set(status.jurisdiction)),
            (0, sa.STAGE.value_set(status.stage)),
            (None, sa.OWNER.value_set(status.owner)),
            (1, sa.OVERDUE.value_set(status.overdue)),
            (2, sa.ESCALATION_LEVEL.value_set(status.escalation_level)),
            (3, sa.NEXT_DUE.value_set(next_due) if next_due else sa.NEXT_DUE.value_unset()),
        ]
        if years is not None:  # inputs recorded before it existed replay without it
            pairs.append((4, sa.PROVISIONAL_YEARS.value_set(years)))
        if self._input.search_attribute_changes and before is not None:
            pairs = [(i, u) for i, u in pairs if i is not None and values[i] != before[i]]
        workflow.upsert_search_attributes([u for _, u in pairs])

    def _provisional_years(self) -> list[str]:
        """The provisional years the open deadlines are counted over (an overdue one's
        lateness too, up to today): what `calendar publish` looks the project up by."""
        ledger = self._ledger
        today = business_date(workflow.now())
        spans = [(i.starts_on or i.due_on, max(i.due_on, today))
                 for i in ledger.instances(today)
                 if i.due_on is not None and i.done_on is None and not i.waived]
        return sa.provisional_years(ledger.calendar, spans)

    def _wake(self) -> None:
        self._wakeup = True

    # ---- documents -----------------------------------------------------------------------
    @workflow.update(description="Record one arrived document (shixian doc); refused ones "
                     "never enter history")
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

    @workflow.update(description="Record a batch of documents (doc --file, an import); "
                     "escalation waits for all of it")
    def record_documents(self, batch: DocumentBatch) -> BatchResult:
        """A batch for one project (`doc --file`, an import): escalation waits for all of it.

        Each document is accepted, recognised as a duplicate or refused with its reason;
        refused ones change nothing and are not kept.
        """
        outcomes = self._apply_batch(batch.documents)
        if any(o.outcome is RecordOutcome.ACCEPTED for o in outcomes):
            self._wake()
        return BatchResult(outcomes=outcomes,
                           stage=self._ledger.stage(business_date(workflow.now())))

    @record_documents.validator
    def _validate_batch(self, batch: DocumentBatch) -> None:
        if self._ledger.state.terminated is not None:
            raise Refused(f"the project was terminated: {self._ledger.state.terminated}")

    @workflow.signal(dynamic=True, description="document_arrived for scripts: recorded, or "
                     "kept visible as a refusal")
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Signals for scripts (`document_arrived`; `shixian doc` when no worker polls):
        whatever arrives is recorded, or kept visible on the project as a refusal or an
        unreadable signal (operators are told) — never dropped, never raised."""
        now = workflow.now()
        if name != DOCUMENT_SIGNAL:
            self._unreadable(f"unknown signal {name[:60]!r}; send {DOCUMENT_SIGNAL} or use "
                             "`shixian doc`")
            return
        if len(args) != 1:
            self._unreadable(f"{DOCUMENT_SIGNAL} takes one document, got {len(args)} inputs")
            return
        try:
            doc = workflow.payload_converter().from_payload(args[0].payload, DocumentArrival)
        except (ValidationError, ValueError, TypeError) as exc:  # UnreadablePayload too
            self._unreadable(f"{DOCUMENT_SIGNAL}: {_short(exc)}")
            return
        try:
            outcome = self._ledger.check_document(doc, business_date(now))
        except Refused as exc:
            self._refused(exc.message, doc.model_dump(mode="json", exclude_defaults=True))
            return
        if outcome is RecordOutcome.ACCEPTED:
            self._ledger.add_document(doc, now)
            self._wake()
        elif self._should_continue_as_new():
            self._wake()

    def _refused(self, reason: str, data: dict[str, object],
                 kind: str = "document_refused") -> None:
        state = self._ledger.state
        state.refused_signals += 1
        count = state.refused_signals
        if count <= REFUSAL_EVENTS_KEPT:
            self._ledger.log(workflow.now(), kind, reason, data)
            self._wake()  # the read model shows it
        elif _milestone(count) and count >= 100:
            self._ledger.log(workflow.now(), "signals_refused",
                             f"{count} signals refused or unreadable so far (only the first "
                             f"{REFUSAL_EVENTS_KEPT} are kept as events); latest: {reason}",
                             {"count": count})
            self._wake()
        elif self._should_continue_as_new():
            self._wake()
        workflow.logger.warning("signal refused: %s", reason)

    def _unreadable(self, reason: str) -> None:
        """A payload nobody can act on: an event, and at the 1st, 10th, 100th… a notice to
        operators (the sender is a script or a person with Temporal access, not a user)."""
        state = self._ledger.state
        state.unreadable_signals += 1
        self._refused(f"unreadable signal: {reason}", {}, kind="signal_unreadable")
        count = state.unreadable_signals
        if not _milestone(count):
            return
        now = workflow.now()
        project = self._input.project
        notice = NoticeRecord(
            key=f"operator:unreadable_signals@{count}", obligation="signals", rung="operator",
            level=0, recipients=[OPERATORS_LABEL], recipient_actors=[OPERATORS],
            kind=NoticeKind.OPERATOR, citation="shixian 运维",
            message=(f"[{project.id}] 收到无法读取的信号（累计 {count} 个），未记录: {reason}. "
                     f"Send documents with `shixian doc` or the {DOCUMENT_SIGNAL} signal "
                     "(one DocumentArrival)."),
            due_on=None, overdue_working_days=0, fired_at=now, policy=self._input.pack.id,
            project_name=project.name, owner=project.owner, duty_title="信号无法读取")
        state.operator_notices.append(notice)
        self._ledger.log(now, "operator_notice", f"operators told: {count} unreadable "
                         "signal(s)", {"key": notice.key})
        self._wake()

    # ---- clocks, extensions, termination -------------------------------------------------
    @workflow.update(description="Stop a duty's clock (停止计时) from a date, with the reason")
    def stop_clock(self, change: ClockChange) -> str:
        now = workflow.now()
        pause = self._ledger.check_stop_clock(change.obligation, change.on, business_date(now))
        if change.reason:
            pause.reason = f"{pause.reason}: {change.reason}"
        self._ledger.state.manual_pauses.append(pause)
        self._ledger.invalidate()
        self._ledger.log(now, "clock_stopped", f"{change.obligation} stopped on {change.on} "
                         f"({pause.reason})", change.model_dump(mode="json"), on=change.on)
        self._wake()
        return f"{change.obligation}: clock stopped on {change.on}"

    @stop_clock.validator
    def _validate_stop_clock(self, change: ClockChange) -> None:
        self._ledger.check_stop_clock(change.obligation, change.on, business_date(workflow.now()))

    @workflow.update(description="Restart a stopped clock; the due day moves by the days "
                     "stopped")
    def restart_clock(self, change: ClockChange) -> str:
        now = workflow.now()
        pause = self._ledger.check_restart_clock(change.obligation, change.on, business_date(now))
        pause.until = change.on
        self._ledger.invalidate()
        due = self._ledger.due_map(business_date(now)).get(change.obligation)
        self._ledger.log(now, "clock_restarted", f"{change.obligation} restarted on {change.on}; "
                         f"due {due}", change.model_dump(mode="json"), on=change.on)
        self._wake()
        return f"{change.obligation}: clock restarted on {change.on}, due {due}"

    @restart_clock.validator
    def _validate_restart_clock(self, change: ClockChange) -> None:
        self._ledger.check_restart_clock(change.obligation, change.on,
                                         business_date(workflow.now()))

    @workflow.update(description="Grant an extension (延期) of a duty to a new due day")
    def grant_extension(self, request: ExtensionRequest) -> str:
        now = workflow.now()
        today = business_date(now)
        self._ledger.check_extension(request.obligation, request.until, request.on, today)
        before = self._ledger.due_map(today)
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
        self._ledger.check_extension(request.obligation, request.until, request.on,
                                     business_date(workflow.now()))

    @workflow.update(description="Terminate the project (撤销/终止): open duties are "
                     "cancelled, the reason is kept")
    def terminate(self, termination: Termination) -> str:
        now = workflow.now()
        self._ledger.state.terminated = f"{termination.on}: {termination.reason}"
        self._ledger.invalidate()
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
    @workflow.update(description="Apply published calendar data (a year's holidays); "
                     "re-times open deadlines")
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
        applied = [int(y) for y in incoming["years"]]
        # Merged as data, then rebuilt through the worker's shared calendars: every project
        # a year is published to merges it into the same few snapshots, so the index is
        # built once per distinct result, not once per project (DESIGN §8).
        current = ledger.state.calendar or self._input.calendar
        snapshot = merge_snapshots(current, incoming)
        merged = WorkCalendar.from_snapshot(snapshot)
        if merged is ledger.calendar or merged == ledger.calendar:
            return CalendarApplied(years=applied, moved=[], unchanged=True)
        before = ledger.due_map(business_date(now))
        ledger.calendar = merged
        ledger.state.calendar = snapshot
        ledger.log(now, "calendar_applied",
                   f"calendar data for {', '.join(map(str, applied))} applied"
                   + (f" ({update.note})" if update.note else ""), {"years": applied})
        moved = ledger.record_moves(before, now, f"calendar {', '.join(map(str, applied))}")
        self._wake()
        return CalendarApplied(years=applied, moved=moved)

    def _overlapping(self, update: CalendarUpdate) -> dict[str, Any] | None:
        """The snapshot of the update's years within this project's years (the update's own
        when it lies within them, as a published year does), or None if none is."""
        incoming = WorkCalendar.from_snapshot(update.snapshot)  # checks it; shared when seen
        first, last = self._ledger.calendar.covered_years
        in_first, in_last = incoming.covered_years
        lo, hi = max(first, in_first), min(last, in_last)
        if lo > hi:
            return None
        if (lo, hi) == (in_first, in_last):
            return update.snapshot
        return dict(incoming.snapshot(lo, hi))

    @apply_calendar.validator
    def _validate_calendar(self, update: CalendarUpdate) -> None:
        """Signed by a trusted key when the project has any; then well-formed."""
        keys = self._input.calendar_keys
        if keys:
            # cryptography's Rust core imports its exception type on the first bad
            # signature; through the sandbox's importer that import aborts the process.
            with workflow.unsafe.imports_passed_through():
                why = signature_problem(update.snapshot, update.note, update.signature, keys)
            if why is not None:
                raise Refused(f"calendar data refused: {why}")
        try:
            self._overlapping(update)
        except CalendarError as exc:
            raise Refused(f"calendar data refused: {exc}") from None

    # ---- query ---------------------------------------------------------------------------
    @workflow.query(description="The project's status as of a Beijing date: stage, duties, "
                    "due days, lateness, notices")
    def status(self, today: date | None = None) -> StatusView:
        """The status as of `today`, the caller's Beijing date (the workflow's own clock
        stops at its last task, so a caller that passes no day gets that task's day)."""
        now = workflow.now()
        return self._ledger.status(now, today)


def _milestone(count: int) -> bool:
    """1, 10, 100, 1000…: how often a repeated problem is reported again."""
    while count and count % 10 == 0:
        count //= 10
    return count == 1


def _short(exc: Exception) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= 300 else text[:300] + "…"
