"""A terminated project (撤销/终止) reads 已终止 with its reason in `status`, `list` and the
dashboard — not "[finished]" at the stage it stopped in (#11).

The read model is filled with `record_status` as a worker fills it after the `terminate`
update (state.terminated set, a `terminated` event logged), on the session's database.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.read_model import ReadModelUpdate, record_status
from calendars import WorkCalendar
from policies.loader import load_pack
from shixian import operations
from shixian.cli import main
from shixian.dashboard import DashboardServer
from shixian.render import status_text
from tests.conftest import new_queue, running_worker
from tests.dashboard_server import serving
from tests.jiujiang_cases import doc, project
from workflows.ledger import Ledger
from workflows.models import LedgerState, StatusView

NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)
TODAY = date(2026, 11, 23)
REASON = "市政府决定并入全市统一平台建设"


def terminated_status(pid: str) -> StatusView:
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
    led = Ledger(project(pid, investment_wan=820, started_on=date(2026, 7, 1)),
                 load_pack("jiujiang-2024"), cal, LedgerState())
    led.add_document(doc("fsr_submitted", "2026-07-27"), NOW)
    # What the `terminate` update does (workflows/lifecycle.py).
    led.state.terminated = f"2026-11-20: {REASON}"
    led.invalidate()
    led.log(NOW, "terminated", REASON, {"on": "2026-11-20", "reason": REASON},
            on=date(2026, 11, 20))
    return led.status(NOW)


@pytest.fixture(scope="module")
def status() -> StatusView:
    s = terminated_status("TERM-1")
    record_status(ReadModelUpdate(workflow_id="project-TERM-1", seq=1, investment_wan=820,
                                  status=s, new_events=s.events))
    # A later update (without the event) keeps the reason.
    record_status(ReadModelUpdate(workflow_id="project-TERM-1", seq=2, investment_wan=820,
                                  status=s, new_events=[]))
    return s


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shixian.operations.today", lambda: TODAY)


def test_status_says_terminated_with_the_reason(status: StatusView) -> None:
    text = status_text(status)
    head = text.splitlines()[1]
    assert f"stage: 已终止 terminated 2026-11-20: {REASON}" in head
    assert "[finished]" not in text
    assert "was at feasibility 可行性研究报告审批" in head


def test_list_shows_terminated_with_the_reason(status: StatusView,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--all", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["project_id"] == "TERM-1")
    assert row["terminated"] == f"2026-11-20: {REASON}"
    assert row["stage_shown"] == f"已终止（2026-11-20: {REASON}）"
    assert main(["list", "--all", "--limit", "0"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("TERM-1"))
    assert f"已终止（2026-11-20: {REASON}）" in line
    assert main(["list", "--all", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.removeprefix("\ufeff"))))
    assert next(r for r in rows if r["project_id"] == "TERM-1")["terminated"].endswith(REASON)
    # Not among the running projects.
    assert main(["list", "--json"]) == 0
    assert "TERM-1" not in {r["project_id"] for r in json.loads(capsys.readouterr().out)}


@pytest.fixture(scope="module")
def server(status: StatusView) -> Iterator[DashboardServer]:
    with serving(TODAY) as srv:
        yield srv


def test_dashboard_shows_terminated_with_the_reason(server: DashboardServer) -> None:
    import urllib.request

    base = server.url.rstrip("/")
    with urllib.request.urlopen(base + "/?all=1") as reply:
        page = reply.read().decode()
    row = page[page.index('data-project="TERM-1"'):]
    row = row[:row.index("</tr>")]
    assert "已终止" in row and REASON in row
    with urllib.request.urlopen(base + "/project/TERM-1") as reply:
        page = reply.read().decode()
    assert "已终止" in page and REASON in page and "已结束" not in page


async def test_terminate_then_status_and_list_through_a_real_workflow(
        dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`shixian terminate`, then `status` (the query) and `list --all` (the read model the
    worker fills from the workflow's own `terminated` event)."""
    client = dev_env.client
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)
    projects = tmp_path / "p.yaml"
    projects.write_text(
        "projects:\n  - {id: TERM-WF, name: 终止测试项目, policy: jiujiang-2024, "
        "owner: 市数据管理局, owner_type: administrative, category: infrastructure, "
        "kind: build, investment_wan: 6800, started_on: 2026-09-30}\n", encoding="utf-8")

    async def cli(*args: str) -> tuple[int, str]:
        code = await asyncio.to_thread(main, list(args))
        return code, capsys.readouterr().out

    today = operations.today()
    async with running_worker(client, queue):
        try:
            assert (await cli("start", "--allow-expired-policy", str(projects)))[0] == 0
            code, _ = await cli("terminate", "TERM-WF", "--on", today.isoformat(),
                                "--reason", REASON)
            assert code == 0
            code, out = await cli("status", "TERM-WF")
            assert code == 0
            assert f"stage: 已终止 terminated {today}: {REASON}" in out
            assert "[finished]" not in out
            code, out = await cli("status", "TERM-WF", "--json")
            assert json.loads(out)["terminated"] == f"{today}: {REASON}"
            row: dict[str, object] = {}
            for _ in range(600):  # until the worker's report is in (no timing asserted)
                code, out = await cli("list", "--all", "--json")
                row = next((r for r in json.loads(out) if r["project_id"] == "TERM-WF"
                            and r["terminated"]), {})
                if row:
                    break
                await asyncio.sleep(0.1)
            assert row["stage_shown"] == f"已终止（{today}: {REASON}）"
        finally:
            with contextlib.suppress(Exception):
                await client.get_workflow_handle("project-TERM-WF").terminate("test over")
