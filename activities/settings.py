"""Where the read model lives, for activities that run without the CLI package.

Layers point down: `shixian.config` reuses these, so the worker, the CLI and the dashboard
agree on one database whichever of them reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """`.shixian/` under the working directory unless SHIXIAN_HOME says otherwise."""
    return Path(os.environ.get("SHIXIAN_HOME", ".shixian"))


def database_url() -> str:
    """SHIXIAN_DATABASE_URL, else an SQLite file in the state directory."""
    url = os.environ.get("SHIXIAN_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{(state_dir() / 'shixian.db').resolve()}"
