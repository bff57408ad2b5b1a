"""`shixian`: the one command line. Subcommand groups live in `shixian.commands`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from shixian.errors import UserError

# shixian uses no pydantic plugins; without this, the first model built in a process scans
# every installed distribution's entry points for them (~15 ms of each CLI call, issue #12).
# Set PYDANTIC_DISABLE_PLUGINS yourself to choose otherwise.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

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


# Each command group's module (shixian.commands.<module>) and the commands it registers, in
# the order `--help` lists them. Only the module of the command being run is imported, so
# `shixian list` does not pay for Temporal's client, the worker or the dashboard (issue #12).
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "up": ("up",),
    "server": ("server",),
    "worker": ("worker",),
    "projects": ("start", "clock", "extend", "terminate"),
    "doc": ("doc",),
    "status": ("status",),
    "portfolio": ("list", "db"),
    "stats": ("stats",),
    "dashboard": ("dashboard",),
    "ics": ("ics",),
    "notices": ("notices", "contacts"),
    "policy": ("policy",),
    "calendar": ("calendar",),
    "cycle": ("cycle",),
    "codec": ("codec-server",),
}


def command_modules(argv: Sequence[str] | None) -> list[ModuleType]:
    """The module of the command in `argv`, or every module (help, a typo, no command)."""
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    names = list(COMMAND_MODULES)
    if words:
        names = [m for m, cmds in COMMAND_MODULES.items() if words[0] in cmds] or names
    return [importlib.import_module(f"shixian.commands.{m}") for m in names]


def build_parser(argv: Sequence[str] | None = ()) -> argparse.ArgumentParser:
    """The parser for `argv`'s command (all commands when `argv` names none)."""
    parser = argparse.ArgumentParser(
        prog="shixian",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules(argv):
        module.register(sub)
    return parser


# Commands that log nothing through structlog (they print their results and errors): they
# skip importing it (~40 ms). Python's own logging still goes to stderr (WARNING and up).
# tests/test_cli_imports.py checks that these commands do not import structlog at all.
PLAIN_LOGGING = frozenset({"list", "status", "doc", "ics"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if getattr(args, "command", None) in PLAIN_LOGGING:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    else:
        from shixian import logs

        logs.configure()  # stderr: stdout is for results that scripts read
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except UserError as exc:
        print(f"shixian: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return closed_pipe()
    except Exception as exc:
        if _lower_layer_error(exc):  # policies' and contacts' own errors: one line
            print(f"shixian: error: {exc}", file=sys.stderr)
            return 2
        rpc_error = _rpc_error_type()
        if rpc_error is None or not isinstance(exc, rpc_error):
            raise
        # the server went away or said no mid-command: one line
        code = getattr(exc, "status", None)
        status = code.name if code is not None else "error"
        message = " ".join(str(exc).split())
        print(f"shixian: error: Temporal {status}: {message}; is the server at "
              "TEMPORAL_ADDRESS up and are the TLS/API key settings right?", file=sys.stderr)
        return 2


# The lower layers' error types, by module: an error of a module the command never imported
# cannot have been raised, so `shixian list` does not import them to catch them.
LOWER_LAYER_ERRORS = (("policies.errors", "PolicyError"), ("delivery.contacts", "ContactsError"))


def _lower_layer_error(exc: Exception) -> bool:
    for module_name, name in LOWER_LAYER_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(exc, getattr(module, name)):
            return True
    return False


def _rpc_error_type() -> type[Exception] | None:
    """Temporal's RPCError, when the command loaded Temporal at all (importing it costs
    ~0.3 s, which `shixian list` and friends do not need to pay)."""
    service = sys.modules.get("temporalio.service")
    return None if service is None else service.RPCError


# 128 + SIGPIPE: what a shell reports for a command whose reader went away.
CLOSED_PIPE = 141


def closed_pipe() -> int:
    """The reader of stdout went away (`shixian list | head -1`): not an error worth a
    traceback. Later writes and the final flush go to /dev/null (Python's documented way)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return CLOSED_PIPE


def block_optional_grpc() -> None:
    """Keep Temporal's generated API modules from importing grpcio in a CLI process.

    shixian does not depend on grpcio (only its tests do); where it is installed anyway,
    each `temporalio.api.*service.v1` package imports it (~60 ms) to offer gRPC stubs that
    neither Temporal's client (its core is Rust) nor shixian uses, inside `try: ... except
    ImportError`. Marking it missing gives the CLI the import cost it has where grpcio is
    not installed. Only the console entry point does this, never an importing process.
    """
    if "grpc" not in sys.modules:
        sys.modules["grpc"] = None  # type: ignore[assignment]  # Python's "not installed"


def run() -> None:
    """Console entry point: `main()`, then exit without interpreter finalization.

    Temporal's core runs threads of its own that may still call back into Python while the
    interpreter finalizes, which aborts the process (PyGILState_Release, exit -6) after all
    the work is done. Everything is flushed and shut down by then, so the process leaves
    directly with main()'s status.
    """
    block_optional_grpc()
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = closed_pipe()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
