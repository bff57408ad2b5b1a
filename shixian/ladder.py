"""How views show an escalation level: from the policy pack's ladder, in one place.

Every view (the `list` colours, the dashboard's red/amber/green, its legend and level menu)
asks `rung_look` and `rag` here instead of knowing that "3" means "escalated". The look is
the pack's: each rung's `label` and `colour` (policies/README.md "Escalation"); a rung
without a label shows its name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from policies.loader import PolicyError, load_pack
from policies.model import Rung

Rag = Literal["red", "amber", "green"]

# Chinese for the rung names of the shipped packs; an unknown name is shown as it is.
RUNG_LABELS = {"warning": "预警", "overdue": "逾期通报", "escalated": "升级"}


@dataclass(frozen=True)
class RungLook:
    level: int
    name: str  # the pack's rung name (warning, overdue, escalated)
    label: str  # what a person reads
    position: int  # 1-based place in the ladder
    rungs: int  # how many rungs the ladder has
    colour: Rag

    @property
    def top(self) -> bool:
        return self.position == self.rungs


@functools.cache
def ladder(policy: str) -> tuple[Rung, ...]:
    """The pack's ladder, lowest level first; empty for a policy no pack has."""
    try:
        return tuple(sorted(load_pack(policy).escalation.ladder, key=lambda r: r.level))
    except PolicyError:
        return ()


def rung_look(policy: str, level: int) -> RungLook | None:
    """The rung a project at `level` has reached (the highest rung ≤ level); None below it."""
    rungs = ladder(policy)
    reached = [(i, r) for i, r in enumerate(rungs, start=1) if r.level <= level]
    if not reached:
        return None
    position, rung = reached[-1]
    return RungLook(level=rung.level, name=rung.name, label=_label(rung), position=position,
                    rungs=len(rungs), colour=_colour(rung))


def _label(rung: Rung) -> str:
    return rung.label or RUNG_LABELS.get(rung.name, rung.name)


def _colour(rung: Rung) -> Rag:
    """The pack's colour; grey (a rung that only informs) shows as nothing to do."""
    return "green" if rung.colour == "grey" else rung.colour


def rag(policy: str, overdue: bool, level: int) -> Rag:
    """The colour of the rung reached, as the pack gives it (九江: 升级督办 red, 预警 and 逾期通报
    amber); late with no rung reached yet is amber; nothing to do is green."""
    look = rung_look(policy, level)
    if look is not None:
        return "amber" if overdue and look.colour == "green" else look.colour
    return "amber" if overdue else "green"


def rung_label(policy: str | None, name: str | None) -> str:
    """A stored rung name (`escalated`) as a person reads it: the pack's label."""
    if not name:
        return "—"
    rung = next((r for r in ladder(policy) if r.name == name), None) if policy else None
    return _label(rung) if rung is not None else RUNG_LABELS.get(name, name)


def levels(policies: list[str]) -> list[RungLook]:
    """Every rung of the given policies' ladders, for menus and legends (by level, once)."""
    seen: dict[int, RungLook] = {}
    for policy in policies:
        for rung in ladder(policy):
            look = rung_look(policy, rung.level)
            if look is not None and rung.level not in seen:
                seen[rung.level] = look
    return [seen[k] for k in sorted(seen)]
