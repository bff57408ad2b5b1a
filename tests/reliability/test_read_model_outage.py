"""A read-model outage on a real PostgreSQL server (issue 9 §5): the server crashes
(`pg_ctl stop -m immediate`) while projects start, escalate and take documents, and comes
back; nothing is lost — every notice in the outbox exactly once, every project's row and
events as its workflow has them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import settings
from activities.db import dispose_all, engine, events, notice_outbox, projects
from activities.wake import WakeInput, WakeResult, record_wake
from shixian.worker_runtime import ACTIVITIES, WORKFLOWS
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import doc, project
from tests.lifecycle_helpers import start
from tests.postgres import TempPostgres
from tests.reliability.figures import FIGURES
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import Project, StatusView

pytestmark = pytest.mark.read_model_independent  # its own PostgreSQL server, either pass

BOUND = 120.0


@pytest.fixture
def own_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TempPostgres, str]]:
    server = TempPostgres(durable=True)  # a crash keeps what was committed
    url = server.start()
    monkeypatch.setenv("SHIXIAN_DATABASE_URL", url)
    try:
        yield server, url
    finally:
        dispose_all()
        server.stop()


def overdue(pid: str) -> Project:
    return project(pid, investment_wan=6800, category="infrastructure",
                   started_on=date(2026, 9, 30),
                   documents=[doc("proposal_submitted", "2026-10-15", ref="JJ-FGW-2026-88")])


def read_model(url: str, pid: str) -> tuple[str | None, int]:
    with engine(url).connect() as conn:
        stage = conn.execute(select(projects.c.stage)
                             .where(projects.c.project_id == pid)).scalar_one_or_none()
        count = conn.execute(select(func.count()).select_from(events)
                             .where(events.c.project_id == pid)).scalar_one()
    return stage, count


def outbox(url: str, wid: str) -> list[str]:
    with engine(url).connect() as conn:
        return [k for (k,) in conn.execute(select(notice_outbox.c.notice_key)
                                           .where(notice_outbox.c.workflow_id == wid))]


async def test_postgres_crash_and_restart_loses_nothing(
    dev_env: WorkflowEnvironment, own_postgres: tuple[TempPostgres, str],
) -> None:
    server, url = own_postgres
    client, queue = dev_env.client, new_queue()
    before = [f"PG-OUT-{n}" for n in range(3)]
    during = [f"PG-OUT-{n}" for n in range(3, 6)]
    async with running_worker(client, queue):
        handles = {pid: await start(client, overdue(pid), queue) for pid in before}
        for pid in before:  # in the read model before the crash
            for _ in range(int(BOUND / 0.1)):
                if read_model(url, pid)[0] is not None and outbox(url, f"project-{pid}"):
                    break
                await asyncio.sleep(0.1)
        server.crash()
        FIGURES.kills += 1
        for pid in during:  # they start and escalate while the read model is down
            handles[pid] = await start(client, overdue(pid), queue)
        for pid in before:  # and documents arrive
            await handles[pid].signal(DOCUMENT_SIGNAL, doc("proposal_approved", "2026-10-29"))
        await asyncio.sleep(3)  # activities fail against the dead server meanwhile
        server.restart()

        statuses: dict[str, StatusView] = {}
        for _ in range(int(BOUND / 0.2)):
            for pid, handle in handles.items():
                status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
                rm_stage, rm_events = read_model(url, pid)
                if status.notices and all(n.delivered for n in status.notices) and \
                        rm_stage == status.stage and rm_events == len(status.events):
                    statuses[pid] = status
            if len(statuses) == len(handles):
                break
            await asyncio.sleep(0.2)
        lagging = {}
        for pid, handle in handles.items():
            if pid not in statuses:
                status = await handle.query(ProjectLifecycleWorkflow.status)
                lagging[pid] = (read_model(url, pid), status.stage, len(status.events),
                                [(n.key, n.delivered) for n in status.notices])
        for handle in handles.values():
            await handle.terminate("outage test over")
    assert not lagging, f"the read model never caught up: {lagging}"
    for pid, status in statuses.items():
        keys = outbox(url, f"project-{pid}")
        FIGURES.notices_expected += len(status.notices)
        FIGURES.notices_found += len(set(keys) & {n.key for n in status.notices})
        FIGURES.notices_doubled += len(keys) - len(set(keys))
        assert sorted(keys) == sorted(n.key for n in status.notices), pid
    for pid in before:
        assert [d.type for d in statuses[pid].documents][-1] == "proposal_approved"
        assert read_model(url, pid)[0] == statuses[pid].stage
    FIGURES.notes.append("read model: PostgreSQL crashed and restarted with 6 projects "
                         "starting, escalating and taking documents; all caught up")


async def test_an_event_logged_while_the_read_model_is_written_is_sent_next(
    dev_env: WorkflowEnvironment,
) -> None:
    """A signal handled while `record_wake` is still running (a slow or retrying read
    model) logs an event that update did not carry: it must go with the next one, not be
    marked as sent (the loop does not await the update; the next one goes when it is in)."""
    client, queue = dev_env.client, new_queue()
    entered, release = threading.Event(), threading.Event()

    @activity.defn(name="record_wake")
    async def slow_record_wake(u: WakeInput) -> WakeResult:
        if u.changes and any(e.kind == "document" for e in u.changes.new_events) \
                and not entered.is_set():
            entered.set()  # the update carrying the document: held until the signal is in
            await asyncio.to_thread(release.wait, BOUND)
        return await record_wake(u)

    pid = "RM-RACE-" + queue[-6:]
    acts = [a for a in ACTIVITIES if a is not record_wake] + [slow_record_wake]
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(client, task_queue=queue, workflows=WORKFLOWS, activities=acts,
                          activity_executor=executor):
            handle = await start(client, project(pid, investment_wan=150,
                                                 started_on=date(2026, 9, 30)), queue)
            await handle.signal(DOCUMENT_SIGNAL, doc("tech_plan_submitted", "2026-10-08"))
            assert await asyncio.to_thread(entered.wait, 30)
            await handle.signal(DOCUMENT_SIGNAL, doc("no_such_document", "2026-10-09"))
            for _ in range(int(BOUND / 0.1)):  # the refusal is logged while seq 2 is held
                status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
                if any(e.kind == "document_refused" for e in status.events):
                    break
                await asyncio.sleep(0.1)
            release.set()
            for _ in range(int(BOUND / 0.1)):
                status = await handle.query(ProjectLifecycleWorkflow.status)
                if read_model(settings.database_url(), pid)[1] == len(status.events):
                    break
                await asyncio.sleep(0.1)
            await handle.terminate("test over")
    assert any(e.kind == "document_refused" for e in status.events)
    assert read_model(settings.database_url(), pid)[1] == len(status.events)
