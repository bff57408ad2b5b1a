"""The read model: migrations, idempotent monotonic sync, and `shixian list` against status.

Runs on SQLite and, under SHIXIAN_TEST_DATABASE=postgresql, on a real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from activities.db import engine, events, metadata, obligations, projects
from activities.read_model import ReadModelUpdate, apply_update, record_status
from calendars import WorkCalendar
from policies.loader import load_pack
from shixian import operations
from shixian.cli import main
from shixian.projects_file import load_projects
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import MERGED_OTHER, doc, project
from workflows.ledger import Ledger
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import LedgerState, StatusView

EXAMPLES = Path(__file__).parents[1] / "shixian" / "examples" / "jiujiang-portfolio.yaml"
NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)


def _migrate(url: str, barrier: Any, results: Any) -> None:
    from activities.db import upgrade
    barrier.wait()  # every process imported; now all migrate at the same moment
    try:
        upgrade(url)
        results.put("ok")
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(f"{type(exc).__name__}: {exc}"[:200])


def test_processes_migrating_one_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    """A worker and a CLI started together both migrate a new read model; before the lock
    one of them failed with "table notice_deliveries already exists"."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    n = 4
    barrier, results = ctx.Barrier(n), ctx.Queue()
    url = f"sqlite:///{tmp_path / 'new' / 'shixian.db'}"
    procs = [ctx.Process(target=_migrate, args=(url, barrier, results)) for _ in range(n)]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=120) for _ in range(n)]
    for proc in procs:
        proc.join(timeout=30)
    assert got == ["ok"] * n


def test_a_reader_in_the_middle_of_a_read_does_not_hold_up_a_workers_write(
        tmp_path: Path) -> None:
    """SQLite in write-ahead-log mode (`activities.db.write_ahead_log`): a reader's open
    transaction (the dashboard paging, `shixian list` streaming) keeps its snapshot while
    a worker commits. In the default rollback-journal mode the commit waited for the
    reader and failed after 5 s with "database is locked"."""
    import sqlite3

    path = tmp_path / "rm.db"
    eng = engine(f"sqlite:///{path}")
    row = {"project_id": "WAL-1", "workflow_id": "project-WAL-1", "name": "日志检查",
           "policy": "jiujiang-2024", "jurisdiction": "九江市", "owner": "市数据管理局",
           "investment_wan": 100.0, "stage": "feasibility", "stage_title": "可行性研究报告审批",
           "next_due_on": None, "overdue": False, "escalation_level": 0,
           "provisional": False, "finished": False, "business_date": date(2026, 11, 23),
           "seq": 1, "as_of": NOW, "terminated": None}
    with eng.begin() as conn:
        conn.execute(projects.insert(), [row])
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        stage = "SELECT stage FROM projects WHERE project_id = 'WAL-1'"
        reader.execute("BEGIN")
        assert reader.execute(stage).fetchall() == [("feasibility",)]
        with eng.begin() as conn:  # the worker's write, while the reader is mid-read
            conn.execute(projects.update().values(stage="construction", seq=2))
        assert reader.execute(stage).fetchall() == [("feasibility",)]  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute(stage).fetchall() == [("construction",)]
    finally:
        reader.close()
        eng.dispose()


def test_migrations_match_the_tables_the_code_uses() -> None:
    with engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def update_for(pid: str, seq: int, documents: list[Any]) -> ReadModelUpdate:
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
    led = Ledger(project(pid, investment_wan=800, started_on=date(2025, 3, 3)),
                 load_pack("jiujiang-2024"), cal, LedgerState())
    for d in documents:
        led.add_document(d, NOW)
    status = led.status(NOW)
    return ReadModelUpdate(workflow_id=f"project-{pid}", seq=seq, investment_wan=800,
                           status=status, new_events=status.events)


def rows(pid: str) -> tuple[Any, list[Any], list[Any]]:
    with engine().connect() as conn:
        p = conn.execute(select(projects).where(projects.c.project_id == pid)).one()
        o = conn.execute(select(obligations).where(obligations.c.project_id == pid)
                         .order_by(obligations.c.position)).all()
        e = conn.execute(select(events.c.seq).where(events.c.project_id == pid)
                         .order_by(events.c.seq)).all()
    return p, o, e


def test_sync_is_idempotent_and_never_goes_backwards() -> None:
    first = update_for("JJT-RM", 1, [doc("fsr_submitted", "2025-03-20")])
    second = update_for("JJT-RM", 2, [doc("fsr_submitted", "2025-03-20"),
                                      doc("fsr_tech_review_issued", "2025-04-03")])
    assert record_status(first) is True
    assert record_status(second) is True
    assert record_status(second) is False  # a retry
    assert record_status(first) is False   # a late, older update
    p, obs, evs = rows("JJT-RM")
    assert (p.seq, p.stage) == (2, "feasibility")
    review = next(o for o in obs if o.obligation_id == "fsr_tech_review")
    assert (review.state, review.done_on) == ("done", date(2025, 4, 3))
    assert [e.seq for e in evs] == [1, 2]  # each event once
    assert len(obs) == len(second.status.obligations)


def test_one_transaction_per_update() -> None:
    """A failure half-way leaves the previous rows, not a mix."""
    good = update_for("JJT-TX", 1, [doc("fsr_submitted", "2025-03-20")])
    record_status(good)
    broken = update_for("JJT-TX", 2, [doc("fsr_submitted", "2025-03-20")])
    broken.status.obligations[0].title = None  # type: ignore[assignment]
    with pytest.raises(Exception), engine().begin() as conn:  # noqa: B017 - any DB error
        apply_update(conn, broken)
    p, obs, _ = rows("JJT-TX")
    assert p.seq == 1 and all(o.title for o in obs)


async def test_workflow_keeps_the_read_model_current(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    queue = new_queue()
    proj = MERGED_OTHER.project.model_copy(update={"id": "JJT-RMWF",
                                                   "documents": MERGED_OTHER.documents})
    async with running_worker(client, queue):
        handle = await client.start_workflow(
            ProjectLifecycleWorkflow.run,
            operations.prepare(proj, WorkCalendar.default(use_env=False),
                               allow=frozenset({"expired"})),
            id="project-JJT-RMWF", task_queue=queue)
        final: StatusView = await handle.result()
    p, obs, evs = rows("JJT-RMWF")
    assert p.finished and p.stage == "closed"
    assert {o.obligation_id: o.due_on for o in obs} == {o.id: o.due_on for o in
                                                        final.obligations}
    assert [e.seq for e in evs] == [e.seq for e in final.events]


async def test_list_agrees_with_status(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`shixian list --overdue --json` and `shixian status` say the same of each project."""
    queue = new_queue()
    client = dev_env.client
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)
    cal = WorkCalendar.default(use_env=False)
    ids = []
    async with running_worker(client, queue):
        for proj in load_projects(EXAMPLES):
            proj = proj.model_copy(update={"id": f"{proj.id}-L"})
            await operations.start_project(client, operations.prepare(
                proj, cal, allow=frozenset({"expired"})))
            ids.append(proj.id)
        statuses = {}
        for pid in ids:
            for _ in range(100):
                status = await operations.project_status(client, pid)
                with engine().connect() as conn:
                    synced = conn.execute(select(projects.c.seq).where(
                        projects.c.project_id == pid)).scalar_one_or_none()
                if status.events and synced:
                    break
                await asyncio.sleep(0.1)
            statuses[pid] = status
        code = await asyncio.to_thread(main, ["list", "--overdue", "--json"])
        listed = {r["project_id"]: r for r in json.loads(capsys.readouterr().out)
                  if r["project_id"] in statuses}
        code_csv = await asyncio.to_thread(main, ["list", "--csv", "--min-level", "3"])
        csv_out = capsys.readouterr().out
        for pid in ids:
            await client.get_workflow_handle(f"project-{pid}").terminate("test over")
    assert code == 0 and code_csv == 0
    overdue = {pid for pid, s in statuses.items() if s.overdue}
    assert set(listed) == overdue
    assert {"JJ-2026-001-L", "JJ-2026-014-L"} <= overdue
    for pid, row in listed.items():
        s = statuses[pid]
        assert row["stage"] == s.stage
        assert row["escalation_level"] == s.escalation_level
        late = max(o.overdue_working_days for o in s.obligations if o.done_on is None)
        assert row["overdue_working_days"] == late
    assert csv_out.splitlines()[0].startswith("\ufeffproject_id,")  # a BOM for Excel
    assert "JJ-2026-014-L" in csv_out  # escalated (level 3)
