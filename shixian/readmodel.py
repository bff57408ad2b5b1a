"""Every query managers' views make of the read model, in one module.

`shixian list`, the dashboard, the ICS feed and `shixian up` read through here; commands only
parse arguments and print. Rows are as the workflows last reported them; working days late
are recounted for today on the calendar, so a view read between two wake-ups is still right.

Reading never creates a read model: a missing SQLite file is an error that names where it
was looked for and why (`shixian.config`), instead of an empty portfolio.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from activities.reader import ReadConnection, day, flag, moment, reading, sqlite_path
from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from shixian import config
from shixian.errors import UserError

if TYPE_CHECKING:
    from shixian import ics
    from shixian import statistics as statistics_model

# SQLAlchemy (the writers' and migrations' library, ~0.2 s to import) is imported only by
# the views that still query through it: one project's page and the statistics. The
# portfolio, the ICS feed and the counts read through `activities.reader` (issue #12).

LIVE = ("open", "overdue", "paused")
RUNNING = ("open", "overdue")  # live and counting: these can be late today
# A pending duty whose due day is already known (final acceptance, counted from the end of
# a trial run that has begun) is a deadline a manager must see in the list too.
KNOWN_PENDING = "pending"
# The duties whose due day is "next due" to a manager: those counting, and known pending
# ones; a paused duty's only when nothing else has one. The list, `status` and the
# dashboard's project page all pick by `next_due_day`.
NEXT_DUE_STATES = frozenset({*RUNNING, KNOWN_PENDING})


def next_due_day(duties: Iterable[tuple[str, date | None]], stored: date | None) -> date | None:
    """The next due day of (state, due day) pairs; `stored`, the workflow's own
    `next_due_on` (open, overdue and paused duties: ShixianNextDue), when none of them
    has one."""
    return min((due for state, due in duties if due is not None and state in NEXT_DUE_STATES),
               default=stored)


class ReadModelMissing(UserError):
    """No read model where the configuration points: say where and how to fix it."""


def sqlite_file(url: str) -> Path | None:
    path = sqlite_path(url)
    if path is not None or not url.startswith("sqlite"):
        return path
    from sqlalchemy import make_url  # an unusual SQLite URL (query string, escapes)

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(str(parsed.database))
    return None


def location() -> str:
    """The read model's location for messages (no password)."""
    url = config.database_url()
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _checked_url() -> str:
    """The read model's URL, refusing to create an SQLite file that is not there."""
    url = config.database_url()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise ReadModelMissing(
            f"no read model at {path} ({config.database_origin()}); run the "
            "command where `shixian up` or the worker keeps it (a directory with .shixian/), "
            "or set SHIXIAN_HOME or SHIXIAN_DATABASE_URL to it")
    return url


@contextmanager
def reader() -> Iterator[ReadConnection]:
    """A read connection (`activities.reader`), refusing to create a missing SQLite file."""
    with reading(_checked_url()) as conn:
        yield conn


def engine_reader() -> Any:
    """The SQLAlchemy engine, for the views that still query through it."""
    from activities.db import engine

    return engine(_checked_url())


def project_count() -> int:
    with reader() as conn:
        return int(conn.tuples("SELECT COUNT(*) FROM projects")[1][0][0])


def synced(project_id: str) -> bool:
    """Has the project's workflow reported to the read model at least once?"""
    from sqlalchemy import select

    from activities.db import engine, projects

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
        return {"obligation_id": self.obligation_id, "title": self.title, "actor": self.actor,
                "actor_name": self.actor_name,
                "due_on": self.due_on.isoformat() if self.due_on else None,
                "provisional": self.provisional, "overdue_working_days": self.late}


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
        """The row for `--json` and the dashboard's JSON (written out: `dataclasses.asdict`
        copies recursively, a third of the time at 10,000 projects)."""
        return {
            "project_id": self.project_id, "name": self.name, "policy": self.policy,
            "jurisdiction": self.jurisdiction, "owner": self.owner, "stage": self.stage,
            "stage_title": self.stage_title,
            "next_due_on": self.next_due_on.isoformat() if self.next_due_on else None,
            "overdue": self.overdue, "overdue_working_days": self.overdue_working_days,
            "escalation_level": self.escalation_level, "provisional": self.provisional,
            "finished": self.finished, "late": list(self.late),
            "duty": self.duty.as_dict() if self.duty else None,
            "late_duties": [d.as_dict() for d in self.late_duties],
            "undelivered": self.undelivered, "terminated": self.terminated,
            "actor_name": self.actor_name, "duty_title": self.duty_title,
            "stage_shown": self.stage_shown,
        }


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
        if not (self.jurisdiction or self.stage or self.actor):
            return None, None, None  # no words to resolve: the packs are not loaded
        from shixian import vocabulary

        return (vocabulary.resolve_jurisdiction(self.jurisdiction) if self.jurisdiction
                else None,
                vocabulary.resolve_stage(self.stage) if self.stage else None,
                vocabulary.resolve_actor(self.actor) if self.actor else None)


def _where(conn: ReadConnection, clauses: list[tuple[str, Sequence[object]]]
           ) -> tuple[str, list[object]]:
    """` WHERE a AND b` and its parameters from (clause, parameters) pairs."""
    if not clauses:
        return "", []
    params: list[object] = []
    for _, values in clauses:
        params += values
    return " WHERE " + " AND ".join(c for c, _ in clauses), params


def _in(conn: ReadConnection, column: str, values: frozenset[str]
        ) -> tuple[str, Sequence[object]]:
    ordered = sorted(values)
    if not ordered:
        return "1 = 0", []
    return f"{column} IN ({conn.markers(len(ordered))})", ordered


PROJECT_COLUMNS = ("project_id, name, policy, jurisdiction, owner, stage, stage_title, "
                   "next_due_on, escalation_level, finished, terminated")
OBLIGATION_COLUMNS = ("o.project_id, o.obligation_id, o.title, o.actor, o.actor_name, "
                      "o.state, o.due_on, o.provisional")


def portfolio(today: date, calendar: WorkCalendar | Callable[[], WorkCalendar],
              f: Filters) -> list[PortfolioRow]:
    """Projects, soonest due first. With an actor filter, a project is listed when that body
    has a live duty in it, and its row's due day, lateness and duty are that body's.

    The filters on stored columns (finished, jurisdiction, stage) are the queries' own; the
    rest need today's recount. Working days late are counted once per distinct due day.
    `calendar` may be a function giving it, called only if a count needs it (`shixian
    list` over an empty read model loads no calendar)."""
    cal: Callable[[], WorkCalendar] = (functools.cache(calendar) if callable(calendar)
                                       else lambda: calendar)
    policies, stages, actors = f.resolved()
    with reader() as conn:
        where: list[tuple[str, Sequence[object]]] = []
        if not f.include_finished:
            where.append(("NOT p.finished", ()))
        if policies is not None:
            where.append(_in(conn, "p.policy", policies))
        if stages is not None:
            where.append(_in(conn, "p.stage", stages))
        project_where, project_params = _where(conn, where)
        _, project_rows = conn.tuples(
            f"SELECT {', '.join('p.' + c for c in PROJECT_COLUMNS.split(', '))} "
            f"FROM projects p{project_where}", project_params)
        live: list[tuple[str, Sequence[object]]] = [("(o.state IN ('open', 'overdue', 'paused') "
                 "OR (o.state = 'pending' AND o.due_on IS NOT NULL))", ())]
        if actors is not None:
            live.append(_in(conn, "o.actor", actors))
        ob_where, ob_params = _where(conn, [*live, *where])
        # No ORDER BY: sorting in SQL walks the primary key and reads the table at random
        # (4× the time of a scan at 10,000 projects); Python sorts the few live rows.
        _, obligation_rows = conn.tuples(
            f"SELECT {OBLIGATION_COLUMNS}, o.position FROM obligations o JOIN projects p "
            f"ON p.project_id = o.project_id{ob_where}", ob_params)
        obligation_rows.sort(key=lambda o: (o[0], o[8]))
        _, lost = conn.tuples(
            "SELECT project_id, COUNT(*) FROM notice_deliveries "
            "WHERE state IN ('failed', 'undeliverable') GROUP BY project_id")
    undelivered = {str(pid): int(n) for pid, n in lost}
    live_by_project: dict[str, list[tuple[Any, ...]]] = {}
    for ob in obligation_rows:
        live_by_project.setdefault(ob[0], []).append(ob)
    horizon = None
    if f.due_within is not None:
        horizon = cal().add_working_days(today, f.due_within) if f.due_within > 0 else today
    late_on: dict[date, int] = {}  # due day → working days late today

    def late_for(state: str, due: date | None) -> int:
        if state not in RUNNING or due is None or today <= due:
            return 0
        if due not in late_on:
            late_on[due] = late_days(cal(), state, due, today)
        return late_on[due]

    def duty(o: tuple[Any, ...], due: date | None, late: int) -> Duty:
        return Duty(obligation_id=str(o[1]), title=str(o[2]), actor=str(o[3]),
                    actor_name=str(o[4]), due_on=due, late=late, provisional=flag(o[7]))

    out: list[PortfolioRow] = []
    for (project_id, name, policy, jurisdiction, owner, stage, stage_title, next_due_on,
         escalation_level, finished, terminated) in project_rows:
        obs = live_by_project.get(project_id, ())
        if actors is not None and not obs:
            continue
        late: list[Duty] = []
        first_up: tuple[tuple[Any, ...], date] | None = None  # soonest due, not paused
        untimed: tuple[Any, ...] | None = None  # the first open duty with no due day
        provisional = False
        for o in obs:
            state, due = o[5], day(o[6])
            provisional = provisional or flag(o[7])
            n = late_for(state, due)
            if n > 0:
                late.append(duty(o, due, n))
            if due is not None:
                if state in NEXT_DUE_STATES and (first_up is None or due < first_up[1]):
                    first_up = (o, due)
            elif state == "open" and untimed is None:
                untimed = o
        late.sort(key=lambda d: -d.late)  # stable: position order among equals
        next_due = day(next_due_on)
        if actors is not None or first_up is not None:
            next_due = first_up[1] if first_up is not None else None
        chase: Duty | None = None
        if late:
            chase = late[0]
        elif first_up is not None:
            chase = duty(first_up[0], first_up[1], late_for(first_up[0][5], first_up[1]))
        elif untimed is not None:
            chase = duty(untimed, None, 0)
        row = PortfolioRow(
            project_id=project_id, name=name, policy=policy, jurisdiction=jurisdiction,
            owner=owner, stage=stage, stage_title=stage_title, next_due_on=next_due,
            overdue=bool(late), overdue_working_days=late[0].late if late else 0,
            escalation_level=int(escalation_level), provisional=provisional,
            finished=flag(finished), late=[f"{d.obligation_id} +{d.late}wd" for d in late],
            duty=chase, late_duties=late, undelivered=undelivered.get(project_id, 0),
            terminated=terminated,
        )
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


@dataclass
class Choices:
    """Every value a filter menu offers: those of the projects listed without filters."""

    jurisdictions: list[str]
    stages: list[tuple[str, str]]
    owners: list[str]
    policies: list[str]


def portfolio_choices(include_finished: bool = False) -> Choices:
    """What `portfolio(Filters(include_finished=…))` rows hold, by one DISTINCT query
    instead of building every row (the dashboard's menus)."""
    with reader() as conn:
        _, rows = conn.tuples(
            "SELECT DISTINCT jurisdiction, stage, stage_title, owner, policy FROM projects"
            + ("" if include_finished else " WHERE NOT finished"))
    return Choices(jurisdictions=sorted({r[0] for r in rows}),
                   stages=sorted({(r[1], r[2]) for r in rows}),
                   owners=sorted({r[3] for r in rows}), policies=sorted({r[4] for r in rows}))


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
    from sqlalchemy import select

    from activities.db import events, notice_deliveries, notice_outbox, obligations, projects

    with engine_reader().connect() as conn:
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
    from shixian import ics, pack_facts

    policies = actors = None
    if jurisdiction or actor:  # words to resolve: the packs are loaded for them
        from shixian import vocabulary

        policies = vocabulary.resolve_jurisdiction(jurisdiction) if jurisdiction else None
        actors = vocabulary.resolve_actor(actor) if actor else None
    states = frozenset(ics.LIVE_STATES) | (ics.FINISHED_STATES if include_done else frozenset())
    with reader() as conn:
        where: list[tuple[str, Sequence[object]]] = [("o.due_on IS NOT NULL", ()),
                                                      _in(conn, "o.state", states)]
        if policies is not None:
            where.append(_in(conn, "p.policy", policies))
        if actors is not None:
            where.append(_in(conn, "o.actor", actors))
        if project_ids:
            wanted = frozenset(project_ids)
            in_clause, params = _in(conn, "project_id", wanted)
            _, found = conn.tuples(f"SELECT project_id FROM projects WHERE {in_clause}", params)
            known = {r[0] for r in found}
            missing = [pid for pid in dict.fromkeys(project_ids) if pid not in known]
            if missing:
                raise UserError(
                    f"no project {', '.join(missing)} in the read model; `shixian list --all` "
                    "shows the projects there (start one with `shixian start FILE`; a running "
                    "worker records it; check SHIXIAN_DATABASE_URL)")
            where.append(_in(conn, "o.project_id", wanted))
        clause, params = _where(conn, where)
        _, rows = conn.tuples(
            "SELECT o.project_id, p.name, p.owner, p.jurisdiction, o.obligation_id, o.title, "
            "o.actor_name, o.state, o.due_on, o.provisional, o.overdue_working_days, "
            "o.escalation_level, o.escalation_rung, o.citation, p.as_of, p.policy, "
            "o.position FROM obligations o JOIN projects p ON p.project_id = o.project_id"
            f"{clause}", params)  # sorted below, like `portfolio`'s
    # soonest first, then by project and the duty's place in it
    rows.sort(key=lambda r: (day(r[8]) or date.max, r[0], r[16]))
    warnings: dict[str, tuple[Any, ...]] = {}
    out = []
    for (project_id, name, project_owner, place, obligation_id, title, actor_name, state,
         due_on, provisional, late, level, rung, citation, as_of, policy, _) in rows:
        if owner and owner not in project_owner:
            continue
        if policy not in warnings:
            warnings[policy] = pack_facts.warnings(policy)
        due = day(due_on)
        assert due is not None
        out.append(ics.Deadline(
            project_id=project_id, project_name=name, owner=project_owner,
            jurisdiction=place, obligation_id=obligation_id, title=title,
            actor_name=actor_name, state=state, due_on=due, provisional=flag(provisional),
            overdue_working_days=int(late), escalation_level=int(level),
            escalation_rung=rung, citation=citation, as_of=moment(as_of),
            warnings=warnings[policy]))
    return out


# --- statistics (统计分析) -----------------------------------------------------------------


def _escalation(policy: str, rung: str) -> bool:
    """A notice sent on or after the due day: any rung but one with a negative offset (预警);
    a consequence or breach notice (no ladder rung) counts as an escalation."""
    from shixian.ladder import ladder

    for r in ladder(policy):
        if r.name == rung:
            return not r.offset.startswith("-")
    return True


def statistics(period: str | None, today: date, calendar: WorkCalendar,
               jurisdiction: str | None = None, actor: str | None = None,
               ) -> statistics_model.Report:
    """The 统计分析 report for a period (`statistics.parse_period`; None: this month)."""
    from sqlalchemy import select

    from activities.db import notice_outbox, obligations, projects
    from calendars.periods import SHANGHAI
    from shixian import statistics as statistics_model

    span = (statistics_model.parse_period(period) if period
            else statistics_model.current_month(today))
    from shixian import vocabulary

    policies = vocabulary.resolve_jurisdiction(jurisdiction) if jurisdiction else None
    actors = vocabulary.resolve_actor(actor) if actor else None
    p = projects.c
    o = obligations.c
    n = notice_outbox.c
    with engine_reader().connect() as conn:
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
