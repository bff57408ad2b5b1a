"""`send_notices` (`send_notice`): the notices of one wake go to the outbox and on to their
recipients, in one activity (one round trip and one workflow task per wake, not per notice).

The outbox row is the durable record of the notice (idempotent on workflow id + notice
key); then the recipients are resolved through the contacts file into one delivery row per
(recipient, channel), and a `NoticeDeliveryWorkflow` is started on the delivery task queue
(`<this queue>-delivery`) with the id `delivery-<workflow id>-<notice key>`, so a retried
`send_notice` never starts a second one and a slow channel never holds up the project's
workflow. A structlog line is always written.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.exc import IntegrityError
from temporalio import activity
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.db import engine, notice_outbox
from activities.delivery import DeliveryPlan, delivery_queue, plan_notice
from workflows.models import NoticeRecord

log = structlog.get_logger("shixian.notice")

DELIVERY_WORKFLOW = "NoticeDeliveryWorkflow"


@dataclass
class NoticeInput:
    workflow_id: str
    project_id: str
    jurisdiction: str
    notice: NoticeRecord


@dataclass
class NoticesInput:
    """Every notice one wake of a project's workflow raised, in the order it raised them."""

    workflow_id: str
    project_id: str
    jurisdiction: str
    notices: list[NoticeRecord]


def delivery_workflow_id(workflow_id: str, notice_key: str) -> str:
    return f"delivery-{workflow_id}-{notice_key}"


def write_outbox(inp: NoticeInput) -> bool:
    """Write the notice to the outbox; True when new, False when it was already there."""
    n = inp.notice
    row = {
        "workflow_id": inp.workflow_id,
        "notice_key": n.key,
        "project_id": inp.project_id,
        "jurisdiction": inp.jurisdiction,
        "obligation": n.obligation,
        "rung": n.rung,
        "level": n.level,
        "recipients": n.recipients,
        "message": n.message,
        "citation": n.citation,
        "due_on": n.due_on,
        "overdue_working_days": n.overdue_working_days,
        "fired_at": n.fired_at,
        "recorded_at": datetime.now(UTC),
    }
    try:
        with engine().begin() as conn:
            conn.execute(notice_outbox.insert().values(**row))
        return True
    except IntegrityError:
        return False


@activity.defn
async def send_notice(inp: NoticeInput) -> bool:
    """One notice (histories recorded before `send_notices` still schedule it)."""
    return await send_one(inp)


@activity.defn
async def send_notices(inp: NoticesInput) -> list[bool]:
    """Each notice in turn; a retry after a failure part-way re-sends only what is not in
    the outbox and finds the delivery workflows already started."""
    return [await send_one(NoticeInput(inp.workflow_id, inp.project_id, inp.jurisdiction, n))
            for n in inp.notices]


async def send_one(inp: NoticeInput) -> bool:
    """Outbox row, delivery rows, delivery workflow; True when the notice was new."""
    n = inp.notice
    new = await asyncio.to_thread(write_outbox, inp)
    queue = delivery_queue(activity.info().task_queue)
    plan: DeliveryPlan = await asyncio.to_thread(
        plan_notice, inp.workflow_id, inp.project_id, inp.jurisdiction, n, queue)
    if plan.targets:
        # A retried send_notice finds the workflow its first attempt started.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await activity.client().start_workflow(
                DELIVERY_WORKFLOW, plan, id=delivery_workflow_id(inp.workflow_id, n.key),
                task_queue=queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    log.info(
        "notice",
        project_id=inp.project_id,
        key=n.key,
        kind=str(n.kind),
        rung=n.rung,
        level=n.level,
        recipients=n.recipients,
        deliveries=len(plan.targets),
        overdue_working_days=n.overdue_working_days,
        duplicate=not new,
        message=n.message,
    )
    return new
