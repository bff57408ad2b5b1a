"""Late facts through the workflow on the dev server, as `shixian doc` and `doc --file` send them.

A project started with no documents is back-filled from its paper file. What reaches the
outbox is the measure: in one batch (`doc --file`) nothing fires for any step in between;
line by line (`shixian doc` each), every notice a later line disproves is withdrawn by a
correction to the same recipients, and both stay in the outbox.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.db import engine, notice_outbox
from shixian import operations
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import MERGED_OTHER
from tests.lifecycle_helpers import start
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import RecordOutcome, StatusView


def outbox(workflow_id: str) -> list[Any]:
    with engine().connect() as conn:
        return list(conn.execute(
            select(notice_outbox).where(notice_outbox.c.workflow_id == workflow_id)
            .order_by(notice_outbox.c.id)).all())


async def settled(handle: WorkflowHandle[Any, Any]) -> StatusView:
    """The status once the workflow has sent what it had to send (its outbox stops growing)."""
    previous = -1
    for _ in range(100):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        rows = len(outbox(handle.id))
        if rows == len(status.notices) and rows == previous:
            return status
        previous = rows
        await asyncio.sleep(0.2)
    raise AssertionError(f"{handle.id}: notices never settled")


async def test_batch_back_fill_notifies_no_step_in_between(dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    queue = new_queue()
    proj = MERGED_OTHER.project.model_copy(update={"id": "JJT-LATE-BATCH"})
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        before = await settled(handle)
        # Only what the known facts justified at start: the FSR of 2024 looks late.
        assert {n.obligation for n in before.notices} == {"fsr_submission", "funding_at_risk"}
        outcomes, _ = await operations.record_documents(client, proj.id, MERGED_OTHER.documents)
        assert {o.outcome for o in outcomes} == {RecordOutcome.ACCEPTED}
        after = await settled(handle)
    rows = outbox(handle.id)
    withdrawn = {r.notice_key for r in rows if r.rung == "correction"}
    # The batch sent nothing for its steps: just the two corrections of the start's notices.
    assert len(rows) == 4
    assert {r.notice_key for r in rows if r.rung != "correction"} == \
        {n.key for n in before.notices}
    assert all(k.endswith(":withdrawn") for k in withdrawn)
    assert after.escalation_level == 0 and after.delay_working_days == 0
    assert all(o.on_time for o in after.obligations if o.state.value == "done")


async def test_line_by_line_back_fill_corrects_every_wrong_notice(
        dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    queue = new_queue()
    proj = MERGED_OTHER.project.model_copy(update={"id": "JJT-LATE-LINES"})
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        await settled(handle)
        for d in sorted(MERGED_OTHER.documents, key=lambda d: d.on):
            result = await operations.record_document(client, proj.id, d)
            assert result.outcome is RecordOutcome.ACCEPTED, result.reason
            await settled(handle)
        final = await settled(handle)
    rows = outbox(handle.id)
    wrong = [r for r in rows if r.rung != "correction"]
    fixes = {r.notice_key.removesuffix(":withdrawn"): r for r in rows if r.rung == "correction"}
    assert len(wrong) >= 8  # each next step looked years late until its line arrived
    assert set(fixes) == {r.notice_key for r in wrong}
    for row in wrong:
        assert fixes[row.notice_key].recipients == row.recipients
    assert final.escalation_level == 0 and final.delay_working_days == 0
    assert final.withdrawn_notices == len(wrong)
