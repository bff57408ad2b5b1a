"""Every query managers' views make of the read model, in one module.

`shixian list`, the dashboard, the ICS feed and `shixian up` read through here; commands only
parse arguments and print. Rows are as the workflows last reported them; working days late
are recounted for today on the calendar, so a view read between two wake-ups is still right.

Reading never creates a read model: a missing SQLite file is an error that names where it
was looked for and why (`shixian.config`), instead of an empty portfolio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, make_url, select

from activities.db import engine, events, notice_deliveries, notice_outbox, obligations, projects
from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from calendars.periods import SHANGHAI
from shixian import config, ics, vocabulary
from shixian import statistics as statistics_model
from shixian.errors import UserError
from shixian.ladder import ladder

LIVE = ("open", "overdue", "paused")
RUNNING = ("open", "overdue")  # live and counting: these can be late today
# A pending duty whose due day is already known (final acceptance, counted from the end of
# a trial run that has begun) is a deadline a manager must see in the list too.
KNOWN_PENDING = "pending"


class ReadModelMissing(UserError):
    """No read model where the configuration points: say where and how to fix it."""


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(str(parsed.database))
    return None


def location() -> str:
    """The read model's location for messages (no password)."""
    url = config.database_url()
    path = sqlite_file(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


def reader() -> Engine:
    """The read model's engine, refusing to create an SQLite file that is not there."""
    url = config.database_url()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise ReadModelMissing(
            f"no read model at {path} ({config.database_origin()}); run the "
            "command where `shixian up` or the worker keeps it (a directory with .shixian/), "
            "or set SHIXIAN_HOME or SHIXIAN_DATABASE_URL to it")
    return engine(url)


def project_count() -> int:
    with reader().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


def synced(project_id: str) -> bool:
    """Has the project's workflow reported to the read model at least once?"""
    with engine().connect() as conn:
        seq = conn.execute(select(projects.c.seq).where(
            projects.c.project_id == project_id)).scalar_one_or_none()
    return bool(seq)


def late_days(calendar: WorkCalendar, state: str, due: date | None, today: date) -> int:
    """Working days late today for a running duty (0 if not running, not late, or off the
    calendar's years: say nothing rather than guess)."""
    if state not in RUNNING or due is None or today <= due:
        return 0
    try:
        return max(0, calendar.working_days_between(due, today))
    except CalendarError:
        return 0


# --- the portfolio ---------------------------------------------------------------------------


@dataclass
class Duty:
    """One live duty of a project: who must act, what, by when, how late today."""

    obligation_id: str
    title: str
    actor: str
    actor_name: str
    due_on: date | None
    late: int
    provisional: bool

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["due_on"] = self.due_on.isoformat() if self.due_on else None
        data["overdue_working_days"] = data.pop("late")
        return data


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
    late: list[str] = field(default_factory=list)  # "obligation_id +Nwd", most late first
    # The duty to chase: the latest overdue one, else the next due, else an open one with no
    # due day; and who must act on it.
    duty: Duty | None = None
    late_duties: list[Duty] = field(default_factory=list)
    undelivered: int = 0  # notice deliveries failed or undeliverable (`shixian notices`)
    terminated: str | None = None  # "<date>: <reason>" for a terminated project (已终止)

    @property
    def stage_shown(self) -> str:
        """The stage as a person reads it: 已终止（reason） once terminated."""
        if self.terminated:
            return f"已终止（{self.terminated}）"
        return self.stage_title

    @property
    def duty_title(self) -> str:
        return self.duty.title if self.duty else ""

    @property
    def actor_name(self) -> str:
        return self.duty.actor_name if self.duty else ""

    def late_text(self) -> str:
        """The late duties as a person reads them: 技术评审意见 +32wd (市数据管理部门)."""
        return "; ".join(f"{d.title} +{d.late}wd ({d.actor_name})" for d in self.late_duties)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["next_due_on"] = self.next_due_on.isoformat() if self.next_due_on else None
        data["duty"] = self.duty.as_dict() if self.duty else None
        data["late_duties"] = [d.as_dict() for d in self.late_duties]
        data["actor_name"] = self.actor_name
        data["duty_title"] = self.duty_title
        data["stage_shown"] = self.stage_shown
        return data


@dataclass
class Filters:
    """What to list. Words are as a person types them (`vocabulary` resolves them)."""

    jurisdiction: str | None = None
    stage: str | None = None
    owner: str | None = None
    actor: str | None = None
    overdue: bool = False
    due_within: int | None = None
    min_level: int | None = None
    provisional: bool = False
    include_finished: bool = False

    def resolved(self) -> tuple[frozenset[str] | None, frozenset[str] | None,
                                frozenset[str] | None]:
        """(policy ids, stage ids, actor ids) selected; None = not filtered. Raises
        `vocabulary.UnknownValue` for a word no pack knows."""
        return (vocabulary.resolve_jurisdiction(self.jurisdiction) if self.jurisdiction
                else None,
                vocabulary.resolve_stage(self.stage) if self.stage else None,
                vocabulary.resolve_actor(self.actor) if self.actor else None)


def _duty(o: dict[str, Any], late: int) -> Duty:
    return Duty(obligation_id=str(o["obligation_id"]), title=str(o["title"]),
                actor=str(o["actor"]), actor_name=str(o["actor_name"]), due_on=o["due_on"],
                late=late, provisional=bool(o["provisional"]))


def portfolio(today: date, calendar: WorkCalendar, f: Filters) -> list[PortfolioRow]:
    """Projects, soonest due first. With an actor filter, a project is listed when that body
    has a live duty in it, and its row's due day, lateness and duty are that body's."""
    policies, stages, actors = f.resolved()
    with reader().connect() as conn:
        project_rows = conn.execute(select(projects)).mappings().all()
        obligation_rows = conn.execute(
            select(obligations).where(
                obligations.c.state.in_(LIVE)
                | ((obligations.c.state == KNOWN_PENDING) & obligations.c.due_on.is_not(None)))
            .order_by(obligations.c.project_id, obligations.c.position)).mappings().all()
        d = notice_deliveries.c
        undelivered: dict[str, int] = {
            str(pid): int(n) for pid, n in conn.execute(
                select(d.project_id, func.count())
                .where(d.state.in_(("failed", "undeliverable"))).group_by(d.project_id)).all()}
    live: dict[str, list[dict[str, Any]]] = {}
    for ob in obligation_rows:
        if actors is None or ob["actor"] in actors:
            live.setdefault(str(ob["project_id"]), []).append(dict(ob))
    horizon = None
    if f.due_within is not None:
        horizon = calendar.add_working_days(today, f.due_within) if f.due_within > 0 else today
    out: list[PortfolioRow] = []
    for p in project_rows:
        obs = live.get(p["project_id"], [])
        if actors is not None and not obs:
            continue
        duties = [_duty(o, late_days(calendar, o["state"], o["due_on"], today)) for o in obs]
        late = sorted((d for d in duties if d.late > 0), key=lambda d: -d.late)
        upcoming = sorted((d for d, o in zip(duties, obs, strict=True)
                           if d.due_on is not None and o["state"] != "paused"),
                          key=lambda d: d.due_on or date.max)
        # A duty the text gives no time limit (玉山 throughout; 及时, 文中未规定) is still
        # someone's to do: the row names it when nothing is late or due.
        untimed = [d for d, o in zip(duties, obs, strict=True)
                   if d.due_on is None and o["state"] == "open"]
        next_due = p["next_due_on"]
        if actors is not None or upcoming:
            next_due = upcoming[0].due_on if upcoming else None
        row = PortfolioRow(
            project_id=p["project_id"], name=p["name"], policy=p["policy"],
            jurisdiction=p["jurisdiction"], owner=p["owner"], stage=p["stage"],
            stage_title=p["stage_title"], next_due_on=next_due,
            overdue=bool(late), overdue_working_days=late[0].late if late else 0,
            escalation_level=p["escalation_level"],
            provisional=any(d.provisional for d in duties), finished=p["finished"],
            late=[f"{d.obligation_id} +{d.late}wd" for d in late],
            duty=late[0] if late else (upcoming[0] if upcoming else
                                       (untimed[0] if untimed else None)),
            late_duties=late,
            undelivered=int(undelivered.get(p["project_id"], 0)),
            terminated=p["terminated"],
        )
        if row.finished and not f.include_finished:
            continue
        if policies is not None and row.policy not in policies:
            continue
        if stages is not None and row.stage not in stages:
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


# --- one project -----------------------------------------------------------------------------


@dataclass
class ProjectRecord:
    """A project's rows as stored: the project, its obligations in order, recent events and
    notices (newest first)."""

    project: dict[str, Any]
    obligations: list[dict[str, Any]]
    events: list[dict[str, Any]]
    notices: list[dict[str, Any]]


def project(project_id: str, recent: int = 30) -> ProjectRecord | None:
    """None when the read model has no such project."""
    with reader().connect() as conn:
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
    return ProjectRecord(project=dict(p), obligations=[dict(o) for o in obs],
                         events=[dict(e) for e in evs],
                         notices=[{k: v for k, v in dict(n).items() if k != "id"}
                                  | {"deliveries": deliveries.get(
                                      (n["workflow_id"], n["notice_key"]), [])}
                                  for n in notes])


# --- deadlines (the ICS feed) ------------------------------------------------------------------


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the workflows store UTC (`workflow.now()`)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def deadlines(project_ids: Sequence[str] = (), owner: str | None = None,
              jurisdiction: str | None = None, actor: str | None = None,
              include_done: bool = False) -> list[ics.Deadline]:
    """The selected obligations that have a due day, soonest first, with the warning rungs
    of their pack's ladder (the feed's alarms)."""
    policies = vocabulary.resolve_jurisdiction(jurisdiction) if jurisdiction else None
    actors = vocabulary.resolve_actor(actor) if actor else None
    states = set(ics.LIVE_STATES) | (set(ics.FINISHED_STATES) if include_done else set())
    stmt = (select(obligations, projects.c.name, projects.c.owner, projects.c.jurisdiction,
                   projects.c.policy, projects.c.as_of)
            .join(projects, projects.c.project_id == obligations.c.project_id)
            .where(obligations.c.due_on.is_not(None), obligations.c.state.in_(sorted(states)))
            .order_by(obligations.c.due_on, obligations.c.project_id, obligations.c.position))
    with reader().connect() as conn:
        if project_ids:
            known = set(conn.execute(select(projects.c.project_id).where(
                projects.c.project_id.in_(set(project_ids)))).scalars())
            missing = [pid for pid in dict.fromkeys(project_ids) if pid not in known]
            if missing:
                raise UserError(
                    f"no project {', '.join(missing)} in the read model; `shixian list --all` "
                    "shows the projects there (start one with `shixian start FILE`; a running "
                    "worker records it; check SHIXIAN_DATABASE_URL)")
            stmt = stmt.where(obligations.c.project_id.in_(set(project_ids)))
        rows = conn.execute(stmt).mappings().all()
    out = []
    for r in rows:
        if owner and owner not in r["owner"]:
            continue
        if policies is not None and r["policy"] not in policies:
            continue
        if actors is not None and r["actor"] not in actors:
            continue
        out.append(ics.Deadline(
            project_id=r["project_id"], project_name=r["name"], owner=r["owner"],
            jurisdiction=r["jurisdiction"], obligation_id=r["obligation_id"],
            title=r["title"], actor_name=r["actor_name"], state=r["state"],
            due_on=r["due_on"], provisional=bool(r["provisional"]),
            overdue_working_days=r["overdue_working_days"],
            escalation_level=r["escalation_level"], escalation_rung=r["escalation_rung"],
            citation=r["citation"], as_of=aware(r["as_of"]),
            warnings=ics.warning_rungs(ladder(r["policy"]))))
    return out


# --- statistics (统计分析) -----------------------------------------------------------------


def _escalation(policy: str, rung: str) -> bool:
    """A notice sent on or after the due day: any rung but one with a negative offset (预警);
    a consequence or breach notice (no ladder rung) counts as an escalation."""
    for r in ladder(policy):
        if r.name == rung:
            return not r.offset.startswith("-")
    return True


def statistics(period: str | None, today: date, calendar: WorkCalendar,
               jurisdiction: str | None = None, actor: str | None = None,
               ) -> statistics_model.Report:
    """The 统计分析 report for a period (`statistics.parse_period`; None: this month)."""
    span = (statistics_model.parse_period(period) if period
            else statistics_model.current_month(today))
    policies = vocabulary.resolve_jurisdiction(jurisdiction) if jurisdiction else None
    actors = vocabulary.resolve_actor(actor) if actor else None
    p = projects.c
    o = obligations.c
    n = notice_outbox.c
    with reader().connect() as conn:
        duty_rows = conn.execute(
            select(o.project_id, o.obligation_id, o.title, o.actor, o.actor_name, o.state,
                   o.starts_on, o.due_on, o.done_on, o.on_time, o.overdue_working_days,
                   o.limit_text, p.policy, p.jurisdiction)
            .join(projects, p.project_id == o.project_id)
            .where(o.state.notin_(("waived", "cancelled")))).mappings().all()
        notice_rows = conn.execute(
            select(n.project_id, n.obligation, n.rung, n.fired_at, p.policy, p.jurisdiction,
                   o.actor, o.actor_name)
            .join(projects, p.project_id == n.project_id)
            .outerjoin(obligations, (o.project_id == n.project_id)
                       & (o.obligation_id == n.obligation))).mappings().all()
    duties = [statistics_model.DutyOutcome(
        project_id=r["project_id"], policy=r["policy"], jurisdiction=r["jurisdiction"],
        obligation_id=r["obligation_id"], title=r["title"], actor=r["actor"],
        actor_name=r["actor_name"], state=r["state"], starts_on=r["starts_on"],
        due_on=r["due_on"], done_on=r["done_on"], on_time=r["on_time"],
        late_when_done=int(r["overdue_working_days"] or 0), limit_text=r["limit_text"])
        for r in duty_rows
        if (policies is None or r["policy"] in policies)
        and (actors is None or r["actor"] in actors)]
    sent = []
    for r in notice_rows:
        if policies is not None and r["policy"] not in policies:
            continue
        if actors is not None and r["actor"] not in actors:
            continue
        fired = aware(r["fired_at"])
        assert fired is not None
        sent.append(statistics_model.NoticeSent(
            project_id=r["project_id"], policy=r["policy"], jurisdiction=r["jurisdiction"],
            actor_name=r["actor_name"], rung=r["rung"], on=fired.astimezone(SHANGHAI).date(),
            escalation=_escalation(r["policy"], r["rung"])))
    out = statistics_model.report(span, today, calendar, duties, sent)
    out.jurisdiction_filter, out.actor_filter = jurisdiction, actor
    return out
