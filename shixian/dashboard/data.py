"""What the dashboard shows, read from the read model and recounted for today.

The portfolio comes from `shixian.portfolio` (the query behind `shixian list`), so the page,
its JSON and the command line always agree. A project's obligations are read here, with
working days late recounted for today like the portfolio does: a page opened between two
wake-ups of the workflow is still right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select

from activities.db import engine, events, notice_deliveries, notice_outbox, obligations, projects
from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from shixian.portfolio import Filters, PortfolioRow, portfolio

Rag = Literal["red", "amber", "green"]

# The jiujiang-2024 ladder: 1 warning (before the due day), 2 overdue, 3 escalated to the
# supervising office. Red means the supervising office has already been told.
ESCALATED_LEVEL = 3
LIVE_STATES = ("open", "overdue")


class BadRequest(ValueError):
    """A query parameter the dashboard cannot use; the message says which and why."""


def rag(overdue: bool, escalation_level: int) -> Rag:
    """Red: late and escalated to the supervising body; amber: late, or warned that a due
    day is near; green: nothing needs attention."""
    if overdue and escalation_level >= ESCALATED_LEVEL:
        return "red"
    if overdue or escalation_level >= 1:
        return "amber"
    return "green"


@dataclass
class PortfolioQuery:
    """The filters of `/` and `/api/portfolio.json`, as given in the query string."""

    jurisdiction: str = ""
    stage: str = ""
    owner: str = ""
    overdue: bool = False
    level: int | None = None
    rag: str = ""
    include_finished: bool = False

    def filters(self) -> Filters:
        return Filters(jurisdiction=self.jurisdiction or None, stage=self.stage or None,
                       owner=self.owner or None, overdue=self.overdue, min_level=self.level,
                       include_finished=self.include_finished)

    def as_params(self) -> dict[str, str]:
        out = {"jurisdiction": self.jurisdiction, "stage": self.stage, "owner": self.owner,
               "overdue": "1" if self.overdue else "",
               "level": "" if self.level is None else str(self.level), "rag": self.rag,
               "all": "1" if self.include_finished else ""}
        return {k: v for k, v in out.items() if v}


TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def _flag(name: str, value: str) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise BadRequest(f"{name}={value!r}: use {name}=1 or leave it out")


def parse_query(params: Mapping[str, list[str]]) -> PortfolioQuery:
    """Query-string values to filters; unknown parameters are ignored like browsers expect."""

    def one(name: str) -> str:
        return (params.get(name) or [""])[-1].strip()

    level_text = one("level")
    level: int | None = None
    if level_text:
        try:
            level = int(level_text)
        except ValueError:
            raise BadRequest(f"level={level_text!r}: an escalation level is a whole number "
                             "such as level=2") from None
        if level < 0:
            raise BadRequest(f"level={level}: escalation levels start at 0")
    colour = one("rag").lower()
    if colour not in ("", "red", "amber", "green"):
        raise BadRequest(f"rag={colour!r}: use red, amber or green")
    return PortfolioQuery(jurisdiction=one("jurisdiction"), stage=one("stage"),
                          owner=one("owner"), overdue=_flag("overdue", one("overdue")),
                          level=level, rag=colour,
                          include_finished=_flag("all", one("all")))


@dataclass
class PortfolioEntry:
    row: PortfolioRow
    rag: Rag

    def as_dict(self) -> dict[str, object]:
        return {**self.row.as_dict(), "rag": self.rag}


@dataclass
class PortfolioView:
    today: date
    query: PortfolioQuery
    entries: list[PortfolioEntry]
    # Choices for the filter menus: every value in the unfiltered portfolio.
    jurisdictions: list[str] = field(default_factory=list)
    stages: list[tuple[str, str]] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    # Per colour under every filter but the colour itself: the cards that pick a colour
    # keep showing what the other colours hold.
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"today": self.today.isoformat(), "filters": self.query.as_params(),
                "counts": self.counts, "projects": [e.as_dict() for e in self.entries]}


def portfolio_view(today: date, calendar: WorkCalendar, query: PortfolioQuery) -> PortfolioView:
    every = portfolio(today, calendar, Filters(include_finished=query.include_finished))
    rows = portfolio(today, calendar, query.filters())
    entries = [PortfolioEntry(r, rag(r.overdue, r.escalation_level)) for r in rows]
    counts = {"red": 0, "amber": 0, "green": 0}
    for entry in entries:
        counts[entry.rag] += 1
    if query.rag:
        entries = [e for e in entries if e.rag == query.rag]
    return PortfolioView(
        today=today, query=query, entries=entries,
        jurisdictions=sorted({r.jurisdiction for r in every}),
        stages=sorted({(r.stage, r.stage_title) for r in every}),
        owners=sorted({r.owner for r in every}), counts=counts,
    )


@dataclass
class ObligationLine:
    """One obligation as stored, with `late` recounted for today (0 unless live and late)."""

    obligation_id: str
    position: int
    title: str
    actor_name: str
    state: str
    starts_on: date | None
    opens_on: date | None
    due_on: date | None
    provisional: bool
    late: int
    escalation_level: int
    escalation_rung: str | None
    citation: str
    done_on: date | None

    @property
    def shown_state(self) -> str:
        """`overdue` as soon as a live duty is late, even before its workflow wakes."""
        return "overdue" if self.late > 0 else self.state


@dataclass
class ProjectView:
    today: date
    project: dict[str, Any]
    obligations: list[ObligationLine]
    events: list[dict[str, Any]]
    notices: list[dict[str, Any]]

    @property
    def overdue_working_days(self) -> int:
        return max((o.late for o in self.obligations), default=0)

    @property
    def rag(self) -> Rag:
        return rag(self.overdue_working_days > 0, int(self.project["escalation_level"]))

    def as_dict(self) -> dict[str, object]:
        obs = []
        for o in self.obligations:
            d = asdict(o)
            d["state"] = o.shown_state
            d["stored_state"] = o.state
            d["overdue_working_days"] = d.pop("late")
            obs.append(d)
        return {"today": self.today, "rag": self.rag,
                "overdue_working_days": self.overdue_working_days,
                "project": self.project, "obligations": obs, "events": self.events,
                "notices": self.notices}


def _late(calendar: WorkCalendar, state: str, due: date | None, today: date) -> int:
    if state not in LIVE_STATES or due is None or today <= due:
        return 0
    try:
        return max(0, calendar.working_days_between(due, today))
    except CalendarError:  # outside the calendar's years: say nothing rather than guess
        return 0


def project_view(project_id: str, today: date, calendar: WorkCalendar,
                 recent: int = 30) -> ProjectView | None:
    """None when the read model has no such project."""
    with engine().connect() as conn:
        p = conn.execute(select(projects).where(projects.c.project_id == project_id)
                         ).mappings().one_or_none()
        if p is None:
            return None
        obs = conn.execute(select(obligations).where(obligations.c.project_id == project_id)
                           .order_by(obligations.c.position)).mappings().all()
        evs = conn.execute(select(events).where(events.c.project_id == project_id)
                           .order_by(events.c.seq.desc()).limit(recent)).mappings().all()
        notes = conn.execute(
            select(notice_outbox).where(notice_outbox.c.project_id == project_id)
            .order_by(notice_outbox.c.fired_at.desc(), notice_outbox.c.id.desc())
            .limit(recent)).mappings().all()
        sent = conn.execute(
            select(notice_deliveries.c.workflow_id, notice_deliveries.c.notice_key,
                   notice_deliveries.c.recipient, notice_deliveries.c.channel_kind,
                   notice_deliveries.c.address, notice_deliveries.c.state,
                   notice_deliveries.c.reason)
            .where(notice_deliveries.c.project_id == project_id)
            .order_by(notice_deliveries.c.id)).mappings().all()
    deliveries: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for d in sent:
        deliveries.setdefault((d["workflow_id"], d["notice_key"]), []).append(
            {k: d[k] for k in ("recipient", "channel_kind", "address", "state", "reason")})
    lines = [ObligationLine(
        obligation_id=o["obligation_id"], position=o["position"], title=o["title"],
        actor_name=o["actor_name"], state=o["state"], starts_on=o["starts_on"],
        opens_on=o["opens_on"], due_on=o["due_on"], provisional=bool(o["provisional"]),
        late=_late(calendar, o["state"], o["due_on"], today),
        escalation_level=o["escalation_level"], escalation_rung=o["escalation_rung"],
        citation=o["citation"], done_on=o["done_on"]) for o in obs]
    return ProjectView(today=today, project=dict(p), obligations=lines,
                       events=[dict(e) for e in evs],
                       notices=[{k: v for k, v in dict(n).items() if k != "id"}
                                | {"deliveries": deliveries.get(
                                    (n["workflow_id"], n["notice_key"]), [])}
                                for n in notes])


def to_json(value: object) -> object:
    """`json.dumps(default=...)`: dates as ISO 8601, like `shixian list --json`."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
