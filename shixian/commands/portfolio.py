"""`shixian list` and `shixian db`: the portfolio from the read model."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from activities.db import upgrade
from calendars.engine import WorkCalendar
from shixian import operations
from shixian.portfolio import Filters, portfolio
from shixian.render import table

LIST_EPILOG = """\
examples:
  shixian list                                  every running project, soonest due first
  shixian list --overdue --json                 what is late, for a script
  shixian list --due-within 5 --jurisdiction 九江市
  shixian list --min-level 3 --csv > escalated.csv

Reads the read model (SHIXIAN_DATABASE_URL); workers keep it current. Overdue working
days are recounted for today on the official calendar.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    lst = sub.add_parser("list", help="the portfolio: where each project is, what is due",
                         description="List projects from the read model.", epilog=LIST_EPILOG,
                         formatter_class=fmt)
    lst.add_argument("--jurisdiction", help="jurisdiction name or policy id")
    lst.add_argument("--stage", help="stage id, e.g. feasibility")
    lst.add_argument("--owner", help="owner name (substring)")
    lst.add_argument("--overdue", action="store_true", help="only projects with a late duty")
    lst.add_argument("--due-within", type=int, metavar="N",
                     help="next due day within N working days")
    lst.add_argument("--min-level", type=int, metavar="K", help="escalation level ≥ K")
    lst.add_argument("--provisional", action="store_true",
                     help="only projects with a deadline on not-yet-announced days")
    lst.add_argument("--all", action="store_true", help="include finished projects")
    out = lst.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="a JSON array")
    out.add_argument("--csv", action="store_true", help="CSV with a header row")
    lst.set_defaults(handler=run_list)

    db = sub.add_parser("db", help="the read model's schema",
                        description="Manage the read model database (SHIXIAN_DATABASE_URL).")
    dsub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    up = dsub.add_parser("upgrade", help="apply schema migrations (safe to re-run)")
    up.set_defaults(handler=run_upgrade)


def run_list(args: argparse.Namespace) -> int:
    rows = portfolio(operations.today(), WorkCalendar.default(), Filters(
        jurisdiction=args.jurisdiction, stage=args.stage, owner=args.owner,
        overdue=args.overdue, due_within=args.due_within, min_level=args.min_level,
        provisional=args.provisional, include_finished=args.all,
    ))
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return 0
    if args.csv:
        fields = list(rows[0].as_dict()) if rows else ["project_id"]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("; ".join(v) if isinstance(v, list) else v)
                             for k, v in r.as_dict().items()})
        return 0
    tty = sys.stdout.isatty()

    def mark(text: str, level: int, overdue: bool) -> str:
        if not tty:
            return text
        colour = "31" if overdue and level >= 3 else "33" if overdue else "32"
        return f"\033[{colour}m{text}\033[0m"

    print(table(
        ["project", "name", "stage", "next due", "late", "level", "owner"],
        [[mark(r.project_id, r.escalation_level, r.overdue), r.name, r.stage_title,
          (r.next_due_on.isoformat() if r.next_due_on else "-") + ("*" if r.provisional
                                                                   else ""),
          ", ".join(r.late) or "-", str(r.escalation_level), r.owner] for r in rows]))
    print(f"\n{len(rows)} project(s)" + ("; * provisional due day" if any(
        r.provisional for r in rows) else ""))
    lost = [f"{r.project_id} ({r.undelivered})" for r in rows if r.undelivered]
    if lost:
        print(f"notices not delivered (failed or no contact): {', '.join(lost)}; "
              "see `shixian notices --state undeliverable` and `--state failed`")
    return 0


def run_upgrade(args: argparse.Namespace) -> int:
    url = upgrade()
    print(f"read model at {url.split('@')[-1]} is up to date")
    return 0
