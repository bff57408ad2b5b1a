"""A jurisdiction's yearly cycle over several years, under the time-skipping test server.

One `JurisdictionCycleWorkflow` for 上饶 runs three years across a worker restart: every
reminder its plan holds goes out exactly once (counted as `send_notice` activities across the
whole continue-as-new chain, and as outbox rows), at 09:00 Beijing on its working day, and
`shixian cycle list --json` reads the record back from the outbox.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.cycle import cycle_workflow_id, year_plan
from activities.db import engine, notice_outbox
from calendars import WorkCalendar
from calendars.loader import ENV_VAR
from calendars.periods import SHANGHAI
from policies.loader import load_pack
from shixian.cli import main
from shixian.converter import DATA_CONVERTER
from shixian.worker_runtime import WORKFLOWS
from tests.conftest import HISTORIES, new_queue, running_worker
from tests.lifecycle_helpers import business_today, calendar
from workflows.cycle import CycleInput, CycleState, JurisdictionCycleWorkflow

FIXTURES = Path(__file__).parent / "fixtures" / "calendars"  # fixture-2027.yaml: not official


async def chain_histories(client: Client, workflow_id: str, first_run: str
                          ) -> list[WorkflowHistory]:
    """Every run's history, first to last, following continue-as-new."""
    out: list[WorkflowHistory] = []
    run_id: str | None = first_run
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        out.append(history)
        last = history.events[-1]
        run_id = None
        if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            run_id = last.workflow_execution_continued_as_new_event_attributes \
                .new_execution_run_id
    return out


def sent_keys(histories: list[WorkflowHistory]) -> Counter[str]:
    """Reminder keys of every send_notice the workflow scheduled, from its histories."""
    keys: Counter[str] = Counter()
    for history in histories:
        for event in history.events:
            if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                continue
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name != "send_notice":
                continue
            payload = json.loads(attrs.input.payloads[0].data)
            keys[payload["notice"]["key"]] += 1
    return keys


@pytest.mark.covers("shangrao-2020:project_call", "shangrao-2020:centralised_review",
                    "shangrao-2020:om_assessment_collection")
async def test_three_years_of_shangrao_reminders_exactly_once_across_a_restart(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = time_skipping_env
    client = env.client
    queue = new_queue()
    start = business_today(await env.get_current_time())
    first, last = start.year + 1, start.year + 3
    wid = cycle_workflow_id("shangrao-2020")
    pack = load_pack("shangrao-2020")
    # What the plan holds for each year (the days themselves are counted by hand in
    # test_cycle_plan.py): 5 reminders a year — 7月 call ×2, 10月上旬 review ×2, 年底 ×1.
    expected = {r.key: r for y in range(first, last + 1)
                for d in year_plan(pack, y, calendar()).dues for r in d.reminders}
    assert len(expected) == 15

    async with running_worker(client, queue, cache=False):
        handle = await client.start_workflow(
            JurisdictionCycleWorkflow.run,
            CycleInput(policy="shangrao-2020", year=first, last_year=last),
            id=wid, task_queue=queue)
        first_run = handle.result_run_id
        assert first_run is not None
        # To 1 August of the second year: its July reminders are out, then the worker stops.
        await env.sleep(date(first + 1, 8, 1) - start)
        sent_before = sent_keys(await chain_histories(client, wid, first_run))
        assert f"cycle:project_call:{first + 1}:5wd" in sent_before
        assert f"cycle:centralised_review:{first + 1}:15wd" not in sent_before
    # No worker now: the workflow waits on its timers. A new worker picks it up.
    async with running_worker(client, queue, cache=False):
        final: CycleState = await handle.result()
        histories = await chain_histories(client, wid, first_run)

    assert final.year == last
    sent = sent_keys(histories)
    assert sorted(sent) == sorted(expected)
    assert set(sent.values()) == {1}, sent  # exactly once each, across the restart
    assert len(histories) == 3  # one run per year: continue-as-new at each new year
    with engine().connect() as conn:
        rows = conn.execute(select(notice_outbox.c.notice_key, notice_outbox.c.fired_at,
                                   notice_outbox.c.due_on, notice_outbox.c.project_id)
                            .where(notice_outbox.c.workflow_id == wid)).all()
    ours = {r.notice_key: r for r in rows if r.notice_key in expected}
    assert set(ours) == set(expected)
    for key, row in ours.items():
        # Sent at 09:00 Beijing on the reminder's working day, for the planned due day.
        at = row.fired_at.astimezone(SHANGHAI)
        assert (at.date(), at.hour, at.minute) == (expected[key].on, 9, 0), key
        assert row.project_id == wid

    # The record, read back by the CLI (no server needed for it).
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    code = await asyncio.to_thread(main, ["cycle", "list", "--jurisdiction", "上饶",
                                          "--year", str(first + 1), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    listed: list[dict[str, Any]] = json.loads(out)
    review = next(r for r in listed if r["cycle"] == "centralised_review")
    assert review["reminded"] is True and review["registered"] is None
    assert {r["state"] for r in review["reminders"]} == {"sent"}
    assert all(r["sent_at"] and r["sent_at"].startswith(f"{r['on']}T09:00")
               for r in review["reminders"])
    assert [r["cycle"] for r in listed if r["due_on"] is None] == [
        "library_adjustment", "project_applications"]

    # Determinism: every run of the chain replays on today's code.
    replayer = Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER)
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None
    if os.environ.get("SHIXIAN_RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / "cycle-shangrao.json").write_text(histories[0].to_json(),
                                                       encoding="utf-8")


@pytest.mark.covers("jiujiang-2024:needs_call", "jiujiang-2024:county_needs_submission",
                    "jiujiang-2024:project_call", "jiujiang-2024:om_funds_application")
async def test_registered_late_in_the_year_skips_what_is_past_and_sends_what_is_due(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """九江, started in the current year: reminders whose due day has passed are skipped
    (never sent late for a closed duty); the next year's six go out, marked 已过有效期."""
    env = time_skipping_env
    client = env.client
    queue = new_queue()
    today = business_today(await env.get_current_time())
    wid = cycle_workflow_id("jiujiang-2024") + "-late"
    pack = load_pack("jiujiang-2024")
    this_year = year_plan(pack, today.year, calendar())
    past = {r.key for d in this_year.dues if d.due_on and d.due_on < today for r in d.reminders}
    next_year = {r.key for d in year_plan(pack, today.year + 1, calendar()).dues
                 for r in d.reminders}
    async with running_worker(client, queue):
        handle = await client.start_workflow(
            JurisdictionCycleWorkflow.run,
            CycleInput(policy="jiujiang-2024", last_year=today.year + 1),
            id=wid, task_queue=queue)
        assert handle.result_run_id is not None
        final: CycleState = await handle.result()
        histories = await chain_histories(client, wid, handle.result_run_id)
    sent = sent_keys(histories)
    assert set(sent) >= next_year and set(sent.values()) == {1}
    assert past and not set(sent) & past
    assert final.year == today.year + 1 and final.skipped == []
    with engine().connect() as conn:
        messages = conn.execute(select(notice_outbox.c.message).where(
            notice_outbox.c.workflow_id == wid)).scalars().all()
    assert messages and all(m.startswith("【已过有效期 2026-05-23】九江市年度工作提醒")
                            for m in messages)


async def test_a_year_published_after_the_plan_moves_the_reminders(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """上饶 2027 is planned on the provisional calendar; then the 2027 arrangement is
    published (the test fixture: 国庆 10/1–10/7, Sat 10/9 worked). The re-plan before the
    autumn moves the 10月上旬 review's reminders to the published working days."""
    env = time_skipping_env
    client = env.client
    queue = new_queue()
    monkeypatch.delenv(ENV_VAR, raising=False)
    pack = load_pack("shangrao-2020")
    published = WorkCalendar.default([FIXTURES], use_env=False)

    def review_days(cal: WorkCalendar) -> dict[str, date]:
        d = next(d for d in year_plan(pack, 2027, cal).dues if d.cycle == "centralised_review")
        return {r.key: r.on for r in d.reminders}

    # Provisional (no 2027 notice): Sun 10/10 → Mon 10/11; 国庆 10/1–10/3 with 补假 10/4–10/5.
    # 5wd before 10/11: 10/8 1, 10/7 2, 10/6 3, 9/30 4, 9/29 5 → Wed 9/29.
    # Published fixture: 国庆 10/1–10/7 off, Sat 10/9 and Sun 9/26 worked; 中秋 9/15 off.
    # 5wd before 10/11: Sat 10/9 1, Fri 10/8 2, 9/30 3, 9/29 4, 9/28 5 → Tue 9/28.
    assert review_days(calendar())["cycle:centralised_review:2027:5wd"] == date(2027, 9, 29)
    assert review_days(published)["cycle:centralised_review:2027:5wd"] == date(2027, 9, 28)
    wid = cycle_workflow_id("shangrao-2020") + "-published"
    async with running_worker(client, queue):
        handle = await client.start_workflow(
            JurisdictionCycleWorkflow.run,
            CycleInput(policy="shangrao-2020", year=2027, last_year=2027),
            id=wid, task_queue=queue)
        for _ in range(200):  # the first plan, on the provisional calendar
            state: CycleState | None = await handle.query(JurisdictionCycleWorkflow.state)
            if state is not None and state.plan is not None:
                break
            await asyncio.sleep(0.05)
        assert state is not None and state.plan is not None
        monkeypatch.setenv(ENV_VAR, str(FIXTURES))  # what `calendar publish` installs
        await handle.result()
        assert handle.result_run_id is not None
        histories = await chain_histories(client, wid, handle.result_run_id)
    fired = {}
    for event in histories[0].events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and \
                event.activity_task_scheduled_event_attributes.activity_type.name == \
                "send_notice":
            notice = json.loads(event.activity_task_scheduled_event_attributes.input
                                .payloads[0].data)["notice"]
            fired[notice["key"]] = notice["fired_at"][:10]
    expected = review_days(published)
    assert {k: fired[k] for k in expected} == {k: v.isoformat() for k, v in expected.items()}
