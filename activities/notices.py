"""`send_notice`: one escalation rung reaches its recipients through the outbox.

The outbox row is the durable hand-off to whatever delivers notices (mail, SMS, a bureau's
OA system); a structlog line is always written. Idempotent on (workflow id, notice key):
a retried or replayed activity never doubles a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.exc import IntegrityError
from temporalio import activity

from activities.db import engine, notice_outbox
from workflows.models import NoticeRecord

log = structlog.get_logger("shixian.notice")


@dataclass
class NoticeInput:
    workflow_id: str
    project_id: str
    jurisdiction: str
    notice: NoticeRecord


@activity.defn
def send_notice(inp: NoticeInput) -> bool:
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
        new = True
    except IntegrityError:
        new = False
    log.info(
        "notice",
        project_id=inp.project_id,
        key=n.key,
        rung=n.rung,
        level=n.level,
        recipients=n.recipients,
        overdue_working_days=n.overdue_working_days,
        duplicate=not new,
        message=n.message,
    )
    return new
