"""`calendar publish` reaches only the projects a year changes (ShixianProvisionalYears),
those that do not say yet, and finishes an interrupted run without doing anything twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from calendars import WorkCalendar
from calendars.model import DayInfo, DayKind, Provenance
from shixian.cli import main
from shixian.converter import DATA_CONVERTER
from shixian.publishing import affected_projects, affected_query, published_years, year_update
from shixian.temporal_env import dev_server_path
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import SMALL_BUILD, doc, project
from tests.lifecycle_helpers import lifecycle_input
from workflows import search_attributes as sa
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import Project, StatusView

FIXTURE_2027 = Path(__file__).parent / "fixtures" / "calendars" / "fixture-2027.yaml"
ROOT = Path(__file__).resolve().parents[1]


# ---- the attribute's value, without a server ----------------------------------------------
def _calendar() -> WorkCalendar:
    """2026 official-like, 2027 provisional (one holiday), 2028 provisional."""
    return WorkCalendar({2026: Provenance.OFFICIAL, 2027: Provenance.PROVISIONAL,
                         2028: Provenance.PROVISIONAL},
                        [DayInfo(date(2027, 1, 1), DayKind.HOLIDAY, "元旦",
                                 Provenance.PROVISIONAL)])


def test_provisional_years_are_the_years_a_span_counts_provisional_days_in() -> None:
    cal = _calendar()
    years = sa.provisional_years
    assert years(cal, []) == [sa.NO_PROVISIONAL_YEARS]
    assert years(cal, [(date(2026, 3, 1), date(2026, 12, 31))]) == [sa.NO_PROVISIONAL_YEARS]
    assert years(cal, [(date(2026, 12, 1), date(2027, 1, 1))]) == ["2027"]
    assert years(cal, [(date(2026, 3, 1), date(2026, 4, 1)),
                       (date(2027, 12, 30), date(2028, 1, 3))]) == ["2027", "2028"]
    # Reversed spans and days outside the calendar's years do not fail the workflow.
    assert years(cal, [(date(2029, 5, 1), date(2025, 1, 1))]) == ["2027", "2028"]


def test_publish_looks_up_the_years_it_announces_and_projects_that_do_not_say() -> None:
    update = year_update(2027, "2027 fixture")
    assert published_years(update) == [y for y in (2026, 2027)
                                       if WorkCalendar.default().year_provenance(y)
                                       is not Provenance.PROVISIONAL]
    query = affected_query([2026, 2027])
    assert 'ShixianProvisionalYears IN ("2026", "2027")' in query
    assert "ShixianProvisionalYears IS NULL" in query
    assert "IN" not in affected_query(None).split("AND")[-1]
    assert sa.for_dev_server()["ShixianProvisionalYears"] == "KeywordList"


def test_the_cluster_registers_the_attribute_publish_looks_projects_up_by() -> None:
    from tests.test_deployment_files import compose, mounted

    ns = compose()["services"]["temporal-namespace"]
    script = mounted(ns, "/deploy") / ns["command"][0].removeprefix("/deploy/")
    assert "ShixianProvisionalYears=KeywordList" in script.read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "ShixianProvisionalYears=KeywordList" in readme  # an existing cluster, by hand


# ---- on the dev server ----------------------------------------------------------------------
@pytest_asyncio.fixture(scope="module")
async def publish_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of this module's own: `calendar publish` sends to every project that
    lists the year, and other modules' projects (some with no worker left) are not ours."""
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER, dev_server_existing_path=str(dev_server_path()),
        search_attributes=sa.ALL, ui=False)
    try:
        yield env
    finally:
        await env.shutdown()


LATE_BUILD = [d for d in SMALL_BUILD.documents if d.type in {
    "fsr_tech_review_issued", "budget_submitted", "budget_approved", "contract_signed"}]


def _in_2027(pid: str) -> Project:
    """final_acceptance due 2027-02-15 on the provisional calendar (2027-02-16 published)."""
    return project(pid, investment_wan=150, started_on=date(2025, 3, 3),
                   documents=[*LATE_BUILD, doc("trial_run_started", "2026-10-12")])


def _only_2025(pid: str) -> Project:
    """Everything done by 2025 but the last step, overdue since 2026-01: no provisional day."""
    return project(pid, investment_wan=150, started_on=date(2025, 3, 3),
                   documents=[d for d in SMALL_BUILD.documents
                              if d.type != "completion_acceptance_applied"])


async def _start(client: Client, proj: Project, queue: str,
                 provisional_years: bool = True) -> WorkflowHandle[Any, Any]:
    inp = lifecycle_input(proj).model_copy(update={"provisional_years": provisional_years})
    return await client.start_workflow(ProjectLifecycleWorkflow.run, inp,
                                       id=f"project-{proj.id}", task_queue=queue)


async def _years(handle: WorkflowHandle[Any, Any]) -> list[str] | None:
    """The attribute once the first wake has set it (None for a project that never will)."""
    for _ in range(200):  # the first wake upserts them all at once
        attrs = (await handle.describe()).typed_search_attributes
        if attrs.get(sa.STAGE) is not None:
            return attrs.get(sa.PROVISIONAL_YEARS)
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id}: no search attributes after 20 s")


async def _settled(client: Client, query: str, want: set[str]) -> set[str]:
    """Visibility is eventually consistent: poll until the listed ids include `want`."""
    found: set[str] = set()
    for _ in range(100):
        found = {w.id async for w in client.list_workflows(query)}
        if want <= found:
            break
        await asyncio.sleep(0.1)
    return found


async def _applied_count(handle: WorkflowHandle[Any, Any]) -> int:
    status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
    return sum(e.kind == "calendar_applied" for e in status.events)


async def test_publish_reaches_the_projects_listing_the_year_and_legacy_ones(
    publish_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = publish_env.client
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHIXIAN_CALENDAR_DIR", raising=False)
    assert WorkCalendar.default().year_provenance(2027) is Provenance.PROVISIONAL
    async with running_worker(client, queue):
        needs = await _start(client, _in_2027("JJT-SCOPE-NEEDS"), queue)
        done = await _start(client, _only_2025("JJT-SCOPE-DONE"), queue)
        legacy = await _start(client, _in_2027("JJT-SCOPE-LEGACY"), queue,
                              provisional_years=False)
        assert await _years(needs) == ["2027"]
        assert await _years(done) == [sa.NO_PROVISIONAL_YEARS]
        assert await _years(legacy) is None  # started before the attribute existed
        years = [2026, 2027]  # what the file announces, once installed
        await _settled(client, affected_query(years), {needs.id, legacy.id})
        listed = set(await affected_projects(client, years))
        assert {needs.id, legacy.id} <= listed and done.id not in listed

        code = await asyncio.to_thread(main, ["calendar", "publish", str(FIXTURE_2027),
                                              "--json"])
        report = json.loads(capsys.readouterr().out)
        outcomes = {p["project_id"]: p["outcome"] for p in report["projects"]}
        # Re-timed: the year leaves the attribute, so the next publish does not list it.
        after = await _years(needs)
        for _ in range(100):  # upserted once the wake the update caused has run
            if after is None or "2027" not in after:
                break
            await asyncio.sleep(0.1)
            after = await _years(needs)
        counts = [await _applied_count(h) for h in (needs, done, legacy)]
        for h in (needs, done, legacy):
            await h.terminate("test over")
    assert code == 0, report
    assert outcomes["JJT-SCOPE-NEEDS"] == outcomes["JJT-SCOPE-LEGACY"] == "applied"
    assert "JJT-SCOPE-DONE" not in outcomes
    assert report["applied"] >= 2 and report["moved"] >= 2 and report["failed"] == 0
    assert after is not None and "2027" not in after
    assert counts == [1, 0, 1]


def _publish_process(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "shixian", "calendar", "publish",
                             str(FIXTURE_2027), *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("interruption", [signal.SIGKILL, signal.SIGINT],
                         ids=["crash", "ctrl-c"])
async def test_an_interrupted_publish_finishes_the_rest_on_a_re_run(
    publish_env: WorkflowEnvironment, tmp_path: Path, interruption: signal.Signals,
) -> None:
    client = publish_env.client
    queue = new_queue()
    env = {**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host,
           "SHIXIAN_HOME": str(tmp_path / "home")}
    env.pop("SHIXIAN_CALENDAR_DIR", None)
    async with running_worker(client, queue):
        handles = [await _start(client, _in_2027(f"JJT-RESUME-{interruption.name}-{k}"), queue)
                   for k in range(8)]
        for h in handles:
            assert await _years(h) == ["2027"]
        await _settled(client, affected_query([2027]), {h.id for h in handles})
        # One at a time, interrupted once the first project is re-timed.
        first = _publish_process(env, "--concurrency", "1")
        assert first.stdout is not None
        lines: list[str] = []
        while True:
            line = await asyncio.to_thread(first.stdout.readline)
            if not line:
                break
            lines.append(line)
            if "deadline(s) moved" in line:
                first.send_signal(interruption)
                break
        first.wait()
        said = first.stderr.read() if first.stderr else ""
        if interruption is signal.SIGKILL:  # a crash: no clean-up at all
            assert first.returncode == -signal.SIGKILL, (lines, said)
        else:
            assert first.returncode == 130, (lines, said)
            assert "run the same command again to finish the rest" in said
        before = [await _applied_count(h) for h in handles]
        # The re-run finds only what is left (visibility catches up with the upserts).
        for _ in range(50):
            left = set(await affected_projects(client, [2027])) & {h.id for h in handles}
            if len(left) == before.count(0):
                break
            await asyncio.sleep(0.2)
        rerun = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "shixian", "calendar", "publish", str(FIXTURE_2027),
            "--json"], env=env, cwd=ROOT, text=True, capture_output=True)
        after = [await _applied_count(h) for h in handles]
        for h in handles:
            await h.terminate("test over")
    assert 1 <= sum(before) < len(handles), before  # killed mid-way
    assert after == [1] * len(handles)  # every project re-timed exactly once
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    prefix = f"JJT-RESUME-{interruption.name}-"
    mine = {p["project_id"]: p["outcome"] for p in report["projects"]
            if p["project_id"].startswith(prefix)}
    redone = {f"{prefix}{k}" for k, n in enumerate(before) if n == 0}
    assert {p for p, o in mine.items() if o == "applied"} == redone
    # Those done before the kill are not listed again (or, if visibility lagged, unchanged).
    assert all(o == "unchanged" for p, o in mine.items() if p not in redone)



async def _at_rest(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The history's event types once no workflow task or activity is pending."""
    for _ in range(200):
        raw = (await handle.describe()).raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return [EventType.Name(e.event_type)
                    for e in (await handle.fetch_history()).events]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id}: not at rest after 20 s")


async def test_the_bench_floor_does_to_temporal_what_a_re_timing_does(
    publish_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """bench/scale.py prices publish's per-update floor (issue #12) with bench/bare.py's
    `BareRetimeWorkflow`, no shixian code in it. Its update must add the same history
    events as a project's re-timing, or the floor row prices something else."""
    from bench.bare import RETIME_STEPS, BareRetimeWorkflow, bare_record

    client = publish_env.client
    queue, bare_queue = new_queue(), new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHIXIAN_CALENDAR_DIR", raising=False)
    async with running_worker(client, queue):
        needs = await _start(client, _in_2027("JJT-FLOOR"), queue)
        assert await _years(needs) == ["2027"]
        await _settled(client, affected_query([2026, 2027]), {needs.id})
        before = len(await _at_rest(needs))
        code = await asyncio.to_thread(main, ["calendar", "publish", str(FIXTURE_2027),
                                              "--json"])
        report = json.loads(capsys.readouterr().out)
        retimed = (await _at_rest(needs))[before:]
        await needs.terminate("test over")
    assert code == 0, report
    async with Worker(client, task_queue=bare_queue, workflows=[BareRetimeWorkflow],
                      activities=[bare_record]):
        bare = await client.start_workflow(
            BareRetimeWorkflow.run, args=[86400.0 * 365, len(RETIME_STEPS)],
            id=f"bare-floor-{bare_queue}", task_queue=bare_queue)
        before = len(await _at_rest(bare))
        await bare.execute_update(BareRetimeWorkflow.retime, "2027")
        floor = (await _at_rest(bare))[before:]
        await bare.terminate("test over")
    assert Counter(retimed) == Counter(floor), (retimed, floor)
    assert len(retimed) == 14  # the README's "adds 14 history events"
    assert "EVENT_TYPE_TIMER_CANCELED" in retimed


def test_a_published_year_merges_as_data_exactly_as_calendars_merge() -> None:
    from calendars.engine import merge_snapshots

    project_years = WorkCalendar.default()
    current = dict(project_years.snapshot(2024, 2030))
    update = year_update(2027, "2027")  # 2026–2027, 2027 as the shipped data has it
    published = dict(update.snapshot)
    published["years"] = {**published["years"], "2027": "published"}
    published["days"] = sorted([*published["days"], ["2027-03-01", "holiday", "made up"]])
    for incoming in (update.snapshot, published):
        merged = WorkCalendar.from_snapshot(merge_snapshots(current, incoming))
        expected = WorkCalendar.from_snapshot(current).merge(incoming)
        assert merged == expected
        assert merge_snapshots(current, incoming) == dict(expected.snapshot())
    assert not WorkCalendar.from_snapshot(merge_snapshots(current, published)).is_workday(
        date(2027, 3, 1))


async def test_a_namespace_without_the_attribute_refuses_the_start_with_the_fix() -> None:
    """Set at start, so a cluster that was not told about it fails `shixian start` loudly
    instead of wedging each new project's first workflow task."""
    from shixian import operations
    from shixian.errors import UserError

    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER, dev_server_existing_path=str(dev_server_path()),
        search_attributes=[k for k in sa.ALL if k is not sa.PROVISIONAL_YEARS], ui=False)
    try:
        inp = lifecycle_input(_in_2027("JJT-UNREGISTERED"))
        assert sa.provisional_in(inp.calendar) != [sa.NO_PROVISIONAL_YEARS]
        with pytest.raises(UserError, match="register shixian's search attributes"):
            await operations.start_project(env.client, inp)
    finally:
        await env.shutdown()


async def test_a_project_says_its_provisional_years_from_its_start(
    publish_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before any worker has run it, a started project lists every provisional year of its
    calendar (publish reaches it); its first wake narrows that to what its deadlines count."""
    from shixian import operations

    client = publish_env.client
    queue = new_queue()
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)
    inp = lifecycle_input(_in_2027("JJT-SCOPE-START"))
    assert await operations.start_project(client, inp)
    handle = client.get_workflow_handle("project-JJT-SCOPE-START")
    at_start = (await handle.describe()).typed_search_attributes.get(sa.PROVISIONAL_YEARS)
    async with running_worker(client, queue):
        for _ in range(200):
            narrowed = (await handle.describe()).typed_search_attributes.get(
                sa.PROVISIONAL_YEARS)
            if narrowed != at_start:
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test over")
    assert at_start == sa.provisional_in(inp.calendar) and "2027" in at_start
    assert len(at_start) > 1  # the calendar runs years past 2027
    assert narrowed == ["2027"]


async def test_a_project_that_does_not_answer_fails_alone_and_the_exit_says_re_run(
    publish_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = publish_env.client
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHIXIAN_CALENDAR_DIR", raising=False)
    queue = new_queue()
    orphan = await _start(client, _in_2027("JJT-SCOPE-NO-WORKER"), new_queue())
    async with running_worker(client, queue):
        served = await _start(client, _in_2027("JJT-SCOPE-SERVED"), queue)
        assert await _years(served) == ["2027"]
        await _settled(client, affected_query([2027]), {orphan.id, served.id})
        code = await asyncio.to_thread(main, ["calendar", "publish", str(FIXTURE_2027),
                                              "--json", "--wait", "3"])
        report = json.loads(capsys.readouterr().out)
        for h in (orphan, served):
            await h.terminate("test over")
    outcomes = {p["project_id"]: p for p in report["projects"]}
    assert code == 3
    assert outcomes["JJT-SCOPE-SERVED"]["outcome"] == "applied"
    assert outcomes["JJT-SCOPE-NO-WORKER"]["outcome"] == "failed"
    assert "no answer within 3 s" in outcomes["JJT-SCOPE-NO-WORKER"]["reason"]
