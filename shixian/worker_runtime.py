"""The worker: project workflows on the shixian task queue, and notice delivery beside them.

Delivery runs on its own task queues (`<queue>-delivery` for the delivery workflows and
their bookkeeping, `<queue>-delivery-<kind>` per channel kind), so a slow or rate-limited
channel never delays a project's workflow. Each channel queue is rate-limited on the
server (`max_task_queue_activities_per_second`), across every worker polling it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, ClassVar, TypeVar, cast

import structlog
from google.protobuf.message import Message
from temporalio.client import Client
from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import (
    ExecuteWorkflowInput,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInstance,
    WorkflowInstanceDetails,
)
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._in_sandbox import InSandbox
from temporalio.worker.workflow_sandbox._runner import _Instance as SandboxedInstance

from activities.cycle import plan_cycle_year
from activities.delivery import channel_queue, deliver, delivery_queue, mark_delivery
from activities.notices import send_notice, send_notices
from activities.read_model import record_status
from activities.wake import record_wake
from delivery import contacts as contacts_mod
from shixian import config
from workflows.cycle import JurisdictionCycleWorkflow
from workflows.delivery import NoticeDeliveryWorkflow
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.v1.lifecycle import ProjectLifecycleWorkflowV1

log = structlog.get_logger("shixian.worker")

# v1 stays registered: projects started before rule engine v2 replay on it, then upgrade.
# JurisdictionCycleWorkflow: each jurisdiction's yearly duties (workflows/cycle.py).
WORKFLOWS = [ProjectLifecycleWorkflow, ProjectLifecycleWorkflowV1, JurisdictionCycleWorkflow]
ACTIVITIES: list[Callable[..., Any]] = [send_notice, send_notices, record_status,
                                        record_wake, plan_cycle_year]


# The project's modules, workflow modules included, pass through the workflow sandbox: one
# import per worker process, shared by every run. Two steps (issue #12):
# - Session 5 passed through the pure modules the workflows import: the sandbox's
#   passthrough does not cover a submodule of a package it imported afresh, so `from
#   workflows import summaries` re-executed summaries (and search_attributes…) in every run
#   (55 KB and ~3 ms per run).
# - Session 8 passes through the workflow modules too. The sandbox imported
#   `workflows.lifecycle` afresh for every run: executing the module and the SDK's
#   processing of the class and its 11 handlers (signatures, type hints) was ~3 ms of CPU
#   per first wake and per replayed run (bench/memprobe.py: 15.8/14.9 → 12.2/11.8 ms per
#   first wake, C heap 66 → 58.5 KB per cached project).
# What the sandbox still does for a run: its builtins restrictions (open, input…) and its
# own instance. What it no longer does for our code: proxy `datetime`/`random`/… to raise
# on a clock or randomness read, and give each run fresh module globals. Both are checked
# statically over every module the workflows reach (tests/test_workflow_purity.py: no
# clock, file, environment or randomness read; no module state a run could write), and the
# replay tests replay recorded histories on the production runner.
PASSED_THROUGH = ("activities", "calendars", "delivery", "policies", "workflows")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox every shixian worker and replayer runs workflows in (see PASSED_THROUGH);
    a run keeps no reference into its start's activation (`DetachedStartRunner`)."""
    return DetachedStartRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))


_M = TypeVar("_M", bound=Message)


def _own(message: _M) -> _M:
    """A copy of a protobuf message in memory of its own."""
    copy = type(message)()
    copy.CopyFrom(message)
    return copy


class _DetachedHeaders(WorkflowInboundInterceptor):
    """Copies the start's headers out of the activation: the SDK keeps the workflow's
    input (`ExecuteWorkflowInput`) for the run's life, and its `headers` are a view into
    the first activation."""

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        input.headers = {key: _own(value) for key, value in input.headers.items()}
        return await super().execute_workflow(input)


class ContextOutsideInstance(SandboxedInstance):
    """A sandboxed instance whose payload contexts are read without entering the sandbox.

    Around each activation the SDK asks the instance, once per payload sequence and per
    pass (three passes to decode the activation, three to encode the completion), which
    serialization context a command's payloads take. The sandboxed instance answers each
    question by `exec` under the sandbox's import and builtins patching: ~450 entries per
    five-year replay, 25–30 % of its wall time (issue #12, `bench/replay_profile.py`).
    The answer is the SDK's own bookkeeping (which activity a sequence number is, the
    workflow's id and queue), read from the in-sandbox instance's attributes; no workflow
    code runs in it, so it is read directly. The activation itself still runs sandboxed."""

    def get_serialization_context(
        self, command_info: CommandInfo | None) -> SerializationContext | None:
        return self._in_sandbox().get_serialization_context(command_info)

    def get_external_store_context(
        self, command_info: CommandInfo | None) -> StorageDriverStoreContext:
        return self._in_sandbox().get_external_store_context(command_info)

    def _in_sandbox(self) -> InSandbox:
        # typed by the SDK from its first key only (`{"__file__": str}`)
        return cast(InSandbox, self.globals_and_locals["__temporal_in_sandbox"])


class DetachedStartRunner(SandboxedWorkflowRunner):
    """The sandboxed runner, with nothing of a cached run pointing into its first
    activation.

    A protobuf message read from the wire shares one block of memory (the upb arena) with
    every part of it, and a reference to any part keeps the whole block. The SDK keeps
    such parts of the start for the run's life (the headers, twice; the memo; the last
    completion result and failure), so each cached project held its whole first
    activation, the input's compressed and decoded copies with it: ~70 KB a project
    (issue #12, `bench/memprobe.py` before and after). Copies of those small parts keep
    nothing else; what the workflow sees is equal."""

    instance_class: ClassVar[type[ContextOutsideInstance]] = ContextOutsideInstance

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return self.instance_class(detached_start(det), self.runner_class, self.restrictions)


def detached_start(det: WorkflowInstanceDetails) -> WorkflowInstanceDetails:
    """`det` with copies of the parts of the start the SDK keeps (see DetachedStartRunner)."""
    info = dataclasses.replace(
        det.info, headers={k: _own(v) for k, v in det.info.headers.items()},
        raw_memo={k: _own(v) for k, v in det.info.raw_memo.items()})
    return dataclasses.replace(
        det, info=info, last_completion_result=_own(det.last_completion_result),
        last_failure=None if det.last_failure is None else _own(det.last_failure),
        interceptor_classes=[_DetachedHeaders, *det.interceptor_classes])


CHANNEL_KINDS = ("email", "dingtalk", "wecom", "feishu", "webhook")
PER_CHANNEL = 4  # concurrent sends per channel kind and worker process


def delivery_executor() -> ThreadPoolExecutor:
    """Threads of their own: a hung SMTP server never takes the project activities' threads."""
    return ThreadPoolExecutor(max_workers=PER_CHANNEL * (len(CHANNEL_KINDS) + 1),
                              thread_name_prefix="shixian-delivery")


def delivery_workers(client: Client, task_queue: str, executor: ThreadPoolExecutor,
                     identity: str | None = None,
                     contacts: contacts_mod.Contacts | None = None) -> list[Worker]:
    """The delivery workflow's worker and one rate-limited worker per channel kind, on
    `executor` (from `delivery_executor()`); each takes no more tasks than it has threads,
    so an accepted send never waits for a thread while its attempt's timeout runs."""
    contacts = contacts or contacts_mod.load()
    queue = delivery_queue(task_queue)
    extra: dict[str, Any] = {"identity": identity} if identity else {}
    workers = [Worker(client, task_queue=queue, workflows=[NoticeDeliveryWorkflow],
                      workflow_runner=workflow_runner(),
                      activities=[mark_delivery], activity_executor=executor,
                      max_concurrent_activities=PER_CHANNEL, **extra)]
    for kind in CHANNEL_KINDS:
        rate = contacts.rate(kind)
        workers.append(Worker(client, task_queue=channel_queue(queue, kind),
                              activities=[deliver], activity_executor=executor,
                              max_concurrent_activities=PER_CHANNEL,
                              max_task_queue_activities_per_second=rate / 60.0 if rate else None,
                              **extra))
    return workers


def default_identity() -> str:
    return f"shixian-worker@{socket.gethostname()}:{os.getpid()}"


def build_worker(
    client: Client, task_queue: str | None = None, identity: str | None = None
) -> tuple[Worker, ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="shixian-activity")
    worker = Worker(
        client,
        task_queue=task_queue or config.task_queue(),
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        activities=ACTIVITIES,
        activity_executor=executor,
        identity=identity or default_identity(),
        graceful_shutdown_timeout=timedelta(seconds=30),
    )
    return worker, executor


async def run_until(client: Client, stop: asyncio.Event, task_queue: str | None = None,
                    identity: str | None = None) -> None:
    """Run a worker until `stop` is set, then shut down letting in-flight activities finish."""
    worker, executor = build_worker(client, task_queue, identity)
    sending = delivery_executor()
    helpers = delivery_workers(client, worker.task_queue, sending,
                               identity or default_identity())
    log.info("worker started", task_queue=worker.task_queue, identity=identity
             or default_identity(), address=client.service_client.config.target_host,
             delivery_queue=delivery_queue(worker.task_queue))
    async with contextlib.AsyncExitStack() as stack:
        for w in (worker, *helpers):
            await stack.enter_async_context(w)
        await stop.wait()
        log.info("worker stopping: finishing in-flight tasks")
    executor.shutdown(wait=True)
    sending.shutdown(wait=True)
    log.info("worker stopped")
