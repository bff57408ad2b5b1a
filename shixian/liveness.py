"""Is anybody there? Workers polling a task queue, and a project's workflow answering.

Temporal holds a query or an update until a worker takes the workflow task, and waits
forever when none does. The CLI asks first, bounds its wait, and says in one line what is
wrong: no worker polling the queue, or a workflow task that keeps failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

# A live worker re-polls at least every ~70 s (a long poll lasts up to a minute).
POLLER_STALE_AFTER = timedelta(seconds=120)
RPC_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class Workflow:
    """What the CLI needs to explain a silent workflow: its task queue and task attempts."""

    task_queue: str
    failing_attempts: int  # > 1: the current workflow task has failed that many times - 1


async def describe(handle: WorkflowHandle[Any, Any]) -> Workflow:
    desc = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    raw = desc.raw_description
    attempts = raw.pending_workflow_task.attempt if raw.HasField("pending_workflow_task") else 0
    return Workflow(raw.execution_config.task_queue.name or desc.task_queue, attempts)


async def live_pollers(client: Client, task_queue: str) -> int:
    """Workers that polled the queue for workflow tasks recently (0 = nobody will answer)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=RPC_TIMEOUT,
    )
    now = datetime.now(UTC)
    return sum(1 for p in response.pollers
               if now - p.last_access_time.ToDatetime(UTC) < POLLER_STALE_AFTER)


def no_worker(task_queue: str) -> str:
    return (f"no worker is polling task queue {task_queue!r}: start one with `shixian worker` "
            "(same TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and SHIXIAN_TASK_QUEUE)")


async def why_silent(client: Client, handle: WorkflowHandle[Any, Any]) -> str:
    """The most likely reason a project's workflow did not answer, in one phrase."""
    try:
        wf = await describe(handle)
        if await live_pollers(client, wf.task_queue) == 0:
            return no_worker(wf.task_queue)
    except RPCError as exc:
        return f"Temporal did not answer ({exc.status.name if exc.status else 'error'}: {exc})"
    if wf.failing_attempts > 1:
        return (f"{handle.id}'s workflow task has failed {wf.failing_attempts - 1} time(s) and "
                "is being retried: the project is stuck; see the worker's log and "
                f"`temporal workflow describe -w {handle.id}`")
    return (f"a worker polls {wf.task_queue!r} but {handle.id} did not answer in time: the "
            "workers may be overloaded; try again")
