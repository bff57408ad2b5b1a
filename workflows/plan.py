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


# Plans and election sets, kept once per worker process for every project that resolves
# to the same pack and facts (issue #12: a wake rebuilt them after each `Ledger.shed`, ~10 %
# of a replay; a first wake built them per project). A plan is a pure function of the
# pack and the facts, so a kept one decides exactly as a new one. Entries hold their pack,
# so a key's `id(pack)` cannot be reused by another pack while the entry lives; nothing
# mutates a plan after `__init__`. Workflow tasks run on several threads, and workflow
# code takes no locks: each step below is one dict operation (atomic under the GIL), and
# two threads building the same plan at once keep either (they are equal).
SHARED_PLANS_MAX = 512
_plans: dict[tuple[object, ...], Plan] = {}
_elections: dict[int, tuple[PolicyPack, frozenset[str]]] = {}


def election_documents(pack: PolicyPack) -> frozenset[str]:
    """Documents some condition asks about: recording one may change the plan."""
    kept = _elections.get(id(pack))
    if kept is not None and kept[0] is pack:
        return kept[1]
    found = _election_documents(pack)
    if len(_elections) >= SHARED_PLANS_MAX:
        _elections.clear()
    _elections[id(pack)] = (pack, found)
    return found


def _election_documents(pack: PolicyPack) -> frozenset[str]:
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


def _facts_key(facts: ProjectFacts) -> tuple[object, ...]:
    """Equal keys for equal facts only: values carry their type (True == 1 == 1.0)."""
    extra = tuple(sorted((k, type(v).__name__, v) for k, v in facts.extra.items()))
    return (facts.owner_type, facts.category, facts.kind, type(facts.investment_wan).__name__,
            facts.investment_wan, facts.major, facts.planned_months, extra,
            tuple(sorted(facts.elected)))


def shared_plan(pack: PolicyPack, facts: ProjectFacts) -> Plan:
    """The plan of `pack` for `facts`, built once per worker for equal facts."""
    key = (id(pack), *_facts_key(facts))
    plan = _plans.get(key)
    if plan is not None and plan.pack is pack:
        return plan
    plan = Plan(pack, facts)
    while len(_plans) >= SHARED_PLANS_MAX:  # the oldest first
        try:
            del _plans[next(iter(_plans))]
        except (KeyError, RuntimeError, StopIteration):  # another thread's change
            break
    _plans[key] = plan
    return plan


class Plan:
    """What applies to this project, resolved once (shared: see `shared_plan`)."""

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
