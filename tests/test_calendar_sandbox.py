"""The engine inside Temporal's workflow sandbox, re-imported there or passed through.

The sandbox proxies `datetime.date`, so the engine must never compare `type(d) is date`
(it did, and failed here); and `due_at` must not need zoneinfo.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from calendars import WorkCalendar


@workflow.defn
class CalendarProbe:
    @workflow.run
    async def run(self, snapshot: dict[str, Any], newer: dict[str, Any]) -> list[str]:
        cal = WorkCalendar.from_snapshot(snapshot)
        a = cal.deadline(dt.date(2026, 9, 30), "10wd")
        b = cal.deadline(dt.date(2026, 11, 10), "3m")
        c = cal.merge(newer).deadline(dt.date(2026, 11, 10), "3m")
        return [
            a.last_day.isoformat(),
            a.due_at.isoformat(),
            f"{b.last_day.isoformat()} {b.provisional}",
            f"{c.last_day.isoformat()} {c.provisional}",
            cal.day_info(dt.date(2028, 10, 5)).holiday or "",
        ]


@pytest.mark.parametrize("passthrough", [False, True])
async def test_engine_in_the_sandbox(
    time_skipping_env: WorkflowEnvironment, passthrough: bool
) -> None:
    restrictions = SandboxRestrictions.default
    if passthrough:
        restrictions = restrictions.with_passthrough_modules("calendars")
    cal = WorkCalendar.default(use_env=False)
    newer = WorkCalendar.default([Path(__file__).parent / "fixtures" / "calendars"], use_env=False)
    queue = f"calendar-sandbox-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[CalendarProbe],
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
        workflow_failure_exception_types=[Exception],  # fail the run, not the task (retried)
    ):
        result = await time_skipping_env.client.execute_workflow(
            CalendarProbe.run,
            args=[cal.snapshot(2026, 2028), newer.snapshot(2027, 2027)],
            id=f"calendar-probe-{uuid.uuid4()}",
            task_queue=queue,
            execution_timeout=dt.timedelta(minutes=5),  # skipped time: fails fast if stuck
        )
    assert result == [
        "2026-10-20",
        "2026-10-21T00:00:00+08:00",
        "2027-02-11 True",
        "2027-02-14 False",
        "中秋节(补假)",
    ]
