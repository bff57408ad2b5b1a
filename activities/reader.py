"""Reading the read model without SQLAlchemy: the path of `shixian list`, `status`, `ics`
and the dashboard.

Importing SQLAlchemy costs a fresh process ~0.2 s (issue #12), so a reader talks to the
database through its DB-API driver — sqlite3 (standard library) or psycopg2 — with plain SQL
written once for both; only an unusual URL (another driver, a query string) goes through
SQLAlchemy's engine (`activities.db`) for its raw DB-API connection. Writers and migrations
keep SQLAlchemy and Alembic; the tables are defined once, in `activities.db`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from activities import settings

MIGRATIONS = Path(__file__).parent / "migrations"


def head_revision() -> str | None:
    """The newest migration's revision id, read from the files (None if not one head)."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*[\"']([^\"']+)", source, re.M)
        down = re.search(r"^down_revision\s*=\s*[\"']([^\"']+)", source, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            downs.add(down.group(1))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


# Values come back as the driver gives them: `day`, `moment` and `flag` make SQLite's text
# dates and integer booleans the `date`, `datetime` and `bool` PostgreSQL returns.


def sqlite_path(url: str) -> Path | None:
    """The file of a plain `sqlite:///relative.db` or `sqlite:////absolute.db` URL (as
    SQLAlchemy reads them); None for any other URL, an in-memory database, or one with a
    query string or escapes (those go through SQLAlchemy)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("sqlite", "sqlite+pysqlite") or "?" in rest or "%" in rest:
        return None
    database = rest[1:] if rest.startswith("/") else ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


PSYCOPG2_SCHEMES = ("postgresql", "postgresql+psycopg2", "postgres")


class ReadConnection:
    """A DB-API connection and its parameter marker: SQL is written with `?` markers."""

    def __init__(self, conn: Any, marker: str, close: Callable[[], None]) -> None:
        self.conn, self.marker, self._close = conn, marker, close

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        """Every row of a query as a dict by column name."""
        names, tuples = self.tuples(sql, params)
        return [dict(zip(names, t, strict=True)) for t in tuples]

    def tuples(self, sql: str, params: Sequence[object] = ()
               ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, rows as tuples): the fast way for thousands of rows."""
        cur = self.conn.cursor()
        try:
            cur.execute(sql if self.marker == "?" else sql.replace("?", self.marker),
                        tuple(params))
            names = [d[0] for d in cur.description]
            return names, list(cur.fetchall())
        finally:
            cur.close()

    def markers(self, n: int) -> str:
        """`?, ?, ?` for an IN list of n values."""
        return ", ".join("?" * n)

    def close(self) -> None:
        self._close()


def _raw(url: str) -> ReadConnection | None:
    """A driver connection without SQLAlchemy, for the URLs that need nothing else."""
    path = sqlite_path(url)
    if path is not None:
        import sqlite3

        conn = sqlite3.connect(path)
        return ReadConnection(conn, "?", conn.close)
    scheme, sep, rest = url.partition("://")
    if sep and scheme in PSYCOPG2_SCHEMES:
        import psycopg2  # type: ignore[import-untyped]

        # libpq reads the same URI (user, password, host, port, database, sslmode …).
        conn = psycopg2.connect(f"postgresql://{rest}")
        conn.autocommit = True  # a reader holds no transaction open between queries
        return ReadConnection(conn, "%s", conn.close)
    return None


def _at_head(conn: ReadConnection) -> bool:
    head = head_revision()
    if head is None:
        return False
    try:
        _, found = conn.tuples("SELECT version_num FROM alembic_version")
    except Exception:  # no such table yet: the driver's own error type
        if conn.marker == "%s":
            conn.conn.rollback()
        return False
    return [r[0] for r in found] == [head]


@contextmanager
def reading(url: str | None = None) -> Iterator[ReadConnection]:
    """A connection for reading the read model, its schema at the newest migration (a reader
    that finds an older schema migrates it through `engine`, as before)."""
    url = url or settings.database_url()
    conn = _raw(url)
    if conn is not None and not _at_head(conn):
        conn.close()
        from activities.db import engine

        engine(url)  # migrates
        conn = _raw(url)
    if conn is None:
        from activities.db import engine

        eng = engine(url)
        raw = eng.raw_connection()
        marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(
            eng.dialect.paramstyle, "?")
        conn = ReadConnection(raw, marker, raw.close)
    try:
        yield conn
    finally:
        conn.close()


def day(value: object) -> date | None:
    """A Date column's value: SQLite stores `YYYY-MM-DD` text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def moment(value: object) -> datetime | None:
    """A DateTime(timezone=True) column's value, always aware: SQLite keeps naive UTC text
    (the workflows store UTC); PostgreSQL returns it aware."""
    if value is None:
        return None
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def flag(value: object) -> bool:
    """A Boolean column's value: SQLite stores 0/1."""
    return bool(value)
