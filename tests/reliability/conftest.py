"""The reliability suite: bad input, crashes, outages; figures at the end of the run."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from _pytest.terminal import TerminalReporter
from temporalio.testing import WorkflowEnvironment

from tests.conftest import new_queue, running_worker
from tests.reliability.figures import FIGURES


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if FIGURES.tried or FIGURES.kills or FIGURES.notes:
        terminalreporter.section("reliability figures (issue 9 §5)")
        for line in FIGURES.lines():
            terminalreporter.write_line(line)


@pytest_asyncio.fixture(scope="package")
async def rel_queue(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """One worker for the matrix: the production workflows and activities."""
    queue = new_queue()
    async with running_worker(dev_env.client, queue):
        yield queue


@pytest.fixture
def rel_cli_env(dev_env: WorkflowEnvironment, rel_queue: str,
                monkeypatch: pytest.MonkeyPatch) -> str:
    """`shixian` commands run in-process against the suite's server and queue."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", rel_queue)
    return rel_queue
