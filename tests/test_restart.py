"""Starting again a project that already runs, from a file that now says more (#11): each
differing field is named, the new documents are never dropped silently — the exact
`shixian doc` lines are printed, and `--record-new-documents` records them."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from shixian import operations
from shixian.cli import main
from shixian.restart import compare
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import doc, project

START = ("start", "--allow-expired-policy")
PID = "RESTART-001"
BASE = f"""\
projects:
  - id: {PID}
    name: 市级政务数据共享平台扩容
    policy: jiujiang-2024
    owner: 市数据管理局
    owner_type: administrative
    category: infrastructure
    kind: build
    investment_wan: 6800
    started_on: 2026-09-30
"""
CHANGED = BASE.replace("owner: 市数据管理局", "owner: 市大数据中心").replace(
    "investment_wan: 6800", "investment_wan: 7200") + """\
    documents:
      - {type: proposal_submitted, on: 2026-10-15, ref: JJ-FGW-2026-88}
      - {type: proposal_approved, on: 2026-10-22}
"""


@pytest.fixture
def cli_env(dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", new_queue())
    yield dev_env.client


async def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_differences_are_field_by_field_and_documents_by_type_and_day() -> None:
    old = project("R", investment_wan=6800, started_on="2026-09-30",
                  documents=[doc("proposal_submitted", "2026-10-15")])
    new = project("R", investment_wan=7200, started_on="2026-09-30", owner="市大数据中心",
                  facts={"merge_proposal_and_fsr": True},
                  documents=[doc("proposal_submitted", "2026-10-15"),
                             doc("proposal_approved", "2026-10-22", ref="发改〔2026〕9号")])
    again = compare(old, old.documents, new)
    assert again.differences == ["owner: '市测试局' → '市大数据中心'",
                                 "investment_wan: 6800.0 → 7200.0",
                                 "facts.merge_proposal_and_fsr: None → True"]
    assert [d.type for d in again.new_documents] == ["proposal_approved"]
    assert again.doc_commands() == [
        "shixian doc R proposal_approved --on 2026-10-22 --ref '发改〔2026〕9号'"]  # shell-quoted
    assert compare(old, old.documents, old).same


async def test_restart_names_what_differs_and_records_new_documents_on_request(
        cli_env: Client, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    client = cli_env
    base, changed = tmp_path / "base.yaml", tmp_path / "changed.yaml"
    base.write_text(BASE, encoding="utf-8")
    changed.write_text(CHANGED, encoding="utf-8")
    async with running_worker(client, os.environ["SHIXIAN_TASK_QUEUE"]):
        try:
            assert (await cli(capsys, *START, str(base)))[0] == 0
            code, out, _ = await cli(capsys, *START, str(base))
            assert code == 0
            assert "already started, nothing changed (the file matches)" in out

            code, out, _ = await cli(capsys, *START, str(changed))
            assert code == 0
            assert "already started; the file differs from the running project:" in out
            assert "owner: '市数据管理局' → '市大数据中心'" in out
            assert "investment_wan: 6800.0 → 7200.0" in out
            assert "2 document(s) not recorded; record them with --record-new-documents" in out
            assert (f"shixian doc {PID} proposal_submitted --on 2026-10-15 "
                    "--ref JJ-FGW-2026-88") in out
            assert f"shixian doc {PID} proposal_approved --on 2026-10-22" in out
            status = await operations.project_status(client, PID)
            assert status.documents == [] and status.owner == "市数据管理局"

            code, out, _ = await cli(capsys, *START, "--record-new-documents", str(changed))
            assert code == 0
            assert "accepted: proposal_submitted on 2026-10-15" in out
            assert "accepted: proposal_approved on 2026-10-22" in out
            status = await operations.project_status(client, PID)
            assert [(d.type, str(d.on)) for d in status.documents] == [
                ("proposal_submitted", "2026-10-15"), ("proposal_approved", "2026-10-22")]
            assert status.owner == "市数据管理局"  # fields are not changed by a re-start

            code, out, _ = await cli(capsys, *START, "--json", str(changed))
            result = json.loads(out)
            assert result["result"] == "exists" and result["new_documents"] == []
            assert result["differences"][0] == "owner: '市数据管理局' → '市大数据中心'"
        finally:
            await client.get_workflow_handle(f"project-{PID}").terminate("test finished")
