"""`kill -9` of the dev server mid-bulk-start, of the worker and of the dev server
mid-escalation (issue 9 §5): every project exists once, every notice is in the outbox
exactly once. The server keeps its state in a SQLite file and comes back on the same port;
the workers are real `worker.py` processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from activities.db import engine, notice_outbox
from shixian import operations
from shixian.cli import main
from shixian.converter import DATA_CONVERTER
from shixian.temporal_env import DevServer, free_port
from tests.conftest import running_worker
from tests.reliability.figures import FIGURES
from workflows import search_attributes
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import LifecycleInput, StatusView

# The outbox's exactly-once key is checked on both backends by test_bulk_start.py and
# test_delivery_crash.py; the Temporal crashes here take ~50 s and run in one pass.
pytestmark = pytest.mark.read_model_independent

ROOT = Path(__file__).parent.parent.parent
PROJECTS = 16
BOUND = 120.0  # seconds any one step may take before the test fails (a hang guard)


async def until(check: Callable[[], Any], what: str, every: float = 0.05) -> None:
    for _ in range(int(BOUND / every)):
        if await check() if asyncio.iscoroutinefunction(check) else check():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def outbox_rows(wids: list[str]) -> list[tuple[str, str]]:
    with engine().connect() as conn:
        return [(w, k) for w, k in conn.execute(
            select(notice_outbox.c.workflow_id, notice_outbox.c.notice_key)
            .where(notice_outbox.c.workflow_id.in_(wids)))]


def doubled(wids: list[str]) -> int:
    with engine().connect() as conn:
        return len(conn.execute(
            select(notice_outbox.c.workflow_id, notice_outbox.c.notice_key, func.count())
            .where(notice_outbox.c.workflow_id.in_(wids))
            .group_by(notice_outbox.c.workflow_id, notice_outbox.c.notice_key)
            .having(func.count() > 1)).all())


def server(db: Path, port: int) -> DevServer:
    s = DevServer(db_file=db, port=port, headless=True,
                  search_attributes=search_attributes.for_dev_server())
    s.start()
    return s


def kill9(proc_pid: int) -> None:
    os.kill(proc_pid, signal.SIGKILL)
    with_retry = 0
    while with_retry < 200:
        try:
            os.waitpid(proc_pid, os.WNOHANG)
        except ChildProcessError:
            return
        try:
            os.kill(proc_pid, 0)
        except ProcessLookupError:
            return
        with_retry += 1
        subprocess.run(["sleep", "0.05"], check=False)


def projects_csv(path: Path, ids: list[str]) -> None:
    rows = ["id,name,policy,owner,owner_type,category,kind,investment_wan,started_on,documents"]
    rows += [f"{pid},崩溃测试{n},jiujiang-2024,市数据管理局,administrative,infrastructure,build,"
             f"6800,2026-09-30,proposal_submitted@2026-10-15#JJ-FGW-2026-88"
             for n, pid in enumerate(ids)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


async def all_delivered(client: Client, pid: str) -> StatusView | None:
    status: StatusView = await client.get_workflow_handle(f"project-{pid}").query(
        ProjectLifecycleWorkflow.status)
    return status if status.notices and all(n.delivered for n in status.notices) else None


async def test_kill_9_of_server_and_worker_mid_bulk_start_and_mid_escalation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    port, queue = free_port(), f"tq-crash-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "temporal.db"
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{port}")
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)
    ids = [f"CRASH-{n:02d}-{uuid.uuid4().hex[:4].upper()}" for n in range(PROJECTS)]
    wids = [f"project-{pid}" for pid in ids]
    csv = tmp_path / "projects.csv"
    projects_csv(csv, ids)
    workers: list[subprocess.Popen[bytes]] = []
    srv = server(db, port)

    async def worker_process() -> subprocess.Popen[bytes]:
        """A worker process, once it polls (it exits if the server is gone as it starts)."""
        log = tmp_path / f"worker{len(workers)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "worker.py", "--task-queue", queue],
                                    cwd=ROOT, env=dict(os.environ), stdout=out,
                                    stderr=subprocess.STDOUT)
        workers.append(proc)
        await until(lambda: b"worker started" in log.read_bytes(), "the worker to start")
        return proc

    # 1. kill -9 of the server in the middle of `shixian start` (after its 4th project).
    real_start, started = operations.start_project, []

    async def start_then_crash(client: Client, inp: LifecycleInput) -> bool:
        new = await real_start(client, inp)
        started.append(inp.project.id)
        if len(started) == 4 and srv.pid is not None:
            kill9(srv.pid)
            FIGURES.kills += 1
        return new

    def bulk() -> int:
        return main(["start", "--allow-expired-policy", str(csv)])

    try:
        killed = await worker_process()  # polling before the crash: it rides it out
        monkeypatch.setattr(operations, "start_project", start_then_crash)
        code = await asyncio.to_thread(bulk)
        _, err = capsys.readouterr()
        # Starts run concurrently: a reply already on the wire when the server dies still
        # lands, so 4 or more may be started. What must hold: the count told is the count done.
        assert len(started) >= 4
        assert code == 2 and "re-run the same command" in err
        assert f"{len(started)} of {PROJECTS} were handled" in err
        assert "Traceback" not in err
        monkeypatch.setattr(operations, "start_project", real_start)
        srv = server(db, port)
        assert await asyncio.to_thread(bulk) == 0
        # A start the server wrote just before dying, its reply lost, is found again too.
        assert len(started) <= capsys.readouterr().out.count("already started") < PROJECTS
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=DATA_CONVERTER)

        # 2. kill -9 of the worker process mid-escalation; an in-process worker takes over.
        await until(lambda: len(outbox_rows(wids)) >= 4, "the first notices")
        kill9(killed.pid)
        FIGURES.kills += 1
        async with running_worker(client, queue, cache=False):
            # 3. kill -9 of the server mid-escalation, then back on the same file and port.
            await until(lambda: len(outbox_rows(wids)) >= 12, "more notices")
            assert srv.pid is not None
            kill9(srv.pid)
            FIGURES.kills += 1
            srv = server(db, port)

            statuses: dict[str, StatusView] = {}

            async def every_project_delivered() -> bool:
                for pid in ids:
                    if pid not in statuses:
                        found = await all_delivered(client, pid)
                        if found is None:
                            return False
                        statuses[pid] = found
                return True

            await until(every_project_delivered, "every notice to go through the outbox", 0.2)
        listed = [w.id async for w in client.list_workflows(f"TaskQueue = '{queue}'")]
        expected = {(f"project-{pid}", n.key) for pid, s in statuses.items() for n in s.notices}
        found = outbox_rows(wids)
        FIGURES.notices_expected += len(expected)
        FIGURES.notices_found += len(expected & set(found))
        FIGURES.notices_doubled += doubled(wids)
        assert sorted(listed) == sorted(wids)  # each project once
        assert set(found) == expected
        assert doubled(wids) == 0
        for wid in wids:
            await client.get_workflow_handle(wid).terminate("crash test over")
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        srv.stop()
