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
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.db import engine, notice_outbox
from calendars.periods import days_in_month
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
