"""A policy pack resolved against one project's facts: which rules apply, with what values.

Conditions are evaluated here and nowhere else, once per (facts, elections); the schedule,
intake, escalation and views then read plain resolved values. Pure: runs in the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.model import (
    Condition,
    Consequence,
    FactCheck,
    Gate,
    Minimum,
    Obligation,
    PolicyPack,
    ProjectFacts,
    Recurring,
    TimedPeriod,
    choose,
    holds,
)


@dataclass(frozen=True)
class ResolvedObligation:
    rule: Obligation
    applies: bool
    actor: str
    trigger: str | None
    limit: str | None


@dataclass(frozen=True)
class ResolvedPeriod:
    rule: TimedPeriod
    start_event: str
    length: str


@dataclass(frozen=True)
class ResolvedRecurring:
    rule: Recurring
    applies: bool
    actor: str


@dataclass(frozen=True)
class ResolvedMinimum:
    rule: Minimum
    length: str


def election_documents(pack: PolicyPack) -> frozenset[str]:
    """Documents some condition asks about: recording one may change the plan."""
    found: set[str] = set()

    def walk(cond: Condition | None) -> None:
        if cond is None:
            return
        found.update(cond.elected or [])
        for sub in [*(cond.any_of or []), *(cond.none_of or [])]:
            walk(sub)

    rules: list[object] = [*pack.obligations, *pack.recurring, *pack.periods, *pack.minimums,
                           *pack.gates, *pack.checks]
    for rule in rules:
        walk(getattr(rule, "when", None))
        for attr in ("actor", "starts", "limit", "length"):
            choice = getattr(rule, attr, None)
            if isinstance(choice, list):
                for variant in choice:
                    walk(variant.when)
    return frozenset(found)


class Plan:
    """What applies to this project, resolved once."""

    def __init__(self, pack: PolicyPack, facts: ProjectFacts) -> None:
        self.pack = pack
        self.facts = facts
        lim = pack.limits

        def ok(cond: Condition | None) -> bool:
            return holds(cond, facts, lim)

        self.obligations: list[ResolvedObligation] = []
        for ob in pack.obligations:
            limit = None if ob.limit is None else choose(ob.limit, facts, lim)
            self.obligations.append(ResolvedObligation(
                rule=ob, applies=ok(ob.when), actor=choose(ob.actor, facts, lim) or "owner",
                trigger=choose(ob.starts, facts, lim), limit=limit))
        self.periods: dict[str, ResolvedPeriod] = {}
        for period in pack.periods:
            start = choose(period.starts, facts, lim)
            length = choose(period.length, facts, lim)
            if ok(period.when) and start is not None and length is not None:
                self.periods[period.id] = ResolvedPeriod(period, start, length)
        self.recurring = [ResolvedRecurring(rec, ok(rec.when), choose(rec.actor, facts, lim)
                                            or "owner") for rec in pack.recurring]
        self.minimums: list[ResolvedMinimum] = []
        for mini in pack.minimums:
            length = choose(mini.length, facts, lim)
            if ok(mini.when) and length is not None:
                self.minimums.append(ResolvedMinimum(mini, length))
        self.gates: list[Gate] = [g for g in pack.gates if ok(g.when)]
        self.checks: list[FactCheck] = [c for c in pack.checks if ok(c.when)]
        self.consequences: list[Consequence] = list(pack.escalation.consequences)

    def obligation(self, rule_id: str) -> ResolvedObligation | None:
        return next((o for o in self.obligations if o.rule.id == rule_id), None)

    def is_trigger(self, doc_type: str, stages: bool = True) -> bool:
        """Whether a document starts or ends something on this project's path."""
        if any(o.applies and o.trigger == doc_type for o in self.obligations):
            return True
        if any(p.start_event == doc_type for p in self.periods.values()):
            return True
        if any(r.applies and doc_type in (r.rule.from_event, r.rule.until_event)
               for r in self.recurring):
            return True
        if any(m.rule.after == doc_type or m.rule.document == doc_type for m in self.minimums):
            return True
        if any(g.document == doc_type or doc_type in g.requires or doc_type in g.requires_any
               for g in self.gates):
            return True
        return stages and any(doc_type in s.entered_by for s in self.pack.stages)
