"""The little the portfolio views need from the policy packs, cached between processes.

A `shixian list` row shows its place (`玉山县 (征求意见稿)` under a draft pack) and, on a
terminal, the colour of the rung reached (the pack's ladder). Reading that from the packs
means importing their pydantic models and parsing five YAML files in pure Python: ~0.2 s of
every fresh process (issue #12). So the facts derived from them — each pack's status, its
ladder's (level, colour) and its warning rungs — are kept in a small JSON file in the
user's cache directory (`$XDG_CACHE_HOME/shixian`, else `~/.cache/shixian`), keyed by a hash
of the pack files and of the code that derives them: any change to either recomputes them.
A cache that cannot be read or written is ignored (the facts are then computed in the
process, as before).

`place`, `rag` and `warnings` give what `shixian.vocabulary.place`, `shixian.ladder.rag`
and `ics.warning_rungs` of the pack's ladder give;
tests/test_cli_imports.py checks that for every shipped pack and level.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from shixian import ics

Rag = Literal["red", "amber", "green"]

CACHE_NAME = "pack-facts-2.json"
HERE = Path(__file__).parent
PACK_DIR = HERE.parent / "policies"  # policies.loader.PACK_DIR, without importing it
# The code that turns packs into these facts: a change to it is a change of the facts.
DERIVING = (Path(__file__), HERE / "vocabulary.py", HERE / "ladder.py", HERE / "ics.py",
            PACK_DIR / "loader.py", PACK_DIR / "model.py")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "shixian"


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (*sorted(PACK_DIR.glob("*.yaml")), *DERIVING):
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def compute() -> dict[str, dict[str, Any]]:
    """From the packs themselves: {pack id: {"status": …, "ladder": [[level, colour], …],
    "warnings": [[rung name, offset], …]}}."""
    from shixian import ics, ladder, vocabulary

    out: dict[str, dict[str, Any]] = {}
    for pack in vocabulary.packs():
        rungs = []
        for r in ladder.ladder(pack.id):
            look = ladder.rung_look(pack.id, r.level)
            assert look is not None  # r itself is reached at its own level
            rungs.append([r.level, look.colour])
        out[pack.id] = {"status": pack.status, "ladder": rungs,
                        "warnings": [list(w) for w in ics.warning_rungs(ladder.ladder(pack.id))]}
    return out


@functools.cache
def facts() -> dict[str, dict[str, Any]]:
    key = fingerprint()
    path = cache_dir() / CACHE_NAME
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and cached.get("fingerprint") == key:
            found: dict[str, dict[str, Any]] = cached["packs"]
            return found
    except (OSError, ValueError, KeyError):
        pass
    computed = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{CACHE_NAME}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"fingerprint": key, "packs": computed}, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass
    return computed


def place(policy: str, jurisdiction: str) -> str:
    """`shixian.vocabulary.place`: 九江市, 相城区; `玉山县 (征求意见稿)` under a draft pack."""
    levels = re.findall(r".+?(?:省|自治区|市|县|区|$)", jurisdiction)
    name = (levels[-1] if levels else jurisdiction) or jurisdiction
    pack = facts().get(policy)
    return f"{name} (征求意见稿)" if pack is not None and pack["status"] == "draft" else name


def rag(policy: str, overdue: bool, level: int) -> Rag:
    """`shixian.ladder.rag`: the colour of the highest rung reached (≤ level); late with no
    rung reached is amber; nothing to do is green."""
    pack = facts().get(policy)
    reached = [colour for rung_level, colour in (pack["ladder"] if pack else ())
               if rung_level <= level]
    if reached:
        colour: Rag = reached[-1]
        return "amber" if overdue and colour == "green" else colour
    return "amber" if overdue else "green"


def warnings(policy: str) -> tuple[ics.Alarm, ...]:
    """`shixian.ics.warning_rungs` of the pack's ladder: the alarms of its deadlines."""
    from shixian import ics

    pack = facts().get(policy)
    return tuple(ics.Alarm(name, offset) for name, offset in (pack["warnings"] if pack
                                                                 else ()))
