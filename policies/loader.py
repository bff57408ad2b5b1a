"""The one policy loader: reads and validates a pack; errors name the file, rule and field."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies import yamlio
from policies.errors import PolicyError
from policies.model import PolicyPack

PACK_DIR = Path(__file__).parent


__all__ = ["PACK_DIR", "PolicyError", "available", "load_pack", "load_pack_file", "parse_pack",
           "regulation_path", "source_path"]


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    """`obligations.3.limit` → `obligation fsr_submission, field limit`."""
    parts: list[str] = []
    node = data
    for i, key in enumerate(loc):
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            item = node[key]
            label = item.get("id") if isinstance(item, dict) else None
            parent = str(loc[i - 1]) if i else "item"
            parts[-1:] = [f"{parent.rstrip('s')} {label}" if label else f"{parent}[{key}]"]
            node = item
        elif isinstance(node, dict) and key in node:
            parts.append(str(key))
            node = node[key]
        else:
            parts.append(str(key))
            node = None
    return ", ".join(parts) if parts else "top level"


def parse_pack(data: Any, source: str) -> PolicyPack:
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: a policy pack is a mapping with id, obligations, …")
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a cross-reference check: the message names the rule itself
            raise PolicyError(f"{source}: {msg}{more}") from None
        where = _where(data, tuple(first["loc"]))
        raise PolicyError(f"{source}: {where}: {msg}{more}") from None


def load_pack_file(path: Path) -> PolicyPack:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = yamlio.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"{path}:{at}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    pack = parse_pack(data, str(path))
    if path.stem != pack.id:
        raise PolicyError(f"{path}: id {pack.id!r} does not match the file name {path.stem!r}")
    source_path(pack.source, path)
    return pack


def source_path(source: str, pack_file: Path) -> Path:
    """The regulation text a pack transcribes: its `source:`, a path relative to the pack
    file (`regulations/jiujiang-2024.txt`), so a fresh clone or an installed wheel has it."""
    relative = Path(source.strip())
    target = pack_file.parent / relative
    if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".txt" \
            or not target.is_file():
        raise PolicyError(
            f"{pack_file}: source {source!r} is not a regulation text beside the pack; ship "
            f"the text as regulations/{pack_file.stem}.txt next to the pack and write "
            f"`source: regulations/{pack_file.stem}.txt`")
    return target


def regulation_path(policy_id: str) -> Path:
    """The shipped regulation text of a shipped pack."""
    return source_path(load_pack(policy_id).source, PACK_DIR / f"{policy_id}.yaml")


def available() -> list[str]:
    """Shipped pack ids; sidecars such as `jiujiang-2024.fidelity.yaml` are not packs."""
    return sorted(p.stem for p in PACK_DIR.glob("*.yaml") if "." not in p.stem)


@functools.cache
def load_pack(policy_id: str) -> PolicyPack:
    """A shipped pack by id (`jiujiang-2024`); read once per process (packs are frozen)."""
    path = PACK_DIR / f"{policy_id}.yaml"
    if not path.is_file():
        known = ", ".join(available()) or "none"
        raise PolicyError(f"unknown policy {policy_id!r}; known policies: {known}")
    return load_pack_file(path)
