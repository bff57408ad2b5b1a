"""`shixian dashboard`: serve the read-only portfolio and timeline pages locally."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from sqlalchemy.exc import SQLAlchemyError

from shixian import readmodel
from shixian.errors import UserError
from shixian.home_check import stale_home_message

EPILOG = """\
examples:
  shixian dashboard                              http://127.0.0.1:8080/ until Ctrl-C
  shixian dashboard --port 9000
  shixian dashboard --host 0.0.0.0 --allow-host dash.example.gov.cn
                                                 reachable from other machines as that name
                                                 (no login: only on a trusted network)
  shixian dashboard --port 0                     any free port; the URL is printed

Pages:
  /                        portfolio: red/amber/green, filters (?jurisdiction=九江&stage=
                           feasibility&actor=市数据管理部门&owner=数据&overdue=1&level=3
                           &rag=red&all=1); an unknown stage, jurisdiction or actor is a 400
                           that lists the known ones
  /project/ID              one project: Gantt timeline of its obligations, today's line,
                           provisional (暂定) due days, notices and recent events
  /api/portfolio.json      the portfolio for scripts (same filters)
  /api/project/ID.json     one project for scripts
  /healthz                 "ok" for a load balancer or a monitor

Red: late and at the top rung of the policy's escalation ladder (jiujiang-2024: escalated
to the leading group office); amber: late, or warned that a due day is near; green: nothing
needs attention. Read-only: GET and HEAD only; a Content-Security-Policy on every page;
requests for another Host name than this machine's (or --allow-host) are refused.
Reads the read model (`shixian db where`); workers keep it current. Working days late
are recounted for today on the official calendar.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dashboard", help="a read-only web page: portfolio and timelines",
                       description="Serve the read-only dashboard (portfolio and per-project "
                                   "timelines) from the read model.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8080,
                   help="port to listen on (default 8080; 0 picks a free one)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests for this Host name (repeat for several); "
                        "localhost and 127.0.0.1 always work")
    p.add_argument("--today", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="show the portfolio as of this business date (default: today in "
                        "Beijing), e.g. to look at next week's overdue list")
    p.set_defaults(handler=run_dashboard)


def run_dashboard(args: argparse.Namespace) -> int:
    from shixian.dashboard import make_server

    try:
        readmodel.project_count()  # connect now, not on the first page view
    except SQLAlchemyError as exc:
        raise UserError(f"cannot open the read model ({type(exc).__name__}): check "
                        "SHIXIAN_DATABASE_URL") from None
    fixed: date | None = args.today
    try:
        server = make_server(args.host, args.port, allow_hosts=args.allow_host,
                             today=(lambda: fixed) if fixed is not None else None)
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
                        "pass another --port (0 picks a free one)") from None
    print(f"shixian dashboard: {server.url}  (read-only; Ctrl-C stops)", flush=True)
    stale = stale_home_message()
    if stale:
        print(f"shixian: warning: {stale}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("shixian dashboard: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
