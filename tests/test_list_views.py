"""`shixian list`: who must act, filters in people's words, exports, the read model's home.

The read model is filled with `record_status` as workers fill it (no Temporal), on the
session's database (SQLite, or PostgreSQL under SHIXIAN_TEST_DATABASE=postgresql); other
tests share it, so checks look at the LV-* projects only.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from temporalio.testing import WorkflowEnvironment

from activities.db import engine
from activities.read_model import ReadModelUpdate, record_status
from calendars import WorkCalendar
from policies.loader import load_pack
from shixian import config
from shixian.cli import CLOSED_PIPE, main
from shixian.dashboard.data import project_view
from shixian.render import status_text
from tests.jiujiang_cases import doc, project
from workflows.ledger import Ledger
from workflows.models import LedgerState, StatusView
from workflows.upgrade import UPGRADED_WORKFLOW_TYPE

ROOT = Path(__file__).parents[1]
NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)
TODAY = date(2026, 11, 23)
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'
ESCAPE_NAME = "终端\x1b]0;pwned\x07标题\x1b[2J项目"


@pytest.fixture(scope="module", autouse=True)
def read_model() -> dict[str, StatusView]:
    """LV-REVIEW: the data bureau's technical review is 32 working days late (the owner,
    市行政审批局, has nothing to do). LV-OWNER: the owner's FSR is late. LV-NAMES: hostile
    names for spreadsheets and terminals."""
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
    cases: dict[str, tuple[dict[str, Any], list[Any]]] = {
        "LV-REVIEW": ({"name": "一网通办事项梳理系统", "owner": "市行政审批局",
                       "investment_wan": 820, "started_on": date(2026, 7, 1)},
                      [doc("fsr_submitted", "2026-07-27"), doc("revision_requested", "2026-08-10"),
                       doc("revision_resubmitted", "2026-09-25")]),
        "LV-OWNER": ({"name": "市级政务数据共享平台扩容", "owner": "市数据管理局",
                      "category": "infrastructure", "investment_wan": 6800,
                      "started_on": date(2026, 9, 30)},
                     [doc("proposal_submitted", "2026-10-15"),
                      doc("proposal_approved", "2026-10-22")]),
        # In trial run: final acceptance is pending, its due day already known and counted
        # over 2027 days not yet announced.
        "LV-TRIAL": ({"name": "城市运行管理中心视频汇聚平台", "owner": "九江城投数字科技有限公司",
                      "owner_type": "state_owned", "category": "infrastructure",
                      "investment_wan": 5200, "started_on": date(2025, 3, 3)},
                     [doc("fsr_submitted", "2025-03-28"),
                      doc("fsr_tech_review_issued", "2025-04-17"),
                      doc("fsr_approved", "2025-04-24"), doc("design_submitted", "2025-06-05"),
                      doc("design_approved", "2025-06-25"), doc("budget_submitted", "2025-07-14"),
                      doc("budget_approved", "2025-08-08"), doc("contract_signed", "2025-10-20"),
                      doc("trial_run_started", "2026-07-01")]),
        "LV-NAMES": ({"name": FORMULA_NAME, "owner": ESCAPE_NAME, "investment_wan": 150,
                      "started_on": date(2026, 11, 2)}, []),
    }
    statuses: dict[str, StatusView] = {}
    for pid, (fields, documents) in cases.items():
        led = Ledger(project(pid, **fields), load_pack("jiujiang-2024"), cal, LedgerState())
        for d in documents:
            led.add_document(d, NOW)
        led.escalate(NOW)
        status = led.status(NOW)
        if pid == "LV-NAMES":
            status.name = FORMULA_NAME + ESCAPE_NAME
        record_status(ReadModelUpdate(workflow_id=f"project-{pid}", seq=1,
                                      investment_wan=float(fields["investment_wan"]),
                                      status=status, new_events=status.events))
        statuses[pid] = status
    return statuses


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shixian.operations.today", lambda: TODAY)


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["list", *args, "--json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return [r for r in rows if r["project_id"].startswith("LV-")]


def test_rows_name_the_responsible_body_and_the_chinese_duty(
        capsys: pytest.CaptureFixture[str]) -> None:
    rows = {r["project_id"]: r for r in listed(capsys)}
    review = rows["LV-REVIEW"]
    assert review["actor_name"] == "市数据管理部门" and review["owner"] == "市行政审批局"
    assert review["duty_title"] == "出具可研技术评审意见"
    assert review["late_duties"][0]["overdue_working_days"] == 32
    assert main(["list", "--limit", "0"]) == 0  # the session database holds other tests' too
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.startswith("LV-REVIEW"))
    assert "市数据管理部门" in line and "出具可研技术评审意见" in line and "+32wd" in line
    assert "fsr_tech_review" not in line
    assert "responsible" in text.splitlines()[0]


def test_actor_filter_finds_the_bodys_own_late_duties(
        capsys: pytest.CaptureFixture[str]) -> None:
    for spelling in ("市数据管理部门", "data_bureau", "数据管理部门"):
        rows = listed(capsys, "--actor", spelling, "--overdue")
        assert [r["project_id"] for r in rows] == ["LV-REVIEW"], spelling
    # --owner is the project owner: the data bureau owns LV-OWNER, whose late duty is not its.
    assert [r["project_id"] for r in listed(capsys, "--owner", "数据管理局", "--overdue")] == [
        "LV-OWNER"]
    owners = listed(capsys, "--actor", "项目业主单位", "--overdue")
    assert {r["project_id"] for r in owners} == {"LV-OWNER"}
    assert owners[0]["actor_name"] == "市数据管理局"  # the owner by name


@pytest.mark.parametrize(("args", "expected"), [
    # LV-OWNER's 项目建议书 is approved: the owner is writing the FSR, the stage now open.
    (("--stage", "可行性研究报告审批"), {"LV-REVIEW", "LV-OWNER"}),
    (("--stage", "feasibility"), {"LV-REVIEW", "LV-OWNER"}),
    (("--jurisdiction", "九江"), {"LV-REVIEW", "LV-OWNER", "LV-NAMES", "LV-TRIAL"}),
    (("--jurisdiction", "九江市"), {"LV-REVIEW", "LV-OWNER", "LV-NAMES", "LV-TRIAL"}),
    (("--jurisdiction", "jiujiang-2024"), {"LV-REVIEW", "LV-OWNER", "LV-NAMES", "LV-TRIAL"}),
])
def test_filters_accept_what_people_type(capsys: pytest.CaptureFixture[str],
                                         args: tuple[str, ...], expected: set[str]) -> None:
    assert {r["project_id"] for r in listed(capsys, *args)} == expected


@pytest.mark.parametrize(("args", "says"), [
    (("--stage", "feasability"), ["unknown stage 'feasability'", "did you mean feasibility",
                                  "feasibility (可行性研究报告审批)", "launched (启动)"]),
    (("--jurisdiction", "南昌"), ["unknown jurisdiction '南昌'", "jiujiang-2024 (九江市)"]),
    (("--actor", "市教育局"), ["unknown actor '市教育局'", "data_bureau (市数据管理部门)"]),
])
def test_unknown_filter_values_are_errors_listing_the_known_ones(
        capsys: pytest.CaptureFixture[str], args: tuple[str, ...], says: list[str]) -> None:
    assert main(["list", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("shixian: error: ")
    for part in says:
        assert part in err


def test_a_known_pending_deadline_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    """Trial run: the final acceptance's due day is known (provisional, 2027) although the
    duty is pending; `list`, `list --provisional` and the row's duty show it."""
    [trial] = [r for r in listed(capsys, "--provisional") if r["project_id"] == "LV-TRIAL"]
    assert trial["next_due_on"] is not None and trial["next_due_on"] >= "2027-01-01"
    assert trial["provisional"] is True
    assert trial["duty"]["obligation_id"] == "final_acceptance"
    assert trial["actor_name"] == "九江城投数字科技有限公司"


def test_status_names_the_same_next_due_day_as_the_list(
        capsys: pytest.CaptureFixture[str], read_model: dict[str, StatusView]) -> None:
    """`shixian status` said "next due: -" for a project in trial run while `list` showed
    its final acceptance's known due day: both now read the day a manager must plan for."""
    rows = {r["project_id"]: r for r in listed(capsys)}
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
    for pid in ("LV-TRIAL", "LV-REVIEW", "LV-OWNER"):
        head = status_text(read_model[pid]).splitlines()[1]
        assert f"next due: {rows[pid]['next_due_on'] or '-'} " in head, (pid, head)
        page = project_view(pid, TODAY, cal)  # the dashboard's project page and its JSON
        assert page is not None
        shown = page.project["next_due_on"]
        assert (shown.isoformat() if shown else None) == rows[pid]["next_due_on"], pid
    assert rows["LV-TRIAL"]["next_due_on"] is not None


def test_csv_has_a_bom_and_no_live_formulas(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["list", "--csv"]) == 0
    raw = capsysbinary.readouterr().out
    assert raw.startswith("\ufeff".encode())
    rows = {r["project_id"]: r for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}
    names = rows["LV-NAMES"]
    assert names["name"].startswith("'=HYPERLINK(")
    assert rows["LV-REVIEW"]["actor_name"] == "市数据管理部门"
    assert rows["LV-REVIEW"]["duty_title"] == "出具可研技术评审意见"


def test_xlsx_export_reads_back_with_text_not_formulas(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "portfolio.xlsx"
    assert main(["list", "--xlsx", str(out)]) == 0
    assert "written to" in capsys.readouterr().out
    sheet = load_workbook(out).active
    assert sheet is not None
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    header = table[0]
    assert header[0] == "项目编号" and "责任单位" in header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in table[1:]}
    assert rows["LV-NAMES"]["项目名称"].startswith("'=HYPERLINK(")
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert rows["LV-REVIEW"]["责任单位"] == "市数据管理部门"
    assert rows["LV-REVIEW"]["逾期工作日"] == 32
    assert isinstance(rows["LV-REVIEW"]["下一截止日"], datetime)


def test_terminal_output_drops_escape_sequences(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--stage", "launched", "--limit", "0"]) == 0
    out = capsys.readouterr().out
    assert "LV-NAMES" in out and "\x1b" not in out and "\x07" not in out


def run_cli(*args: str, cwd: Path, env: dict[str, str],
            stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shixian", *args], cwd=cwd, env=env,
                          stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120,
                          check=False)


def test_a_closed_pipe_is_not_a_traceback() -> None:
    """`shixian list | head -1`: the reader is gone before shixian writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = run_cli("list", "--json", cwd=ROOT, env=os.environ.copy(), stdout=write_end)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == CLOSED_PIPE


def test_list_elsewhere_does_not_make_an_empty_read_model(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SHIXIAN_DATABASE_URL", "SHIXIAN_HOME", "XDG_DATA_HOME")}
    env["HOME"] = str(tmp_path / "home")
    env["TEMPORAL_ADDRESS"] = "127.0.0.1:1"  # nothing listens: no Temporal to ask
    proc = run_cli("list", cwd=elsewhere, env=env)
    assert proc.returncode == 2, proc.stdout
    assert "0 project(s)" not in proc.stdout
    home = tmp_path / "home" / ".local" / "share" / "shixian"
    assert f"no read model at {home / 'shixian.db'}" in proc.stderr
    assert "SHIXIAN_HOME" in proc.stderr
    assert not (elsewhere / ".shixian").exists() and not home.exists()


def test_home_is_the_nearest_dot_shixian_above(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from calendars.loader import installed_dir

    monkeypatch.delenv("SHIXIAN_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "repo" / ".shixian").mkdir(parents=True)
    deep = tmp_path / "repo" / "docs" / "sub"
    deep.mkdir(parents=True)
    found = config.find_home(deep)
    assert found.path == tmp_path / "repo" / ".shixian" and "nearest .shixian/" in found.why
    assert installed_dir(start=deep) == found.path / "calendars"
    assert config.find_home(tmp_path).path == tmp_path / "data" / "shixian"
    assert installed_dir(start=tmp_path) == tmp_path / "data" / "shixian" / "calendars"
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path / "explicit"))
    assert config.find_home(deep).path == tmp_path / "explicit"
    assert installed_dir() == tmp_path / "explicit" / "calendars"


async def test_empty_read_model_while_temporal_runs_projects_says_so(
        dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A workflow that runs (no worker ever picks it up) and a read model that has never
    heard of it: the list is not "0 projects", it says where it looked and what to do."""
    client = dev_env.client
    # The type every project has been started under since rule engine v2.
    handle = await client.start_workflow(
        UPGRADED_WORKFLOW_TYPE, "never read", id=f"project-LV-{uuid.uuid4().hex[:8]}",
        task_queue=f"lv-{uuid.uuid4().hex[:8]}")
    try:
        query = f"WorkflowType = '{UPGRADED_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'"
        while (await client.count_workflows(query)).count == 0:  # visibility catches up
            await asyncio.sleep(0.1)
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        engine(url)  # exists, migrated, no projects
        monkeypatch.setenv("SHIXIAN_DATABASE_URL", url)
        monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
        monkeypatch.setenv("TEMPORAL_NAMESPACE", client.namespace)
        code = await asyncio.to_thread(main, ["list"])
        err = capsys.readouterr().err
        assert code == 2
        assert "has no projects, but Temporal has" in err and "running shixian project" in err
        assert str(tmp_path / "empty.db") in err and "SHIXIAN_DATABASE_URL" in err
        feed = tmp_path / "feed.ics"
        assert await asyncio.to_thread(main, ["ics", "-o", str(feed)]) == 2
        assert "has no projects, but Temporal has" in capsys.readouterr().err
        assert not feed.exists()
        assert await asyncio.to_thread(main, ["stats"]) == 2
        assert "has no projects, but Temporal has" in capsys.readouterr().err
    finally:
        await handle.terminate("test over")
