"""write_outbox (step one of send_notice) is idempotent on (workflow id, notice key)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from activities.db import engine, notice_outbox
from activities.notices import NoticeInput, write_outbox
from workflows.models import NoticeRecord


def notice(key: str) -> NoticeInput:
    return NoticeInput(
        workflow_id="project-OUTBOX-1", project_id="OUTBOX-1", jurisdiction="九江市",
        notice=NoticeRecord(
            key=key, obligation="proposal_approval", rung="overdue", level=2,
            recipients=["市发改委", "市数据管理部门"], message="逾期 1 个工作日",
            citation="九江 第二十五条(一)", due_on=date(2026, 12, 8), overdue_working_days=1,
            fired_at=datetime(2026, 12, 9, tzinfo=UTC),
        ),
    )


def test_a_retried_notice_is_written_once() -> None:
    assert write_outbox(notice("proposal_approval:overdue")) is True
    assert write_outbox(notice("proposal_approval:overdue")) is False
    assert write_outbox(notice("proposal_approval:escalated")) is True
    with engine().connect() as conn:
        rows = conn.execute(
            select(notice_outbox.c.notice_key, notice_outbox.c.recipients)
            .where(notice_outbox.c.workflow_id == "project-OUTBOX-1")
            .order_by(notice_outbox.c.notice_key)
        ).all()
    assert [r.notice_key for r in rows] == ["proposal_approval:escalated",
                                            "proposal_approval:overdue"]
    assert rows[0].recipients == ["市发改委", "市数据管理部门"]
