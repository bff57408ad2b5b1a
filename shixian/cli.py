"""`shixian`: the one command line. Subcommand groups live in `shixian.commands`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from temporalio.service import RPCError

from delivery.contacts import ContactsError
from policies.errors import PolicyError
from shixian import logs
from shixian.commands import calendar as calendar_cmd
from shixian.commands import codec as codec_cmd
from shixian.commands import cycle as cycle_cmd
from shixian.commands import dashboard as dashboard_cmd
from shixian.commands import ics as ics_cmd
from shixian.commands import notices as notices_cmd
from shixian.commands import policy as policy_cmd
from shixian.commands import portfolio as portfolio_cmd
from shixian.commands import projects as projects_cmd
from shixian.commands import server as server_cmd
from shixian.commands import stats as stats_cmd
from shixian.commands import up as up_cmd
from shixian.commands import worker as worker_cmd
from shixian.errors import UserError

Handler = Callable[[argparse.Namespace], int]

DESCRIPTION = """\
shixian (时限) — durable workflows for Chinese government IT projects (政务信息化项目).

Every approved project becomes one long-running Temporal workflow that knows its
jurisdiction's rules, counts deadlines on the official working-day calendar, waits
for documents and escalates overdue steps by itself.
"""

EPILOG = """\
examples:
  shixian up                              server + worker + example projects, one command
  shixian start projects.yaml             one workflow per approved project
  shixian doc JJ-2026-001 fsr_submitted --on 2026-11-20
  shixian status JJ-2026-001 --json
  shixian server                          start the embedded Temporal dev server
  shixian calendar add 2026-09-30 10wd    the 10th working day after 2026-09-30
  shixian calendar year 2027 --json       holidays and makeup days, with provenance
  shixian cycle list --jurisdiction 上饶   the jurisdiction's yearly duties (年度工作)

Run `shixian COMMAND --help` for the options of each command.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shixian",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (up_cmd, server_cmd, worker_cmd, projects_cmd, portfolio_cmd, stats_cmd,
                   dashboard_cmd, ics_cmd, notices_cmd, policy_cmd, calendar_cmd, cycle_cmd,
                   codec_cmd):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure()  # stderr: stdout is for results that scripts read
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except (UserError, PolicyError, ContactsError) as exc:  # the lower layers' own errors
        print(f"shixian: error: {exc}", file=sys.stderr)
        return 2
    except RPCError as exc:  # the server went away or said no mid-command: one line
        status = exc.status.name if exc.status is not None else "error"
        message = " ".join(str(exc).split())
        print(f"shixian: error: Temporal {status}: {message}; is the server at "
              "TEMPORAL_ADDRESS up and are the TLS/API key settings right?", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return closed_pipe()


# 128 + SIGPIPE: what a shell reports for a command whose reader went away.
CLOSED_PIPE = 141


def closed_pipe() -> int:
    """The reader of stdout went away (`shixian list | head -1`): not an error worth a
    traceback. Later writes and the final flush go to /dev/null (Python's documented way)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return CLOSED_PIPE


def run() -> None:
    """Console entry point: `main()`, then exit without interpreter finalization.

    Temporal's core runs threads of its own that may still call back into Python while the
    interpreter finalizes, which aborts the process (PyGILState_Release, exit -6) after all
    the work is done. Everything is flushed and shut down by then, so the process leaves
    directly with main()'s status.
    """
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = closed_pipe()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
