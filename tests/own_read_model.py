"""A read model of a test module's own: a fresh SQLite file next to the session's, or a
database of its own on the session's PostgreSQL server (SHIXIAN_TEST_DATABASE=postgresql).
For checks over the whole portfolio (statistics, the README's outputs) that rows other
test modules write would change."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from activities.db import dispose_all


@contextmanager
def own_read_model(prefix: str) -> Iterator[str]:
    """Point SHIXIAN_DATABASE_URL at a new, empty read model for the duration."""
    previous = os.environ["SHIXIAN_DATABASE_URL"]
    url = make_url(previous)
    if url.get_backend_name() == "sqlite":
        assert url.database
        own = str(url.set(database=str(Path(url.database).with_name(
            f"{prefix}-{uuid.uuid4().hex[:8]}.db"))))
        os.environ["SHIXIAN_DATABASE_URL"] = own
        try:
            yield own
        finally:
            os.environ["SHIXIAN_DATABASE_URL"] = previous
        return
    name = f"shixian_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    own = url.set(database=name).render_as_string(hide_password=False)
    os.environ["SHIXIAN_DATABASE_URL"] = own
    try:
        yield own
    finally:
        os.environ["SHIXIAN_DATABASE_URL"] = previous
        dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
