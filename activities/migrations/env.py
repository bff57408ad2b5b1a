"""Alembic environment: migrations run against the URL `activities.db.upgrade` passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from activities.db import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url is not None
connectable = create_engine(url)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes migrating at once: the second waits, then finds nothing to do.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(73322024)")
        context.run_migrations()
connectable.dispose()
