"""Signed calendar data: a forged year is refused, a signed one applies (issue 9 §4)."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from calendars.model import CalendarError
from calendars.signing import key_id, parse_public_key, problem, public_key_text, sign
from shixian.cli import main
from shixian.publishing import year_update
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import SMALL_BUILD, doc, project
from tests.lifecycle_helpers import lifecycle_input
from tests.test_continue_as_new import small_history_env  # noqa: F401 - a fixture
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import CalendarUpdate, Project, StatusView

FIXTURE_2027 = Path(__file__).parent / "fixtures" / "calendars" / "fixture-2027.yaml"
SNAPSHOT: dict[str, Any] = {"version": 1, "first_year": 2027, "last_year": 2027,
                            "years": {"2027": "published"}, "days": []}


@pytest.fixture
def publisher() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_sign_and_verify(publisher: Ed25519PrivateKey) -> None:
    trusted = [public_key_text(publisher)]
    signature, kid = sign(SNAPSHOT, "2027 国办发明电〔2026〕x号", publisher)
    assert kid == key_id(trusted[0]) and len(kid) == 16
    assert problem(SNAPSHOT, "2027 国办发明电〔2026〕x号", signature, trusted) is None
    altered = {**SNAPSHOT, "days": [["2027-02-16", "holiday", "春节"]]}
    why = problem(altered, "2027 国办发明电〔2026〕x号", signature, trusted)
    assert why is not None and why.startswith("signature does not verify with any trusted key")
    assert problem(SNAPSHOT, "another note", signature, trusted) is not None
    stranger = [public_key_text(Ed25519PrivateKey.generate())]
    assert problem(SNAPSHOT, "2027 国办发明电〔2026〕x号", signature, stranger) is not None
    unsigned = problem(SNAPSHOT, "", None, trusted)
    assert unsigned is not None and "not signed" in unsigned and kid in unsigned
    assert problem(SNAPSHOT, "", "not base64!", trusted) == "its signature is not valid base64"


@pytest.mark.parametrize("text", ["ssh-ed25519 AAAA", "ed25519:@@@", "ed25519:AAAA"])
def test_bad_public_keys_are_named(text: str) -> None:
    with pytest.raises(CalendarError, match="public key"):
        parse_public_key(text)


def test_keygen_writes_a_private_key_only_its_owner_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["calendar", "keygen", "--out", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    private = Path(out["private_key"])
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (tmp_path / "calendar-signing.pub").read_text().strip() == out["public_key"]
    assert main(["calendar", "keygen", "--out", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err


async def _start_trusting(client: Client, proj: Project, queue: str,
                          keys: list[str]) -> WorkflowHandle[Any, Any]:
    inp = lifecycle_input(proj).model_copy(update={"calendar_keys": keys})
    return await client.start_workflow(ProjectLifecycleWorkflow.run, inp,
                                       id=f"project-{proj.id}", task_queue=queue)


async def _refusal(handle: WorkflowHandle[Any, Any], update: CalendarUpdate) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(ProjectLifecycleWorkflow.apply_calendar, update)
    cause = info.value.cause
    return str(getattr(cause, "message", cause))


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    key = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives import serialization

    pem = tmp_path / "signing.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    yield pem, public_key_text(key)


async def test_a_forged_year_is_refused_and_a_signed_one_applies(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], keys: tuple[Path, str],
) -> None:
    pem, public = keys
    client = dev_env.client
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SHIXIAN_CALENDAR_DIR", raising=False)
    proj = project("JJT-SIGNED", investment_wan=150, started_on=date(2025, 3, 3), documents=[
        d for d in SMALL_BUILD.documents if d.type in {
            "fsr_tech_review_issued", "budget_submitted", "budget_approved", "contract_signed"}
    ] + [doc("trial_run_started", "2026-10-12")])
    async with running_worker(client, queue):
        handle = await _start_trusting(client, proj, queue, [public])
        for _ in range(100):  # visibility is eventually consistent
            if [w async for w in client.list_workflows(f'WorkflowId = "{handle.id}"')]:
                break
            await asyncio.sleep(0.1)
        before: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        # The forger knows the format but not the key: 2027-02-15…19 made holidays would
        # push final_acceptance out by a week and clear a late project.
        honest = year_update(2026, "2026")
        forged_days = [*honest.snapshot["days"],
                       *([f"2027-02-{d}", "holiday", "春节"] for d in range(15, 20))]
        forged = {**honest.snapshot, "last_year": 2027,
                  "years": {**honest.snapshot["years"], "2027": "published"},
                  "days": forged_days}
        unsigned = await _refusal(handle, CalendarUpdate(snapshot=forged, note="2027 forged"))
        assert unsigned.startswith("calendar data refused: it is not signed")
        attacker = Ed25519PrivateKey.generate()
        signature, kid = sign(forged, "2027 forged", attacker)
        wrong_key = await _refusal(handle, CalendarUpdate(snapshot=forged, note="2027 forged",
                                                          signature=signature, key_id=kid))
        assert wrong_key.startswith("calendar data refused: signature does not verify with "
                                    f"any trusted key (trusted key id(s) {key_id(public)})")
        code = await asyncio.to_thread(main, ["calendar", "publish", str(FIXTURE_2027),
                                              "--signing-key", str(pem), "--json"])
        report = json.loads(capsys.readouterr().out)
        after: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
        await handle.terminate("test over")
    assert code == 0
    mine = next(p for p in report["projects"] if p["project_id"] == "JJT-SIGNED")
    assert mine["outcome"] == "applied", mine
    # Refused data never entered history: the only calendar event is the signed year's.
    assert [e.kind for e in after.events if e.kind == "calendar_applied"] == ["calendar_applied"]
    assert sum(e.kind == "calendar_applied" for e in before.events) == 0
    final = {o.id: o for o in after.obligations}["final_acceptance"]
    assert (final.due_on, final.provisional) == (date(2027, 2, 16), False)


async def test_trusted_keys_survive_continue_as_new(
    small_history_env: WorkflowEnvironment, keys: tuple[Path, str],  # noqa: F811
) -> None:
    client = small_history_env.client
    queue = new_queue()
    _, public = keys
    proj = project("JJT-SIGNED-CAN", investment_wan=800, started_on=date(2025, 3, 3))
    async with running_worker(client, queue):
        handle = await _start_trusting(client, proj, queue, [public])
        first_run = (await handle.describe()).run_id
        record = ProjectLifecycleWorkflow.record_document
        await handle.execute_update(record, doc("fsr_submitted", "2025-03-20"))
        day = date(2025, 3, 24)
        for _ in range(8):
            await handle.execute_update(record, doc("revision_requested", day.isoformat()))
            day += timedelta(days=2)
            await handle.execute_update(record, doc("revision_resubmitted", day.isoformat()))
            day += timedelta(days=1)
        latest = client.get_workflow_handle(handle.id)
        for _ in range(300):  # the loop continues as new after its last wake (hang guard)
            if (await latest.describe()).run_id != first_run:
                break
            await asyncio.sleep(0.1)
        assert (await latest.describe()).run_id != first_run
        why = await _refusal(latest, CalendarUpdate(snapshot=year_update(2026, "").snapshot))
        await latest.terminate("test over")
    assert why.startswith("calendar data refused: it is not signed")


def test_start_takes_the_trusted_keys_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[Path, str],
) -> None:
    from shixian import operations
    from shixian.errors import UserError
    from tests.lifecycle_helpers import calendar

    _, public = keys
    pub_file = tmp_path / "publisher.pub"
    pub_file.write_text(public + "\n", encoding="utf-8")
    other = public_key_text(Ed25519PrivateKey.generate())
    proj = project("JJT-KEYS", investment_wan=150, started_on=date(2026, 3, 2))
    monkeypatch.delenv("SHIXIAN_CALENDAR_TRUSTED_KEYS", raising=False)
    assert operations.prepare(proj, calendar()).calendar_keys == []
    monkeypatch.setenv("SHIXIAN_CALENDAR_TRUSTED_KEYS", f"{pub_file}, {other}")
    assert operations.prepare(proj, calendar()).calendar_keys == [public, other]
    monkeypatch.setenv("SHIXIAN_CALENDAR_TRUSTED_KEYS", str(tmp_path / "missing.pub"))
    with pytest.raises(UserError, match="SHIXIAN_CALENDAR_TRUSTED_KEYS: cannot read"):
        operations.prepare(proj, calendar())
