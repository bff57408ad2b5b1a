"""The bad-input matrix (issue 9 §1, §2, §5): every case is refused with a reason that
names the fix, or recorded visibly on the project — and the project is healthy afterwards
(a valid document is then accepted, no workflow task ever failed). The eight inputs that
used to wedge a project for good are the `wedge-*` cases (and test_signal_stream.py)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from shixian import operations
from tests.lifecycle_helpers import lifecycle_input, record_history
from tests.reliability.figures import FIGURES
from tests.reliability.harness import (
    VALID,
    Ctx,
    Outcome,
    Run,
    big_input,
    events_matching,
    failed_tasks,
    health,
    outbox_keys,
    project_id,
    shixian,
    small_project,
    start_small,
    temporal_cli,
    today,
    valid_yaml,
)
from workflows.lifecycle import DOCUMENT_SIGNAL, ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, ExtensionRequest

pytestmark = pytest.mark.read_model_independent

KB = 1000
LIFECYCLE_TYPE = workflow._Definition.must_from_class(ProjectLifecycleWorkflow).name
RECORDED_KINDS = {"signal_unreadable", "document_refused"}


@dataclass
class Case:
    id: str
    surface: str  # cli | raw | client
    run: Run
    expect: str  # refused | recorded
    must: list[str]
    prestart: bool = True  # False: the case starts the project itself (`shixian start`)
    operators: bool = field(default=False)  # an unreadable signal: operators are told


def _refused(code: int, text: str) -> Outcome:
    return Outcome(refused=code != 0, message=text)


# ---- the shixian CLI -----------------------------------------------------------------------
def cli_start(yaml_text: str, suffix: str = ".yaml") -> Run:
    async def run(ctx: Ctx) -> Outcome:
        path = ctx.tmp / f"projects{suffix}"
        path.write_text(yaml_text.replace("PID", ctx.pid), encoding="utf-8")
        code, out, err = await shixian(ctx.capsys, "start", "--allow-expired-policy", str(path))
        return _refused(code, out + err)
    return run


def csv_investment(value: str) -> str:
    return ("id,name,policy,owner,owner_type,category,kind,investment_wan,started_on\n"
            f"PID,可靠性测试项目,jiujiang-2024,市测试局,administrative,other,build,{value},"
            f"{today()}\n")


def cli(*args: str) -> Run:
    async def run(ctx: Ctx) -> Outcome:
        argv = [a.replace("PID", ctx.pid).replace("TODAY", today().isoformat())
                .replace("TOMORROW", (today() + timedelta(days=1)).isoformat()) for a in args]
        code, out, err = await shixian(ctx.capsys, *argv)
        return _refused(code, out + err)
    return run


def cli_doc_file(name: str, text: str) -> Run:
    async def run(ctx: Ctx) -> Outcome:
        path = ctx.tmp / name
        path.write_text(text.replace("PID", ctx.pid).replace("TODAY", today().isoformat()),
                        encoding="utf-8")
        code, out, err = await shixian(ctx.capsys, "doc", "--file", str(path))
        return _refused(code, out + err)
    return run


# ---- the stock temporal CLI, raw payloads ---------------------------------------------------
def raw_signal(*inputs: str, name: str = DOCUMENT_SIGNAL, big: str | None = None) -> Run:
    async def run(ctx: Ctx) -> Outcome:
        args = ["workflow", "signal", "-w", ctx.wid, "--name", name]
        for value in inputs:
            args += ["--input", value.replace("TODAY", today().isoformat())]
        if big is not None:
            payload = big.replace("TODAY", today().isoformat())
            args += ["--input-file", str(big_input(ctx.tmp, "signal.json", payload))]
        return _refused(*await temporal_cli(ctx.client, *args))
    return run


def raw_update(name: str, payload: str) -> Run:
    async def run(ctx: Ctx) -> Outcome:
        path = big_input(ctx.tmp, "update.json", payload.replace("TODAY", today().isoformat()))
        return _refused(*await temporal_cli(ctx.client, "workflow", "update", "execute", "-w",
                                            ctx.wid, "--name", name, "--input-file", str(path)))
    return run


def raw_start(**override: object) -> Run:
    """`temporal workflow start` with a hand-written input: it must fail the workflow with
    the reason, not retry its first task for ever."""
    async def run(ctx: Ctx) -> Outcome:
        inp = lifecycle_input(small_project(ctx.pid)).model_dump(mode="json")
        inp["project"].update(override)
        text = json.dumps(inp, ensure_ascii=False).replace('"INF"', "1e999")
        path = big_input(ctx.tmp, "start.json", text)
        code, out = await temporal_cli(
            ctx.client, "workflow", "start", "--type", LIFECYCLE_TYPE, "--task-queue",
            ctx.queue, "-w", f"{ctx.wid}-raw", "--input-file", str(path))
        assert code == 0, out  # Temporal takes it: the worker is who can judge it
        handle = ctx.client.get_workflow_handle(f"{ctx.wid}-raw")
        try:
            await asyncio.wait_for(handle.result(), 20)
        except WorkflowFailureError as exc:
            if await failed_tasks(handle):
                return Outcome(False, "a workflow task failed first")
            return Outcome(True, f"{exc.cause}")
        except TimeoutError:
            return Outcome(False, "still running: its task is retried")
        return Outcome(False, "it ran")
    return run


def doc_json(**fields: object) -> str:
    base: dict[str, object] = {"type": VALID, "on": "TODAY"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}, ensure_ascii=False)


# ---- the Python client ---------------------------------------------------------------------
def client_update(update: object, arg: object) -> Run:
    async def run(ctx: Ctx) -> Outcome:
        try:
            await ctx.handle.execute_update(update, arg)  # type: ignore[call-overload]
        except WorkflowUpdateFailedError as exc:
            chain: list[str] = []
            cause: BaseException | None = exc
            while cause is not None:
                chain.append(str(cause))
                cause = getattr(cause, "cause", None) or cause.__cause__
            return Outcome(True, ": ".join(chain))
        return Outcome(False, "accepted")
    return run


def client_signal(*args: object, name: str = DOCUMENT_SIGNAL) -> Run:
    async def run(ctx: Ctx) -> Outcome:
        await ctx.handle.signal(name, args=list(args))
        return Outcome(False, "sent")
    return run


def client_record(doc: DocumentArrival) -> Run:
    async def run(ctx: Ctx) -> Outcome:
        result = await operations.record_document(ctx.client, ctx.pid, doc)
        return Outcome(result.outcome.value == "refused", result.reason)
    return run


HUGE_NAME = "市" * 400_000  # 1.2 MB of UTF-8
REF_700K = "R" * 700 * KB
REF_900K = "九" * 300 * KB  # 900 KB of UTF-8
FAR = "2099-06-30"

CASES = [
    # The eight inputs that wedged a project (issue 9 §1); the 1,700 re-sends are in
    # test_signal_stream.py.
    Case("wedge-inf-yaml", "cli", cli_start(valid_yaml("PID", investment_wan=".inf")),
         "refused", ["investment_wan", "finite"], prestart=False),
    Case("wedge-1e999-csv", "cli", cli_start(csv_investment("1e999"), ".csv"),
         "refused", ["investment_wan", "finite"], prestart=False),
    Case("wedge-700k-ref-doc-file", "cli",
         cli_doc_file("inbox.jsonl", json.dumps({"project_id": "PID", "type": VALID,
                                                 "on": "TODAY", "ref": REF_700K}) + "\n"),
         "refused", ["malformed", "ref", "at most 200 characters"]),
    Case("doc-file-700k-csv-cell", "cli",
         cli_doc_file("inbox.csv", f"project_id,type,on,ref\nPID,{VALID},TODAY,{REF_700K}\n"),
         "refused", ["not valid CSV", "field larger than field limit"]),
    Case("wedge-900k-ref-update", "client",
         client_update(ProjectLifecycleWorkflow.record_document,
                       {"type": VALID, "on": today().isoformat(), "ref": REF_900K}),
         "refused", ["ref", "at most 200 characters"]),
    Case("wedge-900k-ref-batch-update", "raw",
         raw_update("record_documents", json.dumps({"documents": [
             {"type": VALID, "on": "TODAY", "ref": REF_900K}]}, ensure_ascii=False)),
         "refused", ["ref", "at most 200 characters"]),
    Case("wedge-900k-ref-signal", "raw", raw_signal(big=doc_json(ref=REF_900K)),
         "recorded", ["unreadable signal", "at most 200 characters"], operators=True),
    Case("wedge-1.2mb-name", "cli", cli_start(valid_yaml("PID", name=HUGE_NAME)),
         "refused", ["name", "200 characters"], prestart=False),
    Case("wedge-two-inputs", "raw", raw_signal(doc_json(), doc_json()),
         "recorded", ["takes one document, got 2 inputs"], operators=True),

    Case("raw-start-1.2mb-name", "raw", raw_start(name=HUGE_NAME), "refused",
         ["unreadable LifecycleInput", "project.name", "at most 200 characters"],
         prestart=False),
    Case("raw-start-1e999-investment", "raw", raw_start(investment_wan="INF"), "refused",
         ["unreadable LifecycleInput", "project.investment_wan", "finite"], prestart=False),

    # shixian start
    Case("start-negative-investment", "cli", cli_start(valid_yaml("PID", investment_wan="-5")),
         "refused", ["investment_wan", "greater than 0"], prestart=False),
    Case("start-nan-investment", "cli", cli_start(valid_yaml("PID", investment_wan=".nan")),
         "refused", ["investment_wan", "finite"], prestart=False),
    Case("start-future", "cli", cli_start(valid_yaml("PID", started_on="2099-01-01")),
         "refused", ["in the future", "on or after its launch notice"], prestart=False),
    Case("start-unknown-policy", "cli", cli_start(valid_yaml("PID", policy="nowhere-2024")),
         "refused", ["nowhere-2024", "jiujiang-2024"], prestart=False),
    Case("start-bad-id", "cli", cli_start(valid_yaml("PID").replace("id: PID", "id: 'PID/x'")),
         "refused", ["id", "pattern"], prestart=False),

    # shixian doc / extend / clock / terminate
    Case("doc-700k-ref-arg", "cli", cli("doc", "PID", VALID, "--on", "TODAY", "--ref", REF_700K),
         "refused", ["--ref", "at most 200 characters"]),
    Case("doc-unknown-type", "cli", cli("doc", "PID", "tech_plan", "--on", "TODAY"),
         "refused", ["unknown document type", "known types"]),
    Case("doc-future", "cli", cli("doc", "PID", VALID, "--on", "TOMORROW"),
         "refused", ["after today", "record a document on or after the day it arrives"]),
    Case("doc-before-start", "cli", cli("doc", "PID", VALID, "--on", "2020-01-02"),
         "refused", ["before the"]),
    Case("doc-out-of-order", "cli", cli("doc", "PID", "fsr_tech_review_issued", "--on", "TODAY"),
         "refused", ["record that first"]),
    Case("doc-extension-past-calendar", "cli",
         cli("doc", "PID", "extension_granted", "--on", "TODAY", "--until", FAR),
         "refused", ["after the last day this project's calendar covers", "within it"]),
    Case("doc-extension-before-itself", "cli",
         cli("doc", "PID", "extension_granted", "--on", "TODAY", "--until", "2020-01-02"),
         "refused", ["must be after it"]),
    Case("doc-unknown-project", "cli", cli("doc", "NO-SUCH-PROJECT", VALID, "--on", "TODAY"),
         "refused", ["unknown project"]),
    Case("doc-file-bad-date", "cli",
         cli_doc_file("inbox.jsonl", json.dumps({"project_id": "PID", "type": VALID,
                                                 "on": "2026-02-30"}) + "\n"),
         "refused", ["malformed", "on:"]),
    Case("doc-bad-date-arg", "cli", cli("doc", "PID", VALID, "--on", "2026-13-01"),
         "refused", ["is not a date (YYYY-MM-DD)"]),
    Case("extend-dated-future", "cli",
         cli("extend", "PID", "small_tech_review", "--until", "2030-06-28", "--on", "2030-01-02"),
         "refused", ["after today", "on or after the day it was granted"]),
    Case("extend-past-calendar", "cli",
         cli("extend", "PID", "small_tech_review", "--until", FAR, "--on", "TODAY"),
         "refused", ["after the last day this project's calendar covers"]),
    Case("clock-stop-not-excluded", "cli",
         cli("clock", "stop", "PID", "budget_submission", "--on", "TODAY"),
         "refused", ["no excluded time", "only documents pause it"]),
    Case("terminate-no-reason", "cli", cli("terminate", "PID", "--on", "TODAY", "--reason", " "),
         "refused", ["needs a reason"]),
    Case("terminate-future", "cli",
         cli("terminate", "PID", "--on", "TOMORROW", "--reason", "撤销"),
         "refused", ["in the future"]),

    # raw signals (issue 9 §2: nothing silently dropped)
    Case("signal-null", "raw", raw_signal("null"), "recorded", ["unreadable signal"],
         operators=True),
    Case("signal-wrong-type", "raw", raw_signal(doc_json(type=5)), "recorded",
         ["unreadable signal", "type"], operators=True),
    Case("signal-missing-field", "raw", raw_signal(json.dumps({"type": VALID})),
         "recorded", ["unreadable signal", "on"], operators=True),
    Case("signal-extra-field", "raw", raw_signal(doc_json(colour="red")), "recorded",
         ["unreadable signal", "colour"], operators=True),
    Case("signal-bad-date", "raw", raw_signal(doc_json(on="2026-13-45")), "recorded",
         ["unreadable signal", "on"], operators=True),
    Case("signal-a-string", "raw", raw_signal('"tech_plan_submitted"'), "recorded",
         ["unreadable signal"], operators=True),
    Case("signal-no-input", "raw", raw_signal(), "recorded", ["got 0 inputs"], operators=True),
    Case("signal-unknown-name", "raw", raw_signal(doc_json(), name="documents_arrived"),
         "recorded", ["unknown signal 'documents_arrived'", "send document_arrived"],
         operators=True),
    Case("signal-unknown-doc-type", "raw", raw_signal(doc_json(type="tech_plan")),
         "recorded", ["unknown document type 'tech_plan'", "known types"]),
    Case("signal-future-date", "raw", raw_signal(doc_json(on="2099-01-01")), "recorded",
         ["after today"]),
    Case("signal-extension-past-calendar", "raw",
         raw_signal(doc_json(type="extension_granted", until=FAR)), "recorded",
         ["calendar covers"]),
    Case("signal-over-2mb", "raw", raw_signal(big=doc_json(ref="x" * 2_200 * KB)),
         "refused", ["exceeds"]),

    # raw updates
    Case("update-null", "raw", raw_update("record_document", "null"), "refused",
         ["unreadable DocumentArrival", "Input should be an object"]),
    Case("update-empty-batch", "raw", raw_update("record_documents", '{"documents": []}'),
         "refused", ["at least 1"]),
    Case("update-unknown-name", "raw", raw_update("record_doc", doc_json()), "refused",
         ["record_doc", "known updates"]),
    Case("update-extension-future", "raw",
         raw_update("grant_extension", json.dumps({"obligation": "small_tech_review",
                                                   "until": "2030-06-28",
                                                   "on": "2030-01-02"})),
         "refused", ["after today"]),
    Case("update-calendar-garbage", "raw",
         raw_update("apply_calendar", '{"snapshot": {"years": "all of them"}}'),
         "refused", ["calendar data refused"]),

    # the Python client
    Case("client-two-docs-one-signal", "client",
         client_signal(DocumentArrival(type=VALID, on=today()),
                       DocumentArrival(type=VALID, on=today())),
         "recorded", ["got 2 inputs"], operators=True),
    Case("client-dict-missing-date", "client", client_signal({"type": VALID}), "recorded",
         ["unreadable signal"], operators=True),
    Case("client-record-future", "client",
         client_record(DocumentArrival(type=VALID, on=today() + timedelta(days=3))),
         "refused", ["after today"]),
    Case("client-extension-past-calendar", "client",
         client_update(ProjectLifecycleWorkflow.grant_extension,
                       ExtensionRequest(obligation="small_tech_review",
                                        until=today().replace(year=2099), on=today())),
         "refused", ["calendar covers"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_is_refused_or_recorded_and_the_project_stays_healthy(
    case: Case, dev_env: WorkflowEnvironment, rel_queue: str, rel_cli_env: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = dev_env.client
    ctx = Ctx(client, rel_queue, project_id(case.id), tmp_path, capsys)
    FIGURES.tried += 1
    if case.prestart:
        await start_small(client, ctx.pid, rel_queue)
    outcome = await case.run(ctx)
    if case.expect == "refused":
        assert outcome.refused, f"{case.id}: not refused: {outcome.message[:300]}"
        assert "Traceback" not in outcome.message
        for text in case.must:
            assert text in outcome.message, f"{case.id}: {text!r} not in " \
                                            f"{outcome.message[:600]!r}"
        FIGURES.refused += 1
    else:
        assert not outcome.refused, f"{case.id}: the sender was refused: {outcome.message}"
        found = await events_matching(ctx.handle, RECORDED_KINDS, case.must[0])
        assert found, f"{case.id}: no event with {case.must[0]!r} on the project"
        for text in case.must[1:]:
            assert any(text in f for f in found), f"{case.id}: {text!r} not in {found}"
        if case.operators:
            keys = await outbox_keys(ctx.wid, "operator:unreadable_signals@")
            assert keys == ["operator:unreadable_signals@1"], keys
        FIGURES.recorded += 1
    if not case.prestart:  # a refused start started nothing: the valid file starts it now
        path = tmp_path / "valid.yaml"
        path.write_text(valid_yaml(ctx.pid), encoding="utf-8")
        code, out, err = await shixian(capsys, "start", "--allow-expired-policy", str(path))
        assert code == 0 and "started" in out, err
    problem = await health(client, ctx.pid)
    if problem is not None:
        FIGURES.wedged.append(case.id)
    assert problem is None, f"{case.id}: {problem}"
    if case.id == "signal-null":  # the unreadable-signal path, replayed by test_replay.py
        await record_history(ctx.handle, "reliability-unreadable-signal")
    await ctx.handle.terminate("reliability case over")


def test_the_matrix_has_at_least_forty_cases_on_three_surfaces() -> None:
    assert len(CASES) >= 40
    assert {c.surface for c in CASES} == {"cli", "raw", "client"}
    assert len({c.id for c in CASES}) == len(CASES)
