"""Per-duty outcomes for statistics (统计分析), and why a project ended.

`obligations.limit_text` is the time limit as the pack states it (5wd, 3m, 每年8月底前…);
`obligations.on_time` is the workflow's own verdict for a done duty (extensions counted);
`projects.terminated` is "<date>: <reason>" once the project was terminated (撤销/终止).
All nullable and additive: rows written before this migration read as "not known".

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("obligations", sa.Column("limit_text", sa.Text, nullable=True))
    op.add_column("obligations", sa.Column("on_time", sa.Boolean, nullable=True))
    op.add_column("projects", sa.Column("terminated", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("terminated")
    with op.batch_alter_table("obligations") as batch:
        batch.drop_column("on_time")
        batch.drop_column("limit_text")
