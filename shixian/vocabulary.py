"""What a filter may name — stages, jurisdictions, responsible bodies — from the shipped packs.

`shixian list`, `shixian ics` and the dashboard accept the same words: an id
(`feasibility`, `jiujiang-2024`, `data_bureau`) or the Chinese a person reads on the screen
(可行性研究报告审批, 九江市 or 九江, 市数据管理部门). A word no pack knows is an error that
lists what is known, never a silently empty list. The words come from the policy packs
(`policies.loader`), so a new pack brings its own without a change here.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass

from policies.loader import PolicyError, available, load_pack
from policies.model import PolicyPack
from shixian.errors import UserError


class UnknownValue(UserError, ValueError):
    """A filter value no shipped policy pack knows; the message lists the known ones."""


def _norm(text: str) -> str:
    return "".join(text.split()).lower().replace("（", "(").replace("）", ")")


@functools.cache
def packs() -> tuple[PolicyPack, ...]:
    out = []
    for pid in available():
        try:
            out.append(load_pack(pid))
        except PolicyError:
            continue  # `shixian policy check` reports a broken pack; filters use the others
    return tuple(out)


def local_names(name: str) -> tuple[str, ...]:
    """苏州市相城区 → 相城区, 相城: a district is called without its city."""
    head, sep, local = name.rpartition("市")
    if not sep or not head or not local:
        return ()
    return (local, short_jurisdiction(local))


def short_jurisdiction(name: str) -> str:
    """九江市 → 九江 (what people say); a name that is only a suffix stays as it is."""
    short = name.rstrip("市县区省")
    return short or name


def jurisdiction_spellings(pack: PolicyPack) -> tuple[str, ...]:
    """Every way a person names a pack's jurisdiction: 九江市, 九江, jiujiang-2024, jiujiang,
    the pack's title, and for a district the district alone (苏州市相城区 → 相城区, 相城)."""
    name = pack.jurisdiction
    levels = re.findall(r".+?(?:省|自治区|市|县|区|$)", name)
    last = levels[-1] if levels else name
    stem = re.sub(r"-(\d{4}|draft)$", "", pack.id)
    return tuple(dict.fromkeys(s for s in (pack.id, stem, name, short_jurisdiction(name), last,
                                           short_jurisdiction(last), pack.title) if s))


def place(policy: str, jurisdiction: str) -> str:
    """The place as a table column shows it: 九江市, 相城区; `玉山县 (征求意见稿)` when the
    project runs under a draft pack (marked wherever it shows)."""
    levels = re.findall(r".+?(?:省|自治区|市|县|区|$)", jurisdiction)
    name = (levels[-1] if levels else jurisdiction) or jurisdiction
    pack = next((p for p in packs() if p.id == policy), None)
    return f"{name} (征求意见稿)" if pack is not None and pack.status == "draft" else name


@dataclass(frozen=True)
class Choice:
    """One known value: its id, what it is called, and every spelling that selects it."""

    id: str
    label: str
    spellings: frozenset[str]

    def shown(self) -> str:
        return self.id if self.label == self.id else f"{self.id} ({self.label})"


def _choices(kind: str) -> list[Choice]:
    merged: dict[str, tuple[str, set[str]]] = {}

    def add(cid: str, label: str, *spellings: str) -> None:
        entry = merged.setdefault(cid, (label, set()))
        entry[1].update(_norm(s) for s in (cid, label, *spellings) if s)

    for pack in packs():
        if kind == "stage":
            for stage in pack.stages:
                add(stage.id, stage.title)
        elif kind == "jurisdiction":
            add(pack.id, pack.jurisdiction, *jurisdiction_spellings(pack),
                *local_names(pack.jurisdiction))
        elif kind == "actor":
            for aid, name in pack.actors.items():
                add(aid, name)
    return [Choice(cid, label, frozenset(sp)) for cid, (label, sp) in merged.items()]


def _resolve(kind: str, text: str, *, substring: bool) -> frozenset[str]:
    wanted = _norm(text)
    choices = _choices(kind)
    hits = {c.id for c in choices if wanted in c.spellings}
    if not hits and substring and wanted:
        hits = {c.id for c in choices if any(wanted in s for s in c.spellings)}
    if hits:
        return frozenset(hits)
    spellings = {s: c for c in choices for s in c.spellings}
    close = difflib.get_close_matches(wanted, list(spellings), n=1, cutoff=0.6)
    hint = f"; did you mean {spellings[close[0]].shown()}?" if close else ""
    known = ", ".join(c.shown() for c in choices) or "none (no policy pack loads)"
    raise UnknownValue(f"unknown {kind} {text!r}{hint} Known {kind}s: {known}")


def resolve_stage(text: str) -> frozenset[str]:
    """Stage ids selected by an id or a Chinese stage title (as `list` prints it)."""
    return _resolve("stage", text, substring=False)


def resolve_jurisdiction(text: str) -> frozenset[str]:
    """Policy ids selected by a pack id, its title, or its jurisdiction (九江市, 九江)."""
    return _resolve("jurisdiction", text, substring=False)


def resolve_actor(text: str) -> frozenset[str]:
    """Actor ids selected by an id or a name (市数据管理部门); part of a name (数据管理部门,
    发改委) selects every body whose name contains it."""
    return _resolve("actor", text, substring=True)


def known(kind: str) -> list[Choice]:
    """For menus: every known stage, jurisdiction or actor, in pack order."""
    return _choices(kind)
