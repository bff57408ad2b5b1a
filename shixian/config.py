"""Where shixian keeps its state and how it reaches Temporal and the database.

Temporal connection settings come from Temporal's own environment configuration
(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings, config profiles),
so an operator who already uses the `temporal` CLI configures shixian the same way.

The state directory ("home": the read model's SQLite file, the embedded server's state) is,
first match wins:

1. `SHIXIAN_HOME`, when set;
2. the nearest `.shixian/` directory in the working directory or one of its parents — the
   way git finds `.git`, so every command run inside a checkout where `./dev up` ran
   (which makes `.shixian/` there) reads the same read model;
3. the user's data directory (`$XDG_DATA_HOME/shixian`, else `~/.local/share/shixian`), so a
   command run anywhere else reads one per-user home instead of silently making an empty
   `.shixian/` in whatever directory it happens to run in.

`SHIXIAN_DATABASE_URL` overrides the read model's location altogether.
"""

from __future__ import annotations

import os

from activities.settings import (
    HOME_DIR_NAME,
    Home,
    database_origin,
    database_url,
    find_home,
    state_dir,
    user_data_dir,
)

__all__ = ["DEFAULT_ADDRESS", "DEFAULT_TASK_QUEUE", "HOME_DIR_NAME", "Home", "database_origin",
           "database_url", "find_home", "state_dir", "task_queue", "user_data_dir"]

DEFAULT_TASK_QUEUE = "shixian"
DEFAULT_ADDRESS = "localhost:7233"


def task_queue() -> str:
    return os.environ.get("SHIXIAN_TASK_QUEUE", DEFAULT_TASK_QUEUE)
