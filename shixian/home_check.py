"""Is this read model the one the workers write? A cheap question to Temporal.

An empty read model next to a Temporal server that runs shixian projects means the command
looks in the wrong home (another directory's `.shixian/`, another SHIXIAN_DATABASE_URL) or
no worker records them. Asking costs one visibility count with a short timeout; when
Temporal cannot answer quickly, nothing is said.
"""

from __future__ import annotations

import asyncio

from shixian import config, readmodel
from shixian.errors import UserError

# Both lifecycle types: v1 projects still running, and every project started since (v2).
RUNNING_QUERY = ("WorkflowType IN ('ProjectLifecycleWorkflow', 'ProjectLifecycleWorkflowV2') "
                 "AND ExecutionStatus = 'Running'")


async def _running_projects(timeout: float = 3.0) -> int | None:
    """Running shixian workflows by Temporal's visibility count; None if it cannot tell fast."""
    from shixian.client import connect

    async def count() -> int:
        # A count converts no payload: the converter, pydantic and the models stay unimported.
        client = await connect(converter_on_first_use=True)
        resp = await client.count_workflows(RUNNING_QUERY)
        return int(resp.count)

    try:
        return await asyncio.wait_for(count(), timeout)
    except Exception:
        return None


def check_not_stale_home() -> None:
    """An empty read model while Temporal runs projects: the wrong home, or no worker."""
    message = stale_home_message()
    if message:
        raise UserError(message)


def stale_home_message() -> str | None:
    """What is wrong, when the read model has no projects and Temporal runs some."""
    if readmodel.project_count() > 0:
        return None
    running = asyncio.run(_running_projects())
    if running:
        return (
            f"the read model at {readmodel.location()} ({config.database_origin()}) "
            f"has no projects, but Temporal has {running} running shixian project(s): run "
            "this where `shixian up` keeps its .shixian/, or set SHIXIAN_HOME or "
            "SHIXIAN_DATABASE_URL to the read model the workers write (`shixian db where`); "
            "if that is this one, start a worker (`shixian worker`)")
    return None
