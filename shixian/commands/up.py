"""`shixian up`: everything on embedded defaults — dev server, worker, example projects."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from pathlib import Path

from calendars.engine import WorkCalendar
from shixian import aio, config, logs, operations
from shixian.client import connect
from shixian.errors import UserError
from shixian.projects_file import load_projects
from shixian.render import table
from shixian.temporal_env import DevServer, port_is_free
from shixian.worker_runtime import run_until
from workflows import search_attributes

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "jiujiang-portfolio.yaml"

DESCRIPTION = """\
Run shixian on one machine with nothing else installed: start the embedded Temporal dev
server (state in ./.shixian/temporal.db) unless TEMPORAL_ADDRESS points at one or one already
listens on localhost:7233, run a worker in this process, start the example portfolio of
九江 projects (or yours, with --projects) and print where each one stands.

It keeps running — timers fire and escalations go out — until Ctrl-C. In another terminal:
  shixian status JJ-2026-001
  shixian doc JJ-2026-001 fsr_submitted --on 2026-11-23
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "up", help="server + worker + example projects on embedded defaults",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--projects", type=Path, default=EXAMPLES,
                        help="projects file to start (default: the example portfolio)")
    parser.add_argument("--no-projects", action="store_true", help="start no projects")
    parser.add_argument("--once", action="store_true",
                        help="print the overview and stop (no long-running worker)")
    parser.add_argument("--port", type=int, default=7233, help="dev server port (default 7233)")
    parser.set_defaults(handler=run)


def _embedded_server(port: int) -> DevServer | None:
    """A dev server to start, or None when TEMPORAL_ADDRESS is set or one already listens."""
    if os.environ.get("TEMPORAL_ADDRESS"):
        return None
    os.environ["TEMPORAL_ADDRESS"] = f"127.0.0.1:{port}"
    if not port_is_free("127.0.0.1", port):
        print(f"using the Temporal server already listening on 127.0.0.1:{port}", flush=True)
        return None
    return DevServer(
        db_file=config.state_dir() / "temporal.db",
        port=port,
        search_attributes=search_attributes.for_dev_server(),
        log_file=config.state_dir() / "temporal-server.log",
    )


def run(args: argparse.Namespace) -> int:
    logs.configure(json_lines=False)
    server = _embedded_server(args.port)
    if server is not None:
        print(f"starting the embedded Temporal dev server on {server.address} …", flush=True)
        server.start()
        print(f"Temporal Web UI: {server.ui_url}", flush=True)
    try:
        return aio.run(lambda stop: _main(args, stop))
    finally:
        if server is not None:
            server.stop()


async def _main(args: argparse.Namespace, stop: asyncio.Event) -> int:
    client = await connect()
    worker_stop = asyncio.Event()
    worker = asyncio.create_task(run_until(client, worker_stop))
    try:
        ids: list[str] = []
        if not args.no_projects:
            projects = load_projects(args.projects)
            calendar = WorkCalendar.default()
            today = operations.today()
            for project in projects:
                inp = operations.prepare(project, calendar, today)
                started = await operations.start_project(client, inp)
                print(f"{'started' if started else 'exists '} project-{project.id}", flush=True)
                ids.append(project.id)
            await _overview(client, ids)
        if not args.once:
            print("\nworker running; Ctrl-C to stop. Try: shixian status "
                  f"{ids[0] if ids else 'PROJECT_ID'}", flush=True)
            await stop.wait()
    finally:
        worker_stop.set()
        with contextlib.suppress(Exception):
            await worker
    return 0


async def _overview(client: object, ids: list[str]) -> None:
    from temporalio.client import Client

    assert isinstance(client, Client)
    rows = []
    for pid in ids:
        status = None
        for _ in range(50):  # the first workflow task may still be running
            status = await operations.project_status(client, pid)
            if status.events:
                break
            await asyncio.sleep(0.2)
        if status is None:
            raise UserError(f"no status for {pid}")
        late = [o for o in status.obligations if o.overdue_working_days and o.done_on is None]
        rows.append([
            pid, status.name, status.stage_title,
            status.next_due_on.isoformat() if status.next_due_on else "-",
            ", ".join(f"{o.id} +{o.overdue_working_days}wd" for o in late) or "-",
            str(status.escalation_level), str(len(status.notices)),
        ])
    print()
    print(table(["project", "name", "stage", "next due", "overdue", "level", "notices"], rows))
    print("\nper project: shixian status PROJECT_ID  (--json for scripts)")
