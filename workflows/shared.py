"""Immutable parts of a workflow's input, kept once per worker process.

A province's projects carry the same policy pack and a handful of calendar snapshots, and
each cached workflow used to hold its own decoded copy (~170 KB, issue #12). Equal content
(by canonical JSON) is replaced by one shared instance. Equal content decides equally, so
sharing changes no decision: a workflow still decides only from its input. Nothing may
mutate a pack or a snapshot in place (packs are frozen models; a new calendar is a new dict).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from policies.model import PolicyPack
from workflows.models import LifecycleInput

SHARED_MAX = 64  # distinct packs / snapshots kept; more than a worker sees in practice
T = TypeVar("T")

_packs: dict[str, PolicyPack] = {}
_snapshots: dict[str, dict[str, Any]] = {}


def _intern(table: dict[str, T], key: str, value: T) -> T:
    found = table.get(key)
    if found is not None:
        return found
    while len(table) >= SHARED_MAX:
        table.pop(next(iter(table), ""), None)
    table[key] = value
    return value


def shared_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The shared dict equal to `snapshot` (itself the first time it is seen)."""
    try:
        key = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return snapshot  # not plain JSON: the calendar code refuses it with its own message
    return _intern(_snapshots, key, snapshot)


def share_immutable(inp: LifecycleInput) -> None:
    """Point `inp`'s pack and calendar snapshots at the shared instances, in place (the
    decoded input object is the one the workflow's run method holds as well)."""
    if not any(shared is inp.pack for shared in _packs.values()):  # the converter's already
        inp.pack = _intern(_packs, inp.pack.model_dump_json(), inp.pack)
    inp.calendar = shared_snapshot(inp.calendar)
    if inp.carried is not None and inp.carried.calendar:
        inp.carried.calendar = shared_snapshot(inp.carried.calendar)


def pack_json(pack: PolicyPack) -> bytes:
    """The pack's JSON (pydantic's), written once per shared pack object."""
    for key, shared in _packs.items():
        if shared is pack:
            return key.encode()
    key = pack.model_dump_json()
    _intern(_packs, key, pack)
    return key.encode()


def shared_pack_json(data: bytes) -> PolicyPack:
    """The shared pack whose JSON is exactly `data`, decoded the first time it is seen
    (by the payload converter: `shixian.converter.LifecycleJSONConverter`)."""
    key = data.decode()
    found = _packs.get(key)
    if found is None:
        found = _intern(_packs, key, PolicyPack.model_validate_json(data))
    return found
