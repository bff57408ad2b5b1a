"""A long stream of refused signals (issue 9 §1, §2): 2,500 re-sends of a refused document
keep the state and every activity input bounded, continue the workflow as new, and a valid
document is then accepted. It used to wedge at ~1,700 (`record_status` input > 2 MB)."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from tests.reliability.figures import FIGURES
from tests.reliability.harness import health, project_id, start_small, task_failed, today
from workflows.lifecycle import DOCUMENT_SIGNAL, REFUSAL_EVENTS_KEPT, ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, StatusView

pytestmark = pytest.mark.read_model_independent

RESENDS = 2_500


async def test_thousands_of_refused_signals_continue_as_new_and_stay_bounded(
    dev_env: WorkflowEnvironment, rel_queue: str,
) -> None:
    client = dev_env.client
    pid = project_id("stream")
    handle = await start_small(client, pid, rel_queue)
    first_run = (await handle.describe()).run_id
    refused = DocumentArrival(type="fsr_tech_review_issued", on=today(), ref="R" * 200)
    for chunk in range(0, RESENDS, 250):  # the same refused document, 2,500 times
        await asyncio.gather(*(handle.signal(DOCUMENT_SIGNAL, refused)
                               for _ in range(chunk, min(chunk + 250, RESENDS))))
    latest = client.get_workflow_handle(handle.id)
    status: StatusView | None = None
    for _ in range(300):  # every signal seen (counted), bounded wait
        status = await latest.query(ProjectLifecycleWorkflow.status)
        if sum(e.kind == "signals_refused" for e in status.events) >= 1 and \
                (await latest.describe()).run_id != first_run:
            break
        await asyncio.sleep(0.1)
    assert status is not None
    runs = [first_run]
    assert (await latest.describe()).run_id != first_run, "never continued as new"

    assert await health(client, pid) is None  # a valid document, then no failed task
    status = await latest.query(ProjectLifecycleWorkflow.status)
    refusals = [e for e in status.events if e.kind == "document_refused"]
    assert len(refusals) == REFUSAL_EVENTS_KEPT  # kept across the new run, not one more
    assert "record that first" in refusals[0].text
    summaries = [e.text for e in status.events if e.kind == "signals_refused"]
    assert summaries and summaries[0].startswith("100 signals refused or unreadable so far")
    assert "1000 signals refused" in " ".join(summaries)
    assert [d.type for d in status.documents] == ["tech_plan_submitted"]
    assert [e.seq for e in status.events] == list(range(1, len(status.events) + 1))

    # Activity inputs carry what changed: none grows with the refusals.
    largest = 0
    async for event in client.get_workflow_handle(handle.id, run_id=first_run) \
            .fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            size = sum(len(p.data) for p in
                       event.activity_task_scheduled_event_attributes.input.payloads)
            largest = max(largest, size)
        assert not task_failed(event), event
    assert 0 < largest < 64_000, largest
    runs.append((await latest.describe()).run_id)
    FIGURES.notes.append(f"signal stream: {RESENDS} refused re-sends, continued as new, "
                         f"largest activity input {largest // 1000} KB, valid document "
                         "accepted after")
    await latest.terminate("reliability case over")
