"""Whole project lives under the time-skipping test server: years of timers in seconds.

Documents go in by signal here (updates are unreliable on this server, DESIGN §7); the
update path is tested against the dev server in test_lifecycle_dev_server.py.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from activities.db import engine, notice_outbox
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import MERGED_OTHER, SMALL_BUILD, STATE_OWNED_INFRA, doc, project
from tests.lifecycle_helpers import business_today, calendar, record_history, start
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, ObligationState, StatusView


async def wait_for_documents(handle: object, count: int) -> StatusView:
    from temporalio.client import WorkflowHandle

    assert isinstance(handle, WorkflowHandle)
    for _ in range(100):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        if len(status.documents) >= count:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow did not record {count} documents")


@pytest.mark.covers(
    "jiujiang-2024:limits", "jiujiang-2024:trial_run_ended", "jiujiang-2024:owner_revision",
    "jiujiang-2024:owner_feedback", "jiujiang-2024:fsr_submission",
    "jiujiang-2024:fsr_tech_review", "jiujiang-2024:fsr_approval",
    "jiujiang-2024:design_submission", "jiujiang-2024:design_approval",
    "jiujiang-2024:small_tech_review", "jiujiang-2024:budget_submission",
    "jiujiang-2024:budget_approval", "jiujiang-2024:revision_resubmission",
    "jiujiang-2024:feedback_return", "jiujiang-2024:final_acceptance",
    "jiujiang-2024:completion_application", "jiujiang-2024:self_evaluation")
async def test_three_jiujiang_lifecycles_hand_worked(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    queue = new_queue()
    async with running_worker(client, queue):
        # A: documents arrive one by one, by signal.
        a = await start(client, SMALL_BUILD.project, queue)
        for d in SMALL_BUILD.documents:
            await a.signal(DOCUMENT_SIGNAL, d)
        # B and C: imported half-way, documents in the input.
        b = await start(client, MERGED_OTHER.project.model_copy(
            update={"documents": MERGED_OTHER.documents}), queue)
        c = await start(client, STATE_OWNED_INFRA.project.model_copy(
            update={"documents": STATE_OWNED_INFRA.documents}), queue)
        final_a: StatusView = await a.result()
        final_b: StatusView = await b.result()
        status_c = await wait_for_documents(c, len(STATE_OWNED_INFRA.documents))
        for handle, name in ((a, "jiujiang-small-build"), (b, "jiujiang-merged-other")):
            await record_history(handle, name)
        await c.terminate("test over")  # an open workflow with no worker stops time skipping

    for case, status in ((SMALL_BUILD, final_a), (MERGED_OTHER, final_b),
                         (STATE_OWNED_INFRA, status_c)):
        views = {o.id: o for o in status.obligations}
        assert {k: views[k].due_on for k in case.due} == case.due, case.project.id
        assert {k for k, v in views.items() if v.state is ObligationState.WAIVED} == case.waived
        assert not [e for e in status.events if e.kind == "document_refused"]
    assert final_a.finished and final_a.stage == "closed"
    assert final_b.finished and final_b.notices == []  # all on time, with the extension
    assert not status_c.finished
    assert status_c.stage == "operation"
    assert {o.id: o.state for o in status_c.obligations}["self_evaluation"] is \
        ObligationState.OPEN


async def test_live_lifecycle_over_a_year_in_seconds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A < 200万 build project from today to self-evaluation, every step on time."""
    env = time_skipping_env
    queue = new_queue()
    today = business_today(await env.get_current_time())
    proj = project("JJT-LIVE", investment_wan=180, started_on=today)
    steps = [  # (days to wait, document); v2: the review counts from the 技术方案报审, and
        # 竣工验收 is gated on the data-sharing and security confirmations
        (0, "tech_plan_submitted"),
        (10, "fsr_tech_review_issued"), (10, "budget_submitted"), (15, "budget_approved"),
        (30, "contract_signed"), (60, "trial_run_started"), (100, "final_acceptance_passed"),
        (5, "completion_acceptance_applied"), (5, "data_sharing_confirmed"),
        (1, "security_confirmed"), (14, "completion_acceptance_passed"),
        (200, "self_evaluation_filed"),
    ]
    async with running_worker(env.client, queue):
        handle = await start(env.client, proj, queue)
        for n, (days, doc_type) in enumerate(steps, start=1):
            if days:
                await env.sleep(timedelta(days=days))
            on = business_today(await env.get_current_time())
            await handle.signal(DOCUMENT_SIGNAL,
                                DocumentArrival(type=doc_type, on=on))
            await wait_for_documents(handle, n)
        final: StatusView = await handle.result()
        history = await handle.fetch_history()
    assert final.finished and final.stage == "closed"
    assert final.notices == [], [n.key for n in final.notices]
    assert (final.today - today).days >= 450
    # One timer per rung and a task per document: a life stays far below continue-as-new.
    print(f"{len(history.events)} history events for {(final.today - today).days} days")
    assert len(history.events) < 300, len(history.events)


@pytest.mark.covers(
    "jiujiang-2024:proposal_approval", "jiujiang-2024:warning", "jiujiang-2024:overdue",
    "jiujiang-2024:escalated")
async def test_late_ndrc_reply_escalates_once_per_rung_across_worker_restart(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    queue = new_queue()
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    proj = project("JJT-NDRC", investment_wan=6800, category="infrastructure", started_on=t0)
    due = cal.add_working_days(t0, 5)  # 九江 25(一): NDRC replies within 5 wd
    async with running_worker(env.client, queue, cache=False):
        handle = await start(env.client, proj, queue)
        await handle.signal(DOCUMENT_SIGNAL,
                            DocumentArrival(type="proposal_submitted", on=t0, ref="P-1"))
        await wait_for_documents(handle, 1)
        # Past the warning rung (3 wd before due) but not the due day.
        await env.sleep(timedelta(days=(cal.subtract_working_days(due, 3) - t0).days + 0.5))
        mid: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
    assert [n.rung for n in mid.notices] == ["warning"]
    # A new worker (a restart) carries on from the durable timers.
    async with running_worker(env.client, queue, cache=False):
        escalated_on = cal.add_working_days(due, 5)
        await env.sleep(timedelta(days=(escalated_on - business_today(
            await env.get_current_time())).days + 2))
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        await record_history(handle, "jiujiang-late-ndrc")
        await handle.terminate("test over")
    notices = [n for n in status.notices if n.obligation == "proposal_approval"]
    assert [n.rung for n in notices] == ["warning", "overdue", "escalated"]
    fired = {n.rung: business_today(n.fired_at) for n in notices}
    assert fired == {
        "warning": cal.subtract_working_days(due, 3),
        "overdue": due + timedelta(days=1),
        "escalated": escalated_on,
    }
    assert notices[2].recipients == ["市数字政府领导小组办公室"]
    assert all(n.delivered for n in notices)
    with engine().connect() as conn:
        rows = conn.execute(
            select(notice_outbox.c.notice_key, func.count())
            .where(notice_outbox.c.workflow_id == handle.id)
            .group_by(notice_outbox.c.notice_key)
        ).all()
    assert sorted(rows) == sorted((n.key, 1) for n in status.notices)
    approval = {o.id: o for o in status.obligations}["proposal_approval"]
    assert approval.state is ObligationState.OVERDUE
    assert approval.overdue_working_days == cal.working_days_between(due, status.today)


@pytest.mark.covers(
    "jiujiang-2024:fsr_tech_review", "jiujiang-2024:owner_revision",
    "jiujiang-2024:revision_resubmission", "jiujiang-2024:warning", "jiujiang-2024:overdue",
    "jiujiang-2024:escalated")
async def test_revision_stops_the_review_clock_and_escalates_itself(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    queue = new_queue()
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    proj = project("JJT-REV", investment_wan=800, started_on=t0)
    async with running_worker(env.client, queue):
        handle = await start(env.client, proj, queue)
        await handle.signal(DOCUMENT_SIGNAL,
                            doc("fsr_submitted", t0.isoformat()))
        await wait_for_documents(handle, 1)
        await env.sleep(timedelta(days=4))
        asked = business_today(await env.get_current_time())
        await handle.signal(DOCUMENT_SIGNAL,
                            doc("revision_requested", asked.isoformat()))
        paused = await wait_for_documents(handle, 2)
        review = {o.id: o for o in paused.obligations}["fsr_tech_review"]
        assert review.state is ObligationState.PAUSED and review.due_on is None
        # The owner takes 40 days. v2: 25(三)'s 20-wd cap bounds 初步设计 revisions only
        # (tests/test_jiujiang_v2_rules.py); an FSR revision just stops the review clock.
        await env.sleep(timedelta(days=40))
        back = business_today(await env.get_current_time())
        late: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        await handle.signal(DOCUMENT_SIGNAL,
                            doc("revision_resubmitted", back.isoformat()))
        resumed = await wait_for_documents(handle, 3)
        await handle.terminate("test over")
    assert not [n for n in late.notices if n.obligation.startswith("revision_resubmission")]
    assert not [n for n in late.notices if n.obligation == "fsr_tech_review"]
    used = cal.working_days_between(t0, asked)
    review = {o.id: o for o in resumed.obligations}["fsr_tech_review"]
    assert review.state is ObligationState.OPEN
    assert review.due_on == cal.add_working_days(back, 15 - used)
    # No 初步设计 on this path (no merge fact given): the design revision cap does not apply.
    assert [o.state for o in resumed.obligations if o.id.startswith("revision_resubmission")] \
        == [ObligationState.WAIVED]


def test_cases_are_in_the_past() -> None:
    """The hand-worked cases must stay importable: no document after today."""
    latest = max(d.on for c in (SMALL_BUILD, MERGED_OTHER, STATE_OWNED_INFRA)
                 for d in c.documents)
    assert latest <= date.today()
