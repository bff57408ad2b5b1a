"""The worker: project workflows on the shixian task queue, and notice delivery beside them.

Delivery runs on its own task queues (`<queue>-delivery` for the delivery workflows and
their bookkeeping, `<queue>-delivery-<kind>` per channel kind), so a slow or rate-limited
channel never delays a project's workflow. Each channel queue is rate-limited on the
server (`max_task_queue_activities_per_second`), across every worker polling it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

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
