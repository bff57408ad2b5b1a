"""`shixian ics`: deadlines as an iCalendar feed managers subscribe to in their own calendar."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from calendars.engine import WorkCalendar
from shixian.clock import today
from shixian.errors import UserError
from shixian.ics import feed
from shixian.readmodel import deadlines

EPILOG = """\
examples:
  shixian ics > deadlines.ics                   every running project's deadlines
  shixian ics --project JJ-2026-001 -o jj-001.ics
  shixian ics --actor 市数据管理部门 -o /var/www/ics/data-bureau.ics   its own duties
  shixian ics --owner 数据管理局 -o owner.ics     duties in the projects this owner runs
  shixian ics --jurisdiction 九江市 --include-done -o jiujiang.ics

One all-day event per deadline on its due day (24:00 Beijing time ends the day, Civil Code
art. 203), titled with the project, the duty and the body responsible for it, with a
reminder at 09:00 Beijing time on the policy's warning day (e.g. the 3rd working day
before, on the official calendar, 调休 included). Due days counted over days the State
Council has not announced yet are marked 暂定 (TENTATIVE).

To subscribe, regenerate the file regularly (e.g. cron every 15 minutes; -o replaces it
atomically) where a web server serves it, and add https://…/data-bureau.ics as a
subscribed/internet calendar in Outlook, Apple Calendar, Thunderbird or Google Calendar
(some clients drop reminders of subscribed calendars). Or import the file once: a copy
that will not follow later documents or re-timed deadlines.

Reads the read model (SHIXIAN_DATABASE_URL); workers keep it current.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ics", help="deadlines as an iCalendar (.ics) feed to subscribe to",
                       description="Write an iCalendar (RFC 5545) feed of deadlines from the "
                                   "read model.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", action="append", metavar="ID", dest="projects",
                   help="only this project (repeat for several)")
    p.add_argument("--owner", help="project owner name (substring)")
    p.add_argument("--actor", help="responsible body, by name or id: 市数据管理部门, "
                                   "data_bureau, 发改委 (part of a name)")
    p.add_argument("--jurisdiction", help="jurisdiction or policy: 九江, 九江市, jiujiang-2024, "
                                          "相城, 玉山县 … (an unknown one lists the known)")
    p.add_argument("--include-done", action="store_true",
                   help="also duties that are done, waived or cancelled")
    p.add_argument("--name", help="calendar name shown by clients (default: from the filters)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE (replaced atomically) instead of stdout")
    p.set_defaults(handler=run_ics)


def default_name(args: argparse.Namespace) -> str:
    parts = [*(args.projects or []), args.owner, args.actor, args.jurisdiction]
    return "时限 " + (" · ".join(p for p in parts if p) or "deadlines")


def write_atomically(path: Path, data: bytes) -> None:
    """A web server serving the file never sees half a feed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600: the web server must read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_ics(args: argparse.Namespace) -> int:
    selected = deadlines(args.projects or (), owner=args.owner, actor=args.actor,
                         jurisdiction=args.jurisdiction, include_done=args.include_done)
    if not selected:
        from shixian.home_check import check_not_stale_home  # asks Temporal: only when empty

        check_not_stale_home()
    data = feed(selected, name=args.name or default_name(args),
                calendar=WorkCalendar.default(), today=today(),
                now=datetime.now(UTC))
    if args.output:
        path = Path(args.output)
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        print(f"{len(selected)} deadline(s) of "
              f"{len({d.project_id for d in selected})} project(s) written to {path}")
        return 0
    sys.stdout.flush()
    sys.stdout.buffer.write(data)  # bytes: keep the CRLF line ends RFC 5545 requires
    sys.stdout.buffer.flush()
    return 0
