"""`shixian doc` never loses a document (issue 9 §2): with no worker it is queued as a
durable signal; on Ctrl-C while the project has not answered it is queued too; either way
it applies once a worker runs the project."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.conftest import new_queue, running_worker
from tests.reliability.harness import VALID, project_id, start_small, today
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import StatusView

pytestmark = pytest.mark.read_model_independent

ROOT = Path(__file__).parent.parent.parent
LIFECYCLE_TYPE = workflow._Definition.must_from_class(ProjectLifecycleWorkflow).name


@workflow.defn(name=LIFECYCLE_TYPE, sandboxed=False)
class NotAnswering:
    """A worker polls, but the project's every task fails: updates are never answered."""

    @workflow.run
    async def run(self, _inp: object) -> None:
        raise RuntimeError("this workflow task always fails")


async def documents_of(env: WorkflowEnvironment, pid: str, count: int) -> StatusView:
    handle = env.client.get_workflow_handle(f"project-{pid}")
    for _ in range(200):
        status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        if len(status.documents) >= count:
            return status
        await asyncio.sleep(0.1)
    return status


async def test_ctrl_c_while_waiting_queues_the_document(dev_env: WorkflowEnvironment) -> None:
    queue, pid = new_queue(), project_id("ctrl-c")
    await start_small(dev_env.client, pid, queue)
    env = dict(os.environ, TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host)
    async with Worker(dev_env.client, task_queue=queue, workflows=[NotAnswering]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "shixian", "doc", pid, VALID, "--on", today().isoformat(),
             "--wait", "120"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        line = await asyncio.to_thread(proc.stderr.readline)  # it says it is waiting
        assert line.startswith(f"waiting: {pid} has not answered yet"), line
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 130, err
    assert "queued: interrupted before the project answered" in err
    assert "Traceback" not in err
    async with running_worker(dev_env.client, queue, cache=False):  # a working worker
        status = await documents_of(dev_env, pid, 1)
        await dev_env.client.get_workflow_handle(f"project-{pid}").terminate("test over")
    assert [d.type for d in status.documents] == [VALID]  # applied, once
