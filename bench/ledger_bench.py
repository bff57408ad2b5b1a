"""What one workflow wake costs: the ledger's work for a project, run by hand.

Each wake of a ProjectLifecycleWorkflow runs `escalate`, `status` and `next_wake` on its
ledger; the starter runs `check_document` once per listed document. This times them for
the three hand-worked 九江 projects, and the size of what a workflow carries in its input.

    .venv/bin/python bench/ledger_bench.py
"""

from __future__ import annotations

import json
import sys
import timeit
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calendars import WorkCalendar
from policies.loader import load_pack
from shixian import operations
from tests.jiujiang_cases import ALL_CASES
from workflows.ledger import Ledger
from workflows.models import LedgerState

NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)


def main() -> None:
    calendar = WorkCalendar.default(use_env=False)
    pack = load_pack("jiujiang-2024")
    print(f"{'project':<8} {'docs':>4} {'status':>10} {'escalate':>10} {'next_wake':>10} "
          f"{'input KB':>9}")
    for case in ALL_CASES:
        inp = operations.prepare(case.project.model_copy(update={"documents": case.documents}),
                                 calendar)
        snap = WorkCalendar.from_snapshot(inp.calendar)
        ledger = Ledger(case.project, pack, snap, LedgerState())
        for d in case.documents:
            ledger.add_document(d, NOW)
        runs = 200
        status = timeit.timeit(partial(ledger.status, NOW), number=runs) / runs
        escalate = timeit.timeit(partial(ledger.escalate, NOW), number=runs) / runs
        wake = timeit.timeit(partial(ledger.next_wake, NOW), number=runs) / runs
        size = len(json.dumps(inp.model_dump(mode="json"), ensure_ascii=False).encode()) / 1024
        print(f"{case.project.id:<8} {len(case.documents):>4} {status * 1e3:>8.2f}ms "
              f"{escalate * 1e3:>8.2f}ms {wake * 1e3:>8.2f}ms {size:>8.1f}")
    rebuild = timeit.timeit(lambda: WorkCalendar.from_snapshot(inp.calendar), number=50) / 50
    print(f"\ncalendar snapshot → WorkCalendar (9 years, once per workflow run): "
          f"{rebuild * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
