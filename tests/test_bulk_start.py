"""Bulk start from spreadsheets (issue 4, Ops): CSV with Chinese headers in GB18030 or UTF-8
with BOM next to YAML, every bad row reported at once, dry runs, batch document arrivals, and
a worker restarted in the middle of a bulk start.

Fixtures are in tests/fixtures/projects/; the GB18030 and BOM files are kept byte-for-byte as
a Chinese Excel writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.db import engine, notice_outbox
from policies.loader import available
from shixian import operations
from shixian.cli import main
from shixian.documents_file import load_document_lines
from shixian.errors import UserError
from shixian.projects_file import load_projects, parse_documents
from tests.conftest import new_queue, running_worker
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import LifecycleInput, StatusView

FIXTURES = Path(__file__).parent / "fixtures" / "projects"
GB18030 = FIXTURES / "good-zh-gb18030.csv"
BOM = FIXTURES / "good-zh-bom.csv"
ENGLISH = FIXTURES / "good-en.csv"
YAML = FIXTURES / "good.yaml"
BAD = FIXTURES / "bad-rows.csv"
BAD_YAML = FIXTURES / "bad.yaml"
GOOD_FILES = [YAML, GB18030, BOM, ENGLISH]
GOOD_IDS = ["BULK-Y-001", "BULK-Y-002", "BULK-GB-001", "BULK-GB-002", "BULK-GB-003",
            "BULK-BOM-001", "BULK-BOM-002", "BULK-EN-001"]

# The fixtures start 九江 projects after the 2024 办法 lapsed (第四十五条, 2026-05-23).
START = ("start", "--allow-expired-policy")


@pytest.fixture
def cli_env(dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The CLI pointed at the dev server and a fresh task queue."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", new_queue())
    yield dev_env.client


async def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def exists(client: Client, project_id: str) -> bool:
    try:
        await client.get_workflow_handle(f"project-{project_id}").describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def terminate_all(client: Client, ids: list[str]) -> None:
    for pid in ids:
        with contextlib.suppress(RPCError):  # never started, or already closed
            await client.get_workflow_handle(f"project-{pid}").terminate("test finished")


# ---- reading files ---------------------------------------------------------------------------
def test_chinese_csv_in_gb18030_and_utf8_bom_reads_like_yaml() -> None:
    assert GB18030.read_bytes()[:3] != b"\xef\xbb\xbf"
    with pytest.raises(UnicodeDecodeError):
        GB18030.read_bytes().decode("utf-8")
    assert BOM.read_bytes()[:3] == b"\xef\xbb\xbf"

    gb = {p.id: p for p in load_projects(GB18030)}
    assert list(gb) == ["BULK-GB-001", "BULK-GB-002", "BULK-GB-003"]
    first = gb["BULK-GB-001"]
    assert (first.name, first.policy, first.owner_type, first.category, first.kind) == (
        "市级政务数据共享平台扩容", "jiujiang-2024", "administrative", "infrastructure", "build")
    assert first.investment_wan == 6800 and first.major is False and first.planned_months == 12
    assert str(first.started_on) == "2026-09-30" and first.documents == []
    assert gb["BULK-GB-002"].policy == "jiujiang-2024"  # by jurisdiction: 九江市
    assert gb["BULK-GB-002"].investment_wan == 820 and gb["BULK-GB-002"].planned_months is None
    assert str(gb["BULK-GB-002"].started_on) == "2026-10-09"  # 2026/10/9
    third = gb["BULK-GB-003"]  # by the regulation's title; 2026年10月12日
    assert (third.policy, third.owner_type, third.category, third.kind, third.major) == (
        "jiujiang-2024", "state_owned", "cross_department", "procurement", True)
    assert third.investment_wan == 1200 and str(third.started_on) == "2026-10-12"

    bom = {p.id: p for p in load_projects(BOM)}  # 序号 and 备注 columns are ignored
    assert list(bom) == ["BULK-BOM-001", "BULK-BOM-002"]  # the empty trailing row too
    assert bom["BULK-BOM-001"].kind == "service" and bom["BULK-BOM-001"].investment_wan == 2400
    docs = bom["BULK-BOM-002"].documents
    assert [(d.type, str(d.on), d.ref) for d in docs] == [
        ("proposal_submitted", "2026-10-15", "JJ-FGW-2026-88"),
        ("proposal_approved", "2026-10-29", "九发改字〔2026〕140号"),
    ]
    english = load_projects(ENGLISH)[0]
    assert english.id == "BULK-EN-001" and english.documents[0].ref == "JJ-FGW-2026-88"


def test_documents_cell_format() -> None:
    docs = parse_documents(" a@2026-10-15#X-1;b@2026/10/16 ；c@2026年10月17日#九〔2026〕1号\n")
    assert [(d.type, str(d.on), d.ref) for d in docs] == [
        ("a", "2026-10-15", "X-1"), ("b", "2026-10-16", None),
        ("c", "2026-10-17", "九〔2026〕1号")]
    for bad in ("a 2026-10-15", "@2026-10-15", "a@2026-02-30", "a@soon"):
        with pytest.raises(ValueError):
            parse_documents(bad)


def test_unknown_and_missing_columns_are_one_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("项目编号,项目名称,颜色\nX-1,名称,红\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_projects(path)
    text = str(info.value)
    assert f"{path}: row 1: unknown column '颜色'" in text
    assert "missing column(s) policy (适用办法)" in text and "started_on (启动通知日期)" in text


# ---- start: every bad row at once, then the good files, then again ---------------------------
async def test_bad_rows_are_all_reported_and_nothing_starts_then_good_files_start(
    cli_env: Client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = cli_env
    try:
        code, out, err = await cli(capsys, *START, str(YAML), str(BAD_YAML), str(GB18030),
                                   str(BAD))
        assert code == 2 and out == ""
        lines = err.strip().splitlines()
        assert lines[0] == "shixian: error: nothing started (11 problems; fix them and run again):"
        expected = {
            3: "适用办法: unknown jurisdiction or policy '上海市'",
            4: "投资额（万元）: missing",
            5: "启动通知日期: '2026-02-30' is not a date",
            6: "jiujiang-2024 covers 行政机关、国资监管企业 (九江 第二条), not 事业单位",
            7: f"duplicate id, also {BAD}: row 2 (BULK-BAD-001)",
            8: "已收文件: 'proposal_submitted 2026-10-15' is not type@YYYY-MM-DD[#ref]",
            9: "document design_approved on 2026-10-10: design_approved (初步设计批复) is not "
               "expected",
            10: "项目类型: unknown value '运维类'",
            11: f"duplicate id, also {YAML}: project #1 (BULK-Y-001)",
        }
        body = lines[1:]
        assert len(body) == 11
        assert body[0] == f"{BAD_YAML}: project #1 (BULK-YB-001): kind: Input should be 'build', " \
            "'service' or 'procurement'"
        assert body[1] == f"{BAD_YAML}: project #2 (BULK-YB-002): unknown policy " \
            "'shanghai-2025'; known policies: " + ", ".join(available())
        assert all(line.startswith(f"{BAD}: row ") for line in body[2:])  # in row order
        assert [int(line.split()[2]) for line in body[2:]] == sorted(expected)
        for row, text in expected.items():
            hits = [line for line in body if line.startswith(f"{BAD}: row {row} (")]
            assert len(hits) == 1 and text in hits[0], (row, hits)
        # row 2 is fine but in a bad batch; row 7's own values are fine, its id is not
        assert not any(line.startswith(f"{BAD}: row 2 ") for line in body)
        for pid in ["BULK-BAD-001", "BULK-YB-001", *GOOD_IDS]:
            assert not await exists(client, pid), pid

        async with running_worker(client, cli_queue()):
            code, out, err = await cli(capsys, *START, *map(str, GOOD_FILES))
            assert code == 0, err
            started = out.strip().splitlines()
            assert len(started) == len(GOOD_IDS)
            assert [line.split()[-1] for line in started] == [f"project-{p}" for p in GOOD_IDS]
            assert all(line.startswith(f"[{i}/8] started ") for i, line in
                       enumerate(started, start=1))

            code, out, _ = await cli(capsys, *START, *map(str, GOOD_FILES))
            assert code == 0
            assert out.count("already started, nothing changed") == len(GOOD_IDS)
            assert "started project-" not in out

            code, out, _ = await cli(capsys, *START, "--json",
                                       *map(str, GOOD_FILES))
            results = [json.loads(line) for line in out.strip().splitlines()]
            assert [r["result"] for r in results] == ["exists"] * len(GOOD_IDS)
            assert [r["workflow_id"] for r in results] == [f"project-{p}" for p in GOOD_IDS]

            # On a terminal: a progress bar on stderr, a summary on stdout.
            tty = FakeTTY()
            monkeypatch.setattr("sys.stderr", tty)
            monkeypatch.setattr("sys.stdout", tty_out := FakeTTY())
            code = await asyncio.to_thread(main, [*START,
                                                  *map(str, GOOD_FILES)])
            monkeypatch.undo()
            assert code == 0
            assert "8/8" in tty.getvalue() and "[" + "#" * 28 + "]" in tty.getvalue()
            assert tty_out.getvalue().startswith("0 started, 8 already existed (nothing changed)")

            # What the workflow computes is what the dry run printed.
            status = await status_of(client, "BULK-GB-001")
            due = {o.id: o.due_on for o in status.obligations}
            assert str(due["proposal_submission"]) == "2026-10-20"
    finally:
        await terminate_all(client, GOOD_IDS)


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def cli_queue() -> str:
    """The task queue `cli_env` gave the CLI, for the test's own worker."""
    return os.environ["SHIXIAN_TASK_QUEUE"]


async def status_of(client: Client, project_id: str) -> StatusView:
    """The status once the worker has run the first workflow task."""
    for _ in range(300):
        try:
            status = await operations.project_status(client, project_id)
        except RPCError:
            status = None
        if status is not None and status.events:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{project_id} never answered its status query")


# ---- dry run ---------------------------------------------------------------------------------
@pytest.mark.covers("jiujiang-2024:proposal_submission", "jiujiang-2024:proposal_approval")
async def test_dry_run_prints_paths_and_first_due_days_without_temporal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens: never connected
    code, out, err = await cli(capsys, *START, "--dry-run", str(GB18030), str(ENGLISH))
    assert code == 0, err
    assert out.startswith("dry run: 4 project(s) checked, nothing started")
    block = out.split("BULK-GB-001", 1)[1].split("\n\n", 1)[0]
    # Hand-worked on the 2026 calendar: 国庆 10/1–10/7, 10/10 (Sat) a make-up working day.
    # 10 wd after the launch notice of 9/30: 10/8, 9, 10, 12, 13, 14, 15, 16, 19, 20 → 10/20.
    lines = block.splitlines()
    table_at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["duty"])
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[table_at + 1:]
            if line.startswith("  ") and not line.startswith("   ") and
            line.split()[0] in ("proposal_submission", "proposal_approval")]
    assert rows[0][:6] == ["proposal_submission", "市数据管理局", "2026-09-30", "2026-10-20",
                           "overdue", "九江 第二十五条(一)"]
    # Not started: what it will count from, in words (the NDRC's 5 wd from the proposal).
    assert rows[1][:5] == ["proposal_approval", "市发改委", "-",
                           "5wd after 项目建议书报送 (not yet)", "pending"]
    assert "  waived (not on this path): small_tech_review" in block
    gb2 = out.split("BULK-GB-002", 1)[1].split("\n\n", 1)[0]
    assert "waived (not on this path): proposal_submission, proposal_approval, " \
        "design_submission" in gb2

    code, out, _ = await cli(capsys, *START, "--dry-run", "--json", str(GB18030), str(ENGLISH))
    assert code == 0
    plans = {p["project_id"]: p for p in json.loads(out)}
    assert list(plans) == ["BULK-GB-001", "BULK-GB-002", "BULK-GB-003", "BULK-EN-001"]
    first = plans["BULK-GB-001"]["obligations"][0]
    assert (first["id"], first["actor"], first["starts_on"], first["due_on"],
            first["provisional"], first["citation"]) == (
        "proposal_submission", "owner", "2026-09-30", "2026-10-20", False, "九江 第二十五条(一)")
    assert plans["BULK-GB-001"]["stage"] == "launched"
    assert [w["id"] for w in plans["BULK-GB-001"]["waived"]] == ["small_tech_review"]
    # NDRC's 5 working days count from the proposal (10/15): 10/16, 19, 20, 21, 22.
    reply = {o["id"]: o for o in plans["BULK-EN-001"]["obligations"]}["proposal_approval"]
    assert (reply["actor"], reply["starts_on"], reply["due_on"], reply["state"]) == (
        "ndrc", "2026-10-15", "2026-10-22", "overdue")
    assert all(o["state"] != "waived" for p in plans.values() for o in p["obligations"])

    code, _, err = await cli(capsys, *START, "--dry-run", str(BAD))
    assert code == 2 and "nothing started (8 problems" in err


# ---- doc --file ------------------------------------------------------------------------------
def test_document_batch_files_parse_with_line_numbers() -> None:
    rows = load_document_lines(FIXTURES / "arrivals.csv")
    assert [r.line for r in rows] == [2, 3, 4, 5, 6, 7, 8]
    assert [r.problem is None for r in rows] == [True, True, True, False, True, False, True]
    assert rows[6].doc is not None and str(rows[6].doc.on) == "2026-10-29"
    assert rows[0].doc is not None and rows[0].doc.by == "市数据管理局"
    lines = load_document_lines(FIXTURES / "arrivals.jsonl")
    assert [r.line for r in lines] == [1, 3] and all(r.problem is None for r in lines)
    items = load_document_lines(FIXTURES / "arrivals.yaml")
    assert [r.line for r in items] == [2, 6, 9]
    assert items[1].problem is not None and "someday" in items[1].problem
    assert items[2].problem is not None and "colour" in items[2].problem


def test_document_files_carry_the_period_a_report_is_for(tmp_path: Path) -> None:
    """所属期 / period: which quarter a 季度报告 reports on; a wrong form names the fix."""
    csv_file = tmp_path / "reports.csv"
    csv_file.write_text("项目编号,文件类型,日期,所属期\n"
                        "SR-1,quarterly_progress_report,2026-10-12,2026Q3\n"
                        "SR-1,quarterly_progress_report,2026-10-13,第三季度\n"
                        "SR-1,quarterly_progress_report,2026-10-14,\n", encoding="utf-8")
    rows = load_document_lines(csv_file)
    assert rows[0].doc is not None and rows[0].doc.period == "2026Q3"
    assert rows[1].doc is None and rows[1].problem is not None and "period" in rows[1].problem
    assert rows[2].doc is not None and rows[2].doc.period is None


async def test_doc_file_records_a_mixed_batch(
    cli_env: Client, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    client = cli_env
    ids = ["BULK-DOC-001", "BULK-DOC-002"]
    projects = tmp_path / "projects.yaml"
    projects.write_text("projects:\n" + "".join(
        f"  - {{id: {pid}, name: 批量收文测试, policy: jiujiang-2024, owner: 市数据管理局,\n"
        f"     owner_type: administrative, category: infrastructure, kind: build,\n"
        f"     investment_wan: 6800, started_on: 2026-09-30}}\n" for pid in ids),
        encoding="utf-8")
    try:
        async with running_worker(client, cli_queue()):
            assert (await cli(capsys, *START, str(projects)))[0] == 0
            code, out, err = await cli(capsys, "doc", "--file", str(FIXTURES / "arrivals.csv"))
            assert code == 2, err
            lines = out.strip().splitlines()
            # The stage after the whole batch: 建议书批复 (line 8) opens the FSR.
            assert lines[0] == ("line 2: accepted: BULK-DOC-001 proposal_submitted on 2026-10-15 "
                                "(stage feasibility)")
            assert lines[1].startswith("line 3: duplicate: BULK-DOC-001 proposal_submitted")
            assert lines[2].startswith("line 4: refused: design_approved (初步设计批复) is not "
                                       "expected")
            assert lines[3].startswith("line 5: malformed: on: '2026-13-01' is not a date")
            assert lines[4].startswith("line 6: refused: unknown project 'NO-SUCH-PROJECT'")
            assert lines[5].startswith("line 7: malformed: type:")
            assert lines[6].startswith("line 8: accepted: BULK-DOC-001 proposal_approved on "
                                       "2026-10-29")
            assert len(lines) == 7

            code, out, _ = await cli(capsys, "doc", "--file", str(FIXTURES / "arrivals.jsonl"),
                                     "--json")
            assert code == 0
            results = [json.loads(line) for line in out.strip().splitlines()]
            assert [(r["line"], r["outcome"]) for r in results] == [(1, "accepted"),
                                                                    (3, "duplicate")]

            code, out, _ = await cli(capsys, "doc", "--file", str(FIXTURES / "arrivals.yaml"))
            assert code == 2
            lines = out.strip().splitlines()
            assert lines[0].startswith("line 2: accepted: BULK-DOC-002 proposal_approved")
            assert lines[1].startswith("line 6: malformed: on: 'someday' is not a date")
            assert lines[2].startswith("line 9: malformed: unknown field(s) colour")

            status = await operations.project_status(client, "BULK-DOC-001")
            assert [(d.type, str(d.on)) for d in status.documents] == [
                ("proposal_submitted", "2026-10-15"), ("proposal_approved", "2026-10-29")]
            assert status.stage == "feasibility"  # approved: the FSR is the step now open
            # The single-document form is unchanged.
            code, out, _ = await cli(capsys, "doc", "BULK-DOC-002", "proposal_submitted",
                                     "--on", "2026-10-16")
            assert code == 0 and out.startswith("duplicate:")
    finally:
        await terminate_all(client, ids)


def test_doc_arguments_are_either_one_document_or_a_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doc", "JJ-1", "fsr_submitted"])
    assert info.value.code == 2
    assert "give PROJECT_ID DOC_TYPE --on DATE (one document) or --file FILE" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["doc", "JJ-1", "--file", "x.csv"])
    assert "--file takes no PROJECT_ID" in capsys.readouterr().err


# ---- a worker restarted in the middle of a bulk start ----------------------------------------
async def test_worker_restart_mid_bulk_start_loses_and_duplicates_nothing(
    cli_env: Client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """12 projects; the first worker stops after the 4th start (and once it has run one), the
    rest start with no worker at all, a new worker takes over. Every workflow exists once,
    answers its status, and every notice is in the outbox exactly once."""
    client = cli_env
    queue = cli_queue()
    suffix = uuid.uuid4().hex[:6].upper()
    ids = [f"BULK-R{n:02d}-{suffix}" for n in range(1, 13)]
    path = tmp_path / "restart.csv"
    rows = ["项目编号,项目名称,适用办法,业主单位,业主类型,项目类别,项目类型,投资额（万元）,"
            "启动通知日期,已收文件"]
    for n, pid in enumerate(ids):
        docs = "proposal_submitted@2026-10-15#JJ-FGW-2026-88" if n % 3 == 0 else ""
        rows.append(f"{pid},重启测试{n},九江市,市数据管理局,行政机关,基础设施类,建设类,"
                    f"\"6,800\",2026-09-30,{docs}")
    path.write_bytes(("\n".join(rows) + "\n").encode("gb18030"))

    paused, resume = threading.Event(), threading.Event()
    real_start = operations.start_project
    calls = 0
    started_ids: list[str] = []

    async def start_then_pause(client: Client, inp: LifecycleInput) -> bool:
        # `start` runs its starts concurrently: the first 4 go through, every later one
        # waits until the first worker has gone.
        nonlocal calls
        calls += 1
        if calls > 4:
            await asyncio.to_thread(resume.wait)
        started = await real_start(client, inp)
        started_ids.append(inp.project.id)
        if len(started_ids) == 4:
            paused.set()
        return started

    monkeypatch.setattr(operations, "start_project", start_then_pause)
    try:
        async with running_worker(client, queue, cache=False):
            bulk = asyncio.create_task(asyncio.to_thread(main, [*START, str(path)]))
            await asyncio.to_thread(paused.wait)
            await status_of(client, started_ids[0])  # the first worker has run one
        resume.set()  # the other 8 start while no worker runs
        code = await bulk
        out, err = capsys.readouterr()
        assert code == 0, err
        assert [line.split()[1:3] for line in out.strip().splitlines()] == [
            ["started", f"project-{pid}"] for pid in ids]

        async with running_worker(client, queue, cache=False):
            statuses = {pid: await delivered_status(client, pid) for pid in ids}
            code, out, _ = await cli(capsys, *START, str(path))
            assert code == 0 and out.count("already started, nothing changed") == 12

        listed = await listed_ids(client, queue, len(ids))
        assert sorted(listed) == sorted(f"project-{pid}" for pid in ids)  # once each
        with engine().connect() as conn:
            wids = [f"project-{pid}" for pid in ids]
            dupes = conn.execute(
                select(notice_outbox.c.workflow_id, notice_outbox.c.notice_key, func.count())
                .where(notice_outbox.c.workflow_id.in_(wids))
                .group_by(notice_outbox.c.workflow_id, notice_outbox.c.notice_key)
                .having(func.count() > 1)).all()
            outbox = conn.execute(select(notice_outbox.c.workflow_id, notice_outbox.c.notice_key)
                                  .where(notice_outbox.c.workflow_id.in_(wids))).all()
        assert dupes == []
        for pid, status in statuses.items():
            assert status.project_id == pid and status.policy == "jiujiang-2024"
            due = {o.id: str(o.due_on) for o in status.obligations}
            assert due["proposal_submission"] == "2026-10-20"
            assert status.notices, pid  # overdue since 10/20: at least one rung fired
            keys = sorted(k for w, k in outbox if w == f"project-{pid}")
            assert keys == sorted(n.key for n in status.notices), pid
    finally:
        resume.set()
        await terminate_all(client, ids)


async def delivered_status(client: Client, project_id: str) -> StatusView:
    """The status once every notice fired so far went through the outbox activity."""
    handle = client.get_workflow_handle(f"project-{project_id}")
    for _ in range(600):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        if status.notices and all(n.delivered for n in status.notices):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{project_id}: notices never all delivered")


async def listed_ids(client: Client, queue: str, expected: int) -> list[str]:
    """Workflow ids on the queue from visibility (eventually consistent: wait for them)."""
    found: list[Any] = []
    for _ in range(300):
        found = [w.id async for w in client.list_workflows(f"TaskQueue = '{queue}'")]
        if len(found) >= expected:
            break
        await asyncio.sleep(0.1)
    return found


@pytest.mark.parametrize("fails", [False, True])
def test_the_start_leaves_the_collector_as_it_found_it(fails: bool) -> None:
    """`shixian start` builds its inputs with the cyclic collector off and starts them with
    the inputs frozen out of it; afterwards, and after a refused file, it is as before."""
    import gc

    from shixian.commands.projects import _inputs_kept_out_of_collections

    assert gc.isenabled() and gc.get_freeze_count() == 0
    with contextlib.suppress(UserError), _inputs_kept_out_of_collections() as built:
        assert not gc.isenabled()
        kept = [{"input": i} for i in range(1000)]
        if fails:
            raise UserError("nothing started")
        built()
        assert gc.isenabled() and gc.get_freeze_count() >= len(kept)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_projects_file_takes_each_start_years_calendar_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The check phase takes the calendar snapshot once per start year, not per project
    (a quarter of its CPU at 10,000), and each input is the one that project gets alone."""
    from calendars.engine import WorkCalendar
    from shixian.commands.projects import _prepare_all

    examples = Path(__file__).parents[1] / "shixian/examples/jiujiang-portfolio.yaml"
    allow = frozenset({"expired"})
    taken: list[tuple[int | None, int | None]] = []
    real = WorkCalendar.snapshot

    def counted(self: WorkCalendar, first: int | None = None,
                last: int | None = None) -> Any:
        taken.append((first, last))
        return real(self, first, last)

    monkeypatch.setattr(WorkCalendar, "snapshot", counted)
    inputs, today = _prepare_all([examples], allow)
    years = {entry.project.started_on.year for entry, _ in inputs}
    assert len(inputs) == 4 and len(years) == 2
    assert len(taken) == len(set(taken)) == len(years)
    monkeypatch.setattr(WorkCalendar, "snapshot", real)
    alone = WorkCalendar.default()
    for entry, inp in inputs:
        assert inp == operations.prepare(entry.project, alone, today, allow)
