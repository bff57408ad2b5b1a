"""`shixian up`: everything on embedded defaults — dev server, worker, example projects."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import threading
from pathlib import Path

from temporalio.client import Client

from activities.db import engine
from calendars.engine import WorkCalendar
from delivery import contacts
from shixian import aio, config, logs, operations, readmodel, vocabulary
from shixian.client import connect
from shixian.dashboard import DashboardServer, make_server
from shixian.errors import UserError
from shixian.export import terminal_text
from shixian.projects_file import load_all, report
from shixian.readmodel import Filters, portfolio
from shixian.render import table
from shixian.temporal_env import DevServer, port_is_free
from shixian.worker_runtime import run_until
from workflows import search_attributes

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "examples"
# One portfolio, five cities: each jurisdiction's own file shape (九江 YAML, the others the
# CSV their bureau keeps), with projects imported half-way through their lives.
EXAMPLES = [EXAMPLE_DIR / name for name in (
    "jiujiang-portfolio.yaml", "shangrao-2020-portfolio.csv", "laohekou-2024-portfolio.csv",
    "xiangcheng-2018-portfolio.csv", "yushan-draft-portfolio.csv")]

DESCRIPTION = """\
Run shixian on one machine with nothing else installed: start the embedded Temporal dev
server (state in <home>/temporal.db) unless TEMPORAL_ADDRESS points at one or one already
listens on the port (then it says so: that server's workflows are not this home's), run a
worker in this process, keep the read model in <home>/shixian.db (SQLite), start the example
portfolio of five jurisdictions — 九江, 上饶, 老河口, 相城, 玉山 (or yours, with --projects) —
print where each one stands and serve the dashboard on :8080. The examples include 玉山's
draft (征求意见稿) and 九江 projects started after its 2024 办法 lapsed: `up` starts them
anyway and says so; their rules show as draft / 已过有效期 everywhere. <home> is
SHIXIAN_HOME, else the nearest .shixian/ here or above (`./dev up` makes one in the
checkout), else ~/.local/share/shixian.

It keeps running — timers fire and escalations go out — until Ctrl-C. In another terminal:
  shixian status JJ-2026-001
  shixian doc JJ-2026-001 fsr_submitted --on 2026-11-23
  shixian list --jurisdiction 相城        (九江 / 九江市 / jiujiang-2024 / 上饶 / 老河口 / 玉山)
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "up", help="server + worker + example projects on embedded defaults",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--projects", type=Path, nargs="+", default=EXAMPLES, metavar="FILE",
                        help="projects file(s) to start, YAML/CSV/xlsx as `shixian start` "
                             "takes them (default: the five-city example portfolio)")
    parser.add_argument("--no-projects", action="store_true", help="start no projects")
    parser.add_argument("--once", action="store_true",
                        help="print the overview and stop (no long-running worker)")
    parser.add_argument("--port", type=int, default=7233, help="dev server port (default 7233)")
    parser.add_argument("--ui-port", type=int, default=None,
                        help="Temporal Web UI port (default port+1000, i.e. 8233)")
    parser.add_argument("--headless", action="store_true",
                        help="do not serve the Temporal Web UI")
    parser.add_argument("--ui-write", action="store_true",
                        help="allow write actions in the embedded Temporal Web UI "
                             "(default read-only)")
    parser.add_argument("--dashboard-port", type=int, default=8080,
                        help="dashboard port (default 8080; 0 picks a free one)")
    parser.set_defaults(handler=run)


def _embedded_server(args: argparse.Namespace) -> DevServer | None:
    """A dev server to start, or None when TEMPORAL_ADDRESS is set or one already listens
    (said loudly: that server, its workflows and its UI are not this command's)."""
    explicit = os.environ.get("TEMPORAL_ADDRESS")
    if explicit:
        print(f"using the Temporal server at TEMPORAL_ADDRESS={explicit} (not starting one; "
              "--port, --ui-port and --headless do not apply)", flush=True)
        return None
    os.environ["TEMPORAL_ADDRESS"] = f"127.0.0.1:{args.port}"
    if not port_is_free("127.0.0.1", args.port):
        print(f"NOTE: attaching to a Temporal server already listening on 127.0.0.1:"
              f"{args.port} that this command did not start: its workflows and state are its "
              "own, --ui-port/--headless do not apply, and it keeps running after Ctrl-C. "
              "Stop it, or pass --port N to start a fresh one.", flush=True)
        return None
    return DevServer(
        db_file=config.state_dir() / "temporal.db",
        port=args.port,
        ui_port=args.ui_port,
        headless=args.headless,
        search_attributes=search_attributes.for_dev_server(),
        log_file=config.state_dir() / "temporal-server.log",
        pid_file=config.state_dir() / "temporal-server.pid",
        ui_write=args.ui_write,
    )


def address_hint(address: str) -> str | None:
    """What other terminals need when the server is not on the default address."""
    if address in (config.DEFAULT_ADDRESS, "127.0.0.1:7233"):
        return None
    return f"in other terminals: export TEMPORAL_ADDRESS={address}"


def run(args: argparse.Namespace) -> int:
    worker_log = config.find_home().path / "worker.log"
    logs.configure(to_file=worker_log)  # the terminal is for the portfolio and the hints
    server = _embedded_server(args)
    if server is not None:
        print(f"starting the embedded Temporal dev server on {server.address} …", flush=True)
        server.start()
        for note in server.notes:
            print(note, flush=True)
        if server.ui_url:
            mode = "write actions on" if server.ui_write else "read-only; --ui-write to change"
            print(f"Temporal Web UI: {server.ui_url}  ({mode})", flush=True)
    home = config.find_home()
    engine()  # the read model this worker writes, created and migrated now
    print(f"state: {home.path} ({home.why}); read model: {readmodel.location()}", flush=True)
    print(f"worker log: {worker_log} (each notice sent and delivered; tail -f it to watch)",
          flush=True)
    hint = address_hint(os.environ["TEMPORAL_ADDRESS"])
    if hint:
        print(hint, flush=True)
    try:
        return aio.run(lambda stop: _main(args, stop))
    finally:
        if server is not None:
            server.stop()


async def _main(args: argparse.Namespace, stop: asyncio.Event) -> int:
    client = await connect()
    print(contacts.describe(contacts.load()), flush=True)
    dashboard = _start_dashboard(args.dashboard_port)
    dashboard_url = dashboard.url if dashboard is not None else None
    worker_stop = asyncio.Event()
    worker = asyncio.create_task(run_until(client, worker_stop))
    try:
        ids: list[str] = []
        if not args.no_projects:
            ids = await start_portfolio(client, args.projects)
            await _overview(client, ids, dashboard_url)
        await _register_cycles(client)
        if not args.once:
            print("\nworker running; Ctrl-C to stop. Try: shixian status "
                  f"{ids[0] if ids else 'PROJECT_ID'}", flush=True)
            await stop.wait()
    finally:
        worker_stop.set()
        with contextlib.suppress(Exception):
            await worker
        if dashboard is not None:
            dashboard.shutdown()
            dashboard.server_close()
    return 0


async def start_portfolio(client: Client, files: list[Path]) -> list[str]:
    """Start every project of the files (all checked first, like `shixian start`); draft and
    lapsed packs are allowed here, and said so once per pack."""
    entries, problems = load_all(files)
    if problems:
        raise UserError(f"nothing started ({len(problems)} problem(s) in the projects "
                        "file(s)):\n" + report(problems))
    calendar = operations.StartCalendars(WorkCalendar.default())
    today = operations.today()
    told: set[tuple[str, str]] = set()
    ids: list[str] = []
    for entry in entries:
        project = entry.project
        inp = operations.prepare(project, calendar, today, frozenset({"expired", "draft"}))
        caution = operations.policy_caution(inp.pack, project.started_on)
        if caution is not None and (inp.pack.id, caution[0]) not in told:
            told.add((inp.pack.id, caution[0]))
            shown = "draft (征求意见稿)" if caution[0] == "draft" else "已过有效期 (expired)"
            print(f"note: {inp.pack.id} is {shown} for some example projects; `up` starts "
                  f"them anyway (`shixian start` needs {operations.POLICY_FLAGS[caution[0]]}) "
                  "and marks them so", flush=True)
        started = await operations.start_project(client, inp)
        print(f"{'started' if started else 'exists '} project-{project.id}", flush=True)
        ids.append(project.id)
    return ids


async def _register_cycles(client: Client) -> None:
    """Each jurisdiction's yearly cycle (`shixian cycle list`); idempotent across runs."""
    from shixian.commands.cycle import register_cycles

    for wid, started in await register_cycles(client):
        print(f"{'started' if started else 'exists '} {wid}", flush=True)


def _start_dashboard(port: int) -> DashboardServer | None:
    """The read-only dashboard in a background thread; a busy port is reported, not fatal."""
    try:
        server = make_server("127.0.0.1", port)
    except OSError as exc:
        print(f"dashboard not started: port {port}: {exc.strerror} (use --dashboard-port)",
              flush=True)
        return None
    threading.Thread(target=server.serve_forever, name="dashboard", daemon=True).start()
    return server


async def _overview(client: Client, ids: list[str], dashboard_url: str | None) -> None:
    """Wait until each project has reported to the read model, then print the portfolio."""
    for pid in ids:
        for _ in range(100):  # the first workflow task and its read-model sync
            await operations.project_status(client, pid)
            if readmodel.synced(pid):
                break
            await asyncio.sleep(0.1)
        else:
            raise UserError(f"project {pid} did not report to the read model; see the worker log")
    rows = [r for r in portfolio(operations.today(), WorkCalendar.default(), Filters())
            if r.project_id in ids]
    print()
    print(table(["project", "place", "name", "stage", "next due", "duty", "responsible",
                 "level"], [
        [terminal_text(r.project_id), vocabulary.place(r.policy, r.jurisdiction),
         terminal_text(r.name), terminal_text(r.stage_title),
         (r.next_due_on.isoformat() if r.next_due_on else "-") + ("*" if r.provisional else ""),
         terminal_text(r.duty_title) or "-", terminal_text(r.actor_name) or "-",
         str(r.escalation_level)] for r in rows]))
    print("\nper project: shixian status PROJECT_ID  (--json for scripts);  "
          "all projects: shixian list")
    if dashboard_url:
        print(f"dashboard: {dashboard_url}")
