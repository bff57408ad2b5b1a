"""Notice deliveries: one row per (notice, recipient, channel), written before sending.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("notice_key", sa.String(300), nullable=False),
        sa.Column("project_id", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("rung", sa.String(60), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("channel_kind", sa.String(20), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("quiet_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_queue", sa.String(200), nullable=False),
        sa.Column("notice", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("workflow_id", "notice_key", "recipient", "channel_kind", "address",
                            name="uq_notice_deliveries_target"),
    )
    op.create_index("ix_notice_deliveries_project", "notice_deliveries", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_notice_deliveries_project", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
