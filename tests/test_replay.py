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
from typing import Any, ClassVar

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.converter import ActivitySerializationContext
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox._runner import _Instance as SandboxedInstance

from shixian.converter import DATA_CONVERTER
from shixian.worker_runtime import (
    WORKFLOWS,
    ContextOutsideInstance,
    DetachedStartRunner,
    workflow_runner,
)
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


class _Compared(ContextOutsideInstance):
    """Answers as production does, and records the sandboxed answer beside it."""

    seen: ClassVar[list[tuple[CommandInfo | None, object, object]]] = []

    def get_serialization_context(self, command_info: CommandInfo | None) -> Any:
        direct = super().get_serialization_context(command_info)
        self.seen.append((command_info, direct,
                          SandboxedInstance.get_serialization_context(self, command_info)))
        return direct

    def get_external_store_context(self, command_info: CommandInfo | None) -> Any:
        direct = super().get_external_store_context(command_info)
        self.seen.append((command_info, direct,
                          SandboxedInstance.get_external_store_context(self, command_info)))
        return direct


class _ComparingRunner(DetachedStartRunner):
    instance_class = _Compared


async def test_payload_contexts_read_outside_the_sandbox_are_the_sandboxed_answers() -> None:
    """`ContextOutsideInstance` skips the sandbox only for the SDK's question of which
    serialization context a payload takes; over every recorded history (activities,
    updates, signals, v1, cycle, delivery) its answers equal the sandboxed ones."""
    runner = _ComparingRunner(restrictions=workflow_runner().restrictions)
    replaying = Replayer(workflows=[*WORKFLOWS, NoticeDeliveryWorkflow],
                         data_converter=DATA_CONVERTER, workflow_runner=runner)
    _Compared.seen.clear()
    for path in RECORDED:
        history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        await replaying.replay_workflow(history, raise_on_replay_failure=True)
    seen = _Compared.seen
    assert len(seen) > 500
    assert any(isinstance(direct, ActivitySerializationContext) for _, direct, _ in seen)
    assert any(info is None for info, _, _ in seen)
    assert [(info, direct) for info, direct, _ in seen] == \
        [(info, sandboxed) for info, _, sandboxed in seen]


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
