"""Updates, refusals, calendar re-timing and the command line against a real dev server."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from calendars import WorkCalendar
from calendars.published import load_published
from shixian.cli import main
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import SMALL_BUILD, STATE_OWNED_INFRA, doc, project
from tests.lifecycle_helpers import business_today, record_history, start
from workflows import search_attributes as sa
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import (
    CalendarApplied,
    CalendarUpdate,
    ClockChange,
    ExtensionRequest,
    ObligationState,
    RecordOutcome,
    RecordResult,
    StatusView,
    Termination,
)

FIXTURE_2027 = Path(__file__).parent / "fixtures" / "calendars" / "fixture-2027.yaml"


async def status_of(handle: WorkflowHandle[Any, Any]) -> StatusView:
    result: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
    return result


async def refused(handle: WorkflowHandle[Any, Any], update: Any, arg: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(update, arg)
    cause = info.value.cause
    return str(getattr(cause, "message", cause))


async def test_refused_inputs_leave_the_workflow_healthy(dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    queue = new_queue()
    today = business_today(await dev_env.get_current_time())
    proj = project("JJT-REFUSE", investment_wan=800, started_on=date(2025, 3, 3))
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        record = ProjectLifecycleWorkflow.record_document
        cases = [
            (doc("fsr_submit", "2025-03-10"), "unknown document type 'fsr_submit'"),
            (doc("fsr_approved", "2025-03-10"), "not expected in this state"),
            (doc("fsr_submitted", (today + timedelta(days=3)).isoformat()), "after today"),
            (doc("fsr_submitted", "2025-02-28"), "before the launch_notice"),
            (doc("design_submitted", "2025-03-10"), "not on this project's path"),
            (doc("self_evaluation_filed", "2025-03-10"), "not expected"),
        ]
        for document, reason in cases:
            assert reason in await refused(handle, record, document)
        accepted: RecordResult = await handle.execute_update(record, doc("fsr_submitted",
                                                                         "2025-03-20"))
        again: RecordResult = await handle.execute_update(record, doc("fsr_submitted",
                                                                      "2025-03-20"))
        assert (accepted.outcome, again.outcome) == (RecordOutcome.ACCEPTED,
                                                     RecordOutcome.DUPLICATE)
        assert "already recorded on 2025-03-20" in await refused(
            handle, record, doc("fsr_submitted", "2025-03-21"))
        # The signal path refuses politely too: an event, never a failed task.
        await handle.signal(DOCUMENT_SIGNAL,
                            doc("no_such_type", "2025-03-21"))
        # Clock, extension and termination updates refuse bad arguments the same way.
        assert "no obligation 'nope'" in await refused(
            handle, ProjectLifecycleWorkflow.stop_clock, ClockChange(obligation="nope",
                                                                     on=date(2025, 3, 21)))
        assert "not stopped by hand" in await refused(
            handle, ProjectLifecycleWorkflow.restart_clock,
            ClockChange(obligation="fsr_tech_review", on=date(2025, 3, 21)))
        assert "later than" in await refused(
            handle, ProjectLifecycleWorkflow.grant_extension,
            ExtensionRequest(obligation="fsr_tech_review", until=date(2025, 3, 1),
                             on=date(2025, 3, 21)))
        assert "in the future" in await refused(
            handle, ProjectLifecycleWorkflow.terminate,
            Termination(on=today + timedelta(days=9), reason="x"))
        # Window not yet open: 九江 第三十九条 self-evaluation 6–12 months after acceptance.
        # An early report is a fact: recorded, and flagged as a breach citing the article.
        imported = await start(client, STATE_OWNED_INFRA.project.model_copy(
            update={"id": "JJT-WINDOW", "documents": STATE_OWNED_INFRA.documents}), queue)
        early: RecordResult = await imported.execute_update(
            record, doc("self_evaluation_filed", "2026-11-10"))
        assert early.outcome is RecordOutcome.ACCEPTED
        window = await status_of(imported)
        assert [b.citation for b in window.breaches] == ["九江 第三十九条"]
        assert "早于窗口开始日 2027-05-05" in window.breaches[0].detail
        await imported.terminate("test over")
        await asyncio.sleep(0.3)
        status = await status_of(handle)
        desc = await handle.describe()
        history = await handle.fetch_history()
        await record_history(handle, "jiujiang-refusals")
        await handle.terminate("test over")
    assert [d.type for d in status.documents] == ["fsr_submitted"]
    assert [e.kind for e in status.events].count("document_refused") == 1
    assert status.stage == "feasibility"
    assert desc.status is not None and desc.status.name == "RUNNING"
    # Refused updates never reached the history: only the two accepted ones did.
    accepted_updates = [e for e in history.events if e.HasField(
        "workflow_execution_update_accepted_event_attributes")]
    assert len(accepted_updates) == 2


async def test_clock_stop_extension_and_termination(dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    queue = new_queue()
    # v2: the < 200万 review counts from the 技术方案报审, here on the day of the notice.
    proj = SMALL_BUILD.project.model_copy(update={
        "id": "JJT-CLOCK", "documents": [doc("tech_plan_submitted", "2025-03-03")]})
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        msg = await handle.execute_update(
            ProjectLifecycleWorkflow.stop_clock,
            ClockChange(obligation="small_tech_review", on=date(2025, 3, 7), reason="需求确认"))
        assert "stopped" in msg
        paused = {o.id: o for o in (await status_of(handle)).obligations}
        assert paused["small_tech_review"].state is ObligationState.PAUSED
        msg = await handle.execute_update(
            ProjectLifecycleWorkflow.restart_clock,
            ClockChange(obligation="small_tech_review", on=date(2025, 3, 14)))
        assert msg.endswith("due 2025-03-31")  # 4 wd used; 11 more from 3/14
        await handle.execute_update(
            ProjectLifecycleWorkflow.grant_extension,
            ExtensionRequest(obligation="small_tech_review", until=date(2025, 4, 15),
                             on=date(2025, 3, 20), reason="专家评审延期"))
        status = await status_of(handle)
        review = {o.id: o for o in status.obligations}["small_tech_review"]
        assert review.due_on == date(2025, 4, 15)
        assert any(e.kind == "deadline_moved" and "2025-03-31 → 2025-04-15" in e.text
                   for e in status.events)
        await handle.execute_update(ProjectLifecycleWorkflow.terminate,
                                    Termination(on=date(2025, 3, 25), reason="项目撤销"))
        final: StatusView = await handle.result()
    assert final.finished
    assert {o.state for o in final.obligations} <= {ObligationState.CANCELLED,
                                                    ObligationState.WAIVED}


async def test_trial_run_into_provisional_year_then_published_calendar(
    dev_env: WorkflowEnvironment,
) -> None:
    """Trial run ends in 2027 (not announced): the deadline is provisional until the year is
    published; apply_calendar re-times it and records the move."""
    client = dev_env.client
    queue = new_queue()
    proj = project("JJT-TRIAL", investment_wan=150, started_on=date(2025, 3, 3), documents=[
        d for d in SMALL_BUILD.documents if d.type in {
            "fsr_tech_review_issued", "budget_submitted", "budget_approved", "contract_signed"}
    ] + [doc("trial_run_started", "2026-10-12")])
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        before = {o.id: o for o in (await status_of(handle)).obligations}["final_acceptance"]
        # 3-month trial → 2027-01-12; 20 wd on the provisional 2027: Jan 13–15, 18–22, 25–29,
        # Feb 1–4, (春节 2/5–2/8 with 补假 2/9–2/10) 2/11–12, 2/15.
        assert before.starts_on == date(2027, 1, 12)
        assert (before.due_on, before.provisional) == (date(2027, 2, 15), True)
        published = WorkCalendar({2027: "published"}, load_published(FIXTURE_2027).days)
        applied: CalendarApplied = await handle.execute_update(
            ProjectLifecycleWorkflow.apply_calendar,
            CalendarUpdate(snapshot=dict(published.snapshot(2027, 2027)), note="fixture"))
        after_status = await status_of(handle)
        await record_history(handle, "jiujiang-apply-calendar")
        await handle.terminate("test over")
    after = {o.id: o for o in after_status.obligations}["final_acceptance"]
    # Fixture 2027: 春节 2/5–2/13, Sun 2/14 worked: Jan 13–29 (13), Feb 1–4 (17), 2/14–16.
    assert (after.due_on, after.provisional) == (date(2027, 2, 16), False)
    assert applied.years == [2027]
    assert {"obligation": "final_acceptance", "from": "2027-02-15", "to": "2027-02-16"} in \
        applied.moved
    assert any(e.kind == "deadline_moved" for e in after_status.events)


async def test_search_attributes_list_the_fleet(dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    queue = new_queue()
    proj = project("JJT-SA", investment_wan=6800, category="infrastructure",
                   started_on=date(2026, 9, 30))
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        query = f'WorkflowId = "{handle.id}" AND ShixianOverdue = true'
        for _ in range(50):
            found = [w async for w in client.list_workflows(query)]
            if found:
                break
            await asyncio.sleep(0.2)
        desc = await handle.describe()
        await handle.terminate("test over")
    assert [w.id for w in found] == [handle.id]
    attrs = desc.typed_search_attributes
    assert attrs.get(sa.JURISDICTION) == "九江市"
    assert attrs.get(sa.STAGE) == "launched"
    assert attrs.get(sa.ESCALATION_LEVEL) == 3  # 24 wd late on import: escalated
    assert attrs.get(sa.NEXT_DUE) is not None


@pytest.mark.covers("jiujiang-2024:proposal_submission", "jiujiang-2024:proposal_approval",
                     "jiujiang-2024:fsr_submission")
async def test_cli_start_doc_status_for_an_imported_project(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's acceptance: shixian start + doc + status --json on the dev server."""
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)
    projects = tmp_path / "projects.yaml"
    projects.write_text(
        "projects:\n"
        "  - id: JJ-CLI-001\n"
        "    name: 市级政务数据共享平台扩容\n"
        "    policy: jiujiang-2024\n"
        "    owner: 市数据管理局\n"
        "    owner_type: administrative\n"
        "    category: infrastructure\n"
        "    kind: build\n"
        "    investment_wan: 6800\n"
        "    started_on: 2026-09-30\n"
        "    documents:\n"
        "      - {type: proposal_submitted, on: 2026-10-15, ref: JJ-FGW-2026-88}\n",
        encoding="utf-8",
    )

    async def cli(*args: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(main, list(args))
        out, err = capsys.readouterr()
        # The in-process worker's JSON log lines (deliveries finishing meanwhile) share stderr.
        err = "".join(line for line in err.splitlines(keepends=True)
                      if not line.startswith("{"))
        return code, out, err

    async with running_worker(dev_env.client, queue):
        # Started 2026-09-30, after 九江 2024 办法 lapsed (第四十五条): the flag says so.
        assert (await cli("start", str(projects), "--allow-expired-policy"))[0] == 0
        code, out, _ = await cli("start", str(projects), "--allow-expired-policy")
        assert code == 0 and "already started, nothing changed" in out
        code, out, _ = await cli("doc", "JJ-CLI-001", "proposal_approved", "--on", "2026-10-29",
                                 "--ref", "九发改字〔2026〕140号")
        assert code == 0 and out.startswith("accepted")
        code, _, err = await cli("doc", "JJ-CLI-001", "design_approved", "--on", "2026-10-29")
        assert code == 2 and "refused:" in err
        code, _, err = await cli("doc", "NO-SUCH", "fsr_submitted", "--on", "2026-10-29")
        assert code == 2 and "unknown project 'NO-SUCH'" in err
        code, out, _ = await cli("status", "JJ-CLI-001", "--json")
        extend = await cli("extend", "JJ-CLI-001", "fsr_submission", "--until", "2026-12-18",
                           "--on", "2026-11-20", "--reason", "市数据管理局 同意延期")
        bad_extend = await cli("extend", "JJ-CLI-001", "fsr_submission", "--until",
                               "2026-11-01", "--on", "2026-11-20")
        bad_clock = await cli("clock", "stop", "JJ-CLI-001", "fsr_submission", "--on",
                              "2026-11-20")
        bad_clock_json = await cli("clock", "stop", "JJ-CLI-001", "fsr_submission", "--on",
                                   "2026-11-20", "--json")
        ended = await cli("terminate", "JJ-CLI-001", "--on", "2026-11-20", "--reason", "测试")
        again = await cli("doc", "JJ-CLI-001", "fsr_submitted", "--on", "2026-11-20")
    assert code == 0
    status = json.loads(out)
    for key in ("project_id", "policy", "stage", "obligations", "events", "notices"):
        assert key in status
    obligations = {o["id"]: o for o in status["obligations"]}
    for ob in obligations.values():
        for key in ("id", "title", "actor", "state", "due_on", "due_at", "provisional",
                    "overdue_working_days", "escalation_level", "citation"):
            assert key in ob
    # Hand-worked: proposal 10 wd from 9/30 → 10/20; NDRC 5 wd from 10/15 → 10/22 (replied
    # 10/29, 5 wd late); FSR 20 wd from 10/29: 10/30, 11/2–6, 9–13, 16–20, 23–26 → 11/26.
    assert obligations["proposal_submission"]["due_on"] == "2026-10-20"
    assert obligations["proposal_approval"]["due_on"] == "2026-10-22"
    assert obligations["proposal_approval"]["overdue_working_days"] == 5
    assert obligations["fsr_submission"]["due_on"] == "2026-11-26"
    assert obligations["fsr_submission"]["due_at"] == "2026-11-27T00:00:00+08:00"
    assert obligations["fsr_submission"]["citation"] == "九江 第二十五条(二); 第二十六条"
    assert status["stage"] == "feasibility"  # 建议书批复 in: the owner writes the FSR
    assert extend[0] == 0 and "due 2026-12-18" in extend[1]
    assert bad_extend[0] == 2 and "later than 2026-12-18" in bad_extend[2]
    assert bad_clock[0] == 2 and "no excluded time" in bad_clock[2]
    assert bad_clock_json[0] == 2
    assert json.loads(bad_clock_json[1]) == {"project_id": "JJ-CLI-001", "ok": False,
                                             "message": bad_clock[2].strip()[len("refused: "):]}
    assert ended[0] == 0
    assert again[0] == 2 and "terminated" in again[2]
