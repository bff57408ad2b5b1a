"""What crosses the workflow boundary: inputs, update arguments, the status a manager reads.

Pydantic models, serialised by the one data converter (`shixian.converter`), so dates
round-trip. Pure: imported inside the workflow sandbox.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policies.model import Category, FactValue, Kind, OwnerType, PolicyPack, ProjectFacts
from workflows.outcomes import RecordOutcome as RecordOutcome  # re-exported: one import for callers


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# Bounds on what crosses the workflow boundary: one oversized field must never push a
# workflow task or an activity input past Temporal's 2 MB payload limit (DESIGN §7).
MAX_TEXT = 200
MAX_REASON = 500
MAX_DOCUMENTS = 1_000
MAX_FACTS = 50
# The documents a project holds travel in every continue-as-new input (and once more in their
# events): their total JSON size is bounded well under the 2 MB payload limit.
MAX_DOCUMENT_BYTES = 300_000


class UnreadablePayload(ValueError):
    """A payload that does not decode into what it must be (a 1.2 MB name, an infinite
    number, a field of the wrong type) — raised by the data converter (`shixian.converter`).
    The lifecycle workflow declares it a workflow failure: a workflow started with such an
    input fails at once with the reason, instead of retrying its first task for ever, and an
    update with such an argument is rejected with it."""


class DocumentArrival(Model):
    """A document that arrived: its type id, the business date, reference and sender."""

    type: str = Field(max_length=64)
    on: date
    ref: str | None = Field(default=None, max_length=MAX_TEXT)
    by: str | None = Field(default=None, max_length=MAX_TEXT)
    until: date | None = Field(default=None, description="for an extension: the new due day")
    period: str | None = Field(
        default=None, max_length=16,
        description="for a recurring report: the period it reports on (2025Q2, 2025-07, 2025)")
    facts: dict[str, FactValue] = Field(
        default_factory=dict, max_length=MAX_FACTS,
        description="facts the document states (合同服务期限…)")

    @field_validator("facts")
    @classmethod
    def _facts(cls, v: dict[str, FactValue]) -> dict[str, FactValue]:
        return bounded_facts(v)

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("document type is empty")
        return v

    @field_validator("period")
    @classmethod
    def _period(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().upper()
        if not re.fullmatch(r"\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))?", v):
            raise ValueError(f"period {v!r}: write it as 2026Q3 (a quarter), 2026-07 (a month) "
                             "or 2026 (a year)")
        return v


class OwnerContact(Model):
    """Who at the 业主单位 receives the project's notices, as the projects file names them
    (beside the contacts file's `owners:`): an e-mail address and/or a robot from the
    contacts file's `channels.robots`."""

    name: str | None = Field(default=None, max_length=MAX_TEXT, description="联系人")
    email: str | None = Field(default=None, max_length=MAX_TEXT,
                              pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
    robot: str | None = Field(default=None, max_length=64,
                              description="a robot name under channels.robots")

    @field_validator("email", "robot", "name", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _some_channel(self) -> OwnerContact:
        if self.email is None and self.robot is None:
            raise ValueError("an owner contact needs an email or a robot")
        return self


class Project(Model):
    """An approved project as ops describe it in the projects file."""

    id: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = Field(min_length=1, max_length=MAX_TEXT)
    policy: str = Field(max_length=64)
    owner: str = Field(min_length=1, max_length=MAX_TEXT)
    owner_type: OwnerType
    category: Category
    kind: Kind
    investment_wan: float = Field(gt=0, le=100_000_000, allow_inf_nan=False,
                                  description="万元, a finite amount")
    major: bool = False
    planned_months: int | None = Field(default=None, ge=1)
    started_on: date = Field(description="the day the life-starting document was received "
                             "(九江: 接到启动通知之日)")
    facts: dict[str, FactValue] = Field(
        default_factory=dict, max_length=MAX_FACTS,
        description="the facts the pack declares (`facts:` in the pack)")
    documents: list[DocumentArrival] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    owner_contact: OwnerContact | None = Field(
        default=None, description="业主联系人: notices to the owner reach them too")

    @field_validator("facts")
    @classmethod
    def _facts(cls, v: dict[str, FactValue]) -> dict[str, FactValue]:
        return bounded_facts(v)

    def fact_value(self, name: str) -> FactValue | None:
        return self.facts.get(name)

    def project_facts(self, elected: frozenset[str] = frozenset()) -> ProjectFacts:
        return ProjectFacts(
            owner_type=self.owner_type,
            category=self.category,
            kind=self.kind,
            investment_wan=self.investment_wan,
            major=self.major,
            planned_months=self.planned_months,
            extra=dict(self.facts),
            elected=elected,
        )


def bounded_facts(facts: dict[str, FactValue]) -> dict[str, FactValue]:
    for name, value in facts.items():
        if len(name) > 64:
            raise ValueError(f"fact name {name[:20]!r}… is longer than 64 characters")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ValueError(f"fact {name}: text longer than {MAX_TEXT} characters")
        if isinstance(value, float) and (value != value or value in (float("inf"), -float("inf"))):
            raise ValueError(f"fact {name}: {value} is not a finite number")
    return facts


class ObligationState(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    PAUSED = "paused"
    DONE = "done"
    OVERDUE = "overdue"
    WAIVED = "waived"
    CANCELLED = "cancelled"


class ManualPause(Model):
    obligation: str
    since: date
    until: date | None = None
    reason: str


class Extension(Model):
    obligation: str
    until: date
    reason: str
    granted_on: date


class EventRecord(Model):
    seq: int
    at: datetime
    on: date
    kind: str
    text: str
    data: dict[str, Any] = Field(default_factory=dict)


class NoticeKind(StrEnum):
    """What a notice is: a rung of the ladder, a consequence, a breach, a withdrawal, or a
    reminder of the jurisdiction's yearly cycle (年度工作提醒, workflows/cycle.py)."""

    RUNG = "rung"
    CONSEQUENCE = "consequence"
    VIOLATION = "violation"
    CORRECTION = "correction"
    CYCLE = "cycle"
    OPERATOR = "operator"  # to shixian's operators (运维): input the project could not read


class NoticeRecord(Model):
    """One notice (通知): what a recipient needs to act, and whom it goes to.

    `recipients` are display names; `recipient_actors` are the pack's actor ids (`owner` is
    the project's owner), which the delivery layer routes through the contacts directory.
    """

    key: str
    obligation: str
    rung: str
    level: int
    recipients: list[str]
    message: str
    citation: str
    due_on: date | None
    overdue_working_days: int
    fired_at: datetime
    delivered: bool = False
    kind: NoticeKind = NoticeKind.RUNG
    recipient_actors: list[str] = Field(default_factory=list)
    policy: str = ""
    project_name: str = ""
    owner: str = ""
    duty_title: str = ""
    actor: str = ""
    actor_name: str = ""
    ends_with: str = Field(default="", description="title of the document that ends the duty")
    withdraws: str | None = Field(default=None, description="key of the notice a correction "
                                  "withdraws")
    owner_contact: OwnerContact | None = Field(
        default=None, description="the projects file's 业主联系人, on notices to the owner")


class LedgerState(Model):
    """Everything the workflow knows beyond its input; carried across continue-as-new."""

    documents: list[DocumentArrival] = Field(default_factory=list)
    manual_pauses: list[ManualPause] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    events: list[EventRecord] = Field(default_factory=list)
    notices: list[NoticeRecord] = Field(default_factory=list)
    notified_level: dict[str, int] = Field(default_factory=dict)  # v1 only; v2 derives it
    withdrawn: dict[str, str] = Field(
        default_factory=dict, description="notice key → key of the correction withdrawing it")
    consequences_fired: list[str] = Field(default_factory=list)
    known_due: dict[str, date] = Field(default_factory=dict)
    calendar: dict[str, Any] = Field(default_factory=dict)
    terminated: str | None = None
    refused_signals: int = Field(default=0, description="refused or unreadable signals, counted; "
                                 "only the first few are kept as events")
    unreadable_signals: int = Field(default=0, description="signals whose payload could not be "
                                    "read (of refused_signals); operators are told")
    operator_notices: list[NoticeRecord] = Field(
        default_factory=list, description="notices to operators (unreadable signals): one at "
        "the 1st, 10th, 100th… so they stay few; `delivered` once in the outbox")
    document_bytes: int = Field(default=0, description="JSON size of the documents held, "
                                "bounded by MAX_DOCUMENT_BYTES")
    next_seq: int = 1
    read_model_seq: int = 0
    read_model_events: int = 0


class LifecycleInput(Model):
    project: Project
    pack: PolicyPack
    calendar: dict[str, Any] = Field(description="WorkCalendar.snapshot() for the project's years")
    carried: LedgerState | None = None
    calendar_keys: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=16,
        description="public keys (ed25519:<base64>) whose signature apply_calendar requires; "
                    "empty = unsigned calendar data is accepted (calendars/signing.py)")
    one_task_wake: bool = Field(
        default=False,
        description="the notices of one wake in one activity (`send_notices`); False in "
                    "inputs recorded before it existed, so their histories replay on the old "
                    "commands (one `send_notice` per notice)")
    provisional_years: bool = Field(
        default=False,
        description="keep the ShixianProvisionalYears search attribute (what `calendar "
                    "publish` finds projects by); False in inputs recorded before it existed, "
                    "so their histories replay on the upserts they had")
    wake_in_one_task: bool = Field(
        default=False,
        description="a wake schedules one `record_wake` (its notices, and its read-model "
                    "update with only what changed) without awaiting it, in the same workflow "
                    "task as its timer; False in inputs recorded before it existed, so their "
                    "histories replay on the old commands")
    search_attribute_changes: bool = Field(
        default=False,
        description="an upsert after a run's first carries only the search attributes whose "
                    "value changed (the SDK encodes each one it is given); False in inputs "
                    "recorded before it existed, so their histories replay on the full "
                    "upserts they had")


class RecordResult(Model):
    outcome: RecordOutcome
    reason: str = ""
    stage: str = ""


class ClockChange(Model):
    """stop_clock / restart_clock: time a regulation excludes that no document marks."""

    obligation: str = Field(max_length=MAX_TEXT)
    on: date
    reason: str = Field(default="", max_length=MAX_REASON)


class ExtensionRequest(Model):
    obligation: str = Field(max_length=MAX_TEXT)
    until: date
    on: date
    reason: str = Field(default="", max_length=MAX_REASON)


class Termination(Model):
    on: date
    reason: str = Field(max_length=MAX_REASON)


class DocumentBatch(Model):
    """Documents for one project applied as one update: escalation is judged after all."""

    documents: list[DocumentArrival] = Field(min_length=1, max_length=MAX_DOCUMENTS)


class DocumentOutcome(Model):
    type: str
    on: date
    outcome: RecordOutcome
    reason: str = ""


class BatchResult(Model):
    outcomes: list[DocumentOutcome]
    stage: str


class CalendarUpdate(Model):
    snapshot: dict[str, Any]
    note: str = ""
    signature: str | None = Field(default=None, max_length=200,
                                  description="Ed25519 signature (base64) of snapshot + note")
    key_id: str | None = Field(default=None, max_length=64, description="the signer's key id")


class CalendarApplied(Model):
    years: list[int]
    moved: list[dict[str, Any]]
    unchanged: bool = False


class ObligationView(Model):
    id: str
    rule: str
    title: str
    actor: str
    actor_name: str
    state: ObligationState
    starts_on: date | None
    opens_on: date | None
    due_on: date | None
    due_at: datetime | None
    provisional: bool
    overdue_working_days: int
    escalation_level: int
    escalation_rung: str | None
    citation: str
    interpretation: str | None = None
    done_on: date | None = None
    paused_since: date | None = None
    note: str | None = None
    limit: str | None = Field(default=None, description="5wd, 3m, 每年8月底前…, or none")
    limit_basis: str | None = Field(default=None, description="shixian 运营默认: not the text's")
    open_ended: bool = Field(default=False, description="a window with no closing day, or no "
                             "limit in the text: shown as open, never escalated")
    on_time: bool | None = Field(default=None, description="done on or before its due day")
    escalation_label: str | None = None
    escalation_colour: str | None = None
    withdrawn_notices: int = 0


class BreachView(Model):
    """A breach the facts show (违规), with the article it breaks."""

    id: str
    rule: str
    title: str
    citation: str
    document: str | None
    on: date | None
    detail: str


class FactView(Model):
    """A project fact as a person reads it (项目信息项): the pack's label and the value."""

    id: str
    label: str
    value: str
    stated_by: str | None = Field(default=None, description="the document that stated it")


class StatusView(Model):
    project_id: str
    name: str
    policy: str
    jurisdiction: str
    owner: str
    stage: str
    stage_title: str
    as_of: datetime
    today: date
    finished: bool
    next_due_on: date | None
    overdue: bool
    escalation_level: int
    obligations: list[ObligationView]
    documents: list[DocumentArrival]
    events: list[EventRecord]
    notices: list[NoticeRecord]
    policy_status: str = Field(default="in_force", description="in_force, draft or expired")
    policy_note: str | None = Field(default=None, description="why the pack needs care, if so")
    breaches: list[BreachView] = Field(default_factory=list)
    delay_working_days: int = Field(default=0, description="第二十七条-style total, from facts")
    facts: list[FactView] = Field(default_factory=list, description="the pack's declared facts "
                                  "as they stand, with Chinese labels")
    escalation_label: str | None = None
    escalation_colour: str = "green"
    withdrawn_notices: int = 0
