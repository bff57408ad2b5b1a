"""What a cached project costs the worker (issue #12), checked as structure: one decoded
policy pack per distinct content, the project's modules (workflow modules included) passed
through the sandbox, nothing kept of a run's first activation. Speed itself is measured by
bench/scale.py."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime

import pytest
from pydantic_core import to_json
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import InitializeWorkflow, WorkflowActivation
from temporalio.worker import ExecuteWorkflowInput, WorkflowInstanceDetails
from temporalio.workflow import Info

from calendars import WorkCalendar
from shixian.converter import DATA_CONVERTER, PACK_BYTES
from shixian.worker_runtime import (
    PASSED_THROUGH,
    WORKFLOWS,
    ContextOutsideInstance,
    _DetachedHeaders,
    detached_start,
    workflow_runner,
)
from tests.lifecycle_helpers import calendar
from workflows.ledger import Ledger
from workflows.models import DocumentArrival, LedgerState, LifecycleInput, UnreadablePayload
from workflows.shared import share_immutable


def _inputs() -> tuple[LifecycleInput, LifecycleInput]:
    from policies.loader import load_pack
    from tests.jiujiang_cases import SMALL_BUILD

    pack = load_pack(SMALL_BUILD.project.policy)
    snap = dict(calendar().snapshot(2025, 2027))
    first = SMALL_BUILD.project.model_copy(update={"id": "COST-A", "documents": []})
    second = first.model_copy(update={"id": "COST-B", "documents": [
        DocumentArrival(type=d.type, on=d.on) for d in SMALL_BUILD.documents[:3]]})
    return (LifecycleInput(project=first, pack=pack, calendar=snap),
            LifecycleInput(project=second, pack=pack.model_copy(deep=True), calendar=snap))


def _decode(payload: Payload) -> LifecycleInput:
    value = DATA_CONVERTER.payload_converter.from_payloads([payload], [LifecycleInput])[0]
    assert isinstance(value, LifecycleInput)
    return value


NOW = datetime(2026, 3, 2, 4, tzinfo=UTC)


def _ledger(inp: LifecycleInput) -> Ledger:
    """The project's ledger with its documents recorded at NOW, as a workflow builds it."""
    share_immutable(inp)
    ledger = Ledger(inp.project, inp.pack, WorkCalendar.from_snapshot(inp.calendar),
                    LedgerState(calendar=inp.calendar))
    for doc in inp.project.documents:
        ledger.add_document(doc, NOW)
    return ledger


def _status(inp: LifecycleInput) -> object:
    return _ledger(inp).status(NOW).model_dump(exclude={"as_of"})


def test_two_projects_with_one_pack_share_its_decoding_and_decide_apart() -> None:
    a, b = _inputs()
    pa, pb = DATA_CONVERTER.payload_converter.to_payloads([a, b])
    for p, inp in ((pa, a), (pb, b)):
        assert p.data.startswith(b'{"pack":') and PACK_BYTES in p.metadata
        assert json.loads(p.data) == json.loads(to_json(inp)), "same JSON content"
    da, db = _decode(pa), _decode(pb)
    assert da == a and db == b
    assert da.pack is db.pack, "one decoded pack for equal content"
    assert _status(da) == _status(a.model_copy(deep=True))
    assert _status(db) == _status(b.model_copy(deep=True))
    assert _status(da) != _status(db)


def test_inputs_written_before_decode_as_they_did() -> None:
    """A history's input without the metadata (written before) takes pydantic's path."""
    a, _ = _inputs()
    old = Payload(metadata={"encoding": b"json/plain"}, data=to_json(a))
    assert _decode(old) == a


@pytest.mark.parametrize("size", [b"12", b"not a number", b"999999"])
def test_a_wrong_pack_length_falls_back_to_the_whole_json(size: bytes) -> None:
    a, _ = _inputs()
    good = DATA_CONVERTER.payload_converter.to_payloads([a])[0]
    odd = Payload(metadata={**good.metadata, PACK_BYTES: size}, data=good.data)
    assert _decode(odd) == a


def test_an_unreadable_input_still_says_which_field() -> None:
    a, _ = _inputs()
    good = DATA_CONVERTER.payload_converter.to_payloads([a])[0]
    bad = Payload(metadata=good.metadata,
                  data=good.data.replace(b'"investment_wan":', b'"investment_wan":"x",'
                                         b'"_":', 1))
    with pytest.raises(UnreadablePayload, match="investment_wan"):
        _decode(bad)


async def test_every_run_gets_the_hosts_workflow_class_not_a_fresh_import() -> None:
    """The workflow modules pass through the sandbox (PASSED_THROUGH): a run's instance is
    built from the worker's own class, so no run executes the module and the SDK's
    processing of its handlers again."""
    from temporalio import workflow
    from temporalio.api.common.v1 import Payloads
    from temporalio.api.failure.v1 import Failure
    from temporalio.worker.workflow_sandbox._runner import _fake_info

    from workflows.delivery import NoticeDeliveryWorkflow

    runner = workflow_runner()
    for cls in (*WORKFLOWS, NoticeDeliveryWorkflow):
        det = WorkflowInstanceDetails(
            payload_converter_factory=DATA_CONVERTER._new_payload_converter,
            failure_converter_class=DATA_CONVERTER.failure_converter_class,
            interceptor_classes=[], defn=workflow._Definition.must_from_class(cls),
            info=_fake_info, randomness_seed=-1, extern_functions={},
            disable_eager_activity_execution=False, worker_level_failure_exception_types=[],
            patch_activation_callback=None, last_completion_result=Payloads(),
            last_failure=Failure())
        instance = runner.create_instance(det)
        assert isinstance(instance, ContextOutsideInstance)
        assert instance.globals_and_locals["__temporal_workflow_class"] is cls, cls
    assert "workflows" in PASSED_THROUGH


def test_a_shed_ledger_derives_the_same_status_again() -> None:
    """A sleeping project drops its plans and instances (`Ledger.shed`); what it derives
    from the same state afterwards is what it held before, and the caches were emptied."""
    ledger = _ledger(_inputs()[1])
    before = ledger.status(NOW).model_dump(exclude={"as_of"})
    assert ledger._plans and ledger._cache is not None
    ledger.shed()
    assert not ledger._plans and ledger._cache is None
    assert ledger.status(NOW).model_dump(exclude={"as_of"}) == before


def _started(arg_kb: int = 40) -> InitializeWorkflow:
    """A start as the worker reads it off the wire: one protobuf message (one arena)."""
    act = WorkflowActivation()
    init = act.jobs.add().initialize_workflow
    init.arguments.add().data = b"x" * (arg_kb * 1024)
    init.headers["trace"].data = b"header"
    init.memo.fields["note"].data = b"memo"
    init.last_completion_result.payloads.add().data = b"last"
    return WorkflowActivation.FromString(act.SerializeToString()).jobs[0].initialize_workflow


def _details(init: InitializeWorkflow) -> WorkflowInstanceDetails:
    """The parts of `WorkflowInstanceDetails` the SDK takes from the start (temporalio's
    `_create_workflow_instance`); the rest do not matter here."""
    info = Info(**{f.name: None for f in dataclasses.fields(Info)}  # type: ignore[arg-type]
                | {"headers": dict(init.headers), "raw_memo": dict(init.memo.fields)})
    return WorkflowInstanceDetails(
        payload_converter_factory=None, failure_converter_class=None,  # type: ignore[arg-type]
        interceptor_classes=[], defn=None, info=info, randomness_seed=0,  # type: ignore[arg-type]
        extern_functions={}, disable_eager_activity_execution=False,
        worker_level_failure_exception_types=[], patch_activation_callback=None,
        last_completion_result=init.last_completion_result, last_failure=None)


def _overwrite(init: InitializeWorkflow) -> None:
    init.headers["trace"].data = init.memo.fields["note"].data = b"overwritten"
    init.last_completion_result.payloads[0].data = b"overwritten"


def test_a_cached_run_keeps_nothing_of_its_first_activation() -> None:
    """What the SDK keeps of a start for the run's life (its headers, memo and last
    completion result) is copied out, so the activation's memory (its input, decoded and
    not) is freed after the first task. A view would see the activation overwritten."""
    init = _started()
    det = _details(init)
    kept = detached_start(det)
    _overwrite(init)
    assert det.info.headers["trace"].data == b"overwritten"  # the SDK's own: views
    assert det.last_completion_result.payloads[0].data == b"overwritten"
    assert kept.info.headers["trace"].data == b"header"
    assert kept.info.raw_memo["note"].data == b"memo"
    assert kept.last_completion_result.payloads[0].data == b"last"
    assert kept.interceptor_classes[0] is _DetachedHeaders
    assert kept.info.workflow_id is None and kept.randomness_seed == 0  # the rest as it was


def test_the_workflow_input_keeps_a_copy_of_the_start_headers() -> None:
    """The SDK keeps `ExecuteWorkflowInput` (with `headers`, a view into the start) for
    the run's life; the outermost interceptor replaces them with a copy before the run."""
    init = _started()
    seen: list[ExecuteWorkflowInput] = []

    class Root:
        async def execute_workflow(self, input: ExecuteWorkflowInput) -> str:
            seen.append(input)
            return "done"

    start = ExecuteWorkflowInput(type=object, run_fn=None,  # type: ignore[arg-type]
                                 args=[], headers=init.headers)
    assert asyncio.run(_DetachedHeaders(Root()).execute_workflow(start)) == "done"  # type: ignore[arg-type]
    _overwrite(init)
    assert seen == [start] and start.headers["trace"].data == b"header"
