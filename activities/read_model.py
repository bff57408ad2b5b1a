"""`record_status`: keep the read model's rows for one project in step with its workflow.

Idempotent and monotonic: each update carries the workflow's sequence number, an update
not newer than what is stored changes nothing (a retried or replayed activity never
duplicates or reorders rows), and events are keyed by their own sequence numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _project_row(u: ReadModelUpdate) -> dict[str, object]:
    s = u.status
    live = [o for o in s.obligations if o.state in (ObligationState.OPEN,
                                                   ObligationState.OVERDUE,
                                                   ObligationState.PAUSED)]
    return {
        "project_id": s.project_id, "workflow_id": u.workflow_id, "name": s.name,
        "policy": s.policy, "jurisdiction": s.jurisdiction, "owner": s.owner,
        "investment_wan": u.investment_wan, "stage": s.stage, "stage_title": s.stage_title,
        "next_due_on": s.next_due_on, "overdue": s.overdue,
        "escalation_level": s.escalation_level,
        "provisional": any(o.provisional for o in live), "finished": s.finished,
        "business_date": s.today, "seq": u.seq, "as_of": s.as_of,
    }


def _obligation_row(project_id: str, position: int, o: ObligationView) -> dict[str, object]:
    return {
        "project_id": project_id, "obligation_id": o.id, "position": position,
        "rule": o.rule, "title": o.title, "actor": o.actor, "actor_name": o.actor_name,
        "state": o.state.value, "starts_on": o.starts_on, "opens_on": o.opens_on,
        "due_on": o.due_on, "due_at": o.due_at, "provisional": o.provisional,
        "overdue_working_days": o.overdue_working_days,
        "escalation_level": o.escalation_level, "escalation_rung": o.escalation_rung,
        "citation": o.citation, "done_on": o.done_on,
        "limit_text": o.limit, "on_time": o.on_time,
    }


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
    row = _project_row(u)
    ended = terminated(u.new_events)
    if ended is not None:
        row["terminated"] = ended
    if stored is None:
        conn.execute(insert(projects).values(**row))
    else:
        conn.execute(update(projects).where(projects.c.project_id == pid).values(**row))
    conn.execute(delete(obligations).where(obligations.c.project_id == pid))
    rows = [_obligation_row(pid, i, o) for i, o in enumerate(u.status.obligations)]
    if rows:
        conn.execute(insert(obligations), rows)
    last_event = conn.execute(select(events.c.seq).where(events.c.project_id == pid)
                              .order_by(events.c.seq.desc()).limit(1)).scalar_one_or_none()
    fresh = [{"project_id": pid, "seq": e.seq, "at": e.at, "business_date": e.on,
              "kind": e.kind, "text": e.text, "data": e.data}
             for e in u.new_events if last_event is None or e.seq > last_event]
    if fresh:
        conn.execute(insert(events), fresh)
    return True


@activity.defn
def record_status(u: ReadModelUpdate) -> bool:
    """True when the rows changed; False when this update (or a newer one) was already in."""
    with engine().begin() as conn:
        return apply_update(conn, u)
