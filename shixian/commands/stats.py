"""`shixian stats`: the 统计分析 report — on time and late, per jurisdiction and per body."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from calendars.engine import WorkCalendar
from shixian import export, operations, readmodel
from shixian.errors import UserError
from shixian.home_check import check_not_stale_home
from shixian.render import table
from shixian.statistics import FIELDS, HEADERS_ZH, PERIOD_FORMS, GroupStats, Report

EPILOG = f"""\
examples:
  shixian stats                                  this month so far
  shixian stats --period 2026-11                 a month: what the 督办 office reports
  shixian stats --period 2026-Q3 --jurisdiction 九江
  shixian stats --period 2026 --actor 市数据管理部门 --json
  shixian stats --period 2026-11 --xlsx 2026年11月统计.xlsx   an Excel workbook
  shixian stats --period 2026-11 --csv > stats.csv            CSV with a BOM, for Excel

Periods: {PERIOD_FORMS}; 2026年11月 works too.
For each jurisdiction and each responsible body (责任单位): duties done in the period on
time and late (the workflow's verdict, extensions counted); the median and 90th-percentile
working days they took (from the day the clock started to the day done) against the median
limit; duties overdue at the end of the period (today, for the running one); and notices
sent in the period: 预警 before a due day, escalations (逾期通报, 升级督办) on or after it.
Working days are counted on the official calendar. Reads the read model (`shixian db where`).
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help="统计分析: on time and late per jurisdiction and body",
                       description="Statistics for a month, quarter or year from the read "
                                   "model.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--period", metavar="PERIOD",
                   help="2026-11, 2026-Q3 or 2026 (default: this month)")
    p.add_argument("--jurisdiction", help="jurisdiction or policy: 九江, 九江市, jiujiang-2024")
    p.add_argument("--actor", help="responsible body by name or id: 市数据管理部门, data_bureau")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object")
    out.add_argument("--csv", action="store_true", help="CSV with a BOM (Excel opens it)")
    out.add_argument("--xlsx", metavar="FILE", type=Path, help="write an Excel workbook")
    p.set_defaults(handler=run_stats)


GROUP_ZH = {"jurisdiction": "辖区", "actor": "责任单位", "total": "合计"}


def _cells(g: GroupStats, zh: bool = False) -> list[export.Cell]:
    data = g.as_dict()
    if zh:
        data["group"] = GROUP_ZH[g.group]
    return [data[f] for f in FIELDS]  # type: ignore[misc]


def _rate(g: GroupStats) -> str:
    return "-" if g.on_time_rate is None else f"{g.on_time_rate * 100:.0f}%"


def _num(v: int | None) -> str:
    return "-" if v is None else str(v)


def text(r: Report) -> str:
    clean = export.terminal_text
    headers = ["", "done", "on time", "late", "on-time", "median wd", "p90 wd", "limit wd",
               "overdue", "max late", "warnings", "escalations"]

    def line(g: GroupStats) -> list[str]:
        return [clean(g.key), str(g.done), str(g.on_time), str(g.late), _rate(g),
                _num(g.median_taken_wd), _num(g.p90_taken_wd), _num(g.median_limit_wd),
                str(g.overdue_now), f"+{g.overdue_max_wd}wd" if g.overdue_max_wd else "-",
                str(g.warnings), str(g.escalations)]

    filters = ", ".join(f"{k} {v}" for k, v in (("jurisdiction", r.jurisdiction_filter),
                                                 ("actor", r.actor_filter)) if v)
    out = [f"统计分析 {r.period.label} ({r.period.first} … {r.period.last})"
           + (f", {filters}" if filters else "")
           + f"; overdue counted on {r.as_of} (Beijing)", ""]
    out += ["按辖区 by jurisdiction",
            table(["jurisdiction", *headers[1:]], [line(g) for g in r.jurisdiction]
                  + [line(r.total)]), ""]
    out += ["按责任单位 by responsible body",
            table(["responsible body", *headers[1:]], [line(g) for g in r.actor]), ""]
    out.append("wd = working days; median/p90 taken from the clock's start to done, against "
               "the median limit; escalations = notices on or after a due day")
    return "\n".join(out)


def run_stats(args: argparse.Namespace) -> int:
    r = readmodel.statistics(args.period, operations.today(), WorkCalendar.default(),
                             jurisdiction=args.jurisdiction, actor=args.actor)
    if not r.total.done and not r.total.overdue_now and not r.total.warnings \
            and not r.total.escalations:
        check_not_stale_home()  # nothing at all: the wrong read model, or no worker
    if args.json:
        print(json.dumps(r.as_dict(), ensure_ascii=False, indent=2))
    elif args.csv:
        export.write_csv(sys.stdout, FIELDS, (_cells(g) for g in r.rows()))
    elif args.xlsx:
        try:
            export.write_xlsx(args.xlsx, f"统计分析 {r.period.label}", HEADERS_ZH,
                              (_cells(g, zh=True) for g in r.rows()))
        except OSError as exc:
            raise UserError(f"cannot write {args.xlsx}: {exc.strerror or exc}") from None
        print(f"statistics for {r.period.label} ({len(r.rows())} rows) written to {args.xlsx}")
    else:
        print(text(r))
    return 0
