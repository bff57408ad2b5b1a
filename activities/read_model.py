"""`record_changes` (in `record_wake`; `record_status`): keep the read model's rows for
one project in step with its workflow.

Idempotent and monotonic: each update carries the workflow's sequence number, an update
not newer than what is stored changes nothing (a retried or replayed activity never
duplicates or reorders rows), and events are keyed by their own sequence numbers.

`record_changes` takes only what changed (issue #12: a full status was up to 13 KB of
history per wake); `record_status` keeps taking the whole status, for runs started before
it and activities scheduled by them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, delete, insert, select, update
from temporalio import activity

from activities.db import engine, events, obligations, projects
from workflows.models import EventRecord, ObligationState, ObligationView, StatusView


@dataclass
class ReadModelUpdate:
    workflow_id: str
    seq: int
    investment_wan: float
    status: StatusView
    new_events: list[EventRecord]


def terminated(new_events: list[EventRecord]) -> str | None:
    """"<date>: <reason>" from a `terminated` event among these, else None (kept as stored:
    the event is reported once, later updates leave the column alone)."""
    for e in new_events:
        if e.kind == "terminated":
            return f"{e.on}: {e.text}"
    return None


def apply_update(conn: Connection, u: ReadModelUpdate) -> bool:
    pid = u.status.project_id
    stored = conn.execute(select(projects.c.seq).where(projects.c.project_id == pid)
                          .with_for_update()).scalar_one_or_none()
    if stored is not None and stored >= u.seq:
        return False
    _upsert_project(conn, stored, project_row(u.status, u.investment_wan), u.workflow_id,
                    u.seq, u.new_events)
    conn.execute(delete(obligations).where(obligations.c.project_id == pid))
    rows = [{**dataclasses.asdict(obligation_row(o)), "project_id": pid, "position": i}
            for i, o in enumerate(u.status.obligations)]
    if rows:
        conn.execute(insert(obligations), rows)
    _insert_events(conn, pid, u.new_events)
    return True


def _insert_events(conn: Connection, pid: str, new_events: list[EventRecord]) -> None:
    """Events newer than the project's last stored one (each keeps its own seq)."""
    last_event = conn.execute(select(events.c.seq).where(events.c.project_id == pid)
                              .order_by(events.c.seq.desc()).limit(1)).scalar_one_or_none()
    fresh = [{"project_id": pid, "seq": e.seq, "at": e.at, "business_date": e.on,
              "kind": e.kind, "text": e.text, "data": e.data}
             for e in new_events if last_event is None or e.seq > last_event]
    if fresh:
        conn.execute(insert(events), fresh)


@activity.defn
def record_status(u: ReadModelUpdate) -> bool:
    """True when the rows changed; False when this update (or a newer one) was already in."""
    with engine().begin() as conn:
        return apply_update(conn, u)


# ---- the delta form (`record_changes`, runs started with `wake_in_one_task`) --------------

APPLIED = "applied"  # the rows are in
STALE = "stale"  # this update or a newer one was already in: nothing changed, nothing lost
NEEDS_FULL = "needs_full"  # no row for the project (a rebuilt read model): send everything


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """The project's own row, as stored (`projects`), without its sequence number."""

    project_id: str
    name: str
    policy: str
    jurisdiction: str
    owner: str
    investment_wan: float
    stage: str
    stage_title: str
    next_due_on: date | None
    overdue: bool
    escalation_level: int
    provisional: bool
    finished: bool
    business_date: date
    as_of: datetime


@dataclass(frozen=True, slots=True)
class ObligationRow:
    """One duty's row as stored (`obligations`); its position is its place in the id list."""

    obligation_id: str
    rule: str
    title: str
    actor: str
    actor_name: str
    state: str
    starts_on: date | None
    opens_on: date | None
    due_on: date | None
    due_at: datetime | None
    provisional: bool
    overdue_working_days: int
    escalation_level: int
    escalation_rung: str | None
    citation: str
    done_on: date | None
    limit_text: str | None
    on_time: bool | None


@dataclass
class ReadModelChanges:
    """What changed since the last update the workflow saw acknowledged.

    `obligation_ids` is every duty in order (rows not in it are deleted, positions follow
    it); `changed` holds only the rows that differ from the acknowledged base or were in an
    update still unacknowledged, so an update includes everything of the ones before it and
    "apply only if seq is newer" stays right when two are in flight or arrive out of order.
    `full`: every row is in `changed` (the first update of a run, or after NEEDS_FULL)."""

    workflow_id: str
    seq: int
    full: bool
    project: ProjectRow
    obligation_ids: list[str]
    changed: list[ObligationRow]
    new_events: list[EventRecord]


def obligation_row(o: ObligationView) -> ObligationRow:
    return ObligationRow(
        obligation_id=o.id, rule=o.rule, title=o.title, actor=o.actor,
        actor_name=o.actor_name, state=o.state.value, starts_on=o.starts_on,
        opens_on=o.opens_on, due_on=o.due_on, due_at=o.due_at, provisional=o.provisional,
        overdue_working_days=o.overdue_working_days, escalation_level=o.escalation_level,
        escalation_rung=o.escalation_rung, citation=o.citation, done_on=o.done_on,
        limit_text=o.limit, on_time=o.on_time)


def project_row(s: StatusView, investment_wan: float) -> ProjectRow:
    live = (ObligationState.OPEN, ObligationState.OVERDUE, ObligationState.PAUSED)
    return ProjectRow(
        project_id=s.project_id, name=s.name, policy=s.policy, jurisdiction=s.jurisdiction,
        owner=s.owner, investment_wan=investment_wan, stage=s.stage,
        stage_title=s.stage_title, next_due_on=s.next_due_on, overdue=s.overdue,
        escalation_level=s.escalation_level,
        provisional=any(o.provisional for o in s.obligations if o.state in live),
        finished=s.finished, business_date=s.today, as_of=s.as_of)


def _upsert_project(conn: Connection, stored: int | None, project: ProjectRow,
                    workflow_id: str, seq: int, new_events: list[EventRecord]) -> None:
    """The project's row at `seq` (`stored`: the seq it had, None when it had no row); a
    termination among the new events is kept in its column."""
    row: dict[str, object] = {**dataclasses.asdict(project), "workflow_id": workflow_id,
                              "seq": seq}
    ended = terminated(new_events)
    if ended is not None:
        row["terminated"] = ended
    if stored is None:
        conn.execute(insert(projects).values(**row))
    else:
        conn.execute(update(projects).where(projects.c.project_id == project.project_id)
                     .values(**row))


def apply_changes(conn: Connection, c: ReadModelChanges) -> str:
    pid = c.project.project_id
    stored = conn.execute(select(projects.c.seq).where(projects.c.project_id == pid)
                          .with_for_update()).scalar_one_or_none()
    if stored is None and not c.full:
        return NEEDS_FULL
    if stored is not None and stored >= c.seq:
        return STALE
    _upsert_project(conn, stored, c.project, c.workflow_id, c.seq, c.new_events)
    position = {oid: i for i, oid in enumerate(c.obligation_ids)}
    changed = {r.obligation_id for r in c.changed}
    if c.full:
        conn.execute(delete(obligations).where(obligations.c.project_id == pid))
    else:
        held: dict[str, int] = {oid: at for oid, at in conn.execute(
            select(obligations.c.obligation_id, obligations.c.position)
            .where(obligations.c.project_id == pid))}
        gone = [oid for oid in held if oid not in position or oid in changed]
        for chunk in range(0, len(gone), 500):
            conn.execute(delete(obligations).where(
                obligations.c.project_id == pid,
                obligations.c.obligation_id.in_(gone[chunk:chunk + 500])))
        for oid, at in held.items():
            if oid in position and oid not in changed and position[oid] != at:
                conn.execute(update(obligations).where(
                    obligations.c.project_id == pid, obligations.c.obligation_id == oid)
                    .values(position=position[oid]))
    rows = [{**dataclasses.asdict(r), "project_id": pid, "position": position[r.obligation_id]}
            for r in c.changed if r.obligation_id in position]
    if rows:
        conn.execute(insert(obligations), rows)
    _insert_events(conn, pid, c.new_events)
    return APPLIED


def record_changes(c: ReadModelChanges) -> str:
    """APPLIED, STALE (this or a newer update was already in) or NEEDS_FULL (the project
    has no row: the workflow sends a full update)."""
    with engine().begin() as conn:
        return apply_changes(conn, c)
