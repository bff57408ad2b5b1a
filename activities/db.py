"""The read model: SQLite by default, PostgreSQL when SHIXIAN_DATABASE_URL says so.

Managers' views (`shixian list`, the dashboard, ICS feeds) read these tables instead of
querying every workflow. Workflows keep them current through idempotent activities; the
schema is owned by Alembic migrations (`activities/migrations`, `shixian db upgrade`).
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    make_url,
    text,
)
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from activities import settings
from activities.reader import MIGRATIONS, head_revision

if TYPE_CHECKING:
    from alembic.config import Config

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(120), primary_key=True),
    Column("workflow_id", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("policy", String(80), nullable=False),
    Column("jurisdiction", String(120), nullable=False),
    Column("owner", Text, nullable=False),
    Column("investment_wan", Float, nullable=True),
    Column("stage", String(80), nullable=False),
    Column("stage_title", Text, nullable=False),
    Column("next_due_on", Date, nullable=True),
    Column("overdue", Boolean, nullable=False),
    Column("escalation_level", Integer, nullable=False),
    Column("provisional", Boolean, nullable=False),
    Column("finished", Boolean, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("terminated", Text, nullable=True),  # "<date>: <reason>" (migration 0003)
)

obligations = Table(
    "obligations",
    metadata,
    Column("project_id", String(120), primary_key=True),
    Column("obligation_id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("rule", String(120), nullable=False),
    Column("title", Text, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("actor_name", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("starts_on", Date, nullable=True),
    Column("opens_on", Date, nullable=True),
    Column("due_on", Date, nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("provisional", Boolean, nullable=False),
    Column("overdue_working_days", Integer, nullable=False),
    Column("escalation_level", Integer, nullable=False),
    Column("escalation_rung", String(40), nullable=True),
    Column("citation", Text, nullable=False),
    Column("done_on", Date, nullable=True),
    # The limit as the pack states it and the workflow's on-time verdict (migration 0003).
    Column("limit_text", Text, nullable=True),
    Column("on_time", Boolean, nullable=True),
    Index("ix_obligations_due_on", "due_on"),
)

events = Table(
    "events",
    metadata,
    Column("project_id", String(120), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False),
)

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

# One row per (notice, recipient, channel): written before sending, updated after
# (migration 0002). States: pending, delayed (quiet hours), sent, failed, undeliverable,
# rerouted (an undeliverable row resent after its contact was added).
notice_deliveries = Table(
    "notice_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workflow_id", String(200), nullable=False),
    Column("notice_key", String(300), nullable=False),
    Column("project_id", String(120), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("rung", String(60), nullable=False),
    Column("level", Integer, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("channel_kind", String(20), nullable=False),
    Column("address", String(300), nullable=False),
    Column("state", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("quiet_until", DateTime(timezone=True), nullable=True),
    Column("task_queue", String(200), nullable=False),
    Column("notice", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("workflow_id", "notice_key", "recipient", "channel_kind", "address",
                     name="uq_notice_deliveries_target"),
    Index("ix_notice_deliveries_project", "project_id"),
)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # lazy: Alembic costs ~0.5 s to import

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> str:
    """Bring the schema to the newest migration; safe to run again. Returns the URL used."""
    url = url or settings.database_url()
    from alembic import command  # lazy: Alembic costs ~0.5 s to import

    with _migration_lock(url):
        command.upgrade(alembic_config(url), "head")
    return url


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """A worker and a CLI started together both migrate a new SQLite file: one at a time,
    or both create the same table (PostgreSQL locks in migrations/env.py instead)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        yield
        return
    db = Path(str(parsed.database))
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".migrate-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def at_head(eng: Engine) -> bool:
    """Whether the schema is already at the newest migration: then a reader (`shixian
    list`, the dashboard) skips Alembic, whose import and run cost most of a second."""
    head = head_revision()
    if head is None:
        return False
    try:
        with eng.connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False
    return list(found) == [head]


def engine(url: str | None = None) -> Engine:
    """One engine per URL; the schema is migrated on first use."""
    url = url or settings.database_url()
    with _lock:
        if url not in _engines:
            eng = create_engine(url, pool_pre_ping=True)
            if not at_head(eng):
                upgrade(url)
            write_ahead_log(eng)
            _engines[url] = eng
        return _engines[url]


def write_ahead_log(eng: Engine) -> None:
    """A SQLite file in write-ahead-log mode (kept in the file, so every later connection,
    the readers' too, has it). In SQLite's default rollback-journal mode a reader (`shixian
    list`, the dashboard) and a worker's commit exclude each other, so a long read holds
    up the workers' writes (after 5 s: "database is locked", and the activity retries);
    with the log, readers see the last commit and writers go on. A commit is also
    cheaper: one fsync of the log instead of the journal's create, syncs and delete
    (bench/sqlite_commit.py). `synchronous` stays FULL: a commit the activity reported
    survives a power cut (the outbox is in this file). PostgreSQL: nothing to do."""
    if eng.dialect.name != "sqlite":
        return
    # In memory the mode stays "memory". Another process switching at the same moment may
    # hold the lock the switch needs: this one then keeps the file's mode (the next
    # engine tries again).
    with contextlib.suppress(OperationalError), eng.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")


def dispose_all() -> None:
    """Close every pooled connection (before a test database server stops)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()

