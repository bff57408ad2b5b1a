"""Read model: projects, obligations, events and the notice outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("project_id", sa.String(120), primary_key=True),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("policy", sa.String(80), nullable=False),
        sa.Column("jurisdiction", sa.String(120), nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("investment_wan", sa.Float, nullable=True),
        sa.Column("stage", sa.String(80), nullable=False),
        sa.Column("stage_title", sa.Text, nullable=False),
        sa.Column("next_due_on", sa.Date, nullable=True),
        sa.Column("overdue", sa.Boolean, nullable=False),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "obligations",
        sa.Column("project_id", sa.String(120), primary_key=True),
        sa.Column("obligation_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("rule", sa.String(120), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("actor_name", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=True),
        sa.Column("opens_on", sa.Date, nullable=True),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("overdue_working_days", sa.Integer, nullable=False),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        sa.Column("escalation_rung", sa.String(40), nullable=True),
        sa.Column("citation", sa.Text, nullable=False),
        sa.Column("done_on", sa.Date, nullable=True),
    )
    op.create_index("ix_obligations_due_on", "obligations", ["due_on"])
    op.create_table(
        "events",
        sa.Column("project_id", sa.String(120), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("notice_key", sa.String(300), nullable=False),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("jurisdiction", sa.String(120), nullable=False),
        sa.Column("obligation", sa.String(200), nullable=False),
        sa.Column("rung", sa.String(60), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("citation", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("overdue_working_days", sa.Integer, nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("workflow_id", "notice_key", name="uq_notice_outbox_workflow_key"),
    )


def downgrade() -> None:
    for table in ("notice_outbox", "events", "obligations", "projects"):
        op.drop_table(table)
