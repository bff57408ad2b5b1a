"""The read model's database: SQLite by default, PostgreSQL when SHIXIAN_DATABASE_URL says so.

Issue 3 needs only the notice outbox; the fuller read model (projects, obligations, events,
with migrations) builds on the same engine factory.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    make_url,
)

from shixian import config

metadata = MetaData()

notice_outbox = Table(
    "notice_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workflow_id", String(200), nullable=False),
    Column("notice_key", String(300), nullable=False),
    Column("project_id", String(120), nullable=False),
    Column("jurisdiction", String(120), nullable=False),
    Column("obligation", String(200), nullable=False),
    Column("rung", String(60), nullable=False),
    Column("level", Integer, nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("message", Text, nullable=False),
    Column("citation", Text, nullable=False),
    Column("due_on", Date, nullable=True),
    Column("overdue_working_days", Integer, nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("workflow_id", "notice_key", name="uq_notice_outbox_workflow_key"),
)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine(url: str | None = None) -> Engine:
    """One engine per URL, tables created on first use."""
    url = url or config.database_url()
    with _lock:
        if url not in _engines:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite" and parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            eng = create_engine(url, future=True, pool_pre_ping=True)
            metadata.create_all(eng)
            _engines[url] = eng
        return _engines[url]
