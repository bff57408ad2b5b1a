"""`shixian worker`: run project workflows and their activities."""

from __future__ import annotations

import argparse
import asyncio

from shixian import aio, logs
from shixian.client import connect
from shixian.worker_runtime import run_until

DESCRIPTION = """\
Run the shixian worker against the configured Temporal server: it executes every project
workflow (timers, documents, escalations) and the notice activities. Run as many as you
like on the same task queue; stop with Ctrl-C or SIGTERM — in-flight activities finish first.

Temporal: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TLS and API key
settings as for the `temporal` CLI. Database: SHIXIAN_DATABASE_URL (default SQLite in the
state directory: SHIXIAN_HOME, else the nearest .shixian/ here or above, else
~/.local/share/shixian; `shixian db where` says which). Logs: JSON lines on stderr, a
console renderer on a terminal.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "worker", help="run workflows and activities (what worker.py starts)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task-queue", default=None,
                        help="task queue (default $SHIXIAN_TASK_QUEUE or 'shixian')")
    parser.add_argument("--identity", default=None, help="worker identity shown in Temporal")
    parser.add_argument("--log-format", choices=["json", "console"], default=None,
                        help="log renderer (default: console on a terminal, else json)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logs.configure(None if args.log_format is None else args.log_format == "json")

    async def main(stop: asyncio.Event) -> int:
        client = await connect()
        await run_until(client, stop, args.task_queue, args.identity)
        return 0

    return aio.run(main)
