"""The policy-pack language: what a municipal regulation says, as data.

A pack is validated once, on load, and then travels in each workflow's input, so a running
project keeps the rules it started under. This module is pure (pydantic only): workflow code
imports it inside the sandbox.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PERIOD_RE = re.compile(r"^(?P<n>-?\d+)(?P<unit>wd|d|m|y)$")

OwnerType = Literal["administrative", "state_owned"]
Category = Literal["infrastructure", "cross_department", "other"]
Kind = Literal["build", "service", "procurement"]
Phase = Literal["preparatory", "implementation", "acceptance", "operation"]


def check_period(value: str, *, allow_zero: bool = False, allow_negative: bool = False) -> str:
    match = PERIOD_RE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a period: write e.g. 5wd, 20d, 3m or 1y")
    n = int(match["n"])
    if n < 0 and not allow_negative:
        raise ValueError(f"{value!r}: a negative period is only allowed for a warning offset")
    if n == 0 and not allow_zero:
        raise ValueError(f"{value!r}: a period must be at least 1")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectFacts(Strict):
    """What conditions may ask of a project (a subset of the project record)."""

    owner_type: OwnerType
    category: Category
    kind: Kind
    investment_wan: float
    major: bool = False
    planned_months: int | None = None


class Condition(Strict):
    """All given fields must hold (AND); `any_of` holds if one of its conditions holds.

    Thresholds follow Civil Code art. 1259: 以上/以下 include the number itself, so
    "1000万元以上" is `investment_wan_gte: 1000` and "小于5000万元" is `investment_wan_lt: 5000`.
    """

    owner_type: list[OwnerType] | None = None
    category: list[Category] | None = None
    kind: list[Kind] | None = None
    investment_wan_gte: float | None = None
    investment_wan_lt: float | None = None
    above_limit: bool | None = Field(default=None, description="限额以上 per the pack's limits")
    major: bool | None = None
    planned_months_gte: int | None = None
    any_of: list[Condition] | None = None
    none_of: list[Condition] | None = None


T = TypeVar("T")


class PeriodVariant(Strict):
    value: str
    when: Condition | None = None

    @field_validator("value")
    @classmethod
    def _period(cls, v: str) -> str:
        return check_period(v)


class ActorVariant(Strict):
    value: str
    when: Condition | None = None


class EventVariant(Strict):
    value: str
    when: Condition | None = None


PeriodChoice = Annotated[str | list[PeriodVariant], Field(description="a period or variants")]
ActorChoice = str | list[ActorVariant]
EventChoice = str | list[EventVariant]


class DocumentType(Strict):
    """A document scripts record; its id is a stable API (`shixian doc ID TYPE`)."""

    title: str
    repeatable: bool = False
    needs_until: bool = Field(
        default=False, description="the document carries an `until` date (an extension)"
    )


class Stage(Strict):
    id: str
    title: str
    phase: Phase
    entered_by: list[str]


class Limits(Strict):
    """限额: the investment line between the lighter and the heavier regime, by category."""

    citation: str
    by_category: dict[Category, float]


class TimedPeriod(Strict):
    """A duration that ends by itself and emits an event others count from (试运行)."""

    id: str
    title: str
    starts: EventChoice
    length: PeriodChoice
    citation: str
    when: Condition | None = None
    interpretation: str | None = None


class Pause(Strict):
    """Documents between which a clock does not run (九江 25(二) 不含…编修文本时间)."""

    id: str
    title: str
    starts: str
    ends: str
    citation: str


class Obligation(Strict):
    """Who must do what by when: fulfilled by one document type, counted from one event."""

    id: str
    title: str
    actor: ActorChoice
    fulfilled_by: str
    starts: EventChoice
    limit: PeriodChoice
    opens: str | None = Field(default=None, description="earliest filing, counted like limit")
    citation: str
    when: Condition | None = None
    pauses: list[str] = Field(default_factory=list)
    manual_pause: str | None = Field(
        default=None, description="a time the regulation excludes that no document marks"
    )
    extended_by: str | None = Field(default=None, description="a document that moves the due day")
    counts_toward_delay: bool = Field(
        default=False, description="its overdue days count toward a delay consequence"
    )
    interpretation: str | None = None

    @field_validator("opens")
    @classmethod
    def _opens(cls, v: str | None) -> str | None:
        return None if v is None else check_period(v)


class Recurring(Strict):
    """A duty that repeats each quarter or month while a phase lasts (季报, 月报)."""

    id: str
    title: str
    actor: ActorChoice
    fulfilled_by: str
    every: Literal["quarter", "month"]
    due_after_period_end: str
    from_event: str
    until_event: str
    citation: str
    when: Condition | None = None

    @field_validator("due_after_period_end")
    @classmethod
    def _due(cls, v: str) -> str:
        return check_period(v, allow_zero=True)


class Rung(Strict):
    """One step of the escalation ladder, at an offset from the due day."""

    level: int = Field(ge=1)
    name: str
    offset: str = Field(description="-3wd: 3 working days before due; 0wd: at due; 5wd: after")
    notify: list[str] = Field(description="actor ids; `actor` means the obligation's own actor")
    citation: str

    @field_validator("offset")
    @classmethod
    def _offset(cls, v: str) -> str:
        check_period(v, allow_zero=True, allow_negative=True)
        if not v.endswith("wd"):
            raise ValueError(f"{v!r}: ladder offsets are counted in working days (wd)")
        return v


class Consequence(Strict):
    """A sanction once cumulative delay passes a threshold (九江 第二十七条)."""

    id: str
    title: str
    threshold: str
    phase: Phase
    notify: list[str]
    citation: str
    message: str

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: str) -> str:
        check_period(v)
        if not v.endswith("wd"):
            raise ValueError(f"{v!r}: a delay threshold is counted in working days (wd)")
        return v


class Escalation(Strict):
    ladder: list[Rung]
    consequences: list[Consequence] = Field(default_factory=list)

    @field_validator("ladder")
    @classmethod
    def _ordered(cls, ladder: list[Rung]) -> list[Rung]:
        levels = [r.level for r in ladder]
        if levels != list(range(1, len(ladder) + 1)):
            raise ValueError(f"ladder levels must be 1, 2, 3… in order, got {levels}")
        return ladder


class PolicyPack(Strict):
    """One jurisdiction's rules: the whole content of one `policies/<id>.yaml`."""

    id: str
    title: str
    jurisdiction: str
    issued_on: date
    status: Literal["in_force", "draft", "expired"] = "in_force"
    source: str
    actors: dict[str, str]
    limits: Limits | None = None
    documents: dict[str, DocumentType]
    stages: list[Stage]
    periods: list[TimedPeriod] = Field(default_factory=list)
    pauses: list[Pause] = Field(default_factory=list)
    obligations: list[Obligation]
    recurring: list[Recurring] = Field(default_factory=list)
    escalation: Escalation

    @model_validator(mode="after")
    def _references(self) -> PolicyPack:
        problems: list[str] = []
        docs = set(self.documents)
        events = docs | {p.id for p in self.periods}
        pauses = {p.id for p in self.pauses}
        actors = set(self.actors)

        def actor_ids(choice: ActorChoice) -> list[str]:
            return [choice] if isinstance(choice, str) else [v.value for v in choice]

        def event_ids(choice: EventChoice) -> list[str]:
            return [choice] if isinstance(choice, str) else [v.value for v in choice]

        for stage in self.stages:
            problems += [f"stage {stage.id}: unknown document {d!r}"
                         for d in stage.entered_by if d not in docs]
        for period in self.periods:
            problems += [f"period {period.id}: unknown start event {e!r}"
                         for e in event_ids(period.starts) if e not in events]
        for pause in self.pauses:
            problems += [f"pause {pause.id}: unknown document {d!r}"
                         for d in (pause.starts, pause.ends) if d not in docs]
        seen: set[str] = set()
        for ob in self.obligations:
            where = f"obligation {ob.id}"
            if ob.id in seen:
                problems.append(f"{where}: id used twice")
            seen.add(ob.id)
            problems += [f"{where}: unknown actor {a!r}" for a in actor_ids(ob.actor)
                         if a not in actors]
            if ob.fulfilled_by not in docs:
                problems.append(f"{where}: unknown document {ob.fulfilled_by!r} in fulfilled_by")
            problems += [f"{where}: unknown start event {e!r}" for e in event_ids(ob.starts)
                         if e not in events]
            problems += [f"{where}: unknown pause {p!r}" for p in ob.pauses if p not in pauses]
            if ob.extended_by is not None and ob.extended_by not in docs:
                problems.append(f"{where}: unknown document {ob.extended_by!r} in extended_by")
            limits = [ob.limit] if isinstance(ob.limit, str) else [v.value for v in ob.limit]
            for limit in limits:
                try:
                    check_period(limit)
                except ValueError as exc:
                    problems.append(f"{where}: limit {exc}")
        for rec in self.recurring:
            where = f"recurring {rec.id}"
            problems += [f"{where}: unknown actor {a!r}" for a in actor_ids(rec.actor)
                         if a not in actors]
            problems += [f"{where}: unknown event {e!r}"
                         for e in (rec.from_event, rec.until_event) if e not in events]
            if rec.fulfilled_by not in docs:
                problems.append(f"{where}: unknown document {rec.fulfilled_by!r}")
        for rung in self.escalation.ladder:
            problems += [f"ladder rung {rung.name}: unknown actor {a!r}" for a in rung.notify
                         if a != "actor" and a not in actors]
        for cons in self.escalation.consequences:
            problems += [f"consequence {cons.id}: unknown actor {a!r}" for a in cons.notify
                         if a not in actors]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def holds(condition: Condition | None, facts: ProjectFacts, limits: Limits | None) -> bool:
    """Whether a project meets a condition; the one place conditions are evaluated."""
    if condition is None:
        return True
    c = condition
    checks: list[bool] = []
    if c.owner_type is not None:
        checks.append(facts.owner_type in c.owner_type)
    if c.category is not None:
        checks.append(facts.category in c.category)
    if c.kind is not None:
        checks.append(facts.kind in c.kind)
    if c.investment_wan_gte is not None:
        checks.append(facts.investment_wan >= c.investment_wan_gte)
    if c.investment_wan_lt is not None:
        checks.append(facts.investment_wan < c.investment_wan_lt)
    if c.above_limit is not None:
        checks.append(is_above_limit(facts, limits) == c.above_limit)
    if c.major is not None:
        checks.append(facts.major == c.major)
    if c.planned_months_gte is not None:
        checks.append((facts.planned_months or 0) >= c.planned_months_gte)
    if c.any_of is not None:
        checks.append(any(holds(sub, facts, limits) for sub in c.any_of))
    if c.none_of is not None:
        checks.append(not any(holds(sub, facts, limits) for sub in c.none_of))
    return all(checks)


def is_above_limit(facts: ProjectFacts, limits: Limits | None) -> bool:
    """限额以上: investment at or above the category's line (以上 includes the number)."""
    if limits is None:
        return False
    return facts.investment_wan >= limits.by_category[facts.category]


def choose(
    choice: str | list[PeriodVariant] | list[ActorVariant] | list[EventVariant],
    facts: ProjectFacts,
    limits: Limits | None,
) -> str | None:
    """The first variant whose condition holds (a plain string always applies)."""
    if isinstance(choice, str):
        return choice
    for variant in choice:
        if holds(variant.when, facts, limits):
            return variant.value
    return None
