"""The policy-pack language: what a municipal regulation says, as data.

A pack is validated once, on load, and then travels in each workflow's input, so a running
project keeps the rules it started under. This module is pure (pydantic only): workflow code
imports it inside the sandbox.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

PERIOD_RE = re.compile(r"^(?P<n>-?\d+)(?P<unit>wd|d|m|y)$")

OwnerType = Literal["administrative", "state_owned", "public_institution", "social_organisation"]
DEFAULT_OWNER_TYPES: tuple[OwnerType, ...] = ("administrative", "state_owned")
OWNER_TYPE_TITLES: dict[str, str] = {
    "administrative": "行政机关", "state_owned": "国资监管企业",
    "public_institution": "事业单位", "social_organisation": "人民团体、社会团体",
}
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
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


FactValue = bool | float | str | date


class ProjectFacts(Strict):
    """What conditions may ask of a project (a subset of the project record).

    `extra` holds the facts a pack declares for itself (`facts:` in the pack: planned start,
    contract term, platform project…); `elected` the documents recorded so far that a pack
    lets choose a path (九江 25 末段 "可合并": an owner's election).
    """

    owner_type: OwnerType
    category: Category
    kind: Kind
    investment_wan: float
    major: bool = False
    planned_months: int | None = None
    extra: dict[str, FactValue] = Field(default_factory=dict)
    elected: frozenset[str] = frozenset()


class FactSpec(Strict):
    """A project fact a pack conditions on, with its Chinese label (项目信息项)."""

    type: Literal["date", "number", "bool", "choice", "text"]
    label: str
    choices: dict[str, str] | None = Field(default=None, description="value → Chinese label")
    default: FactValue | None = None
    required: bool = False
    help: str | None = None

    @model_validator(mode="after")
    def _choices(self) -> FactSpec:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice fact needs `choices`")
        return self


class FactTest(Strict):
    """A test on one declared fact: equality, one of, or a numeric/date bound."""

    equals: FactValue | None = None
    one_of: list[FactValue] | None = None
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None
    present: bool | None = None


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
    facts: dict[str, FactTest | FactValue] | None = Field(
        default=None, description="declared facts: a value means equals")
    elected: list[str] | None = Field(
        default=None, description="all these documents were recorded (an owner's election)")
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


class CalendarDue(Strict):
    """A due day fixed on the calendar, not counted (每年8月底前, 年底前, 当年度内, 计划开工前).

    `month` + `day` name a day in the year of the start event (`day: end` is the month's last
    day); `next_if_passed` moves to the following year when that day is already past on the
    start day. `before_event` instead makes the due day the day before another event (a
    document, a period end or a `fact:` date): 项目计划开工时间前.
    """

    month: int | None = Field(default=None, ge=1, le=12)
    day: int | Literal["end"] | None = None
    next_if_passed: bool = False
    before_event: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> CalendarDue:
        if (self.month is None) == (self.before_event is None):
            raise ValueError("a calendar due day is either month+day or before_event")
        if self.month is not None and self.day is None:
            raise ValueError("a calendar due day with `month` needs `day` (a number or end)")
        if isinstance(self.day, int) and not 1 <= self.day <= 31:
            raise ValueError(f"day {self.day} is not a day of a month")
        return self


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
    moves_to_workday: bool = Field(
        default=False, description="move an end on a rest day to the next working day (art. 203)")
    interpretation: str | None = None

    @field_validator("length")
    @classmethod
    def _length(cls, v: str | list[PeriodVariant]) -> str | list[PeriodVariant]:
        return check_period(v) if isinstance(v, str) else v


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
    limit: PeriodChoice | None = None
    due_by: CalendarDue | None = Field(default=None, description="a calendar-anchored due day")
    no_limit: str | None = Field(
        default=None, description="the text sets no time limit (及时, 定期…): open, no due day")
    limit_basis: str | None = Field(
        default=None, description="`shixian 运营默认 …`: the number is shixian's, not the text's")
    opens: str | None = Field(default=None, description="earliest filing, counted like limit")
    opens_only: bool = Field(
        default=False, description="a window with no closing day (投入使用一年后): open from")
    citation: str
    when: Condition | None = None
    cancelled_by: list[str] = Field(
        default_factory=list, description="documents that make the duty moot while it is not "
        "done: on or before its due day it never was due; after it, the duty lapses that day "
        "and the lateness until then stands")
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

    @field_validator("limit_basis")
    @classmethod
    def _basis(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(OPERATIONAL_DEFAULT):
            raise ValueError(f"limit_basis must start with {OPERATIONAL_DEFAULT!r}: a number "
                             "the regulation sets needs no basis, one it does not is shixian's")
        return v

    @model_validator(mode="after")
    def _one_limit(self) -> Obligation:
        given = [k for k in ("limit", "due_by", "no_limit") if getattr(self, k) is not None]
        if self.opens_only:
            if self.opens is None or given:
                raise ValueError("opens_only needs `opens` and no limit, due_by or no_limit")
        elif len(given) != 1:
            raise ValueError("give exactly one of limit, due_by or no_limit (the text's 及时/"
                             f"定期 with no number is `no_limit`); got {given or 'none'}")
        return self


OPERATIONAL_DEFAULT = "shixian 运营默认"


class Recurring(Strict):
    """A duty that repeats each quarter, month or year while a phase lasts (季报, 月报, 年度).

    Due `due_after_period_end` after the period (7wd: 每季度过后7个工作日内; 0d: 季度末, on the
    period's last day, moved per art. 203), or for yearly duties on `due_by` of each year.
    `first_partial` / `last_partial`: whether the period the phase starts (ends) in is due —
    a stated interpretation per pack.
    """

    id: str
    title: str
    actor: ActorChoice
    fulfilled_by: str
    every: Literal["quarter", "month", "year"]
    due_after_period_end: str | None = None
    due_by: CalendarDue | None = None
    from_event: str
    until_event: str
    first_partial: bool = True
    last_partial: bool = False
    citation: str
    when: Condition | None = None
    interpretation: str | None = None

    @field_validator("due_after_period_end")
    @classmethod
    def _due(cls, v: str | None) -> str | None:
        return None if v is None else check_period(v, allow_zero=True)

    @model_validator(mode="after")
    def _one_due(self) -> Recurring:
        if (self.due_after_period_end is None) == (self.due_by is None):
            raise ValueError("give one of due_after_period_end or due_by")
        if self.due_by is not None and (self.every != "year" or self.due_by.month is None):
            raise ValueError("due_by on a recurring duty is for `every: year` with month+day")
        return self


class Minimum(Strict):
    """A minimum duration (试运行不少于1个月): `document` dated before it is over is a breach.

    Not a deadline: its end is the corresponding day (Civil Code art. 202), never moved to a
    working day. A document on or after that day satisfies it.
    """

    id: str
    title: str
    after: str
    length: PeriodChoice
    document: str
    citation: str
    when: Condition | None = None
    interpretation: str | None = None

    @field_validator("length")
    @classmethod
    def _length(cls, v: str | list[PeriodVariant]) -> str | list[PeriodVariant]:
        return check_period(v) if isinstance(v, str) else v


class Gate(Strict):
    """An order the text imposes (不得未批先建; 立项 → 评审 → 备案 → 采购).

    `document` recorded before every one of `requires` (or any one of `requires_any`) was
    recorded is a breach: recorded as a fact and flagged, never refused.
    """

    id: str
    title: str
    document: str
    requires: list[str] = Field(default_factory=list)
    requires_any: list[str] = Field(default_factory=list)
    citation: str
    when: Condition | None = None
    interpretation: str | None = None

    @model_validator(mode="after")
    def _something(self) -> Gate:
        if not self.requires and not self.requires_any:
            raise ValueError("a gate needs `requires` or `requires_any`")
        return self


class FactCheck(Strict):
    """A bound on a fact (服务期限不超过3年; 运维费 vs 建设费), checked when the fact is known."""

    id: str
    title: str
    fact: str
    max: float | None = None
    min: float | None = None
    max_ratio_of: str | None = Field(default=None, description="another fact, or investment_wan")
    ratio: float | None = None
    citation: str
    when: Condition | None = None
    interpretation: str | None = None

    @model_validator(mode="after")
    def _bound(self) -> FactCheck:
        if self.max is None and self.min is None and self.max_ratio_of is None:
            raise ValueError("a check needs max, min or max_ratio_of")
        if (self.max_ratio_of is None) != (self.ratio is None):
            raise ValueError("max_ratio_of goes with ratio")
        return self


class Rung(Strict):
    """One step of the escalation ladder, at an offset from the due day."""

    level: int = Field(ge=1)
    name: str
    label: str = Field(default="", description="Chinese label shown to people (预警, 逾期, 督办)")
    colour: Literal["green", "amber", "red", "grey"] = "amber"
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
    """A sanction (后果): by cumulative delay (九江 第二十七条) or one duty missed (相城 20(二)).

    `kind: delay_total` fires once the overdue working days of `counts_toward_delay` duties
    reach `threshold` while the project is in `phase`; `kind: overdue` fires when
    `obligation` is overdue (by `threshold`, default at once). `blocks` lists documents the
    consequence forbids while it stands (不安排运维经费, 不组织竣工验收): recording one is a breach.
    """

    id: str
    title: str
    kind: Literal["delay_total", "overdue"] = "delay_total"
    threshold: str | None = None
    phase: Phase | None = None
    obligation: str | None = None
    blocks: list[str] = Field(default_factory=list)
    notify: list[str]
    citation: str
    message: str

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: str | None) -> str | None:
        if v is None:
            return v
        check_period(v, allow_zero=True)
        if not v.endswith("wd"):
            raise ValueError(f"{v!r}: a delay threshold is counted in working days (wd)")
        return v

    @model_validator(mode="after")
    def _kind(self) -> Consequence:
        if self.kind == "delay_total" and (self.threshold is None or self.phase is None):
            raise ValueError("a delay_total consequence needs threshold and phase")
        if self.kind == "overdue" and self.obligation is None:
            raise ValueError("an overdue consequence names its obligation")
        return self


class Escalation(Strict):
    ladder: list[Rung]
    consequences: list[Consequence] = Field(default_factory=list)
    breach_notify: list[str] | None = Field(
        default=None, description="who hears of a breach (gate, minimum, check); default: "
        "the second rung's list, with the owner as the actor")

    @field_validator("ladder")
    @classmethod
    def _ordered(cls, ladder: list[Rung]) -> list[Rung]:
        levels = [r.level for r in ladder]
        if levels != list(range(1, len(ladder) + 1)):
            raise ValueError(f"ladder levels must be 1, 2, 3… in order, got {levels}")
        return ladder


DAY_WORDS = {"early": 10, "mid": 20}  # 上旬 = the 1st–10th, 中旬 = the 11th–20th


class YearDay(Strict):
    """A day of every year as the text names it: `{month: 5, day: end}` = 每年5月底前,
    `{month: 10, day: early}` = 10月上旬前 (by the 10th), `{month: 7, day: 1}` = 7月1日.
    `mid` is 中旬 (by the 20th). A number past the month's end is clamped to its last day."""

    month: int = Field(ge=1, le=12)
    day: int | Literal["end", "early", "mid"]

    @field_validator("day")
    @classmethod
    def _day(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1 <= v <= 31:
            raise ValueError(f"day {v} is not a day of a month (1–31, end, early = 上旬, "
                             "mid = 中旬)")
        return v

    @property
    def nominal(self) -> int:
        """The day of the month before clamping (end = 31)."""
        day = self.day
        return 31 if day == "end" else DAY_WORDS[day] if isinstance(day, str) else day

    def in_year(self, year: int) -> date:
        """This day in `year` (not moved to a working day)."""
        return date(year, self.month, min(self.nominal, _days_in_month(year, self.month)))


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - date(year, month, 1)).days


class CycleReminder(Strict):
    """Who is reminded, how many working days before a cycle's due day (`0wd`: on it).

    The offsets are shixian 运营默认, like the ladder's: the texts set due days, never
    reminders."""

    before: str
    notify: list[str] = Field(min_length=1, description="actor ids")

    @field_validator("before")
    @classmethod
    def _before(cls, v: str) -> str:
        check_period(v, allow_zero=True)
        if not v.endswith("wd"):
            raise ValueError(f"{v!r}: a reminder is counted in working days before the due "
                             "day (e.g. 10wd, 0wd)")
        return v

    @property
    def working_days(self) -> int:
        return int(v) if (v := self.before.removesuffix("wd")) else 0


class Cycle(Strict):
    """A yearly duty of the jurisdiction (年度工作), not of one project: 每年5月底前征集需求
    (九江 第十一条), 每年7月份发文征集 (上饶 第五条), 10月上旬前集中评审 (上饶 第九条).

    Run by one long-lived workflow per jurisdiction (`workflows/cycle.py`), never by a
    project's. `due` is the day in each year, moved to the next working day when it is a
    rest day (《民法典》第二百零三条, as `due_by` is); `opens` the first day of a window
    (7月份: `{month: 7, day: 1}`); `no_limit` a yearly duty the text gives no day
    (相城 第九条 "根据每年…申报通知要求"): listed each year, never reminded.
    """

    id: str
    title: str
    actor: str
    due: YearDay | None = None
    opens: YearDay | None = None
    no_limit: str | None = Field(default=None, description="the text gives no day (按通知要求)")
    moves_to_workday: bool = Field(
        default=True, description="a due day on a rest day moves to the next working day "
        "(art. 203); false where the text names a month (7月份), not a period's end")
    remind: list[CycleReminder] = Field(default_factory=list)
    citation: str
    interpretation: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Cycle:
        if (self.due is None) == (self.no_limit is None):
            raise ValueError("a cycle gives exactly one of `due` (a day of each year) or "
                             "`no_limit` (the text gives no day)")
        if self.no_limit is not None and self.remind:
            raise ValueError("a cycle with no due day cannot be reminded before it: drop "
                             "`remind` or give `due`")
        if self.due is not None and self.opens is not None and \
                (self.opens.month, self.opens.nominal) > (self.due.month, self.due.nominal):
            raise ValueError("`opens` falls after `due` in the year")
        return self


class PolicyPack(Strict):
    """One jurisdiction's rules: the whole content of one `policies/<id>.yaml`."""

    id: str
    title: str
    jurisdiction: str
    issued_on: date
    status: Literal["in_force", "draft", "expired"] = "in_force"
    effective_from: date | None = None
    expires_on: date | None = Field(default=None, description="last day the text is in force")
    after_expiry: str | None = Field(
        default=None, description="what shixian does for projects started after expires_on")
    source: str
    starts_with: str = Field(
        default="launch_notice", description="the document that starts a life (启动通知, 任务书…)")
    started_on_means: str | None = Field(
        default=None, description="what `started_on` is, in the text's terms (接到通知之日)")
    actors: dict[str, str]
    facts: dict[str, FactSpec] = Field(default_factory=dict)
    limits: Limits | None = None
    documents: dict[str, DocumentType]
    stages: list[Stage]
    periods: list[TimedPeriod] = Field(default_factory=list)
    pauses: list[Pause] = Field(default_factory=list)
    obligations: list[Obligation]
    recurring: list[Recurring] = Field(default_factory=list)
    minimums: list[Minimum] = Field(default_factory=list)
    gates: list[Gate] = Field(default_factory=list)
    checks: list[FactCheck] = Field(default_factory=list)
    escalation: Escalation
    cycles: list[Cycle] = Field(
        default_factory=list, description="the jurisdiction's yearly duties (年度工作), "
        "run by one workflow per jurisdiction, not per project")
    owner_types: list[OwnerType] = Field(
        default_factory=lambda: list(DEFAULT_OWNER_TYPES),
        description="the kinds of 业主单位 the text covers (its 第二条/第三条)")
    owner_types_citation: str | None = Field(
        default=None, description="the article that says which owners the text covers")

    def validity_on(self, day: date) -> str | None:
        """Why starting a project on `day` under this pack needs care, or None."""
        if self.status == "draft":
            return f"{self.id} is a draft (征求意见稿): its rules are not in force"
        if self.status == "expired" or (self.expires_on is not None and day > self.expires_on):
            until = f" on {self.expires_on}" if self.expires_on else ""
            then = f"; {self.after_expiry}" if self.after_expiry else ""
            return f"{self.id} expired{until}{then}"
        if self.effective_from is not None and day < self.effective_from:
            return f"{self.id} takes effect on {self.effective_from}"
        return None

    def rung(self, level: int) -> Rung | None:
        ladder = self.escalation.ladder
        return ladder[level - 1] if 1 <= level <= len(ladder) else None

    @model_validator(mode="wrap")
    @classmethod
    def _checked_once(cls, data: object,
                      handler: ModelWrapValidatorHandler[PolicyPack]) -> PolicyPack:
        """A pack given where a pack is expected (a workflow input built from a loaded
        pack) was checked when it was built. Pydantic runs a model's after-validators on
        instances too: the cross-reference check below ran again for every input
        `shixian start` built, ~10 % of its check phase."""
        if isinstance(data, PolicyPack):
            return data
        return handler(data)._references()

    def _references(self) -> PolicyPack:
        problems: list[str] = []
        docs = set(self.documents)
        date_facts = {f"fact:{k}" for k, f in self.facts.items() if f.type == "date"}
        events = docs | {p.id for p in self.periods} | date_facts
        pauses = {p.id for p in self.pauses}
        actors = set(self.actors)
        if self.starts_with not in docs:
            problems.append(f"starts_with: unknown document {self.starts_with!r}")

        def check_condition(where: str, cond: Condition | None) -> None:
            if cond is None:
                return
            for name in cond.facts or {}:
                if name not in self.facts:
                    problems.append(f"{where}: condition on undeclared fact {name!r} "
                                    "(declare it under `facts:`)")
            problems.extend(f"{where}: condition on unknown document {d!r}"
                            for d in cond.elected or [] if d not in docs)
            for sub in [*(cond.any_of or []), *(cond.none_of or [])]:
                check_condition(where, sub)

        def check_due(where: str, due: CalendarDue | None) -> None:
            if due is not None and due.before_event is not None and due.before_event not in events:
                problems.append(f"{where}: due_by.before_event unknown event {due.before_event!r}")

        rules: list[tuple[str, Condition | None]] = []

        def actor_ids(choice: ActorChoice) -> list[str]:
            return [choice] if isinstance(choice, str) else [v.value for v in choice]

        def event_ids(choice: EventChoice) -> list[str]:
            return [choice] if isinstance(choice, str) else [v.value for v in choice]

        for stage in self.stages:
            problems += [f"stage {stage.id}: unknown document {d!r}"
                         for d in stage.entered_by if d not in docs]
        for mini in self.minimums:
            where = f"minimum {mini.id}"
            rules.append((where, mini.when))
            if mini.after not in events:
                problems.append(f"{where}: unknown event {mini.after!r} in after")
            if mini.document not in docs:
                problems.append(f"{where}: unknown document {mini.document!r}")
        for gate in self.gates:
            where = f"gate {gate.id}"
            rules.append((where, gate.when))
            problems += [f"{where}: unknown document {d!r}"
                         for d in [gate.document, *gate.requires, *gate.requires_any]
                         if d not in docs]
        for chk in self.checks:
            where = f"check {chk.id}"
            rules.append((where, chk.when))
            for name in (chk.fact, chk.max_ratio_of):
                if name is not None and name != "investment_wan" and name not in self.facts:
                    problems.append(f"{where}: undeclared fact {name!r}")
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
            problems += [f"{where}: unknown document {d!r} in cancelled_by"
                         for d in ob.cancelled_by if d not in docs]
            rules.append((where, ob.when))
            check_due(where, ob.due_by)
            limits = ([] if ob.limit is None else [ob.limit] if isinstance(ob.limit, str)
                      else [v.value for v in ob.limit])
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
            rules.append((where, rec.when))
        starts_of = {p.id: [p.starts] if isinstance(p.starts, str) else
                     [v.value for v in p.starts] for p in self.periods}
        for period in self.periods:
            rules.append((f"period {period.id}", period.when))
            seen_chain: set[str] = set()
            todo = list(starts_of[period.id])
            while todo:
                event = todo.pop()
                if event == period.id:
                    problems.append(f"period {period.id}: its start event leads back to "
                                    f"{period.id} (a period cannot start from itself)")
                    break
                if event in starts_of and event not in seen_chain:
                    seen_chain.add(event)
                    todo += starts_of[event]
        for rung in self.escalation.ladder:
            problems += [f"ladder rung {rung.name}: unknown actor {a!r}" for a in rung.notify
                         if a != "actor" and a not in actors]
        problems += [f"escalation.breach_notify: unknown actor {a!r}"
                     for a in self.escalation.breach_notify or [] if a not in actors]
        obligation_ids = {o.id for o in self.obligations}
        for cons in self.escalation.consequences:
            problems += [f"consequence {cons.id}: unknown actor {a!r}" for a in cons.notify
                         if a not in actors]
            if cons.obligation is not None and cons.obligation not in obligation_ids:
                problems.append(f"consequence {cons.id}: unknown obligation {cons.obligation!r}")
            problems += [f"consequence {cons.id}: unknown document {d!r} in blocks"
                         for d in cons.blocks if d not in docs]
        for where, cond in rules:
            check_condition(where, cond)
        problems += self._cycle_problems(actors)
        if problems:
            raise ValueError("; ".join(problems))
        return self


    def _cycle_problems(self, actors: set[str]) -> list[str]:
        problems: list[str] = []
        taken = {o.id for o in self.obligations} | {r.id for r in self.recurring}
        seen: set[str] = set()
        for cyc in self.cycles:
            where = f"cycle {cyc.id}"
            if cyc.id in seen:
                problems.append(f"{where}: id used twice")
            if cyc.id in taken:
                problems.append(f"{where}: id already names an obligation or recurring duty")
            seen.add(cyc.id)
            if cyc.actor not in actors:
                problems.append(f"{where}: unknown actor {cyc.actor!r}")
            problems += [f"{where}: reminder {r.before}: unknown actor {a!r} in notify"
                         for r in cyc.remind for a in r.notify if a != "actor" and a not in actors]
        return problems


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
    for name, test in (c.facts or {}).items():
        checks.append(fact_passes(facts.extra.get(name), test))
    if c.elected is not None:
        checks.append(all(d in facts.elected for d in c.elected))
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


def fact_passes(value: FactValue | None, test: FactTest | FactValue) -> bool:
    """One fact against one test; an unknown (absent) fact passes only `present: false`."""
    if not isinstance(test, FactTest):
        return value is not None and value == test
    if test.present is not None:
        return (value is not None) == test.present
    if value is None:
        return False
    if test.equals is not None and value != test.equals:
        return False
    if test.one_of is not None and value not in test.one_of:
        return False
    bounds = (test.gte, test.gt, test.lte, test.lt)
    if any(b is not None for b in bounds):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        num = float(value)
        return ((test.gte is None or num >= test.gte) and (test.gt is None or num > test.gt)
                and (test.lte is None or num <= test.lte) and (test.lt is None or num < test.lt))
    return True


def coerce_facts(pack: PolicyPack, facts: dict[str, FactValue]) -> dict[str, FactValue]:
    """Each fact as its declared type: a date fact that crossed JSON (the workflow input, a
    CSV, a projects file) arrives as "2025-03-03" and must be a date again."""
    out: dict[str, FactValue] = {}
    for name, value in facts.items():
        spec = pack.facts.get(name)
        out[name] = value if spec is None else _as_type(spec.type, value)
    return out


def _as_type(kind: str, value: FactValue) -> FactValue:
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return value
    if kind == "number" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "bool" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value
