"""Issue #12: a wake in one workflow task, and read-model updates that carry what changed.

Runs started with `wake_in_one_task` schedule their notices and their read-model update
(one `record_wake`) in the task that sets their timer, and the update (`record_changes`)
carries only the rows that changed since the last acknowledged one. These tests pin
that the read model still ends up equal to what a full update writes — through a whole
life, out of order, after duplicates, after the read model lost the project — and that
the old full form applies.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.db import engine, events, notice_outbox, obligations, projects
from activities.notices import NoticeInput, write_outbox
from activities.read_model import (
    APPLIED,
    NEEDS_FULL,
    STALE,
    ReadModelChanges,
    ReadModelUpdate,
    obligation_row,
    project_row,
    record_changes,
    record_status,
)
from activities.wake import WakeInput, WakeResult
from calendars import WorkCalendar
from policies.loader import load_pack
from shixian.compression import inflate
from shixian.worker_runtime import WORKFLOWS
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import SMALL_BUILD, doc, project
from tests.language_packs import calendar as lang_calendar
from tests.language_packs import pack
from tests.language_packs import project as lang_project
from tests.lifecycle_helpers import (
    arrive,
    business_today,
    half_as_late_again,
    lifecycle_input,
    start,
)
from tests.test_language_time_skipping import HISTORY, backfill_pack, wait_until, withdrawn
from workflows import search_attributes as sa
from workflows.ledger import Ledger, business_date
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import LedgerState, LifecycleInput, NoticeKind, StatusView

NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
SKIP = {"seq", "as_of", "business_date", "workflow_id", "terminated"}


def stored(pid: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[int]]:
    """The project's rows as the read model holds them (positions in order)."""
    with engine().connect() as conn:
        p = conn.execute(select(projects).where(projects.c.project_id == pid)).one()
        o = conn.execute(select(obligations).where(obligations.c.project_id == pid)
                         .order_by(obligations.c.position)).all()
        e = conn.execute(select(events.c.seq).where(events.c.project_id == pid)
                         .order_by(events.c.seq)).scalars().all()
    project_ = {k: v for k, v in p._mapping.items() if k not in SKIP}
    rows = [{k: v for k, v in r._mapping.items() if k != "project_id"} for r in o]
    for i, r in enumerate(rows):
        assert r.pop("position") == i, "positions follow the order of the duties"
    return project_, rows, list(e)


def expected(status: StatusView, investment_wan: float) -> tuple[dict[str, Any],
                                                                 list[dict[str, Any]]]:
    """What a full update of this status stores."""
    p = dataclasses.asdict(project_row(status, investment_wan))
    return ({k: v for k, v in p.items() if k not in SKIP},
            [dataclasses.asdict(obligation_row(o)) for o in status.obligations])


def _naive(rows: Any) -> Any:
    """SQLite hands datetimes back as Beijing wall time without their zone."""
    if isinstance(rows, dict):
        return {k: _naive(v) for k, v in rows.items()}
    if isinstance(rows, list):
        return [_naive(v) for v in rows]
    if isinstance(rows, datetime):
        return rows if rows.tzinfo is None else rows.astimezone(BEIJING).replace(tzinfo=None)
    return rows


def assert_same(pid: str, status: StatusView, investment_wan: float) -> None:
    got_p, got_o, got_e = stored(pid)
    want_p, want_o = expected(status, investment_wan)
    assert _naive(got_p) == _naive(want_p)
    assert _naive(got_o) == _naive(want_o)
    assert got_e == [e.seq for e in status.events]


# ---- the activity on its own (a real database, no Temporal) ---------------------------------

def status_of(pid: str, documents: list[Any]) -> StatusView:
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
    led = Ledger(project(pid, investment_wan=800, started_on=date(2025, 3, 3)),
                 load_pack("jiujiang-2024"), cal, LedgerState())
    for d in documents:
        led.add_document(d, NOW)
    return led.status(NOW)


def changes(status: StatusView, seq: int, base: StatusView | None,
            carried: frozenset[str] = frozenset()) -> ReadModelChanges:
    """What the workflow sends: rows differing from `base` (None: all) or `carried`."""
    rows = [obligation_row(o) for o in status.obligations]
    old = {} if base is None else {o.id: obligation_row(o) for o in base.obligations}
    return ReadModelChanges(
        workflow_id=f"project-{status.project_id}", seq=seq, full=base is None,
        project=project_row(status, 800), obligation_ids=[r.obligation_id for r in rows],
        changed=[r for r in rows if base is None or r.obligation_id in carried
                 or old.get(r.obligation_id) != r],
        new_events=status.events)


STEPS = [[doc("fsr_submitted", "2025-03-20")],
         [doc("fsr_submitted", "2025-03-20"), doc("fsr_tech_review_issued", "2025-04-03")],
         [doc("fsr_submitted", "2025-03-20"), doc("fsr_tech_review_issued", "2025-04-03"),
          doc("budget_submitted", "2025-04-10")]]


def test_a_delta_carries_only_the_changed_rows_and_keeps_the_rows_equal_to_a_full_update(
) -> None:
    a, b = status_of("JJT-CH1", STEPS[0]), status_of("JJT-CH1", STEPS[1])
    assert record_changes(changes(a, 1, None)) == APPLIED
    delta = changes(b, 2, a)
    assert 0 < len(delta.changed) < len(b.obligations)
    assert record_changes(delta) == APPLIED
    assert_same("JJT-CH1", b, 800)


def test_deltas_out_of_order_or_repeated_leave_the_newest() -> None:
    """Two updates in flight, both against the acknowledged base: the second carries the
    first's rows too, so whichever arrives first, the newest content stays."""
    a, b, c = (status_of("JJT-CH2", s) for s in STEPS)
    # c undoes one change b made: c must still carry that row (it was in b, unacknowledged)
    first = c.obligations[0]
    b.obligations[0] = first.model_copy(update={"title": first.title + "（改）"})
    assert record_changes(changes(a, 1, None)) == APPLIED
    second = changes(b, 2, a)
    third = changes(c, 3, a, carried=frozenset(r.obligation_id for r in second.changed))
    assert first.id in {r.obligation_id for r in third.changed}
    assert record_changes(third) == APPLIED
    assert record_changes(second) == STALE  # late, older: nothing changes
    assert record_changes(third) == STALE  # a retry after a lost reply
    assert_same("JJT-CH2", c, 800)
    # in order, the same end; without carrying b's rows, c would leave b's title behind
    a3, b3, c3 = (status_of("JJT-CH3", s) for s in STEPS)
    b3.obligations[0] = b3.obligations[0].model_copy(update={"title": "（改）"})
    assert record_changes(changes(a3, 1, None)) == APPLIED
    second3 = changes(b3, 2, a3)
    assert record_changes(second3) == APPLIED
    careless = changes(c3, 3, a3)
    assert c3.obligations[0].id not in {r.obligation_id for r in careless.changed}
    assert record_changes(changes(c3, 3, a3, frozenset(
        r.obligation_id for r in second3.changed))) == APPLIED
    assert_same("JJT-CH3", c3, 800)


def test_a_delta_for_a_project_the_read_model_lost_asks_for_a_full_update() -> None:
    a, b = status_of("JJT-CH4", STEPS[0]), status_of("JJT-CH4", STEPS[1])
    assert record_changes(changes(b, 7, a)) == NEEDS_FULL
    with engine().connect() as conn:
        assert conn.execute(select(projects).where(projects.c.project_id == "JJT-CH4")
                            ).first() is None
    assert record_changes(changes(b, 8, None)) == APPLIED
    assert_same("JJT-CH4", b, 800)


def test_the_old_full_form_still_applies_and_a_delta_follows_it() -> None:
    """Runs started before `record_changes` (and their activities in flight at a deploy)
    keep sending the whole status to `record_status`."""
    a, b = status_of("JJT-CH5", STEPS[0]), status_of("JJT-CH5", STEPS[2])
    old = ReadModelUpdate(workflow_id="project-JJT-CH5", seq=1, investment_wan=800,
                          status=a.model_copy(update={"events": [], "notices": [],
                                                      "documents": []}),
                          new_events=a.events)
    assert record_status(old) is True
    assert_same("JJT-CH5", a, 800)
    assert record_changes(changes(b, 2, a)) == APPLIED
    assert_same("JJT-CH5", b, 800)


# ---- the workflow: a whole life on the time-skipping server -------------------------------

async def settled(handle: WorkflowHandle[Any, Any]) -> StatusView:
    """Once the last workflow task is done and every activity it scheduled has completed:
    the status then."""
    resting = {EventType.EVENT_TYPE_TIMER_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
               EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED}
    for _ in range(600):
        history = (await handle.fetch_history()).events
        scheduled = sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                        for e in history)
        completed = sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                        for e in history)
        if scheduled and scheduled == completed and history[-1].event_type in resting:
            status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
            return status
        await asyncio.sleep(0.1)
    raise AssertionError("activities still in flight after 60 s")


async def test_deltas_keep_the_read_model_equal_to_full_updates_through_a_life(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """SMALL_BUILD's documents arriving one by one over its life (some late, so duties
    escalate), the read model checked against the status after each, and at the end."""
    env = time_skipping_env
    queue = new_queue()
    first = SMALL_BUILD.project.started_on
    t0 = business_today(await env.get_current_time())
    proj = SMALL_BUILD.project.model_copy(update={"id": "JJT-DELTA", "started_on": t0,
                                                  "documents": []})
    inv = proj.investment_wan
    async with running_worker(env.client, queue):
        handle = await start(env.client, proj, queue)
        assert_same("JJT-DELTA", await settled(handle), inv)
        for d in half_as_late_again(SMALL_BUILD.documents, first, t0):
            await arrive(env, handle, d)
            assert_same("JJT-DELTA", await settled(handle), inv)
        final: StatusView = await handle.result()  # the last document ends the life
        assert final.finished
        assert_same("JJT-DELTA", final, inv)
        history = (await handle.fetch_history()).events
    inputs = [e.activity_task_scheduled_event_attributes for e in history
              if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
              and e.activity_task_scheduled_event_attributes.activity_type.name
              == "record_wake"]
    assert len(inputs) > 5
    data = [inflate(a.input.payloads[0]).data for a in inputs]
    sizes = [len(d) for d in data if b'"notices":[]' in d]  # updates without notices
    assert max(sizes[1:]) < sizes[0] / 2, "later updates carry only what changed"
    # The search attributes: the first upsert sets all seven, later ones only what changed,
    # and folded in order they give what the final status shows.
    upserts = upserted(history)
    assert len(upserts) > 3 and set(upserts[0]) == {k.name for k in sa.ALL}
    later = [sorted(u) for u in upserts[1:]]
    assert all(u and "ShixianJurisdiction" not in u and "ShixianOwner" not in u
               for u in later), later
    assert min(map(len, later)) == 1, later
    folded = {k: v for u in upserts for k, v in u.items()}
    assert folded["ShixianStage"] == final.stage
    assert folded["ShixianOverdue"] is final.overdue
    assert folded["ShixianEscalationLevel"] == final.escalation_level
    assert folded["ShixianNextDue"] is None and final.next_due_on is None


def upserted(history: list[Any]) -> list[dict[str, Any]]:
    """Each search-attribute upsert of a history: name → value (None: unset)."""
    out = []
    for e in history:
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes
            out.append({k: json.loads(v.data) if v.data else None
                        for k, v in fields.indexed_fields.items()})
    return out


# ---- the first workflow task on the dev server -----------------------------------------------

def _overdue_input(pid: str, now: datetime) -> LifecycleInput:
    """A 九江 project whose plan came in some days ago: a duty near or past its due day (a
    notice at the first wake) with a next rung to come (a timer). How many days ago depends
    on the holidays around today, so it is found with the ledger."""
    today = business_date(now)
    for days in range(5, 90):
        began = today - timedelta(days=days)
        proj = SMALL_BUILD.project.model_copy(update={
            "id": pid, "started_on": began,
            "documents": [doc("tech_plan_submitted", began.isoformat())]})
        inp = lifecycle_input(proj)
        led = Ledger(inp.project, inp.pack, WorkCalendar.from_snapshot(inp.calendar),
                     LedgerState(calendar=inp.calendar))
        for d in proj.documents:
            led.add_document(d, now)
        if led.escalate(now) and led.next_wake(now) is not None:
            return inp
    raise AssertionError("no start day gives a notice and a timer")


async def test_the_first_task_sets_the_timer_with_notices_and_update_scheduled(
    dev_env: WorkflowEnvironment,
) -> None:
    """≤ 8 events until the first timer (a bare workflow: 5): started, one workflow task,
    one record_wake (notices and read-model update) scheduled, the timer. Then it
    completes: the notices are delivered and the read model is complete — also after the
    read model lost the project."""
    queue = new_queue()
    now = await dev_env.get_current_time()
    today = business_date(now)
    inp = _overdue_input("WAKE-1", now)
    async with running_worker(dev_env.client, queue):
        handle = await dev_env.client.start_workflow(
            ProjectLifecycleWorkflow.run, inp, id="project-WAKE-1", task_queue=queue)
        status = await settled(handle)
        history = (await handle.fetch_history()).events
        timer = next((k for k, e in enumerate(history)
                      if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED), None)
        assert timer is not None, str([int(e.event_type) for e in history])
        kinds = [e.event_type for e in history[:timer + 1]]
        assert len(kinds) <= 8, kinds
        assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1
        assert kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1
        assert status.notices and all(n.delivered for n in status.notices)
        assert_same("WAKE-1", status, SMALL_BUILD.project.investment_wan)
        # The read model loses the project; the next change brings it back whole.
        with engine().begin() as conn:
            for table in (obligations, events, projects):
                conn.execute(delete(table).where(table.c.project_id == "WAKE-1"))
        await handle.signal("document_arrived", doc("fsr_tech_review_issued", today.isoformat()))
        for _ in range(600):
            status = await settled(handle)
            with engine().connect() as conn:
                back = conn.execute(select(projects.c.seq).where(
                    projects.c.project_id == "WAKE-1")).scalar_one_or_none()
            if back is not None:
                break
            await asyncio.sleep(0.1)
        assert_same("WAKE-1", status, SMALL_BUILD.project.investment_wan)
        await handle.terminate("test over")



# ---- documents while a record_wake is in flight ----------------------------------------------

HELD = threading.Event()
HELD.set()


@activity.defn(name="record_wake")
async def held_record_wake(inp: WakeInput) -> WakeResult:
    """The outbox and the read model (a test pack has no contacts to deliver through),
    held while the test records documents mid-send."""
    await asyncio.to_thread(HELD.wait, 60)
    sent = [write_outbox(NoticeInput(inp.workflow_id, inp.project_id, inp.jurisdiction, n))
            for n in inp.notices]
    rm = "" if inp.changes is None else record_changes(inp.changes)
    return WakeResult(sent=sent, read_model=rm)


async def test_documents_while_a_wake_is_in_flight_go_in_the_next_one_in_order(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The new-commands twin of test_document_during_sending_still_gets_its_corrections:
    documents arrive while a record_wake is held; what they raise goes in the next
    record_wake, after it, so every wrong notice is withdrawn, each notice is in the
    outbox once, and the read model ends equal to the status."""
    env = time_skipping_env
    queue = new_queue()
    t0 = business_today(await env.get_current_time())
    proj = lang_project("2025-09-26", policy="lang-backfill", id="WAKE-RACE")
    inp = LifecycleInput(project=proj, pack=pack(backfill_pack()),
                         calendar=dict(lang_calendar().snapshot(2025, t0.year + 1)),
                         one_task_wake=True, wake_in_one_task=True)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(env.client, task_queue=queue, workflows=WORKFLOWS,
                          activities=[held_record_wake], activity_executor=executor):
            handle = await env.client.start_workflow(
                ProjectLifecycleWorkflow.run, inp, id="project-WAKE-RACE", task_queue=queue)
            await wait_until(handle, "the first notices, delivered",
                             lambda s: len(s.notices) >= 2 and all(n.delivered
                                                                   for n in s.notices))
            HELD.clear()
            try:
                await handle.signal(DOCUMENT_SIGNAL, HISTORY[0])
                await wait_until(handle, "the plan's correction", lambda s: len(s.notices) >= 4)
                await handle.signal(DOCUMENT_SIGNAL, HISTORY[1])
                held = await wait_until(handle, "the approval", lambda s: len(s.documents) == 2)
                assert not all(n.delivered for n in held.notices), "one is held in flight"
            finally:
                HELD.set()
            final: StatusView = await handle.result()
            history = (await handle.fetch_history()).events
    wrong = {n.key for n in final.notices if n.kind is not NoticeKind.CORRECTION}
    assert withdrawn(final) == wrong
    assert all(n.delivered for n in final.notices)
    with engine().connect() as conn:
        keys = conn.execute(select(notice_outbox.c.notice_key).where(
            notice_outbox.c.workflow_id == "project-WAKE-RACE")).scalars().all()
    assert sorted(keys) == sorted(n.key for n in final.notices)
    assert_same("WAKE-RACE", final, 500)
    names = {e.activity_task_scheduled_event_attributes.activity_type.name for e in history
             if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED}
    assert names == {"record_wake"}
    # An input without `search_attribute_changes` (recorded before it): full upserts, so
    # its histories replay on the commands they had.
    upserts = upserted(history)
    assert len(upserts) > 1 and all(len(u) == 6 for u in upserts)
