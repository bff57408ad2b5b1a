"""Whole lives of 上饶 and 老河口 projects under the time-skipping test server.

The hand-worked cases are imported with their documents and must give the due days counted by
hand; a live project of each pack then runs from today, its timers firing by themselves.
Documents go in by signal (updates are unreliable on this server, DESIGN §7).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests import laohekou_cases, shangrao_cases
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import Case
from tests.lifecycle_helpers import business_today, calendar, start
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, ObligationState, StatusView
from workflows.schedule import next_period

COVERS: dict[str, list[str]] = {
    "test_shangrao_hand_worked_lives_without_the_date_fact": [
        "shangrao-2020:" + r for r in ("quarterly_progress", "quarterly_progress_om",
                                       "quarterly_funds", "quarterly_funds_om",
                                       "yearly_om_assessment", "trial_run_minimum",
                                       "free_om_minimum")],
    "test_shangrao_hand_worked_lives": [
        "shangrao-2020:" + r for r in ("quarterly_progress", "quarterly_progress_om",
                                       "quarterly_funds", "quarterly_funds_om",
                                       "yearly_om_assessment", "overdue_report",
                                       "trial_run_minimum", "free_om_minimum")],
    "test_laohekou_hand_worked_lives": [
        "laohekou-2024:" + r for r in ("supervision_application", "self_evaluation",
                                       "trial_run_minimum", "third_party_software_test",
                                       "payment_after_acceptance")],
    "test_shangrao_live_build_project_reports_every_quarter": [
        "shangrao-2020:" + r for r in ("quarterly_progress", "quarterly_funds", "warning",
                                       "overdue", "escalated", "acceptance_archive")],
    "test_laohekou_live_project_from_award_to_self_evaluation": [
        "laohekou-2024:" + r for r in ("supervision_application", "self_evaluation",
                                       "warning", "overdue", "escalated")],
}


async def wait_for_documents(handle: WorkflowHandle[object, object], count: int) -> StatusView:
    for _ in range(100):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        if len(status.documents) >= count:
            return status
        await asyncio.sleep(0.05)
    refused = [e.text for e in status.events if e.kind == "document_refused"]
    raise AssertionError(f"workflow recorded {len(status.documents)} of {count} documents; "
                         f"refused: {refused}")


async def run_imported(env: WorkflowEnvironment, cases: list[Case]) -> list[StatusView]:
    """Start each case with its documents; a finished one returns, an open one is queried."""
    queue = new_queue()
    out: list[StatusView] = []
    async with running_worker(env.client, queue):
        handles = [await start(env.client, c.project.model_copy(update={
            "documents": c.documents}), queue) for c in cases]
        for case, handle in zip(cases, handles, strict=True):
            status = await wait_for_documents(handle, len(case.documents))
            if status.finished:
                status = await handle.result()
            else:
                await handle.terminate("test over")  # an open workflow stops time skipping
            out.append(status)
    return out


def check_case(case: Case, status: StatusView) -> None:
    views = {o.id: o for o in status.obligations}
    assert {k: views[k].due_on for k in case.due} == case.due, case.project.id
    for waived in case.waived:
        assert views[waived].state is ObligationState.WAIVED, (case.project.id, waived)
    late = {k: v.overdue_working_days for k, v in views.items() if v.overdue_working_days}
    assert late == case.done_late, case.project.id
    assert not [e for e in status.events if e.kind == "document_refused"]
    assert not [n for n in status.notices if n.kind.value == "rung"]  # all in the past


@pytest.mark.covers(
    "shangrao-2020:quarterly_progress",
    "shangrao-2020:quarterly_progress_om",
    "shangrao-2020:quarterly_funds",
    "shangrao-2020:quarterly_funds_om",
    "shangrao-2020:yearly_om_assessment",
    "shangrao-2020:overdue_report",
    "shangrao-2020:trial_run_minimum",
    "shangrao-2020:free_om_minimum",
)
async def test_shangrao_hand_worked_lives(time_skipping_env: WorkflowEnvironment) -> None:
    statuses = await run_imported(time_skipping_env, shangrao_cases.ALL_CASES)
    for case, status in zip(shangrao_cases.ALL_CASES, statuses, strict=True):
        check_case(case, status)
        assert status.finished and status.stage == "closed", case.project.id


def without_planned_completion(case: Case) -> Case:
    facts = {k: v for k, v in case.project.facts.items() if k != "planned_completion_on"}
    return Case(case.project.model_copy(update={"facts": facts}),
                [d for d in case.documents if d.type != "overdue_reported"], case.due,
                case.done_late, case.waived - {"overdue_report"})


@pytest.mark.covers(
    "shangrao-2020:quarterly_progress",
    "shangrao-2020:quarterly_progress_om",
    "shangrao-2020:quarterly_funds",
    "shangrao-2020:quarterly_funds_om",
    "shangrao-2020:yearly_om_assessment",
    "shangrao-2020:trial_run_minimum",
    "shangrao-2020:free_om_minimum",
)
async def test_shangrao_hand_worked_lives_without_the_date_fact(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The same three lives with 计划完工日期 left out (第十七条 then does not apply): every
    quarterly and yearly due day as counted by hand, each life finished."""
    cases = [without_planned_completion(c) for c in shangrao_cases.ALL_CASES]
    statuses = await run_imported(time_skipping_env, cases)
    for case, status in zip(cases, statuses, strict=True):
        check_case(case, status)
        assert status.finished and status.stage == "closed", case.project.id
        overdue = {o.id: o for o in status.obligations}.get("overdue_report")
        assert overdue is None or overdue.state is ObligationState.WAIVED
    short = statuses[2]
    assert {b.rule for b in short.breaches} == {"trial_run_minimum", "free_om_minimum"}
    assert sorted(n.obligation for n in short.notices) == ["free_om_minimum",
                                                           "trial_run_minimum"]


@pytest.mark.covers(
    "laohekou-2024:supervision_application",
    "laohekou-2024:self_evaluation",
    "laohekou-2024:trial_run_minimum",
    "laohekou-2024:third_party_software_test",
    "laohekou-2024:payment_after_acceptance",
)
async def test_laohekou_hand_worked_lives(time_skipping_env: WorkflowEnvironment) -> None:
    statuses = await run_imported(time_skipping_env, laohekou_cases.ALL_CASES)
    for case, status in zip(laohekou_cases.ALL_CASES, statuses, strict=True):
        check_case(case, status)
    a, b, c = statuses
    assert a.finished and a.stage == "closed"
    assert not b.finished and b.stage == "operation"
    assert {o.id: o.state for o in b.obligations}["self_evaluation"] is ObligationState.OPEN
    assert {br.rule for br in c.breaches} == {"trial_run_minimum", "third_party_software_test",
                                              "payment_after_acceptance"}


async def signal_on(env: WorkflowEnvironment, handle: WorkflowHandle[object, object],
                    day: date, doc_type: str, count: int) -> StatusView:
    """Sleep until `day` (Beijing, mid-morning), record `doc_type` dated that day."""
    now = business_today(await env.get_current_time())
    if day > now:
        await env.sleep(timedelta(days=(day - now).days))
    on = business_today(await env.get_current_time())
    await handle.signal(DOCUMENT_SIGNAL, DocumentArrival(type=doc_type, on=on))
    return await wait_for_documents(handle, count)


@pytest.mark.covers(
    "shangrao-2020:quarterly_progress",
    "shangrao-2020:quarterly_funds",
    "shangrao-2020:warning",
    "shangrao-2020:overdue",
    "shangrao-2020:escalated",
    "shangrao-2020:acceptance_archive",
)
async def test_shangrao_live_build_project_reports_every_quarter(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A 6-month build project from today to the archive; reports filed inside each quarter
    (funds) and just after it (execution) — except one execution report, missed, which climbs
    the ladder by itself."""
    env = time_skipping_env
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    proj = shangrao_cases.project(
        "SR-LIVE", investment_wan=300, planned_months=6, started_on=t0,
        facts={"free_om_years": 3})  # no 计划完工日期: see the xfail above
    q1_end = next_period(t0 + timedelta(days=10), "quarter") - timedelta(days=1)
    q2_end = next_period(q1_end + timedelta(days=1), "quarter") - timedelta(days=1)
    q3_end = next_period(q2_end + timedelta(days=1), "quarter") - timedelta(days=1)
    missed_due = cal.add_working_days(q2_end, 7)
    queue = new_queue()
    n = 0
    async with running_worker(env.client, queue):
        handle = await start(env.client, proj, queue)

        async def record(day: date, doc_type: str) -> StatusView:
            nonlocal n
            n += 1
            return await signal_on(env, handle, day, doc_type, n)

        await record(t0 + timedelta(days=10), "contract_signed")
        for q_end, report in ((q1_end, True), (q2_end, False), (q3_end, True)):
            await record(q_end - timedelta(days=6), "funds_report_filed")
            if report:
                await record(q_end + timedelta(days=2), "progress_report_filed")
        # One more report after the 3rd quarter: the two cover the missed quarter and the 3rd.
        await record(q3_end + timedelta(days=3), "progress_report_filed")
        done = q3_end + timedelta(days=4)
        for offset, doc_type in ((0, "construction_completed"), (1, "trial_run_started"),
                                 (40, "trial_evaluation_issued"),
                                 (45, "preliminary_acceptance_passed"),
                                 (50, "completion_acceptance_applied"),
                                 (60, "completion_acceptance_passed"),
                                 (70, "acceptance_archive_filed")):
            await record(done + timedelta(days=offset), doc_type)
        final: StatusView = await handle.result()
    assert final.finished and final.stage == "closed"
    assert final.breaches == []
    rungs = [(n.obligation, n.rung) for n in final.notices if n.kind.value == "rung"]
    missed = f"quarterly_progress@{q2_end.year}Q{(q2_end.month - 1) // 3 + 1}"
    assert rungs == [(missed, "warning"), (missed, "overdue"), (missed, "escalated")], rungs
    fired = {n.rung: business_today(n.fired_at) for n in final.notices
             if n.obligation == missed}
    assert fired["warning"] == cal.subtract_working_days(missed_due, 3)
    assert fired["overdue"] == missed_due + timedelta(days=1)
    assert fired["escalated"] == cal.add_working_days(missed_due, 5)
    # A report fulfils the oldest quarter still open: the one filed after the 3rd quarter
    # (q3_end + 2) closes the missed one, late; the next (q3_end + 3) the 3rd, on time.
    views = {o.id: o for o in final.obligations}
    assert views[missed].done_on == q3_end + timedelta(days=2)
    assert views[missed].overdue_working_days == cal.working_days_between(
        missed_due, q3_end + timedelta(days=2))
    q3 = f"quarterly_progress@{q3_end.year}Q{(q3_end.month - 1) // 3 + 1}"
    assert views[q3].done_on == q3_end + timedelta(days=3) and views[q3].on_time


@pytest.mark.covers(
    "laohekou-2024:supervision_application",
    "laohekou-2024:self_evaluation",
    "laohekou-2024:warning",
    "laohekou-2024:overdue",
    "laohekou-2024:escalated",
)
async def test_laohekou_live_project_from_award_to_self_evaluation(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Awarded today; the supervision application comes 8 days later (its rungs fire by
    themselves); trial, acceptance, and the self-evaluation 13 months after acceptance."""
    env = time_skipping_env
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    proj = laohekou_cases.project("LHK-LIVE", investment_wan=200, kind="service",
                                  started_on=t0)
    queue = new_queue()
    n = 0
    async with running_worker(env.client, queue):
        handle = await start(env.client, proj, queue)

        async def record(day: date, doc_type: str) -> StatusView:
            nonlocal n
            n += 1
            return await signal_on(env, handle, day, doc_type, n)

        for offset, doc_type in ((5, "review_opinion_issued"), (10, "tech_design_submitted"),
                                 (20, "tech_review_issued"), (30, "budget_review_done"),
                                 (40, "tender_awarded")):
            await record(t0 + timedelta(days=offset), doc_type)
        awarded = t0 + timedelta(days=40)
        due = cal.add_working_days(awarded, 5)
        applied = cal.add_working_days(due, 6)  # past the escalation rung (5 wd)
        await record(applied, "supervision_applied")
        accepted = applied + timedelta(days=120)
        for day, doc_type in ((applied + timedelta(days=3), "supervisor_assigned"),
                              (applied + timedelta(days=80), "preliminary_acceptance_passed"),
                              (applied + timedelta(days=80), "trial_run_started"),
                              (applied + timedelta(days=115), "user_report"),
                              (accepted, "acceptance_passed"),
                              (accepted + timedelta(days=5), "acceptance_report_filed"),
                              (accepted + timedelta(days=6), "supervisor_scored"),
                              (accepted + timedelta(days=395), "self_evaluation_filed")):
            await record(day, doc_type)
        final: StatusView = await handle.result()
    assert final.finished and final.stage == "closed"
    assert final.breaches == []
    fired = {n.rung: business_today(n.fired_at) for n in final.notices
             if n.obligation == "supervision_application"}
    assert fired == {"warning": cal.subtract_working_days(due, 3),
                     "overdue": due + timedelta(days=1),
                     "escalated": cal.add_working_days(due, 5)}
    assert [n.obligation for n in final.notices] == ["supervision_application"] * 3
    views = {o.id: o for o in final.obligations}
    assert views["supervision_application"].overdue_working_days == 6
    assert views["self_evaluation"].on_time
    assert (final.today - t0).days >= 500
    assert isinstance(final.as_of, datetime)
