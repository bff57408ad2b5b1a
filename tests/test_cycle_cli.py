"""`shixian cycle list/show/register` against the dev server, and the CLI's refusals."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.cycle import cycle_workflow_id
from shixian.cli import main
from shixian.commands.cycle import register_cycles
from tests.conftest import new_queue, running_worker
from workflows.cycle import CycleState, JurisdictionCycleWorkflow

PACKS = ["jiujiang-2024", "shangrao-2020", "xiangcheng-2018", "yushan-draft"]


@pytest.mark.covers("xiangcheng-2018:annual_plan", "yushan-draft:demand_plan")
async def test_register_then_list_json_on_the_dev_server(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = dev_env.client
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)

    async def cli(*args: str) -> tuple[int, str]:
        code = await asyncio.to_thread(main, list(args))
        return code, capsys.readouterr().out

    ids = [cycle_workflow_id(p) for p in PACKS]
    for wid in ids:  # a previous run in this session's server must not make this vacuous
        with contextlib.suppress(RPCError):  # not there: nothing to end
            await client.get_workflow_handle(wid).terminate("fresh test")
    async with running_worker(client, queue):
        code, out = await cli("cycle", "list", "--json")
        assert code == 0
        before: list[dict[str, Any]] = json.loads(out)
        assert {r["policy"] for r in before} == set(PACKS)
        assert all(r["registered"] is False for r in before)
        code, out = await cli("cycle", "register")
        assert code == 0 and out.split() == [w for wid in ids for w in ("started", wid)]
        # Again (what every `shixian up` does): nothing new starts.
        assert [s for _, s in await register_cycles(client, task_queue=queue)] == [False] * 4

        code, out = await cli("cycle", "list", "--jurisdiction", "玉山", "--year", "2026",
                              "--json")
        rows: list[dict[str, Any]] = json.loads(out)
        assert code == 0 and [r["id"] for r in rows] == ["yushan-draft:demand_plan"]
        plan = rows[0]
        assert plan["registered"] is True and plan["draft"] is True
        assert (plan["due_on"], plan["actor_name"], plan["citation"]) == (
            "2026-09-30", "县有关单位", "玉山 第六条第一款")
        assert [r["on"] for r in plan["reminders"]] == ["2026-09-09", "2026-09-22"]
        # Registered today (after 2026-09-30 in any real run): those were never sent.
        assert [r["state"] for r in plan["reminders"]] == ["missed", "missed"]
        code, out = await cli("cycle", "list", "--jurisdiction", "相城", "--json")
        annual = json.loads(out)[0]
        assert (annual["due_on"], annual["reminders"]) == (None, [])
        assert annual["no_limit"].startswith("根据每年")

        # The workflow itself holds this year's plan.
        handle = client.get_workflow_handle(cycle_workflow_id("shangrao-2020"))
        for _ in range(100):
            state: CycleState | None = await handle.query(JurisdictionCycleWorkflow.state)
            if state is not None and state.plan is not None:
                break
            await asyncio.sleep(0.1)
        assert state is not None and state.plan is not None
        assert {d.cycle for d in state.plan.dues} >= {"project_call", "centralised_review"}

        code, out = await cli("cycle", "show", "上饶:centralised_review", "--year", "2026")
        assert code == 0
        assert "cycle-shangrao-2020: running" in out and "2026-10-10" in out
        assert "上旬" in out  # the interpretation is shown
        for wid in ids:
            await client.get_workflow_handle(wid).terminate("test over")
    desc = await client.get_workflow_handle(ids[0]).describe()
    assert desc.status == WorkflowExecutionStatus.TERMINATED


def test_show_names_the_packs_of_an_ambiguous_id(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    assert main(["cycle", "show", "project_call"]) == 2
    err = capsys.readouterr().err
    assert "jiujiang-2024:project_call, shangrao-2020:project_call" in err
    assert main(["cycle", "show", "no_such"]) == 2
    assert "known cycles: jiujiang-2024:needs_call" in capsys.readouterr().err
    assert main(["cycle", "list", "--jurisdiction", "火星"]) == 2
    assert "unknown jurisdiction '火星'" in capsys.readouterr().err
    assert main(["cycle", "list", "--year", "1999"]) == 2
    assert "the calendar covers 2004–2035" in capsys.readouterr().err


def test_list_without_a_server_still_lists(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
    assert main(["cycle", "list", "--jurisdiction", "jiujiang-2024", "--year", "2025"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("(workflows not checked: cannot reach Temporal at 127.0.0.1:1")
    assert "2025-06-03" in out and "九江 第十一条" in out


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["cycle", "list", "--help"])
    out = capsys.readouterr().out
    assert "--jurisdiction" in out and "10月上旬" in out and "shixian cycle show" in out
    assert main(["cycle"]) == 2
