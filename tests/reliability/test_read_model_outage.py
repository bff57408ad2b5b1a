"""A read-model outage on a real PostgreSQL server (issue 9 §5): the server crashes
(`pg_ctl stop -m immediate`) while projects start, escalate and take documents, and comes
back; nothing is lost — every notice in the outbox exactly once, every project's row and
events as its workflow has them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from activities.db import dispose_all, engine, events, notice_outbox, projects
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
    server = TempPostgres()
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
