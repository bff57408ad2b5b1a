"""What the dashboard shows, read from the read model and recounted for today.

Both come from `shixian.readmodel` (the queries behind `shixian list`), so the page, its JSON
and the command line always agree; working days late are recounted for today, so a page
opened between two wake-ups of the workflow is still right. Colours and rung names come
from the pack's escalation ladder (`shixian.ladder`).
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from calendars.engine import WorkCalendar
from shixian import readmodel, statistics, vocabulary
from shixian.errors import UserError
from shixian.ladder import Rag, RungLook, levels, rag
from shixian.readmodel import Filters, PortfolioRow, next_due_day, portfolio


class BadRequest(ValueError):
    """A query parameter the dashboard cannot use; the message says which and why."""


@dataclass
class PortfolioQuery:
    """The filters of `/` and `/api/portfolio.json`, as given in the query string."""

    jurisdiction: str = ""
    stage: str = ""
    owner: str = ""
    actor: str = ""
    overdue: bool = False
    level: int | None = None
    rag: str = ""
    include_finished: bool = False

    def filters(self) -> Filters:
        return Filters(jurisdiction=self.jurisdiction or None, stage=self.stage or None,
                       owner=self.owner or None, actor=self.actor or None,
                       overdue=self.overdue, min_level=self.level,
                       include_finished=self.include_finished)

    def as_params(self) -> dict[str, str]:
        out = {"jurisdiction": self.jurisdiction, "stage": self.stage, "owner": self.owner,
               "actor": self.actor, "overdue": "1" if self.overdue else "",
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
    query = PortfolioQuery(jurisdiction=one("jurisdiction"), stage=one("stage"),
                           owner=one("owner"), actor=one("actor"),
                           overdue=_flag("overdue", one("overdue")),
                           level=level, rag=colour,
                           include_finished=_flag("all", one("all")))
    try:
        query.filters().resolved()  # an unknown stage, jurisdiction or actor is a 400
    except vocabulary.UnknownValue as exc:
        raise BadRequest(str(exc)) from None
    return query


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
    actors: list[tuple[str, str]] = field(default_factory=list)
    # The rungs of the ladders in view, for the level menu and the legend.
    rungs: list[RungLook] = field(default_factory=list)
    # Per colour under every filter but the colour itself: the cards that pick a colour
    # keep showing what the other colours hold.
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"today": self.today.isoformat(), "filters": self.query.as_params(),
                "counts": self.counts, "projects": [e.as_dict() for e in self.entries]}

    def page(self, limit: int, cursor: str | None) -> dict[str, object]:
        """`/api/portfolio.json`'s answer: the rows after `cursor` (all of them when limit
        is 0), with `total` (rows under the filters), `counts` (all of them) and
        `next_cursor`, null on the last page. A cursor is the sort key of the page's last
        row (due day, project id), not an offset: projects that come, go or move before it
        between two requests do not shift the next page by a row."""
        keys = [portfolio_key(e.row) for e in self.entries]
        start = bisect.bisect_right(keys, cursor_key(cursor)) if cursor else 0
        end = start + limit if limit else len(keys)
        shown = self.entries[start:end]
        following = encode_cursor(keys[end - 1]) if end < len(keys) and shown else None
        return {"today": self.today.isoformat(), "filters": self.query.as_params(),
                "counts": self.counts, "total": len(keys), "limit": limit,
                "projects": [e.as_dict() for e in shown], "next_cursor": following}


PortfolioKey = tuple[bool, date, str]


def portfolio_key(row: PortfolioRow) -> PortfolioKey:
    """The portfolio's order (`readmodel.portfolio`): due day (none last), project id."""
    return (row.next_due_on is None, row.next_due_on or date.max, row.project_id)


def encode_cursor(key: PortfolioKey) -> str:
    due = "" if key[0] else key[1].isoformat()
    raw = json.dumps([due, key[2]], ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def cursor_key(cursor: str) -> PortfolioKey:
    """A cursor back to its key; BadRequest when it is not one this server made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, project_id = json.loads(raw)
        if not isinstance(project_id, str) or not isinstance(due, str):
            raise ValueError(cursor)
        return (not due, date.fromisoformat(due) if due else date.max, project_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadRequest(f"cursor={cursor!r} is not a cursor this dashboard gave: use the "
                         "next_cursor of the previous page, or leave it out for the first"
                         ) from None


def portfolio_view(today: date, calendar: WorkCalendar, query: PortfolioQuery) -> PortfolioView:
    """The filtered rows, once, and the menus' choices from one DISTINCT query (the page
    built every row twice before, issue #12)."""
    every = readmodel.portfolio_choices(query.include_finished)
    rows = portfolio(today, calendar, query.filters())
    entries = [PortfolioEntry(r, rag(r.policy, r.overdue, r.escalation_level)) for r in rows]
    counts = {"red": 0, "amber": 0, "green": 0}
    for entry in entries:
        counts[entry.rag] += 1
    if query.rag:
        entries = [e for e in entries if e.rag == query.rag]
    return PortfolioView(
        today=today, query=query, entries=entries,
        jurisdictions=every.jurisdictions, stages=every.stages, owners=every.owners,
        actors=[(c.id, c.label) for c in vocabulary.known("actor")],
        rungs=levels(every.policies or [c.id for c in vocabulary.known("jurisdiction")]),
        counts=counts,
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
    done_late: int = 0  # working days late when it was done (0 if on time or not done)

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
        return rag(str(self.project["policy"]), self.overdue_working_days > 0,
                   int(self.project["escalation_level"]))

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


def project_view(project_id: str, today: date, calendar: WorkCalendar,
                 recent: int = 30) -> ProjectView | None:
    """None when the read model has no such project."""
    record = readmodel.project(project_id, recent)
    if record is None:
        return None
    lines = [ObligationLine(
        obligation_id=o["obligation_id"], position=o["position"], title=o["title"],
        actor_name=o["actor_name"], state=o["state"], starts_on=o["starts_on"],
        opens_on=o["opens_on"], due_on=o["due_on"], provisional=bool(o["provisional"]),
        late=readmodel.late_days(calendar, o["state"], o["due_on"], today),
        escalation_level=o["escalation_level"], escalation_rung=o["escalation_rung"],
        citation=o["citation"], done_on=o["done_on"],
        done_late=int(o["overdue_working_days"] or 0) if o["state"] == "done" else 0)
        for o in record.obligations]
    # the next due day as the list shows it (a known pending one too), not the stored one
    project = {**record.project, "next_due_on": next_due_day(
        ((o.state, o.due_on) for o in lines), record.project["next_due_on"])}
    return ProjectView(today=today, project=project, obligations=lines,
                       events=record.events, notices=record.notices)


def to_json(value: object) -> object:
    """`json.dumps(default=...)`: dates as ISO 8601, like `shixian list --json`."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def stats_view(today: date, calendar: WorkCalendar,
               params: Mapping[str, list[str]]) -> statistics.Report:
    """`/stats?period=2026-11&jurisdiction=九江&actor=市国资委` (统计分析), like `shixian stats`."""

    def one(name: str) -> str:
        return (params.get(name) or [""])[-1].strip()

    try:
        return readmodel.statistics(one("period") or None, today, calendar,
                                    jurisdiction=one("jurisdiction") or None,
                                    actor=one("actor") or None)
    except UserError as exc:  # an unreadable period, an unknown jurisdiction or body
        raise BadRequest(str(exc)) from None
