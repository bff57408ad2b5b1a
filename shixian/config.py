"""Where shixian keeps its state and how it reaches Temporal and the database.

Temporal connection settings come from Temporal's own environment configuration
(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings, config profiles),
so an operator who already uses the `temporal` CLI configures shixian the same way.
"""

from __future__ import annotations

import os

from activities.settings import database_url, state_dir

__all__ = ["DEFAULT_ADDRESS", "DEFAULT_TASK_QUEUE", "database_url", "state_dir", "task_queue"]

DEFAULT_TASK_QUEUE = "shixian"
DEFAULT_ADDRESS = "localhost:7233"


def task_queue() -> str:
    return os.environ.get("SHIXIAN_TASK_QUEUE", DEFAULT_TASK_QUEUE)
