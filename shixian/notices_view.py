"""The delivery rows as managers read them (`shixian notices`), and `resend`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from activities.db import engine, notice_deliveries, notice_outbox
from activities.delivery import STATES, DeliveryPlan, DeliveryTarget, plan_notice, utc
from activities.notices import DELIVERY_WORKFLOW
from delivery import contacts as contacts_mod
from shixian.errors import UserError
from workflows.models import NoticeRecord


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    project_id: str
    notice_key: str
    kind: str
    rung: str
    level: int
    recipient: str
    channel: str
    address: str
    state: str
    attempts: int
    reason: str
    quiet_until: datetime | None
    sent_at: datetime | None
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.__dict__)
        for k in ("quiet_until", "sent_at", "updated_at"):
            stamp = utc(out[k])
            out[k] = stamp.isoformat() if stamp else None
        return out


def deliveries(project: str | None = None, state: str | None = None) -> list[DeliveryRow]:
    if state is not None and state not in STATES:
        raise UserError(f"unknown state {state!r}: one of {', '.join(STATES)}")
    t = notice_deliveries
    query = select(t).order_by(t.c.project_id, t.c.id)
    if project:
        query = query.where(t.c.project_id == project)
    if state:
        query = query.where(t.c.state == state)
    with engine().connect() as conn:
        rows = conn.execute(query).all()
    return [DeliveryRow(id=r.id, project_id=r.project_id, notice_key=r.notice_key, kind=r.kind,
                        rung=r.rung, level=r.level, recipient=r.recipient,
                        channel=r.channel_kind, address=r.address, state=r.state,
                        attempts=r.attempts, reason=r.reason, quiet_until=r.quiet_until,
                        sent_at=r.sent_at, updated_at=r.updated_at) for r in rows]


async def resend(client: Client, delivery_id: int) -> tuple[str, list[int]]:
    """Send one delivery again: a failed or sent row is reset to pending; an undeliverable
    one is routed again through the current contacts file. Returns (workflow id, row ids)."""
    t = notice_deliveries
    with engine().begin() as conn:
        row = conn.execute(select(t).where(t.c.id == delivery_id)).one_or_none()
        if row is None:
            raise UserError(f"no delivery {delivery_id}: see `shixian notices` for the ids")
        if row.state in ("pending", "delayed"):
            raise UserError(f"delivery {delivery_id} is {row.state}: it is still on its way")
        if row.state == "withdrawn":
            raise UserError(f"delivery {delivery_id} was withdrawn by a correction before it "
                            "was sent: its notice is wrong")
        if row.state == "rerouted":
            raise UserError(f"delivery {delivery_id} was already routed again: resend the new "
                            "rows (`shixian notices --project " + row.project_id + "`)")
        notice = NoticeRecord.model_validate(row.notice)
        if row.state != "undeliverable":
            conn.execute(update(t).where(t.c.id == delivery_id).values(
                state="pending", reason=f"resent ({row.reason})",
                updated_at=datetime.now(UTC)))
            plan = DeliveryPlan(
                workflow_id=row.workflow_id, project_id=row.project_id, notice=notice,
                queue=row.task_queue, targets=[DeliveryTarget(
                    delivery_id=row.id, recipient=row.recipient,
                    channel_kind=row.channel_kind, address=row.address)])
            jurisdiction = ""
        else:
            jurisdiction = conn.execute(select(notice_outbox.c.jurisdiction).where(
                notice_outbox.c.workflow_id == row.workflow_id,
                notice_outbox.c.notice_key == row.notice_key)).scalar() or ""
    if row.state == "undeliverable":
        routed = notice.model_copy(update={"recipient_actors": [row.actor]})
        plan = plan_notice(row.workflow_id, row.project_id, jurisdiction, routed,
                           row.task_queue, contacts_mod.load())
        if not plan.targets:
            raise UserError(f"still {row.reason.split(':')[0]}: add {row.actor} to the "
                            f"contacts file ({contacts_mod.contacts_path()}) first")
        with engine().begin() as conn:
            conn.execute(update(t).where(t.c.id == delivery_id).values(
                state="rerouted", updated_at=datetime.now(UTC),
                reason="routed again to deliveries "
                       + ", ".join(str(x.delivery_id) for x in plan.targets)))
    wid = f"delivery-resend-{delivery_id}-{time.time_ns()}"
    await client.start_workflow(DELIVERY_WORKFLOW, plan, id=wid, task_queue=plan.queue,
                                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    return wid, [x.delivery_id for x in plan.targets]
