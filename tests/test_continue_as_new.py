"""A long life continues as new with its state intact (DESIGN §7: suggest CAN at 30 events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from shixian.compression import inflate
from shixian.converter import DATA_CONVERTER
from shixian.temporal_env import dev_server_path
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import doc, project
from tests.lifecycle_helpers import lifecycle_input, start
from tests.test_read_model_changes import assert_same, settled
from workflows import search_attributes
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import (
    LifecycleInput,
    ObligationState,
    RecordOutcome,
    RecordResult,
    StatusView,
)


@pytest_asyncio.fixture
async def small_history_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=str(dev_server_path()),
        search_attributes=search_attributes.ALL,
        dev_server_extra_args=[
            "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=30",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_state_survives_continue_as_new(small_history_env: WorkflowEnvironment) -> None:
    client = small_history_env.client
    queue = new_queue()
    proj = project("JJT-CAN", investment_wan=800, started_on=date(2025, 3, 3))
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        first_run = (await handle.describe()).run_id
        record = ProjectLifecycleWorkflow.record_document
        await handle.execute_update(record, doc("fsr_submitted", "2025-03-20"))
        day = date(2025, 3, 24)
        for _ in range(8):  # revision rounds: 16 updates, far past 30 events
            await handle.execute_update(record, doc("revision_requested", day.isoformat()))
            day += timedelta(days=2)
            await handle.execute_update(record, doc("revision_resubmitted", day.isoformat()))
            day += timedelta(days=1)
        # The loop continues as new once it is between activities (the notices this overdue
        # project sends can outlast the 17 updates): wait for the new run, bounded.
        for _ in range(300):
            if (await client.get_workflow_handle(handle.id).describe()).run_id != first_run:
                break
            await asyncio.sleep(0.1)
        latest = client.get_workflow_handle(handle.id)
        last: RecordResult = await latest.execute_update(
            record, doc("fsr_tech_review_issued", day.isoformat()))
        status: StatusView = await latest.query(ProjectLifecycleWorkflow.status)
        desc = await latest.describe()
        started = (await latest.fetch_history()).events[0]
        await latest.terminate("test over")
    assert desc.run_id != first_run
    # The new run keeps ShixianProvisionalYears up to date (what `calendar publish` uses).
    (new_input,) = await client.data_converter.decode(
        started.workflow_execution_started_event_attributes.input.payloads, [LifecycleInput])
    assert new_input.provisional_years and new_input.one_task_wake
    assert last.outcome is RecordOutcome.ACCEPTED
    assert len(status.documents) == 18
    assert [e.seq for e in status.events] == list(range(1, len(status.events) + 1))
    assert len([e for e in status.events if e.kind == "document"]) == 18
    # v2: FSR revisions (九江 25(二)) pause the review and have no cap of their own; the 8
    # rounds carried across the new run are what the review's due day is counted from.
    review = {o.id: o for o in status.obligations}["fsr_tech_review"]
    assert (review.state, review.done_on) == (ObligationState.DONE, day)


# ---- continue-as-new: old runs move to the new commands, the read model stays whole -------

async def test_an_old_run_continues_as_new_into_one_task_wakes(
    small_history_env: WorkflowEnvironment,
) -> None:
    """A run started without `wake_in_one_task` (awaited send_notices/record_status)
    continues as new with it; the new runs schedule record_wake, send their first update
    whole, and keep the read model equal to the status across further runs."""
    client = small_history_env.client
    queue = new_queue()
    proj = project("JJT-CANW", investment_wan=800, started_on=date(2025, 3, 3))
    old = lifecycle_input(proj).model_copy(update={"wake_in_one_task": False})
    async with running_worker(client, queue):
        handle = await client.start_workflow(ProjectLifecycleWorkflow.run, old,
                                             id="project-JJT-CANW", task_queue=queue)
        first_run = (await handle.describe()).run_id
        record = ProjectLifecycleWorkflow.record_document
        await handle.execute_update(record, doc("fsr_submitted", "2025-03-20"))
        day, runs = date(2025, 3, 24), {first_run}
        for _ in range(12):  # revision rounds: far past 30 events, twice
            for kind, step in (("revision_requested", 2), ("revision_resubmitted", 1)):
                latest = client.get_workflow_handle(handle.id)
                await latest.execute_update(record, doc(kind, day.isoformat()))
                day += timedelta(days=step)
            runs.add((await latest.describe()).run_id)
        for _ in range(300):  # the last continue-as-new waits for its activity
            latest = client.get_workflow_handle(handle.id)
            runs.add((await latest.describe()).run_id)
            if len(runs) >= 3:
                break
            await asyncio.sleep(0.1)
        status = await settled(latest)
        history = (await latest.fetch_history()).events
        assert_same("JJT-CANW", status, 800)
        await latest.terminate("test over")
    assert len(runs) >= 3, "two continue-as-new at least"
    started = history[0].workflow_execution_started_event_attributes
    assert b'"wake_in_one_task":true' in inflate(started.input.payloads[0]).data
    names = {e.activity_task_scheduled_event_attributes.activity_type.name for e in history
             if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED}
    assert names == {"record_wake"}
    assert len([e for e in status.events if e.kind == "document"]) == 25
