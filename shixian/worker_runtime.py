"""The worker: runs project workflows and their activities on the shixian task queue."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.notices import send_notice
from activities.read_model import record_status
from shixian import config
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.v1.lifecycle import ProjectLifecycleWorkflowV1

log = structlog.get_logger("shixian.worker")

# v1 stays registered: projects started before rule engine v2 replay on it, then upgrade.
WORKFLOWS = [ProjectLifecycleWorkflow, ProjectLifecycleWorkflowV1]
ACTIVITIES: list[Callable[..., Any]] = [send_notice, record_status]


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
    log.info("worker started", task_queue=worker.task_queue, identity=identity
             or default_identity(), address=client.service_client.config.target_host)
    async with worker:
        await stop.wait()
        log.info("worker stopping: finishing in-flight tasks")
    executor.shutdown(wait=True)
    log.info("worker stopped")
