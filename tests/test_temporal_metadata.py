"""Temporal's own tools tell the project's story (#11): `temporal workflow show` and the Web UI
read the summaries of timers (which duty, which rung) and activities (which notice, which
read-model report), the static summary and details given at start, the current details,
and the descriptions of updates, the signal and the query. On the dev server, which keeps
user metadata in history."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from calendars import WorkCalendar
from shixian import operations
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import doc, project
from tests.test_replay import replayer

PID = "META-001"


async def summary_of(client: Client, payload: object) -> str:
    [text] = await client.data_converter.decode([payload])  # type: ignore[list-item]
    return str(text)


async def summaries(client: Client, workflow_id: str,
                    done: Callable[[list[str], list[str]], bool]) -> tuple[list[str], list[str]]:
    """(timer summaries, activity summaries) once `done` says enough is in history."""
    handle = client.get_workflow_handle(workflow_id)
    timers: list[str] = []
    activities: list[str] = []
    for _ in range(1200):  # no timing asserted: wait until the events are there
        timers, activities = [], []
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
                timers.append(await summary_of(client, event.user_metadata.summary))
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                activities.append(await summary_of(client, event.user_metadata.summary))
        if done(timers, activities):
            break
        await asyncio.sleep(0.1)
    return timers, activities


async def test_history_and_ui_read_like_the_projects_story(
        dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    client = dev_env.client
    queue = new_queue()
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)
    cal = WorkCalendar.default(use_env=False)
    # The data bureau's technical review is long overdue: notices go out at once.
    late = project(PID, name="一网通办事项梳理系统", owner="市行政审批局", investment_wan=820,
                   started_on=date(2026, 7, 1),
                   documents=[doc("fsr_submitted", "2026-07-27")])
    # Started today: the owner's first submission is due in 20 working days, so the
    # workflow sleeps on a timer until its first warning.
    fresh = project("META-002", name="市级政务数据共享平台扩容", owner="市数据管理局",
                    investment_wan=6800, category="infrastructure",
                    started_on=operations.today())
    handles = [client.get_workflow_handle(f"project-{p.id}") for p in (late, fresh)]
    async with running_worker(client, queue):
        try:
            for p in (late, fresh):
                assert await operations.start_project(
                    client, operations.prepare(p, cal, allow=frozenset({"expired"})))
            _, activities = await summaries(
                client, f"project-{PID}", lambda t, a: any("read model" in x for x in a))
            # One record_wake per wake: its notices first, then the read-model update.
            assert any(a.startswith("notice escalated L3 · fsr_tech_review +")
                       and "市数字政府领导小组办公室" in a for a in activities), activities
            assert any("read model #1 · 可行性研究报告审批 · next due 2026-08-17" in a
                       for a in activities), activities
            timers, _ = await summaries(client, "project-META-002", lambda t, a: bool(t))
            # The timer names the rung, the duty, its body and when (Beijing).
            assert timers and timers[-1].startswith("预警 · ") and "（市数据管理局）due " in \
                timers[-1] and timers[-1].endswith("Beijing"), timers

            handle = handles[0]
            desc = await handle.describe()
            assert await desc.static_summary() == f"{PID} 一网通办事项梳理系统"
            details = await desc.static_details() or ""
            assert "市行政审批局" in details and "jiujiang-2024" in details

            meta = await handle.query("__temporal_workflow_metadata",
                                      result_type=WorkflowMetadata)
            assert "出具可研技术评审意见（市数据管理部门）" in meta.current_details
            described = {d.name: d.description for d in meta.definition.update_definitions}
            assert "撤销/终止" in described["terminate"]
            assert described["record_document"] and described["grant_extension"]
            queries = {d.name: d.description for d in meta.definition.query_definitions}
            assert "Beijing date" in queries["status"]
            # Metadata does not change the commands: both histories replay on this code.
            for h in handles:
                await replayer().replay_workflow(await h.fetch_history())
        finally:
            for h in handles:
                await h.terminate("test finished")
