"""Starting project workflows in tests, and recording their histories for replay tests."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle

from calendars import WorkCalendar
from policies.loader import load_pack
from tests.conftest import HISTORIES
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, LifecycleInput, Project

_CALENDAR: WorkCalendar | None = None


def calendar() -> WorkCalendar:
    """Official + provisional only: tests must not depend on files an operator installed."""
    global _CALENDAR
    if _CALENDAR is None:
        _CALENDAR = WorkCalendar.default(use_env=False)
    return _CALENDAR


def lifecycle_input(project: Project) -> LifecycleInput:
    cal = calendar()
    last = min(cal.covered_years[1], project.started_on.year + 8)
    return LifecycleInput(project=project, pack=load_pack(project.policy),
                          calendar=dict(cal.snapshot(project.started_on.year, last)),
                          one_task_wake=True, wake_in_one_task=True,
                          provisional_years=True, search_attribute_changes=True)


async def start(client: Client, project: Project, task_queue: str,
                suffix: str = "") -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        ProjectLifecycleWorkflow.run, lifecycle_input(project),
        id=f"project-{project.id}{suffix}", task_queue=task_queue,
    )


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With SHIXIAN_RECORD_HISTORIES=1, keep this run's history under tests/histories/."""
    if os.environ.get("SHIXIAN_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")


def business_today(now: Any) -> date:
    from workflows.ledger import business_date

    return business_date(now)


def half_as_late_again(documents: list[DocumentArrival], first: date,
                       t0: date) -> list[DocumentArrival]:
    """A case's documents moved to a life that starts on `t0`, in date order, each arriving
    half as late again after the start as in the case (so some duties escalate)."""
    return [d.model_copy(update={"on": t0 + (d.on - first) * 3 // 2})
            for d in sorted(documents, key=lambda d: d.on)]


async def arrive(env: Any, handle: WorkflowHandle[Any, Any], doc: DocumentArrival) -> None:
    """On a time-skipping server: skip to the document's day (Beijing), then signal it."""
    today = business_today(await env.get_current_time())
    if doc.on > today:
        await env.sleep(timedelta(days=(doc.on - today).days))
    await handle.signal("document_arrived", doc)
