"""What one read-model update costs on SQLite, per journal mode (issue #12), by hand:

    .venv/bin/python bench/sqlite_commit.py [--projects 400] [--rounds 2]

Each round applies, for every mode in turn on a fresh file, the first update of N
projects (every row: the example 九江 projects, checked as `shixian start` checks them)
and then a second update of each (the project row only, as most wakes send), one
transaction each through `activities.read_model.apply_changes`, as `record_wake` does. It
prints the process's user and system CPU and the wall time per update. `rollback
journal` is SQLite's default mode and what shixian used before session 9; `WAL, FULL` is
what `activities.db.write_ahead_log` sets; `WAL, NORMAL` (no fsync per commit) is shown
for reference only: it can lose the last commits in a power cut.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = (("rollback journal", "DELETE", "FULL"), ("WAL, FULL", "WAL", "FULL"),
         ("WAL, NORMAL", "WAL", "NORMAL"))


def first_updates(n: int) -> list[Any]:
    """One full read-model update per project, as a project's first wake sends it."""
    from activities.read_model import ReadModelChanges, obligation_row, project_row
    from bench.scale import prepared
    from calendars.engine import WorkCalendar
    from shixian import operations
    from workflows.base import business_date
    from workflows.ledger import Ledger
    from workflows.models import LedgerState, RecordOutcome
    from workflows.views import summary

    tmp = Path(tempfile.mkdtemp(prefix="shixian-sqlite-commit-"))
    now = datetime.now(UTC)
    out = []
    for inp in prepared(tmp, "C", n, WorkCalendar.default(), operations.today()):
        ledger = Ledger(inp.project, inp.pack, WorkCalendar.from_snapshot(inp.calendar),
                        LedgerState())
        for doc in sorted(inp.project.documents, key=lambda d: d.on):
            if ledger.check_document(doc, business_date(now)) is RecordOutcome.ACCEPTED:
                ledger.add_document(doc, now)
        status = summary(ledger, now, business_date(now))
        rows = [obligation_row(o) for o in status.obligations]
        out.append(ReadModelChanges(
            workflow_id=f"project-{inp.project.id}", seq=1, full=True,
            project=project_row(status, inp.project.investment_wan),
            obligation_ids=[r.obligation_id for r in rows], changed=rows,
            new_events=list(ledger.state.events)))
    return out


def run_mode(journal: str, synchronous: str, updates: list[Any]) -> tuple[float, ...]:
    from sqlalchemy import create_engine, event

    from activities.db import upgrade
    from activities.read_model import APPLIED, apply_changes

    url = f"sqlite:///{tempfile.mkdtemp(prefix='shixian-sqlite-mode-')}/rm.db"
    upgrade(url)
    eng = create_engine(url)

    @event.listens_for(eng, "connect")
    def _pragmas(dbapi: Any, _record: Any) -> None:
        dbapi.execute(f"PRAGMA journal_mode={journal}")
        dbapi.execute(f"PRAGMA synchronous={synchronous}")

    second = [dataclasses.replace(u, seq=2, full=False, changed=[], new_events=[])
              for u in updates]
    figures: list[float] = []
    for batch in (updates, second):
        t0, w0 = os.times(), time.perf_counter()
        for u in batch:
            with eng.begin() as conn:
                assert apply_changes(conn, u) == APPLIED
        t1, w1 = os.times(), time.perf_counter()
        n = len(batch)
        figures += [(t1.user - t0.user) * 1e3 / n, (t1.system - t0.system) * 1e3 / n,
                    (w1 - w0) * 1e3 / n]
    eng.dispose()
    return tuple(figures)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--projects", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("SHIXIAN_HOME", tempfile.mkdtemp(prefix="shixian-sqlite-home-"))
    updates = first_updates(args.projects)
    rows = sum(len(u.changed) for u in updates) / len(updates)
    print(f"# bench/sqlite_commit.py --projects {args.projects}: {rows:.1f} duty rows per "
          "first update; ms per update (user CPU / system CPU / wall)\n")
    print("| mode | round | first update (every row) | a later update (project row) |")
    print("|---|---|---|---|")
    for r in range(args.rounds):
        for title, journal, synchronous in MODES:
            f = run_mode(journal, synchronous, updates)
            print(f"| {title} | {r + 1} | {f[0]:.2f} / {f[1]:.2f} / {f[2]:.2f} | "
                  f"{f[3]:.2f} / {f[4]:.2f} / {f[5]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
