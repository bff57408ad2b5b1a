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
from pathlib import Path

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


TRUSTED_KEYS_ENV = "SHIXIAN_CALENDAR_TRUSTED_KEYS"
SIGNING_KEY_ENV = "SHIXIAN_CALENDAR_SIGNING_KEY"


def trusted_calendar_keys() -> list[str]:
    """Public keys a new project will require calendar data to be signed with.

    SHIXIAN_CALENDAR_TRUSTED_KEYS: comma-separated `ed25519:<base64>` keys or paths to the
    .pub files `shixian calendar keygen` writes. Empty: projects accept unsigned data.
    """
    from calendars.model import CalendarError
    from calendars.signing import parse_public_key
    from shixian.errors import UserError

    keys: list[str] = []
    for item in os.environ.get(TRUSTED_KEYS_ENV, "").split(","):
        item = item.strip()
        if not item:
            continue
        if not item.startswith("ed25519:"):
            try:
                item = Path(item).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise UserError(f"{TRUSTED_KEYS_ENV}: cannot read {item}: {exc.strerror}; give "
                                "ed25519:<base64> keys or .pub file paths, comma-separated"
                                ) from None
        try:
            parse_public_key(item)
        except CalendarError as exc:
            raise UserError(f"{TRUSTED_KEYS_ENV}: {exc}") from None
        if item not in keys:
            keys.append(item)
    return keys
