"""Where shixian keeps its state and how it reaches Temporal and the database.

Temporal connection settings come from Temporal's own environment configuration
(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings, config profiles),
so an operator who already uses the `temporal` CLI configures shixian the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_TASK_QUEUE = "shixian"
DEFAULT_ADDRESS = "localhost:7233"


def state_dir() -> Path:
    """`.shixian/` under the working directory unless SHIXIAN_HOME says otherwise."""
    return Path(os.environ.get("SHIXIAN_HOME", ".shixian"))


def database_url() -> str:
    """SHIXIAN_DATABASE_URL, else an SQLite file in the state directory."""
    url = os.environ.get("SHIXIAN_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(state_dir() / 'shixian.db').resolve()}"


def task_queue() -> str:
    return os.environ.get("SHIXIAN_TASK_QUEUE", DEFAULT_TASK_QUEUE)
