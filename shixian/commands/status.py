"""`shixian status`: the project's workflow's own answer to where it is.

A fresh process imports Temporal's client; the pydantic models, the data converter and the
text renderer only once the project is found (an unknown id is answered without them,
issue #12). The query is sent by name (`shixian.updates.STATUS_QUERY`), so the workflow
itself is not imported. The read model is not asked: it holds what the workflow last
reported, not its answer for today, and not its notices.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from shixian import liveness
from shixian.client import connect, project_handle
from shixian.clock import today
from shixian.errors import UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    status = sub.add_parser(
        "status", help="where a project is, what is due when, what is overdue",
        description="Query a project's workflow: stage, every obligation with due day, state, "
                    "overdue working days, escalation rung and the article it comes from; "
                    "the notices sent.",
        formatter_class=fmt,
    )
    status.add_argument("project_id", metavar="PROJECT_ID")
    status.add_argument("--json", action="store_true", help="the full status as JSON")
    status.add_argument("--all", action="store_true",
                        help="also list obligations waived for this project's path")
    status.set_defaults(handler=run_status)


STATUS_WAIT = timedelta(seconds=15)


def delivery_summary(project_id: str) -> dict[str, str]:
    """Per notice key: `sent 3, undeliverable 1 (市无人局)` from the delivery rows (none when
    there is no read model here: status never creates one)."""
    from activities import settings
    from activities.reader import reading, sqlite_path

    url = settings.database_url()
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return {}
    with reading(url) as conn:
        _, rows = conn.tuples("SELECT notice_key, state, recipient FROM notice_deliveries "
                              "WHERE project_id = ? ORDER BY id", (project_id,))
    counts: dict[str, dict[str, list[str]]] = {}
    for notice_key, state, recipient in rows:
        counts.setdefault(notice_key, {}).setdefault(state, []).append(recipient)
    out = {}
    for key, states in counts.items():
        parts = []
        for state, who in states.items():
            names = f" ({', '.join(dict.fromkeys(who))})" if state != "sent" else ""
            parts.append(f"{state} {len(who)}{names}")
        out[key] = ", ".join(parts) + ("  — see `shixian notices`" if set(states) - {"sent"}
                                       else "")
    return out


def run_status(args: argparse.Namespace) -> int:
    async def main() -> int:
        client = await connect(converter_on_first_use=True)
        handle = await project_handle(client, args.project_id)
        from shixian.render import dump_json, status_text, termination
        from shixian.updates import STATUS_QUERY, one_line
        from workflows.models import StatusView

        wf = await liveness.describe(handle)
        if await liveness.live_pollers(client, wf.task_queue) == 0:
            raise UserError(f"no status for {args.project_id}: "
                            f"{liveness.no_worker(wf.task_queue)}")
        try:
            status = await handle.query(STATUS_QUERY, today(), result_type=StatusView,
                                        rpc_timeout=STATUS_WAIT)
        except RPCError:
            raise UserError(f"no status for {args.project_id}: "
                            f"{await liveness.why_silent(client, handle)}") from None
        except WorkflowQueryFailedError as exc:
            raise UserError(f"no status for {args.project_id}: the status query failed: "
                            f"{one_line(exc)}") from None
        if args.json:
            print(dump_json(status.model_dump(mode="json")
                            | {"terminated": termination(status)}))
        else:
            print(status_text(status, args.all, delivery_summary(args.project_id)))
        return 0

    return asyncio.run(main())

