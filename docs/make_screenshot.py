"""Regenerate docs/dashboard.png: the dashboard over a realistic 九江 portfolio.

    .venv/bin/python docs/make_screenshot.py                      # docs/dashboard.png
    .venv/bin/python docs/make_screenshot.py --path /project/JJ-2026-014 --out /tmp/t.png

Fills a throw-away SQLite read model the way workers do (each project's ledger is played
day by day from its launch notice to 2026-11-23, so warnings, overdue notices and
escalations fire in order, and the status goes through `record_status`), serves the
dashboard on a free port and photographs it with headless Chromium. Nothing else is
touched: not your read model, not a Temporal server.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 11, 23)
EXAMPLES = ROOT / "shixian" / "examples" / "jiujiang-portfolio.yaml"

# Four more fictional projects beside the examples `shixian up` starts, so the table shows
# every colour and several stages.
MORE = [
    {"id": "JJ-2026-031", "name": "智慧交通信号协同控制系统", "owner": "市公安局交通管理支队",
     "owner_type": "administrative", "category": "infrastructure", "kind": "build",
     "investment_wan": 2400, "started_on": "2026-06-01",
     "documents": [{"type": "fsr_submitted", "on": "2026-06-26"},
                   {"type": "fsr_tech_review_issued", "on": "2026-07-20"},
                   {"type": "fsr_approved", "on": "2026-07-27"},
                   {"type": "budget_submitted", "on": "2026-08-20"},
                   {"type": "budget_approved", "on": "2026-09-15"},
                   {"type": "contract_signed", "on": "2026-10-30"}]},
    {"id": "JJ-2026-027", "name": "不动产登记“一窗受理”系统升级", "owner": "市自然资源局",
     "owner_type": "administrative", "category": "other", "kind": "build",
     "investment_wan": 380, "started_on": "2026-09-01",
     "documents": [{"type": "fsr_submitted", "on": "2026-09-25"},
                   {"type": "fsr_tech_review_issued", "on": "2026-10-20"},
                   {"type": "fsr_approved", "on": "2026-10-28"},
                   {"type": "budget_submitted", "on": "2026-11-18"}]},
    {"id": "JJ-2025-021", "name": "长江岸线生态环境监测感知网", "owner": "市生态环境局",
     "owner_type": "administrative", "category": "infrastructure", "kind": "build",
     "investment_wan": 1650, "started_on": "2025-05-06",
     "documents": [{"type": "fsr_submitted", "on": "2025-05-30"},
                   {"type": "fsr_tech_review_issued", "on": "2025-06-20"},
                   {"type": "fsr_approved", "on": "2025-06-27"},
                   {"type": "budget_submitted", "on": "2025-07-15"},
                   {"type": "budget_approved", "on": "2025-08-12"},
                   {"type": "contract_signed", "on": "2025-09-10"},
                   {"type": "trial_run_started", "on": "2026-03-02"},
                   {"type": "final_acceptance_passed", "on": "2026-09-28"},
                   {"type": "completion_acceptance_applied", "on": "2026-10-12"},
                   {"type": "completion_acceptance_passed", "on": "2026-11-10"}]},
    {"id": "JJ-2026-019", "name": "医保基金智能监管平台", "owner": "市医疗保障局",
     "owner_type": "administrative", "category": "cross_department", "kind": "build",
     "investment_wan": 960, "started_on": "2026-08-03",
     "documents": [{"type": "fsr_submitted", "on": "2026-08-28"}]},
]


def fill_read_model(today: date) -> list[str]:
    """Play each project's ledger day by day and record what a worker would."""
    from activities.notices import NoticeInput, write_outbox
    from activities.read_model import ReadModelUpdate, record_status
    from calendars import WorkCalendar
    from policies.loader import load_pack
    from shixian.projects_file import load_projects
    from workflows.ledger import Ledger, start_of_day
    from workflows.models import DocumentArrival, LedgerState, Project

    full = WorkCalendar.default(use_env=False)
    projects = [*load_projects(EXAMPLES),
                *(Project.model_validate({"policy": "jiujiang-2024", **p}) for p in MORE)]
    ids = []
    for proj in projects:
        cal = WorkCalendar.from_snapshot(full.snapshot(proj.started_on.year, today.year + 4))
        led = Ledger(proj, load_pack(proj.policy), cal, LedgerState())
        docs: dict[date, list[DocumentArrival]] = {}
        for d in proj.documents:
            docs.setdefault(d.on, []).append(d)
        day = proj.started_on
        while day <= today:
            morning = start_of_day(day) + timedelta(hours=9)
            for d in docs.get(day, []):
                led.add_document(d, morning)
            for notice in led.escalate(start_of_day(day) + timedelta(hours=23, minutes=59)
                                       if day < today else morning):
                write_outbox(NoticeInput(workflow_id=f"project-{proj.id}", project_id=proj.id,
                                        jurisdiction=led.pack.jurisdiction, notice=notice))
            day += timedelta(days=1)
        status = led.status(start_of_day(today) + timedelta(hours=9, minutes=30))
        record_status(ReadModelUpdate(workflow_id=f"project-{proj.id}", seq=1,
                                      investment_wan=proj.investment_wan, status=status,
                                      new_events=status.events))
        ids.append(proj.id)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default="/", help="page to photograph (default /)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shixian-shot-") as tmp:
        os.environ["SHIXIAN_DATABASE_URL"] = f"sqlite:///{tmp}/readmodel.db"
        from calendars import WorkCalendar
        from shixian import logs
        from shixian.dashboard import make_server
        from shixian.dashboard.browser import screenshot

        logs.configure(json_lines=True)
        ids = fill_read_model(TODAY)
        server = make_server("127.0.0.1", 0, calendar=WorkCalendar.default(use_env=False),
                             today=lambda: TODAY)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            out = screenshot(server.url.rstrip("/") + args.path, args.out, args.width,
                             args.height)
        finally:
            server.shutdown()
            server.server_close()
    print(f"{out}: {len(ids)} projects as of {TODAY} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
