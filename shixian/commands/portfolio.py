"""`shixian list` and `shixian db`: the portfolio from the read model."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from calendars.engine import WorkCalendar
from shixian import config, export, pack_facts, readmodel
from shixian.clock import today
from shixian.errors import UserError
from shixian.readmodel import Filters, PortfolioRow, portfolio
from shixian.tables import table

LIST_EPILOG = """\
examples:
  shixian list                                  every running project, soonest due first
  shixian list --overdue --json                 what is late, for a script
  shixian list --actor 市数据管理部门 --overdue   what the data bureau itself must chase
  shixian list --due-within 5 --jurisdiction 九江
  shixian list --jurisdiction 相城区 --overdue   one city of a mixed portfolio
  shixian list --stage 可行性研究报告审批         a stage by the title list prints, or its id
  shixian list --min-level 3 --csv > escalated.csv   CSV with a BOM: Excel opens it as is
  shixian list --overdue --xlsx late.xlsx       an Excel workbook

Each row shows the duty to chase — the latest overdue one, else the next due — and the
body responsible for it (责任单位). With --actor, a project is listed when that body has a
live duty in it, and due day and lateness are that body's. Stages, jurisdictions and
actors are those of the shipped policy packs (`shixian policy show ID`); a word none of
them knows is an error that lists the known ones.

The table shows the most urgent page (--limit rows, default 50, soonest due day first, so
overdue duties lead) and says how many match; `--page 2` shows the next, `--limit 0` every
row. --json, --jsonl, --csv and --xlsx write every matching row unless --limit/--page are
given:
  shixian list --json                           a JSON array, one project object per line
  shixian list --jsonl | jq -c 'select(.overdue)'   JSON Lines: one object per line, no array
  shixian list --json --limit 500 --page 3      rows 1001–1500 of the same order

Reads the read model (see `shixian db where`); workers keep it current. Overdue working
days are recounted for today on the official calendar.
"""

TABLE_LIMIT = 50  # rows the table shows unless --limit says otherwise

EXPORT_FIELDS = ("project_id", "name", "policy", "jurisdiction", "owner", "stage",
                 "stage_title", "next_due_on", "duty_title", "actor_name", "overdue",
                 "overdue_working_days", "escalation_level", "provisional", "finished", "late",
                 "terminated")
XLSX_HEADERS = ("项目编号", "项目名称", "适用办法", "辖区", "业主单位", "阶段", "阶段名称",
                "下一截止日", "待办事项", "责任单位", "是否逾期", "逾期工作日", "升级级别",
                "暂定截止日", "已结束", "逾期事项", "已终止（日期：原因）")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    lst = sub.add_parser("list", help="the portfolio: where each project is, who must act",
                         description="List projects from the read model.", epilog=LIST_EPILOG,
                         formatter_class=fmt)
    lst.add_argument("--jurisdiction", help="jurisdiction or policy: 九江, 九江市, jiujiang-2024, "
                                            "相城, 玉山县 … (an unknown one lists the known)")
    lst.add_argument("--stage", help="stage id or title: feasibility, 可行性研究报告审批")
    lst.add_argument("--owner", help="project owner name (substring)")
    lst.add_argument("--actor", help="responsible body, by name or id: 市数据管理部门, "
                                     "data_bureau, 发改委 (part of a name)")
    lst.add_argument("--overdue", action="store_true", help="only projects with a late duty")
    lst.add_argument("--due-within", type=int, metavar="N",
                     help="next due day within N working days")
    lst.add_argument("--min-level", type=int, metavar="K", help="escalation level ≥ K")
    lst.add_argument("--provisional", action="store_true",
                     help="only projects with a deadline on not-yet-announced days")
    lst.add_argument("--all", action="store_true", help="include finished projects")
    lst.add_argument("--limit", type=_count, metavar="N",
                     help=f"at most N rows (the table: default {TABLE_LIMIT}; 0 = every row)")
    lst.add_argument("--page", type=_page, default=1, metavar="P",
                     help="the P-th page of --limit rows (default 1)")
    out = lst.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="a JSON array, one project object per line")
    out.add_argument("--jsonl", action="store_true",
                     help="JSON Lines: one project object per line")
    out.add_argument("--csv", action="store_true",
                     help="CSV with a header row (UTF-8 with a BOM, for Excel)")
    out.add_argument("--xlsx", metavar="FILE", type=Path, help="write an Excel workbook")
    lst.set_defaults(handler=run_list)

    db = sub.add_parser("db", help="the read model's schema and where it is",
                        description="Manage the read model database (SHIXIAN_DATABASE_URL, "
                                    "else shixian.db in the state directory).")
    dsub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    up = dsub.add_parser("upgrade", help="apply schema migrations (safe to re-run)")
    up.set_defaults(handler=run_upgrade)
    where = dsub.add_parser("where", help="which read model commands here use, and why")
    where.set_defaults(handler=run_where)


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of rows, 0 for every row")
    return n


def _page(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: pages are numbered from 1")
    return n


def export_row(r: PortfolioRow) -> list[export.Cell]:
    data = r.as_dict()
    data["next_due_on"] = r.next_due_on
    data["late"] = r.late_text()
    return [data[f] for f in EXPORT_FIELDS]  # type: ignore[misc]


def run_list(args: argparse.Namespace) -> int:
    rows = portfolio(today(), WorkCalendar.default, Filters(
        jurisdiction=args.jurisdiction, stage=args.stage, owner=args.owner, actor=args.actor,
        overdue=args.overdue, due_within=args.due_within, min_level=args.min_level,
        provisional=args.provisional, include_finished=args.all,
    ))
    if not rows:
        from shixian.home_check import check_not_stale_home  # asks Temporal: only when empty

        check_not_stale_home()
    table_view = not (args.json or args.jsonl or args.csv or args.xlsx)
    limit = args.limit if args.limit is not None else (
        TABLE_LIMIT if table_view or args.page > 1 else 0)
    if args.page > 1 and not limit:
        raise UserError("--page needs --limit N (rows per page) above 0")
    first = (args.page - 1) * limit
    shown = rows[first:first + limit] if limit else rows
    if args.json or args.jsonl:
        write_json_rows(sys.stdout, (r.as_dict() for r in shown), array=args.json)
        return 0
    if args.csv:
        export.write_csv(sys.stdout, EXPORT_FIELDS, (export_row(r) for r in shown))
        return 0
    if args.xlsx:
        try:
            n = export.write_xlsx(args.xlsx, "项目总览", XLSX_HEADERS,
                                  (export_row(r) for r in shown))
        except OSError as exc:
            raise UserError(f"cannot write {args.xlsx}: {exc.strerror or exc}") from None
        print(f"{n} project(s) written to {args.xlsx}")
        return 0
    print_table(rows, shown, first, limit, args.page)
    return 0


def write_json_rows(out: TextIO, rows: Iterable[dict[str, object]], *, array: bool) -> None:
    """One compact object per line, written as they come: a JSON array (`[`, the rows
    separated by `,`, `]`) or JSON Lines. Whole-document parsers and line readers both work,
    and at 10,000 projects the C encoder writes it in a fraction of `indent=2`'s time."""
    if array:
        out.write("[")
    sep = "\n" if array else ""
    for row in rows:
        out.write(sep + json.dumps(row, ensure_ascii=False))
        sep = ",\n" if array else "\n"
    out.write("\n]\n" if array else ("\n" if sep else ""))


def print_table(every: list[PortfolioRow], rows: list[PortfolioRow], first: int, limit: int,
                page: int) -> None:
    """`rows` (a page of `every`) as a table, then how many match and how to see more; the
    undelivered notices of every matching row, shown or not."""
    tty = sys.stdout.isatty()
    colours = {"red": "31", "amber": "33", "green": "32"}

    def mark(text: str, r: PortfolioRow) -> str:
        if not tty:
            return text
        colour = colours[pack_facts.rag(r.policy, r.overdue, r.escalation_level)]
        return f"\033[{colour}m{text}\033[0m"

    def clean(text: str) -> str:
        return export.terminal_text(text)

    def due(r: PortfolioRow) -> str:
        return (r.next_due_on.isoformat() if r.next_due_on else "-") + ("*" if r.provisional
                                                                        else "")

    def late(r: PortfolioRow) -> str:
        """The duty's own lateness, then any other late duty by name."""
        if not r.late_duties:
            return "-"
        head, *others = r.late_duties
        return ", ".join([f"+{head.late}wd", *(f"{clean(d.title)} +{d.late}wd"
                                                for d in others)])

    print(table(
        ["project", "place", "name", "stage", "next due", "duty", "responsible", "late",
         "level"],
        [[mark(clean(r.project_id), r), pack_facts.place(r.policy, r.jurisdiction),
          clean(r.name), clean(r.stage_shown), due(r),
          clean(r.duty_title) or "-", clean(r.actor_name) or "-", late(r),
          str(r.escalation_level)] for r in rows]))
    note = "; * provisional due day" if any(r.provisional for r in rows) else ""
    if len(rows) == len(every):
        print(f"\n{len(every)} project(s){note}")
    elif not rows:
        print(f"\nno rows on page {page}: {len(every)} project(s) match, {limit} a page")
    else:
        more = (f"; next page: --page {page + 1}" if first + len(rows) < len(every) else "")
        print(f"\nrows {first + 1}–{first + len(rows)} of {len(every)} project(s), soonest "
              f"due first{note}{more}; every row: --limit 0")
    lost = [f"{r.project_id} ({r.undelivered})" for r in every if r.undelivered]
    if lost:
        print(f"notices not delivered (failed or no contact): {', '.join(lost)}; "
              "see `shixian notices --state undeliverable` and `--state failed`")


def run_upgrade(args: argparse.Namespace) -> int:
    from activities.db import upgrade  # SQLAlchemy and Alembic: `db upgrade` only

    url = upgrade()
    print(f"read model at {url.split('@')[-1]} is up to date")
    return 0


def run_where(args: argparse.Namespace) -> int:
    path = readmodel.sqlite_file(config.database_url())
    state = "" if path is None else ("" if path.exists() else " (does not exist yet)")
    print(f"read model: {readmodel.location()}{state}")
    print(f"because:    {config.database_origin()}")
    print(f"state dir:  {config.state_dir()}")
    return 0
