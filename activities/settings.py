"""Where shixian keeps its state and its read model, for every layer that needs it.

Activities run without the CLI package, so this bottom layer owns the rule and
`shixian.config` re-exports it: the worker, the CLI and the dashboard agree on one home.

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
from dataclasses import dataclass
from pathlib import Path

HOME_DIR_NAME = ".shixian"


@dataclass(frozen=True)
class Home:
    path: Path
    why: str  # how it was chosen, for messages ("set by SHIXIAN_HOME", …)


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME")
    return (Path(base) if base else Path.home() / ".local" / "share") / "shixian"


def find_home(start: Path | None = None) -> Home:
    """The state directory and why it is that one (see the module docstring)."""
    explicit = os.environ.get("SHIXIAN_HOME")
    if explicit:
        return Home(Path(explicit).resolve(), "set by SHIXIAN_HOME")
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / HOME_DIR_NAME
        if candidate.is_dir():
            return Home(candidate, f"the nearest {HOME_DIR_NAME}/ from {here}")
    return Home(user_data_dir(), f"the user data directory: no {HOME_DIR_NAME}/ in {here} "
                                 "or above it")


def state_dir() -> Path:
    return find_home().path


def database_url() -> str:
    """SHIXIAN_DATABASE_URL, else an SQLite file in the state directory."""
    url = os.environ.get("SHIXIAN_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{state_dir() / 'shixian.db'}"


def database_origin() -> str:
    """Where the read model's location came from, for messages that must say it."""
    if os.environ.get("SHIXIAN_DATABASE_URL"):
        return "set by SHIXIAN_DATABASE_URL"
    return find_home().why

