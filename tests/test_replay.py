"""Determinism guard: recorded histories replay against today's workflow code.

Histories under tests/histories/ come from the lifecycle tests (re-record them with
`SHIXIAN_RECORD_HISTORIES=1 ./dev test`); a change that makes workflow code decide
differently from its history fails here before it can wedge a running project.
Histories under tests/histories/v1/ were recorded with main at 766af5b, before rule engine
v2: they must replay forever on the frozen v1 code the worker still registers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from shixian.converter import DATA_CONVERTER
from shixian.worker_runtime import WORKFLOWS, workflow_runner
from tests.conftest import HISTORIES, new_queue, running_worker
from tests.jiujiang_cases import SMALL_BUILD
from tests.lifecycle_helpers import start
from workflows.delivery import NoticeDeliveryWorkflow
from workflows.models import LifecycleInput
from workflows.upgrade import UPGRADED_WORKFLOW_TYPE

RECORDED = sorted(HISTORIES.glob("*.json")) + sorted((HISTORIES / "v1").glob("*.json"))


def replayer() -> Replayer:
    """The production sandbox (`workflow_runner`): its passthrough list must replay too."""
    return Replayer(workflows=[*WORKFLOWS, NoticeDeliveryWorkflow],
                    data_converter=DATA_CONVERTER, workflow_runner=workflow_runner())


def test_histories_are_recorded() -> None:
    assert len(list((HISTORIES / "v1").glob("*.json"))) == 5, "the v1 histories are kept"
    assert len(list(HISTORIES.glob("*.json"))) >= 4, "re-record with SHIXIAN_RECORD_HISTORIES=1"


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text(encoding="utf-8"))
    result = await replayer().replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_fresh_history_replays_and_a_changed_workflow_does_not(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    client = time_skipping_env.client
    queue = new_queue()
    async with running_worker(client, queue):
        handle = await start(client, SMALL_BUILD.project.model_copy(
            update={"id": "JJT-REPLAY", "documents": SMALL_BUILD.documents}), queue)
        await handle.result()
        history = await handle.fetch_history()
    await replayer().replay_workflow(history)
    tampered = Replayer(workflows=[TamperedLifecycle], data_converter=DATA_CONVERTER)
    result = await tampered.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None


@workflow.defn(name=UPGRADED_WORKFLOW_TYPE)
class TamperedLifecycle:
    """Same name, different decisions: what a careless edit to workflow code looks like."""

    @workflow.run
    async def run(self, inp: LifecycleInput) -> None:
        await workflow.sleep(timedelta(days=1))
