"""`shixian calendar publish`: install a year, re-time running projects, safe to re-run."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from calendars import WorkCalendar
from calendars.model import Provenance
from shixian.cli import main
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import SMALL_BUILD, doc, project
from tests.lifecycle_helpers import start
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import StatusView

FIXTURE_2027 = Path(__file__).parent / "fixtures" / "calendars" / "fixture-2027.yaml"


async def test_publish_installs_and_retimes_running_projects(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = dev_env.client
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHIXIAN_CALENDAR_DIR", raising=False)
    proj = project("JJT-PUB", investment_wan=150, started_on=date(2025, 3, 3), documents=[
        d for d in SMALL_BUILD.documents if d.type in {
            "fsr_tech_review_issued", "budget_submitted", "budget_approved", "contract_signed"}
    ] + [doc("trial_run_started", "2026-10-12")])
    assert WorkCalendar.default().year_provenance(2027) is Provenance.PROVISIONAL

    async def cli(*args: str) -> tuple[int, str]:
        code = await asyncio.to_thread(main, list(args))
        return code, capsys.readouterr().out

    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        for _ in range(100):  # visibility is eventually consistent
            if [w async for w in client.list_workflows(f'WorkflowId = "{handle.id}"')]:
                break
            await asyncio.sleep(0.1)
        code, first = await cli("calendar", "publish", str(FIXTURE_2027), "--json")
        code2, second = await cli("calendar", "publish", str(FIXTURE_2027))
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        await handle.terminate("test over")
    assert code == 0 and code2 == 0
    report = json.loads(first)
    assert report["changed"] is True
    mine = next(p for p in report["projects"] if p["project_id"] == "JJT-PUB")
    assert mine["outcome"] == "applied"
    assert {"obligation": "final_acceptance", "from": "2027-02-15", "to": "2027-02-16"} in \
        mine["moved"]
    assert (tmp_path / "home" / "calendars" / "2027.yaml").is_file()
    assert WorkCalendar.default().year_provenance(2027) is Provenance.PUBLISHED
    # Re-running moves nothing and logs nothing more.
    assert "already installed 2027" in second
    assert "JJT-PUB" not in second
    assert sum(e.kind == "calendar_applied" for e in status.events) == 1
    final = {o.id: o for o in status.obligations}["final_acceptance"]
    assert (final.due_on, final.provisional) == (date(2027, 2, 16), False)


def test_publish_refuses_a_bad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path / "home"))
    bad = tmp_path / "2027.yaml"
    bad.write_text(FIXTURE_2027.read_text(encoding="utf-8").replace(
        "{date: 2027-02-14, for: 春节}", "{date: 2027-02-15, for: 春节}"), encoding="utf-8")
    assert main(["calendar", "publish", str(bad), "--no-apply"]) == 2
    assert "2027-02-15" in capsys.readouterr().err
    assert not (tmp_path / "home" / "calendars").exists()
