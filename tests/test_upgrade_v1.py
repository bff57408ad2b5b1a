"""Projects started before rule engine v2 keep running: the real v1 code starts one, v2 takes over.

The v1 side is not a copy: the test runs the worker and `shixian start` of main at 766af5b
(the last commit before v2, extracted with `git archive`) against the dev server, lets it
escalate, stops it, and hands the project to today's worker. The v1 history replays on the
frozen `workflows.v1` code, continues-as-new into ProjectLifecycleWorkflowV2 with its
documents and notices, sends no notice twice, and withdraws what the next document disproves.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from temporalio.testing import WorkflowEnvironment

from activities.db import notice_outbox
from shixian import operations
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import doc
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import RecordOutcome, StatusView
from workflows.upgrade import UPGRADED_WORKFLOW_TYPE

V1_COMMIT = "766af5b"
REPO = Path(__file__).parents[1]
PROJECT = """
projects:
  - id: JJT-UPGRADE
    name: 升级前启动的项目
    policy: jiujiang-2024
    owner: 市测试局
    owner_type: administrative
    category: other
    kind: build
    investment_wan: 800
    started_on: 2024-06-03
"""


@pytest.fixture(scope="module")
def v1_code(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("git") is None:
        pytest.skip("git is needed to extract the v1 code")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", V1_COMMIT],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        pytest.fail(f"cannot extract {V1_COMMIT} (a shallow clone?): "
                    f"{archive.stderr.decode()[:200]}")
    root = tmp_path_factory.mktemp("v1")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")
    yield root


def v1_env(code: Path, address: str, queue: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(code), TEMPORAL_ADDRESS=address, SHIXIAN_TASK_QUEUE=queue)
    return env


def outbox(workflow_id: str) -> list[Any]:
    """The outbox rows, read without migrating: while v1 runs, the schema stays v1's."""
    plain = create_engine(os.environ["SHIXIAN_DATABASE_URL"])
    try:
        with plain.connect() as conn:
            return list(conn.execute(select(notice_outbox.c.notice_key, notice_outbox.c.rung)
                                     .where(notice_outbox.c.workflow_id == workflow_id)
                                     .order_by(notice_outbox.c.id)).all())
    except OperationalError:  # v1 has not created its tables yet
        return []
    finally:
        plain.dispose()


async def wait_for(predicate: Any, what: str, tries: int = 150) -> None:
    for _ in range(tries):
        if predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_v1_project_continues_under_v2(dev_env: WorkflowEnvironment, v1_code: Path,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The read model as a v1 deployment left it: v1 creates it at its own schema revision,
    # and today's activities migrate it to the newest on first use, as after a deploy. (The
    # session's database is already at today's revision, which v1's migrations do not know.)
    monkeypatch.setenv("SHIXIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'v1-read-model.db'}")
    client = dev_env.client
    queue = new_queue()
    address = client.service_client.config.target_host
    env = v1_env(v1_code, address, queue)
    projects = tmp_path / "projects.yaml"
    projects.write_text(PROJECT, encoding="utf-8")
    worker = subprocess.Popen([sys.executable, "-m", "shixian", "worker"], cwd=v1_code,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        started = subprocess.run([sys.executable, "-m", "shixian", "start", str(projects)],
                                 cwd=v1_code, env=env, capture_output=True, text=True,
                                 timeout=120, check=False)
        assert started.returncode == 0, started.stderr
        wid = "project-JJT-UPGRADE"
        # v1 escalates the FSR (due 2024-07-02, no document yet) and 第二十七条.
        try:
            await wait_for(lambda: len(outbox(wid)) == 2, "v1's notices")
        except AssertionError:
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=60)
            raise AssertionError(f"v1's notices never came; its worker said: "
                                 f"{err.decode(errors='replace')[-3000:]}") from None
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
    v1_rows = outbox(wid)
    assert {r.notice_key for r in v1_rows} == {"fsr_submission:escalated",
                                               "consequence:funding_at_risk"}
    handle = client.get_workflow_handle(wid)
    assert (await handle.describe()).workflow_type == "ProjectLifecycleWorkflow"

    async with running_worker(client, queue, cache=False):
        result = await operations.record_document(client, "JJT-UPGRADE",
                                                  doc("fsr_submitted", "2024-06-28"))
        assert result.outcome is RecordOutcome.ACCEPTED
        latest = client.get_workflow_handle(wid)

        def upgraded() -> bool:
            return len([r for r in outbox(wid) if r.rung == "correction"]) == 2

        try:
            await wait_for(upgraded, "v2's corrections")
        except AssertionError:
            d = await latest.describe()
            raise AssertionError(f"{d.workflow_type} {d.status} "
                                 f"{[r.notice_key for r in outbox(wid)]}") from None
        desc = await latest.describe()
        status: StatusView = await latest.query(ProjectLifecycleWorkflow.status)
    assert desc.workflow_type == UPGRADED_WORKFLOW_TYPE
    assert [d.type for d in status.documents] == ["fsr_submitted"]
    rows = outbox(wid)
    keys = [r.notice_key for r in rows]
    assert len(keys) == len(set(keys))
    # v1's notices are carried, not re-sent; the FSR was on time, so both are withdrawn.
    assert [k for k in keys if not k.endswith(":withdrawn")] == \
        [r.notice_key for r in v1_rows] + [k for k in keys if k.startswith("fsr_tech_review")]
    assert {k.removesuffix(":withdrawn") for k in keys if k.endswith(":withdrawn")} == \
        {r.notice_key for r in v1_rows}
    assert status.escalation_level in (0, 3)  # only the data bureau's own review may be late
