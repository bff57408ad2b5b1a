"""After an extension, missing the new due day still escalates (issue 9 §2), end to end on
the time-skipping server: the extension arrives as a document before the due day, the old
due day passes in silence, the new one is missed and the ladder climbs from it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import doc, project
from tests.lifecycle_helpers import business_today, start
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, StatusView

pytestmark = pytest.mark.read_model_independent


async def test_missing_the_extended_due_day_escalates(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    queue = new_queue()
    today = business_today(await env.get_current_time())
    t0 = today - timedelta(days=10)
    steps = ["tech_plan_submitted", "fsr_tech_review_issued", "budget_submitted",
             "budget_approved", "contract_signed", "trial_run_started"]
    proj = project("REL-EXTEND", investment_wan=150, started_on=t0, documents=[
        doc(kind, (t0 + timedelta(days=n)).isoformat()) for n, kind in enumerate(steps)])
    async with running_worker(env.client, queue):
        handle = await start(env.client, proj, queue)

        async def status(documents: int) -> StatusView:
            for _ in range(100):
                found: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
                if len(found.documents) >= documents:
                    return found
                await asyncio.sleep(0.05)
            return found

        before = await status(len(steps))
        accept_by = {o.id: o for o in before.obligations}["final_acceptance"].due_on
        assert accept_by is not None
        await env.sleep(accept_by - today - timedelta(days=10))  # trial over, on time
        on = business_today(await env.get_current_time())
        await handle.signal(DOCUMENT_SIGNAL, DocumentArrival(type="final_acceptance_passed",
                                                             on=on))
        due = {o.id: o for o in (await status(len(steps) + 1)).obligations}[
            "completion_application"].due_on  # 申请竣工验收 (九江 第三十一条第二款)
        assert due is not None
        until = due + timedelta(days=21)
        await handle.signal(DOCUMENT_SIGNAL, DocumentArrival(
            type="extension_granted", on=on, until=until, ref="延期-1"))
        moved = await status(len(steps) + 2)
        assert {o.id: o for o in moved.obligations}["completion_application"].due_on == \
            until, [(e.kind, e.text) for e in moved.events][-3:]
        await env.sleep(until - on + timedelta(days=14))  # the new due day is missed
        after: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        await handle.terminate("test over")
    late = [n for n in after.notices if n.obligation == "completion_application"]
    assert late, [n.key for n in after.notices]
    assert {n.due_on for n in late} == {until}  # nothing about the old due day
    assert max(n.level for n in late) >= 2  # past the due day: overdue, then escalated
    view = {o.id: o for o in after.obligations}["completion_application"]
    assert view.state.value == "overdue" and view.overdue_working_days > 0
