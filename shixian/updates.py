"""Recording documents on a project's workflow, by update and signal *name*.

`shixian doc` sends one update and, when no worker answers, a durable signal. Naming the
workflow's handlers by string (with the result type) instead of through the workflow class
keeps the command from importing the workflow and everything it pulls in (the ledger, the
policy loader, the notice activities: ~0.2 s of a fresh process, issue #12); Temporal sends
the same request either way. tests/test_cli_imports.py checks that these names are the
workflow's own.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from shixian.errors import UserError
from workflows.models import (
    BatchResult,
    DocumentArrival,
    DocumentBatch,
    DocumentOutcome,
    RecordOutcome,
    RecordResult,
)

RECORD_DOCUMENT = "record_document"  # ProjectLifecycleWorkflow.record_document
RECORD_DOCUMENTS = "record_documents"  # ProjectLifecycleWorkflow.record_documents
DOCUMENT_SIGNAL = "document_arrived"  # workflows.lifecycle.DOCUMENT_SIGNAL
STATUS_QUERY = "status"  # ProjectLifecycleWorkflow.status
# Documents per batch update: well under Temporal's payload limit whatever the fields hold.
MAX_BATCH = 200


def reason(exc: BaseException) -> str:
    """The workflow's own words for a refusal: the ApplicationError in the cause chain."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.message
        cause = cause.__cause__
    return str(exc)


async def execute(handle: WorkflowHandle[Any, Any], update: Any, arg: Any,
                  result_type: type | None = None) -> tuple[bool, Any]:
    """(True, result), or (False, reason) when refused or the lifecycle has ended."""
    try:
        if isinstance(update, str):
            return True, await handle.execute_update(update, arg, result_type=result_type)
        return True, await handle.execute_update(update, arg)
    except WorkflowUpdateFailedError as exc:
        return False, reason(exc)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:  # completed, or closing under the update
            project_id = handle.id.removeprefix("project-")
            return False, (f"project {project_id}'s lifecycle has ended (finished or "
                           f"terminated); see `shixian status {project_id}`")
        raise


async def record_document(handle: WorkflowHandle[Any, Any],
                          doc: DocumentArrival) -> RecordResult:
    ok, result = await execute(handle, RECORD_DOCUMENT, doc, RecordResult)
    if not ok:
        return RecordResult(outcome=RecordOutcome.REFUSED, reason=str(result))
    assert isinstance(result, RecordResult)
    return result


async def record_documents(handle: WorkflowHandle[Any, Any], docs: list[DocumentArrival],
                           ) -> tuple[list[DocumentOutcome], str]:
    """One batch update per MAX_BATCH documents: each document's outcome (in date order) and
    the stage. The whole batch is refused (UserError) only when the project cannot take
    documents at all (an ended lifecycle); a refused document never stops the others."""
    outcomes: list[DocumentOutcome] = []
    stage = ""
    for start in range(0, len(docs), MAX_BATCH):
        ok, result = await execute(handle, RECORD_DOCUMENTS,
                                   DocumentBatch(documents=docs[start:start + MAX_BATCH]),
                                   BatchResult)
        if not ok:
            raise UserError(f"project {handle.id.removeprefix('project-')}: {result}")
        assert isinstance(result, BatchResult)
        outcomes += result.outcomes
        stage = result.stage
    return outcomes, stage


def one_line(exc: BaseException) -> str:
    """An exception as one line of at most 500 characters, naming Temporal's status code."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, RPCError) and exc.status is not None:
        text = f"Temporal {exc.status.name}: {text}"
    return text[:500]
