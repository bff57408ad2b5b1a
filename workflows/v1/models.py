"""What crosses the workflow boundary: inputs, update arguments, the status a manager reads.

Pydantic models, serialised by the one data converter (`shixian.converter`), so dates
round-trip. Pure: imported inside the workflow sandbox.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.v1.policy_model import Category, Kind, OwnerType, PolicyPack, ProjectFacts


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentArrival(Model):
    """A document that arrived: its type id, the business date, reference and sender."""

    type: str
    on: date
    ref: str | None = None
    by: str | None = None
    until: date | None = Field(default=None, description="for an extension: the new due day")

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("document type is empty")
        return v


class Project(Model):
    """An approved project as ops describe it in the projects file."""

    id: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = Field(min_length=1)
    policy: str
    owner: str
    owner_type: OwnerType
    category: Category
    kind: Kind
    investment_wan: float = Field(gt=0, description="万元")
    major: bool = False
    planned_months: int | None = Field(default=None, ge=1)
    started_on: date = Field(description="date of the launch notice (启动通知)")
    documents: list[DocumentArrival] = Field(default_factory=list)

    def facts(self) -> ProjectFacts:
        return ProjectFacts(
            owner_type=self.owner_type,
            category=self.category,
            kind=self.kind,
            investment_wan=self.investment_wan,
            major=self.major,
            planned_months=self.planned_months,
        )


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
    """What a notice is: a rung of the ladder, a consequence, a breach, or a withdrawal."""

    RUNG = "rung"
    CONSEQUENCE = "consequence"
    VIOLATION = "violation"
    CORRECTION = "correction"


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


class LedgerState(Model):
    """Everything the workflow knows beyond its input; carried across continue-as-new."""

    documents: list[DocumentArrival] = Field(default_factory=list)
    manual_pauses: list[ManualPause] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    events: list[EventRecord] = Field(default_factory=list)
    notices: list[NoticeRecord] = Field(default_factory=list)
    notified_level: dict[str, int] = Field(default_factory=dict)
    consequences_fired: list[str] = Field(default_factory=list)
    known_due: dict[str, date] = Field(default_factory=dict)
    calendar: dict[str, Any] = Field(default_factory=dict)
    terminated: str | None = None
    next_seq: int = 1
    read_model_seq: int = 0
    read_model_events: int = 0


class LifecycleInput(Model):
    project: Project
    pack: PolicyPack
    calendar: dict[str, Any] = Field(description="WorkCalendar.snapshot() for the project's years")
    carried: LedgerState | None = None


class RecordOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


class RecordResult(Model):
    outcome: RecordOutcome
    reason: str = ""
    stage: str = ""


class ClockChange(Model):
    """stop_clock / restart_clock: time a regulation excludes that no document marks."""

    obligation: str
    on: date
    reason: str = ""


class ExtensionRequest(Model):
    obligation: str
    until: date
    on: date
    reason: str = ""


class Termination(Model):
    on: date
    reason: str


class CalendarUpdate(Model):
    snapshot: dict[str, Any]
    note: str = ""


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
