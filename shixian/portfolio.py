"""The portfolio from the read model: what managers list, filter and export.

Rows are as the workflows last reported them; overdue working days are recounted for
today with the calendar, so a list read between two wake-ups is still right.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import func, select

from activities.db import engine, notice_deliveries, obligations, projects
from calendars.engine import WorkCalendar
from calendars.model import CalendarError

LIVE = ("open", "overdue", "paused")


@dataclass
class PortfolioRow:
    project_id: str
    name: str
    policy: str
    jurisdiction: str
    owner: str
    stage: str
    stage_title: str
    next_due_on: date | None
    overdue: bool
    overdue_working_days: int
    escalation_level: int
    provisional: bool
    finished: bool
    late: list[str] = field(default_factory=list)
    undelivered: int = 0  # notice deliveries failed or undeliverable (`shixian notices`)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["next_due_on"] = self.next_due_on.isoformat() if self.next_due_on else None
        return data


@dataclass
class Filters:
    jurisdiction: str | None = None
    stage: str | None = None
    owner: str | None = None
    overdue: bool = False
    due_within: int | None = None
    min_level: int | None = None
    provisional: bool = False
    include_finished: bool = False


def _late_days(calendar: WorkCalendar, due: date, today: date) -> int:
    try:
        return max(0, calendar.working_days_between(due, today)) if today > due else 0
    except CalendarError:
        return 0


def portfolio(today: date, calendar: WorkCalendar, f: Filters) -> list[PortfolioRow]:
    with engine().connect() as conn:
        project_rows = conn.execute(select(projects)).mappings().all()
        obligation_rows = conn.execute(
            select(obligations).where(obligations.c.state.in_(LIVE))).mappings().all()
        d = notice_deliveries.c
        undelivered: dict[str, int] = {
            str(pid): int(n) for pid, n in conn.execute(
                select(d.project_id, func.count())
                .where(d.state.in_(("failed", "undeliverable"))).group_by(d.project_id)).all()}
    live: dict[str, list[dict[str, object]]] = {}
    for ob in obligation_rows:
        live.setdefault(str(ob["project_id"]), []).append(dict(ob))
    horizon = None
    if f.due_within is not None:
        horizon = calendar.add_working_days(today, f.due_within) if f.due_within > 0 else today
    out: list[PortfolioRow] = []
    for p in project_rows:
        obs = live.get(p["project_id"], [])
        late = {str(o["obligation_id"]): _late_days(calendar, o["due_on"], today)  # type: ignore[arg-type]
                for o in obs if o["due_on"] is not None and o["state"] != "paused"}
        late = {k: v for k, v in late.items() if v > 0}
        row = PortfolioRow(
            project_id=p["project_id"], name=p["name"], policy=p["policy"],
            jurisdiction=p["jurisdiction"], owner=p["owner"], stage=p["stage"],
            stage_title=p["stage_title"], next_due_on=p["next_due_on"],
            overdue=bool(late), overdue_working_days=max(late.values(), default=0),
            escalation_level=p["escalation_level"],
            provisional=any(bool(o["provisional"]) for o in obs), finished=p["finished"],
            late=[f"{k} +{v}wd" for k, v in sorted(late.items(), key=lambda kv: -kv[1])],
            undelivered=int(undelivered.get(p["project_id"], 0)),
        )
        if row.finished and not f.include_finished:
            continue
        if f.jurisdiction and f.jurisdiction not in (row.jurisdiction, row.policy):
            continue
        if f.stage and row.stage != f.stage:
            continue
        if f.owner and f.owner not in row.owner:
            continue
        if f.overdue and not row.overdue:
            continue
        if horizon is not None and (row.next_due_on is None or row.next_due_on > horizon):
            continue
        if f.min_level is not None and row.escalation_level < f.min_level:
            continue
        if f.provisional and not row.provisional:
            continue
        out.append(row)
    out.sort(key=lambda r: (r.next_due_on is None, r.next_due_on or date.max, r.project_id))
    return out
