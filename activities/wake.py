"""`record_wake`: what one wake of a project's workflow hands to the world, in one activity.

The notices it raised go to the outbox and on to delivery (as `send_notices`), then the
read model takes what changed (`record_changes`). One activity per wake, scheduled in the
workflow task that sets the wake's timer and not awaited there (issue #12: a first wake of
six history events, one workflow task per wake for the result). Both halves are
idempotent, so a retry after a failure half-way repeats nothing: the outbox is keyed on
workflow id + notice key, a delivery workflow on its id, the read model on the sequence
number. Runs started before it keep scheduling `send_notices`/`send_notice` and
`record_status`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import activity

from activities.notices import NoticeInput, send_one
from activities.read_model import ReadModelChanges, record_changes
from workflows.models import NoticeRecord


@dataclass
class WakeInput:
    workflow_id: str
    project_id: str
    jurisdiction: str
    notices: list[NoticeRecord]
    changes: ReadModelChanges | None


@dataclass
class WakeResult:
    sent: list[bool]  # per notice: new in the outbox (False: a retry found it there)
    read_model: str  # APPLIED, STALE, NEEDS_FULL, or "" when there was no update


@activity.defn
async def record_wake(inp: WakeInput) -> WakeResult:
    """The notices in the order raised, then the read-model update."""
    sent = [await send_one(NoticeInput(inp.workflow_id, inp.project_id, inp.jurisdiction, n))
            for n in inp.notices]
    read_model = ("" if inp.changes is None
                  else await asyncio.to_thread(record_changes, inp.changes))
    return WakeResult(sent=sent, read_model=read_model)
