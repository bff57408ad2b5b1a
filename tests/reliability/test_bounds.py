"""Bounds that keep a project's state and its notices finite (issue 9 §1, §2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from temporalio.testing import WorkflowEnvironment

from calendars.engine import WorkCalendar
from tests.jiujiang_cases import project
from tests.lifecycle_helpers import lifecycle_input
from tests.reliability.harness import health, outbox_keys, project_id, start_small, today
from workflows.ledger import Ledger, Refused
from workflows.lifecycle import REFUSAL_EVENTS_KEPT, ProjectLifecycleWorkflow, _milestone
from workflows.models import (
    MAX_DOCUMENT_BYTES,
    DocumentArrival,
    LedgerState,
    RecordOutcome,
    StatusView,
)

pytestmark = pytest.mark.read_model_independent


def ledger_with(state: LedgerState) -> Ledger:
    inp = lifecycle_input(project("BOUND-1", investment_wan=150, started_on=today()))
    return Ledger(inp.project, inp.pack, WorkCalendar.from_snapshot(inp.calendar), state)


def test_documents_are_bounded_by_their_total_size() -> None:
    doc = DocumentArrival(type="tech_plan_submitted", on=today(), ref="九" * 200)
    assert ledger_with(LedgerState()).check_document(doc, today()) is RecordOutcome.ACCEPTED
    full = ledger_with(LedgerState(document_bytes=MAX_DOCUMENT_BYTES - 100))
    with pytest.raises(Refused, match="KB a project may hold; shorten the refs and facts"):
        full.check_document(doc, today())
    ledger = ledger_with(LedgerState())
    ledger.add_document(doc, datetime.now(UTC))
    assert ledger.state.document_bytes == len(doc.model_dump_json(exclude_defaults=True)
                                              .encode())


def test_repeated_problems_are_reported_at_1_10_100() -> None:
    assert [n for n in range(1, 2001) if _milestone(n)] == [1, 10, 100, 1000]


async def test_25_unreadable_signals_keep_20_events_and_tell_operators_twice(
    dev_env: WorkflowEnvironment, rel_queue: str,
) -> None:
    client = dev_env.client
    pid = project_id("unreadable")
    handle = await start_small(client, pid, rel_queue)
    await asyncio.gather(*(handle.signal("document_arrived", {"type": n}) for n in range(25)))
    keys = await outbox_keys(f"project-{pid}", "operator:", 2)
    assert sorted(keys) == ["operator:unreadable_signals@1", "operator:unreadable_signals@10"]
    assert await health(client, pid) is None
    status: StatusView = await handle.query(ProjectLifecycleWorkflow.status)
    unreadable = [e for e in status.events if e.kind == "signal_unreadable"]
    assert len(unreadable) == REFUSAL_EVENTS_KEPT
    assert unreadable[0].text.startswith("unreadable signal: document_arrived: ")
    assert [e.kind for e in status.events].count("operator_notice") == 2
    await handle.terminate("test over")
