"""Per-project cost (issue #12): what the bench's figures rest on, checked as structure.

Speed itself is measured by bench/scale.py, never here; these tests pin the mechanisms:
one calendar, pack and set of type adapters per worker process, the notices of one wake in
one activity, and a CLI that imports only the command it runs.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notices import NoticeInput, NoticesInput, write_outbox
from activities.read_model import record_status
from calendars import WorkCalendar
from calendars.engine import _parse_snapshot
from policies.loader import load_pack
from policies.model import PolicyPack
from shixian.converter import DATA_CONVERTER
from shixian.worker_runtime import WORKFLOWS
from tests.conftest import new_queue
from tests.jiujiang_cases import project as jj_project
from tests.language_packs import pack, project
from tests.lifecycle_helpers import business_today, calendar
from tests.test_language_time_skipping import backfill_pack
from workflows.ledger import Ledger
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import LedgerState, LifecycleInput, Project, StatusView
from workflows.plan import Plan, _facts_key


def test_equal_snapshots_share_one_calendar() -> None:
    snapshot = dict(calendar().snapshot(2025, 2027))
    shared = WorkCalendar.from_snapshot(snapshot)
    assert WorkCalendar.from_snapshot(copy.deepcopy(snapshot)) is shared
    assert shared == WorkCalendar(*_parse_snapshot(snapshot))  # what an unshared build gives
    other = dict(calendar().snapshot(2025, 2028))
    assert WorkCalendar.from_snapshot(other) is not shared
    changed = copy.deepcopy(snapshot)
    changed["days"] = [*changed["days"], ["2026-07-01", "holiday", "test"]]
    assert WorkCalendar.from_snapshot(changed) is not shared
    assert not WorkCalendar.from_snapshot(changed).is_workday(date(2026, 7, 1))
    assert shared.is_workday(date(2026, 7, 1))


def test_equal_facts_share_one_plan_and_different_facts_do_not() -> None:
    """A worker resolves a pack once per distinct facts (workflows.plan.shared_plan): two
    projects with the same facts share the plan, one fact apart they do not, and a shared
    plan resolves every rule as a plan built alone does."""
    pack = load_pack("jiujiang-2024")
    cal = calendar()

    def jj(pid: str, **kw: object) -> Project:
        return jj_project(pid, started_on=date(2025, 3, 3), **kw)

    def plan_of(pid: str, **kw: object) -> Plan:
        return Ledger(jj(pid, **kw), pack, cal, LedgerState()).plan

    def resolved(plan: Plan) -> list[tuple[str, bool, str | None, str | None]]:
        return [(o.rule.id, o.applies, o.trigger, o.limit) for o in plan.obligations]

    small = plan_of("JJT-P1", investment_wan=150)
    assert plan_of("JJT-P2", investment_wan=150, name="另一个项目") is small
    large = plan_of("JJT-P3", investment_wan=800)
    assert large is not small and resolved(large) != resolved(small)
    state_owned = plan_of("JJT-P4", investment_wan=150, owner_type="state_owned")
    assert state_owned is not small
    for shared, kw in ((small, {"investment_wan": 150}), (large, {"investment_wan": 800}),
                       (state_owned, {"investment_wan": 150, "owner_type": "state_owned"})):
        facts = Ledger(jj("JJT-P5", **kw), pack, cal, LedgerState()).facts()
        assert resolved(Plan(pack, facts)) == resolved(shared)
    # An equal pack that is another object: a plan of its own (keyed by the pack itself).
    other_pack = PolicyPack.model_validate_json(pack.model_dump_json())
    assert Ledger(jj("JJT-P6", investment_wan=150), other_pack, cal,
                  LedgerState()).plan is not small
    # Values equal in Python but of another type are other facts (True == 1 == 1.0).
    base = small.facts
    keys = {_facts_key(base.model_copy(update={"extra": {"x": v}})) for v in (True, 1.0, "1")}
    assert len(keys) == 3


def test_payload_converters_share_their_type_adapters() -> None:
    """The worker makes one payload converter per workflow instance."""
    a, b = DATA_CONVERTER.payload_converter_class(), DATA_CONVERTER.payload_converter_class()
    adapters = [getattr(c, "_type_adapter", None) for p in (a, b)
                for c in p.converters.values()]  # type: ignore[attr-defined]
    found = [x for x in adapters if x is not None]
    assert len(found) == 2 and found[0] is found[1]


def test_list_and_status_import_neither_temporal_nor_alembic_to_parse() -> None:
    code = ("import sys; from shixian.cli import build_parser; build_parser(['list']); "
            "print(sorted(m for m in ('temporalio.client', 'alembic', 'starlette', "
            "'shixian.worker_runtime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


async def _events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return list((await handle.fetch_history()).events)


RESTING = {EventType.EVENT_TYPE_TIMER_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
           EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
           EventType.EVENT_TYPE_MARKER_RECORDED}


async def _delivered(handle: WorkflowHandle[Any, Any]) -> StatusView:
    """The status once the first wake is over: no activity pending, the workflow waiting."""
    import asyncio

    for _ in range(600):
        events = await _events(handle)
        pending = (await handle.describe()).raw_description.pending_activities
        if len(events) > 4 and events[-1].event_type in RESTING and not pending:
            status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
            return status
        await asyncio.sleep(0.1)
    raise AssertionError("the first wake did not end in 60 s")


async def test_the_notices_of_one_wake_go_in_one_activity(dev_env: WorkflowEnvironment) -> None:
    """A project imported long overdue: an escalation and a delay consequence at its first
    wake, both in one `send_notices`; no `send_notice` per notice."""
    queue = new_queue()
    cal = calendar()
    today = business_today(await dev_env.get_current_time())
    proj = project("2025-09-26", policy="lang-backfill", id="SCALE-NOTICES")
    inp = LifecycleInput(project=proj, pack=pack(backfill_pack()),
                         calendar=dict(cal.snapshot(2025, today.year + 1)), one_task_wake=True)
    batches: list[int] = []

    @activity.defn(name="send_notices")
    async def outbox_only(batch: NoticesInput) -> list[bool]:
        """The outbox half of send_notices (a test pack has no contacts to plan for)."""
        batches.append(len(batch.notices))
        return [write_outbox(NoticeInput(batch.workflow_id, batch.project_id,
                                         batch.jurisdiction, n)) for n in batch.notices]

    async with Worker(dev_env.client, task_queue=queue, workflows=WORKFLOWS,
                      activities=[outbox_only, record_status],
                      activity_executor=ThreadPoolExecutor(4)):
        handle = await dev_env.client.start_workflow(
            ProjectLifecycleWorkflow.run, inp, id="project-SCALE-NOTICES", task_queue=queue)
        status = await _delivered(handle)
        events = await _events(handle)
        await handle.terminate("test over")
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name
                 for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                 and e.activity_task_scheduled_event_attributes.activity_type.name
                 != "record_status"]
    assert len(status.notices) >= 2 and all(n.delivered for n in status.notices)
    assert scheduled == ["send_notices"] and batches == [len(status.notices)]


def test_the_lazy_command_registry_names_every_command_module() -> None:
    """A new command module must be listed in `COMMAND_MODULES` with what it registers."""
    import argparse
    import importlib

    from shixian.cli import COMMAND_MODULES

    modules = sorted(p.stem for p in (Path(__file__).parents[1] / "shixian" / "commands")
                     .glob("*.py") if p.stem != "__init__")
    assert sorted(COMMAND_MODULES) == modules
    for name, commands in COMMAND_MODULES.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"shixian.commands.{name}").register(sub)
        assert tuple(sub.choices) == commands, name
