"""A whole synthetic life under the time-skipping server: the v2 constructs on real timers.

The pack (built here, validated with `parse_pack`, carried in the workflow input like any
pack) has a calendar-anchored due day (年底前), a report due inside its own month, a gate,
a fact check, a minimum trial run and an overdue consequence. The server starts at today's
date, so due days are computed from it with the project's calendar; the comments give the
values for a run starting 2026-11-24 (2026-12-31 is a Thursday; 2027 is provisional:
元旦 Fri 1/1 only). Documents go in by signal (updates are unreliable here, DESIGN §7).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.db import engine, notice_outbox
from activities.notices import NoticeInput, write_outbox
from activities.read_model import record_status
from calendars.periods import add_months, days_in_month
from shixian.worker_runtime import WORKFLOWS
from tests.conftest import new_queue, running_worker
from tests.language_packs import FACTS_FOR_LIFE, base, doc, pack, project
from tests.lifecycle_helpers import business_today, calendar
from workflows.base import start_of_day
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import LifecycleInput, NoticeKind, ObligationState, StatusView


def life_pack() -> dict[str, Any]:
    data = base()
    data["id"] = "lang-life"
    data["facts"] = FACTS_FOR_LIFE
    data["obligations"] = [{
        "id": "plan_submission", "title": "报送实施方案", "actor": "owner",
        "fulfilled_by": "plan_submitted", "starts": "task_issued",
        "due_by": {"month": 12, "day": "end", "next_if_passed": True},
        "citation": "测试 第五条"}]
    data["recurring"] = [{
        "id": "month_report", "title": "报送月度进展", "actor": "owner",
        "fulfilled_by": "monthly_report", "every": "month", "due_after_period_end": "0d",
        "from_event": "contract_signed", "until_event": "acceptance_passed",
        "citation": "测试 第二十条"}]
    data["minimums"] = [{"id": "trial_minimum", "title": "试运行不少于1个月",
                         "after": "trial_run_started", "length": "1m",
                         "document": "acceptance_passed", "citation": "测试 第三十一条"}]
    data["gates"] = [{"id": "no_build_before_plan", "title": "不得未报先建",
                      "document": "contract_signed", "requires": ["plan_submitted"],
                      "citation": "测试 第十六条"}]
    data["checks"] = [{"id": "term_cap", "title": "服务期限不超过3年",
                       "fact": "contract_term_years", "max": 3, "citation": "测试 第九条"}]
    data["escalation"]["consequences"] = [{
        "id": "plan_late", "title": "暂停安排资金", "kind": "overdue",
        "obligation": "plan_submission", "notify": ["bureau", "owner"],
        "citation": "测试 第二十七条", "message": "年底前未报送实施方案"}]
    data["escalation"]["breach_notify"] = ["audit", "owner"]
    return data


def month_end(d: date) -> date:
    return date(d.year, d.month, days_in_month(d.year, d.month))


async def wait_for(handle: WorkflowHandle[Any, Any], documents: int) -> StatusView:
    for _ in range(200):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        if len(status.documents) >= documents:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow did not record {documents} documents")


async def sleep_until(env: WorkflowEnvironment, day: date) -> None:
    """Skip to 12:00 Beijing of `day`."""
    target = start_of_day(day) + timedelta(hours=12)
    now = await env.get_current_time()
    if target > now:
        await env.sleep(target - now)


async def start(client: Client, t0: date, queue: str) -> WorkflowHandle[Any, Any]:
    cal = calendar()
    proj = project(t0.isoformat(), policy="lang-life", id="LANG-LIFE", documents=[
        # Imported with the start as one batch: the contract before any plan (a gate
        # breach), stating a 5-year term (a fact check), and this month's report.
        doc("contract_signed", t0.isoformat(), ref="测合〔2026〕1号", contract_term_years=5),
        doc("monthly_report", t0.isoformat())])
    inp = LifecycleInput(project=proj, pack=pack(life_pack()),
                         calendar=dict(cal.snapshot(t0.year, t0.year + 2)))
    return await client.start_workflow(ProjectLifecycleWorkflow.run, inp,
                                       id="project-LANG-LIFE", task_queue=queue)


async def test_a_synthetic_life_with_breaches_a_consequence_and_a_correction(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    queue = new_queue()
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    plan_due = cal.next_workday(date(t0.year, 12, 31))  # 年底前: Thu 2026-12-31
    m2 = month_end(t0) + timedelta(days=1)  # the month after the contract's
    m2_due = cal.next_workday(month_end(m2))  # 2026-12: Thu 12/31 as well
    last_due = max(plan_due, m2_due)
    escalated_on = cal.add_working_days(last_due, 5)  # 1/4, 5, 6, 7, 8 → Fri 2027-01-08
    async with running_worker(env.client, queue):
        handle = await start(env.client, t0, queue)
        first = await wait_for(handle, 2)
        # Past every rung of both open duties.
        await sleep_until(env, escalated_on)
        late: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        # The plan turns up, dated its due day: it was on time after all.
        back = business_today(await env.get_current_time())
        await handle.signal(DOCUMENT_SIGNAL, doc("plan_submitted", plan_due.isoformat(),
                                                 ref="测报〔2026〕7号"))
        await wait_for(handle, 3)
        # A trial run of a week, then acceptance: the 1-month minimum is not over.
        await handle.signal(DOCUMENT_SIGNAL, doc("trial_run_started", back.isoformat()))
        await wait_for(handle, 4)
        await sleep_until(env, back + timedelta(days=7))
        accepted = back + timedelta(days=7)
        await handle.signal(DOCUMENT_SIGNAL, doc("acceptance_passed", accepted.isoformat()))
        await wait_for(handle, 5)
        await sleep_until(env, accepted + timedelta(days=1))
        final: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        await handle.terminate("test over")

    # At the start: the gate and the fact check, each once, to breach_notify.
    assert sorted(b.rule for b in first.breaches) == ["no_build_before_plan", "term_cap"]
    start_notices = [n for n in first.notices if n.kind is NoticeKind.VIOLATION]
    assert sorted(n.obligation for n in start_notices) == ["no_build_before_plan", "term_cap"]
    assert all(n.recipients == ["市审计局", "市测试局"] for n in start_notices)
    views = {o.id: o for o in first.obligations}
    this_month = f"month_report@{t0.year}-{t0.month:02d}"
    assert views[this_month].state is ObligationState.DONE
    assert views[this_month].due_on == cal.next_workday(month_end(t0))
    assert views["plan_submission"].due_on == plan_due

    # By the escalated day: each rung on its own timer, and the consequence at 24:00.
    fired = {(n.obligation, n.rung): business_today(n.fired_at) for n in late.notices}
    m2_id = f"month_report@{m2.year}-{m2.month:02d}"
    for duty, due in (("plan_submission", plan_due), (m2_id, m2_due)):
        assert fired[(duty, "overdue")] == due + timedelta(days=1)
        assert fired[(duty, "escalated")] == cal.add_working_days(due, 5)
        warn = cal.subtract_working_days(due, 3)  # 12/28
        if warn > t0:
            assert fired[(duty, "warning")] == warn
    assert fired[("plan_late", "consequence")] == plan_due + timedelta(days=1)
    assert late.escalation_colour == "red" and late.escalation_label == "督办"

    # The back-dated plan withdraws what it disproves, and only that.
    corrections = {n.withdraws: n for n in final.notices if n.kind is NoticeKind.CORRECTION}
    # The warning (sent before the due day) was true and stands; so does the gate breach:
    # the plan is dated after the contract.
    assert set(corrections) == {f"plan_submission:overdue@{plan_due}",
                                f"plan_submission:escalated@{plan_due}",
                                "consequence:plan_late"}
    assert "依据实施方案报送（测报〔2026〕7号），该事项已于" in \
        corrections[f"plan_submission:overdue@{plan_due}"].message
    assert corrections["consequence:plan_late"].recipients == ["市数据局", "市测试局"]
    final_views = {o.id: o for o in final.obligations}
    assert (final_views["plan_submission"].state, final_views["plan_submission"].on_time) == (
        ObligationState.DONE, True)
    assert final_views[m2_id].state is ObligationState.OVERDUE  # never filed: stands
    # The minimum: acceptance a week into the trial run, flagged once.
    minimum = [n for n in final.notices if n.obligation == "trial_minimum"]
    assert [n.kind for n in minimum] == [NoticeKind.VIOLATION]
    assert "测试 第三十一条" in minimum[0].message
    assert sorted(b.rule for b in final.breaches) == ["no_build_before_plan", "term_cap",
                                                      "trial_minimum"]

    # The outbox keeps every notice once, the wrong ones and their corrections alike.
    with engine().connect() as conn:
        rows = conn.execute(select(notice_outbox.c.notice_key)
                            .where(notice_outbox.c.workflow_id == handle.id)).scalars().all()
    assert sorted(rows) == sorted(n.key for n in final.notices)
    assert len(rows) == len(set(rows))


def backfill_pack() -> dict[str, Any]:
    """Two steps that count toward a 10-wd delay consequence (九江 27 shape)."""
    data = base()
    data["id"] = "lang-backfill"
    data["obligations"] = [
        {"id": "plan_submission", "title": "报送实施方案", "actor": "owner",
         "fulfilled_by": "plan_submitted", "starts": "task_issued", "limit": "5wd",
         "counts_toward_delay": True, "citation": "测试 第五条"},
        {"id": "plan_approval", "title": "批复实施方案", "actor": "bureau",
         "fulfilled_by": "plan_approved", "starts": "plan_submitted", "limit": "10wd",
         "counts_toward_delay": True, "citation": "测试 第六条"}]
    data["escalation"]["consequences"] = [{
        "id": "funding_at_risk", "title": "暂停安排资金", "kind": "delay_total",
        "threshold": "10wd", "phase": "preparatory", "notify": ["bureau", "owner"],
        "citation": "测试 第二十七条", "message": "累计延后超过10个工作日"}]
    return data


# 任务书 Fri 2025-09-26: plan due 10/10 (9/28 调休, 9/29, 9/30, 10/9, 10/10), in on 10/9;
# approval due 10 wd after Thu 10/9: 10/10, Sat 10/11 (调休), 10/13–17, 10/20–22 → 10/22,
# approved 10/24: 2 wd late (10/23, 10/24). The owner's real delay is 0, the total 2.
HISTORY = [doc("plan_submitted", "2025-10-09", ref="测报〔2025〕9号"),
           doc("plan_approved", "2025-10-24", ref="测批〔2025〕4号")]


async def wait_until(handle: WorkflowHandle[Any, Any], what: str,
                     ok: Any) -> StatusView:
    for _ in range(200):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        if ok(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow never showed {what}")


def withdrawn(status: StatusView) -> set[str]:
    return {n.withdraws for n in status.notices if n.withdraws}


async def test_backfilled_history_batch_and_line_by_line(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Facts that arrive late: imported as one batch nothing wrong is said; recorded line
    by line, every notice sent between lines is withdrawn by a correction."""
    env = time_skipping_env
    queue = new_queue()
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    snapshot = dict(cal.snapshot(2025, t0.year + 1))
    batch_project = project("2025-09-26", policy="lang-backfill", id="LANG-BATCH",
                            documents=HISTORY)
    lines_project = project("2025-09-26", policy="lang-backfill", id="LANG-LINES")
    p = pack(backfill_pack())
    async with running_worker(env.client, queue):
        batch = await env.client.start_workflow(
            ProjectLifecycleWorkflow.run, LifecycleInput(project=batch_project, pack=p,
                                                         calendar=snapshot),
            id="project-LANG-BATCH", task_queue=queue)
        lines = await env.client.start_workflow(
            ProjectLifecycleWorkflow.run, LifecycleInput(project=lines_project, pack=p,
                                                         calendar=snapshot),
            id="project-LANG-LINES", task_queue=queue)
        # With nothing recorded, the plan is a year late: escalated, and the delay total
        # is over 10 wd.
        empty = await wait_until(lines, "the first notices", lambda s: len(s.notices) >= 2)
        await lines.signal(DOCUMENT_SIGNAL, HISTORY[0])
        # Wait until every notice of that step is delivered: a document arriving while
        # notices are being sent hits the race in test_document_during_sending_….
        one = await wait_until(lines, "the plan's correction, delivered",
                               lambda s: f"plan_submission:escalated@{date(2025, 10, 10)}"
                               in withdrawn(s) and all(n.delivered for n in s.notices))
        await lines.signal(DOCUMENT_SIGNAL, HISTORY[1])
        final_lines: StatusView = await lines.result()
        final_batch: StatusView = await batch.result()

    assert final_batch.finished and final_batch.notices == []
    assert sorted((n.obligation, n.rung) for n in empty.notices) == [
        ("funding_at_risk", "consequence"), ("plan_submission", "escalated")]
    # After the plan: its escalation is withdrawn; the approval is now a year late.
    assert ("plan_approval", "escalated") in {(n.obligation, n.rung) for n in one.notices}
    # The total still passes 10 wd (the approval is late), but its number was wrong: 280
    # counted the plan's lateness. That notice is corrected with the true number and sent
    # again under a new key.
    assert "consequence:funding_at_risk" in withdrawn(one)
    for final in (final_lines, final_batch):
        views = {o.id: o for o in final.obligations}
        assert (views["plan_submission"].on_time, views["plan_approval"].on_time) == (
            True, False)
        assert views["plan_approval"].overdue_working_days == 2
        assert final.delay_working_days == 2
        assert final.escalation_level == 0
    wrong = [n for n in final_lines.notices if n.kind is not NoticeKind.CORRECTION]
    assert {n.key for n in wrong} == withdrawn(final_lines) == {
        "plan_submission:escalated@2025-10-10", "consequence:funding_at_risk",
        "consequence:funding_at_risk#2", "plan_approval:escalated@2025-10-22"}
    messages = {n.withdraws: n.message for n in final_lines.notices if n.withdraws}
    assert messages["plan_submission:escalated@2025-10-10"].endswith(
        "依据实施方案报送（测报〔2025〕9号），该事项已于 2025-10-09 按时完成")
    assert messages["plan_approval:escalated@2025-10-22"].endswith(
        "依据实施方案批复（测批〔2025〕4号），该事项已于 2025-10-24 完成（逾期 2 个工作日）")
    # The wrong number is the plan's lateness on the day the notice went: working days
    # after its due day 10/10 (280 when this was written on 2026-11-24, Beijing).
    first = next(n for n in final_lines.notices if n.key == "consequence:funding_at_risk")
    late_then = cal.working_days_between(date(2025, 10, 10), business_today(first.fired_at))
    assert f"累计延后 {late_then} 个工作日" in first.message
    assert f"而非 {late_then} 个工作日" in messages["consequence:funding_at_risk"]
    assert "累计延后 2 个工作日，未达 10wd" in messages["consequence:funding_at_risk#2"]
    with engine().connect() as conn:
        rows = conn.execute(select(notice_outbox.c.notice_key)
                            .where(notice_outbox.c.workflow_id == lines.id)).scalars().all()
    assert sorted(rows) == sorted(n.key for n in final_lines.notices)


SENDING = threading.Event()
SENDING.set()


@activity.defn(name="send_notice")
def held_send_notice(inp: NoticeInput) -> bool:
    """The real outbox writer, held while the test records a document mid-send."""
    SENDING.wait(timeout=60)
    return write_outbox(inp)


async def test_document_during_sending_still_gets_its_corrections(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    queue = new_queue()
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    proj = project("2025-09-26", policy="lang-backfill", id="LANG-RACE")
    inp = LifecycleInput(project=proj, pack=pack(backfill_pack()),
                         calendar=dict(cal.snapshot(2025, t0.year + 1)))
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS,
                          activities=[held_send_notice, record_status],
                          activity_executor=executor):
            handle = await env.client.start_workflow(
                ProjectLifecycleWorkflow.run, inp, id="project-LANG-RACE", task_queue=queue)
            await wait_until(handle, "the first notices, delivered",
                             lambda s: len(s.notices) >= 2 and all(n.delivered
                                                                   for n in s.notices))
            SENDING.clear()
            try:
                await handle.signal(DOCUMENT_SIGNAL, HISTORY[0])
                # The plan's correction and the approval's escalation are being sent…
                await wait_until(handle, "the plan's correction", lambda s: len(s.notices) >= 4)
                # …when the approval arrives.
                await handle.signal(DOCUMENT_SIGNAL, HISTORY[1])
                await wait_until(handle, "the approval", lambda s: len(s.documents) == 2)
            finally:
                SENDING.set()
            final: StatusView = await handle.result()
    # Every notice sent is wrong once both documents are known, and each is withdrawn
    # (the total's notice may have been re-sent under #2 with a corrected number).
    wrong = {n.key for n in final.notices if n.kind is not NoticeKind.CORRECTION}
    assert withdrawn(final) == wrong
    assert {"plan_submission:escalated@2025-10-10", "consequence:funding_at_risk",
            "plan_approval:escalated@2025-10-22"} <= wrong


# ---- a second life: what arises over time, what never escalates, and a draft pack ---------
TIME_FACTS: dict[str, Any] = {
    "planned_completion_on": {"type": "date", "label": "计划完工时间"},
}


def time_pack() -> dict[str, Any]:
    """A draft pack with a duty that arises 6 months after the planned completion (上饶 17
    shape, moot once accepted), a 及时 filing (no limit), an evaluation window with no
    closing day (相城 29 shape), a shixian-default limit, and an owner's election."""
    data = base()
    data["id"] = "lang-time"
    data["status"] = "draft"
    data["facts"] = TIME_FACTS
    data["documents"]["merge_elected"] = {"title": "合并编报申请"}
    data["periods"] = [{"id": "half_year_late", "title": "计划完工后半年",
                        "starts": "fact:planned_completion_on", "length": "6m",
                        "citation": "测试 第十七条"}]
    data["obligations"] = [
        {"id": "plan_submission", "title": "报送实施方案", "actor": "owner",
         "fulfilled_by": "plan_submitted", "starts": "task_issued", "limit": "20wd",
         "citation": "测试 第二十五条", "when": {"none_of": [{"elected": ["merge_elected"]}]}},
        {"id": "merged_submission", "title": "合并报送实施方案和预算", "actor": "owner",
         "fulfilled_by": "plan_submitted", "starts": "merge_elected", "limit": "30wd",
         "citation": "测试 第二十五条 末段", "when": {"elected": ["merge_elected"]}},
        {"id": "plan_approval", "title": "批复实施方案", "actor": "bureau",
         "fulfilled_by": "plan_approved", "starts": "plan_submitted", "limit": "15wd",
         "limit_basis": "shixian 运营默认：办法未规定审核时限", "citation": "测试 第六条"},
        {"id": "filing", "title": "备案", "actor": "owner", "fulfilled_by": "filing_done",
         "starts": "contract_signed", "no_limit": "及时", "citation": "测试 第十一条"},
        {"id": "delay_report", "title": "报告逾期原因", "actor": "owner",
         "fulfilled_by": "evaluation_filed", "starts": "half_year_late", "limit": "10wd",
         "cancelled_by": ["acceptance_passed"], "citation": "测试 第十七条"},
        {"id": "post_evaluation", "title": "后评价", "actor": "owner",
         "fulfilled_by": "annual_report", "starts": "acceptance_passed", "opens": "1m",
         "opens_only": True, "citation": "测试 第二十九条"}]
    return data


async def test_a_life_where_duties_arise_over_time_under_a_draft_pack(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Two projects on one draft pack. LATE is not accepted 6 months after its planned
    completion: the 逾期原因 report arises on that day with no document to wake the
    workflow, and its own timers escalate it; the 及时 filing and the open-ended window
    never escalate. EARLY is accepted before the half year: the report never arises."""
    env = time_skipping_env
    queue = new_queue()
    cal = calendar()
    t0 = business_today(await env.get_current_time())
    planned = t0 + timedelta(days=10)
    arises = add_months(planned, 6)  # a duration: not moved to a working day
    report_due = cal.add_working_days(arises, 10)
    escalated_on = cal.add_working_days(report_due, 5)
    snapshot = dict(cal.snapshot(t0.year, t0.year + 2))
    p = pack(time_pack())
    start_docs = [doc("merge_elected", t0.isoformat()), doc("plan_submitted", t0.isoformat()),
                  doc("contract_signed", t0.isoformat())]
    late = project(t0.isoformat(), policy="lang-time", id="LANG-LATE", documents=start_docs,
                   facts={"planned_completion_on": planned})
    early = project(t0.isoformat(), policy="lang-time", id="LANG-EARLY",
                    facts={"planned_completion_on": planned},
                    documents=[*start_docs, doc("plan_approved", t0.isoformat()),
                               doc("acceptance_passed", t0.isoformat())])
    async with running_worker(env.client, queue):
        handles = [await env.client.start_workflow(
            ProjectLifecycleWorkflow.run, LifecycleInput(project=proj, pack=p,
                                                         calendar=snapshot),
            id=f"project-{proj.id}", task_queue=queue) for proj in (late, early)]
        first: StatusView = await wait_for(handles[0], 3)
        await sleep_until(env, escalated_on)
        after: StatusView = await handles[0].query(ProjectLifecycleWorkflow.status)
        early_after: StatusView = await handles[1].query(ProjectLifecycleWorkflow.status)
        # Accepted at last: the report that arose stands; the evaluation window opens 1m on.
        accepted = business_today(await env.get_current_time())
        await handles[0].signal(DOCUMENT_SIGNAL, doc("acceptance_passed", accepted.isoformat()))
        await wait_for(handles[0], 4)
        await sleep_until(env, add_months(accepted, 3))
        final: StatusView = await handles[0].query(ProjectLifecycleWorkflow.status)
        for handle in handles:
            await handle.terminate("test over")

    views = {o.id: o for o in first.obligations}
    # The election chose the merged path; the shixian default is labelled as such.
    assert views["plan_submission"].state is ObligationState.WAIVED
    assert views["merged_submission"].state is ObligationState.DONE
    assert views["plan_approval"].limit_basis == "shixian 运营默认：办法未规定审核时限"
    assert views["plan_approval"].due_on == cal.add_working_days(t0, 15)
    assert views["delay_report"].state is ObligationState.PENDING  # not arisen yet
    assert first.policy_status == "draft"

    later = {o.id: o for o in after.obligations}
    assert (later["delay_report"].starts_on, later["delay_report"].due_on) == (
        arises, report_due)
    fired = {(n.obligation, n.rung): business_today(n.fired_at) for n in after.notices}
    assert fired[("delay_report", "overdue")] == report_due + timedelta(days=1)
    assert fired[("delay_report", "escalated")] == escalated_on
    # 及时 and the open-ended window: tracked, never escalated.
    assert (later["filing"].state, later["filing"].due_on) == (ObligationState.OPEN, None)
    assert not any(n.obligation in ("filing", "post_evaluation") for n in final.notices)
    # A draft pack says so in every notice.
    assert after.notices and all("征求意见稿" in n.message for n in after.notices)
    # EARLY: accepted before the half year, the report was moot and nothing was sent about it.
    early_views = {o.id: o for o in early_after.obligations}
    assert early_views["delay_report"].state is ObligationState.WAIVED
    assert not any(n.obligation == "delay_report" for n in early_after.notices)

    ended = {o.id: o for o in final.obligations}
    # Accepted after the report's due day: the duty lapses then, its lateness stands, and
    # nothing sent about it is withdrawn.
    report = ended["delay_report"]
    assert (report.state, report.done_on, report.on_time) == (
        ObligationState.DONE, accepted, False)
    assert report.overdue_working_days == cal.working_days_between(report_due, accepted)
    assert report.note is not None and report.note.startswith("lapsed: 竣工验收通过")
    assert not any(n.withdraws and n.withdraws.startswith("delay_report")
                   for n in final.notices)
    evaluation = ended["post_evaluation"]
    assert (evaluation.opens_on, evaluation.due_on, evaluation.state) == (
        add_months(accepted, 1), None, ObligationState.OPEN)
