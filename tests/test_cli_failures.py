"""Failures say one line: no server, no worker, a stuck project in a batch (issue 9 §3)."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from shixian import liveness
from shixian.cli import main
from shixian.temporal_env import free_port
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import project
from tests.lifecycle_helpers import start
from workflows.lifecycle import ProjectLifecycleWorkflow

LIFECYCLE_TYPE = workflow._Definition.must_from_class(ProjectLifecycleWorkflow).name


@workflow.defn(name=LIFECYCLE_TYPE, sandboxed=False)
class StuckLifecycle:
    """A project whose every workflow task fails (a bug, a payload the worker cannot read)."""

    @workflow.run
    async def run(self, _inp: object) -> None:
        raise RuntimeError("this workflow task always fails")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def _acli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, the CLI's stderr): the in-process worker's notice log lines,
    which go to the same stderr, are left out."""
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    mine = [line for line in err.splitlines() if not line.startswith("{")]
    return code, out, "\n".join(mine) + ("\n" if mine else "")


def test_status_without_a_server_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    code, out, err = _cli(capsys, "status", "JJ-NOPE")
    assert code == 2 and out == ""
    assert err.startswith("shixian: error: cannot reach Temporal at 127.0.0.1:")
    assert "shixian server" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def test_no_worker_is_said_by_status_and_doc(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = dev_env.client
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    handle = await start(client, project("JJT-NOWORKER", investment_wan=150,
                                         started_on=date(2026, 3, 2)), queue)
    code, out, err = await _acli(capsys, "status", "JJT-NOWORKER")
    assert code == 2 and out == ""
    assert err.strip() == (f"shixian: error: no status for JJT-NOWORKER: no worker is polling "
                           f"task queue '{queue}': start one with `shixian worker` (same "
                           "TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and SHIXIAN_TASK_QUEUE)")
    code, out, err = await _acli(capsys, "doc", "JJT-NOWORKER", "tech_plan_submitted",
                                 "--on", "2026-03-20", "--wait", "2")
    # Queued as a durable signal, said so, and not a failure (issue 9 §2).
    assert code == 0, err
    assert out.strip() == ("queued: JJT-NOWORKER tech_plan_submitted on 2026-03-20 is in "
                           "project-JJT-NOWORKER's history: it will apply when one does (then "
                           "`shixian status JJT-NOWORKER` shows it, or a refusal)")
    assert err.strip() == (f"queued: no worker is polling task queue '{queue}': start one "
                           "with `shixian worker` (same TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE "
                           "and SHIXIAN_TASK_QUEUE); it will apply when one does")
    async with running_worker(client, queue):  # a worker comes: the queued one applies
        # Until the server has seen the new worker's first poll, `doc` rightly still says
        # nobody polls (and queues): wait for the server to see it, as `doc` asks it.
        for _ in range(100):
            if await liveness.live_pollers(client, queue):
                break
            await asyncio.sleep(0.1)
        code, out, err = await _acli(capsys, "doc", "JJT-NOWORKER", "tech_plan_submitted",
                                     "--on", "2026-03-20")
        assert code == 0, err
        assert out.startswith("duplicate: JJT-NOWORKER"), out
        code, out, err = await _acli(capsys, "status", "JJT-NOWORKER")
        assert code == 0 and "JJT-NOWORKER" in out
        await handle.terminate("test over")


async def test_a_stuck_project_does_not_stop_a_batch(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = dev_env.client
    good_queue, stuck_queue = new_queue(), new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    batch = tmp_path / "inbox.jsonl"
    batch.write_text("\n".join(json.dumps(e) for e in [
        {"project_id": "JJT-BATCH-OK", "type": "tech_plan_submitted", "on": "2026-03-20"},
        {"project_id": "JJT-NO-SUCH", "type": "tech_plan_submitted", "on": "2026-03-20"},
        {"project_id": "JJT-BATCH-STUCK", "type": "tech_plan_submitted", "on": "2026-03-20"},
        {"project_id": "JJT-BATCH-OK", "type": "fsr_tech_review_issued", "on": "2026-03-24"},
    ]) + "\n", encoding="utf-8")
    async with running_worker(client, good_queue), \
            Worker(client, task_queue=stuck_queue, workflows=[StuckLifecycle]):
        ok = await start(client, project("JJT-BATCH-OK", investment_wan=150,
                                         started_on=date(2026, 3, 2)), good_queue)
        stuck = await start(client, project("JJT-BATCH-STUCK", investment_wan=150,
                                            started_on=date(2026, 3, 2)), stuck_queue)
        code, out, err = await _acli(capsys, "doc", "--file", str(batch), "--json",
                                     "--wait", "3")
        await ok.terminate("test over")
        await stuck.terminate("test over")
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["outcome"] for r in results] == ["accepted", "refused", "queued", "accepted"]
    assert "unknown project 'JJT-NO-SUCH'" in results[1]["reason"]
    assert results[2]["reason"].startswith("JJT-BATCH-STUCK tech_plan_submitted on "
                                           "2026-03-20 is in project-JJT-BATCH-STUCK's history")
    assert code == 2
    assert any(line.startswith("queued: not confirmed within 3s: project-JJT-BATCH-STUCK's "
                               "workflow task has failed") for line in err.splitlines()), err
    assert err.strip().splitlines()[-1] == ("4 entries: 2 accepted, 0 duplicate, 1 queued, "
                                            "1 refused, 0 malformed, 0 failed")
    assert "Traceback" not in err


def test_status_against_a_server_that_never_answers_is_bounded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A port that accepts connections but never speaks gRPC (a hung proxy, a wrong port)."""
    import socket

    import shixian.client

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setattr(shixian.client, "CONNECT_TIMEOUT", 1.0)
        code, out, err = _cli(capsys, "status", "JJ-NOPE")
    assert code == 2 and out == ""
    assert err.startswith("shixian: error: no answer from Temporal at 127.0.0.1:")
    assert len(err.strip().splitlines()) == 1
