"""`shixian ics`: deadlines as an iCalendar feed managers subscribe to in their own calendar."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from activities.db import engine, obligations, projects
from calendars.engine import WorkCalendar
from policies.loader import PolicyError, load_pack
from policies.model import Rung
from shixian import ics, operations
from shixian.errors import UserError

EPILOG = """\
examples:
  shixian ics > deadlines.ics                   every running project's deadlines
  shixian ics --project JJ-2026-001 -o jj-001.ics
  shixian ics --owner 数据管理局 -o /var/www/ics/data-bureau.ics
  shixian ics --jurisdiction 九江市 --include-done -o jiujiang.ics

One all-day event per deadline on its due day (24:00 Beijing time ends the day, Civil
Code art. 203), with a reminder at 09:00 Beijing time on the policy's warning day (e.g.
the 3rd working day before, on the official calendar, 调休 included). Due days counted
over days the State Council has not announced yet are marked 暂定 (TENTATIVE).

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
    p.add_argument("--owner", help="owner name (substring)")
    p.add_argument("--jurisdiction", help="jurisdiction name or policy id")
    p.add_argument("--include-done", action="store_true",
                   help="also duties that are done, waived or cancelled")
    p.add_argument("--name", help="calendar name shown by clients (default: from the filters)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE (replaced atomically) instead of stdout")
    p.set_defaults(handler=run_ics)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the workflows store UTC (`workflow.now()`)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def deadlines(project_ids: Sequence[str] = (), owner: str | None = None,
              jurisdiction: str | None = None, include_done: bool = False,
              ) -> list[ics.Deadline]:
    """The selected obligations that have a due day, soonest first, with their warnings."""
    states = ics.LIVE_STATES | (ics.FINISHED_STATES if include_done else frozenset())
    stmt = (select(obligations, projects.c.name, projects.c.owner, projects.c.jurisdiction,
                   projects.c.policy, projects.c.as_of)
            .join(projects, projects.c.project_id == obligations.c.project_id)
            .where(obligations.c.due_on.is_not(None), obligations.c.state.in_(sorted(states)))
            .order_by(obligations.c.due_on, obligations.c.project_id, obligations.c.position))
    with engine().connect() as conn:
        if project_ids:
            known = set(conn.execute(select(projects.c.project_id).where(
                projects.c.project_id.in_(set(project_ids)))).scalars())
            missing = [pid for pid in dict.fromkeys(project_ids) if pid not in known]
            if missing:
                raise UserError(
                    f"no project {', '.join(missing)} in the read model; `shixian list --all` "
                    "shows the projects there (start one with `shixian start FILE`; a running "
                    "worker records it; check SHIXIAN_DATABASE_URL)")
            stmt = stmt.where(obligations.c.project_id.in_(set(project_ids)))
        rows = conn.execute(stmt).mappings().all()
    ladders: dict[str, tuple[Rung, ...]] = {}
    out: list[ics.Deadline] = []
    for r in rows:
        if owner and owner not in r["owner"]:
            continue
        if jurisdiction and jurisdiction not in (r["jurisdiction"], r["policy"]):
            continue
        policy = r["policy"]
        if policy not in ladders:
            try:
                ladders[policy] = ics.warning_rungs(load_pack(policy).escalation.ladder)
            except PolicyError as exc:
                print(f"shixian: warning: no reminders for policy {policy!r}: {exc}",
                      file=sys.stderr)
                ladders[policy] = ()
        out.append(ics.Deadline(
            project_id=r["project_id"], project_name=r["name"], owner=r["owner"],
            jurisdiction=r["jurisdiction"], obligation_id=r["obligation_id"],
            title=r["title"], actor_name=r["actor_name"], state=r["state"],
            due_on=r["due_on"], provisional=bool(r["provisional"]),
            overdue_working_days=r["overdue_working_days"],
            escalation_level=r["escalation_level"], escalation_rung=r["escalation_rung"],
            citation=r["citation"], as_of=_aware(r["as_of"]), warnings=ladders[policy]))
    return out


def feed(selected: Sequence[ics.Deadline], *, name: str, calendar: WorkCalendar,
         today: date, now: datetime) -> bytes:
    return ics.render((ics.deadline_event(d, calendar, today) for d in selected), name=name,
                      now=now, description="shixian 时限: 政务信息化项目 deadlines, "
                                           "counted in Chinese working days")


def default_name(args: argparse.Namespace) -> str:
    parts = [*(args.projects or []), args.owner, args.jurisdiction]
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
    selected = deadlines(args.projects or (), owner=args.owner,
                         jurisdiction=args.jurisdiction, include_done=args.include_done)
    data = feed(selected, name=args.name or default_name(args),
                calendar=WorkCalendar.default(), today=operations.today(),
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
