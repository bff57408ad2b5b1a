"""Benchmark: WorkCalendar.add_working_days against chinese-calendar's find_workday (and
workalendar's China calendar, if it is installed), at n = 5, 20 and 250.

Run by hand: `.venv/bin/python bench/calendar_bench.py`. Start dates are working days in
2004–2025, so every library answers the same question ("the n-th working day after d"):
find_workday(n, d) counts from the first working day on or after d. Answers are checked
to agree before anything is timed. Target: ≥ 1,000× find_workday at n = 250.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import chinese_calendar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calendars import WorkCalendar

NS = (5, 20, 250)
ERRATUM = dt.date(2005, 12, 31)  # a working day that chinese-calendar misses
STARTS = 200


def per_call_us(fn: Callable[[dt.date, int], object], starts: list[dt.date], n: int) -> float:
    """Best of 5 rounds, each at least ~0.2 s, in µs per call."""
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            for d in starts:
                fn(d, n)
        elapsed = time.perf_counter() - t0
        if elapsed > 0.2:
            break
        reps *= 2
    best = elapsed
    for _ in range(4):
        t0 = time.perf_counter()
        for _ in range(reps):
            for d in starts:
                fn(d, n)
        best = min(best, time.perf_counter() - t0)
    return best / (reps * len(starts)) * 1e6


def main() -> None:
    cal = WorkCalendar.default(use_env=False)
    rng = random.Random(20261123)
    starts: list[dt.date] = []
    while len(starts) < STARTS:
        d = dt.date(2004, 1, 1) + dt.timedelta(days=rng.randrange(22 * 365))
        if chinese_calendar.is_workday(d) and d != ERRATUM:
            starts.append(d)

    contenders: dict[str, Callable[[dt.date, int], object]] = {
        "shixian add_working_days": cal.add_working_days,
        "chinese-calendar find_workday": lambda d, n: chinese_calendar.find_workday(n, d),
    }
    try:
        china = importlib.import_module("workalendar.asia").China()
        contenders["workalendar China.add_working_days"] = china.add_working_days
    except ImportError:
        print("workalendar: not installed, skipped")

    # apart from counts across the erratum, both must give the same answers
    for n in NS:
        for d in starts[:50]:
            ours = cal.add_working_days(d, n)
            theirs = chinese_calendar.find_workday(n, d)
            if theirs != ours and not d < ERRATUM <= max(ours, theirs):
                raise SystemExit(f"disagree at {d} + {n}: {ours} vs {theirs}")

    print(f"{'n':>4}  " + "  ".join(f"{name:>34}" for name in contenders) + "   ratio")
    for n in NS:
        times = {name: per_call_us(fn, starts, n) for name, fn in contenders.items()}
        base = times["shixian add_working_days"]
        ratio = times["chinese-calendar find_workday"] / base
        cells = "  ".join(f"{t:>31.2f} µs" for t in times.values())
        extra = ""
        if "workalendar China.add_working_days" in times:
            extra = f"  (workalendar {times['workalendar China.add_working_days'] / base:,.0f}×)"
        print(f"{n:>4}  {cells}   {ratio:,.0f}×{extra}")
    print("ratio = find_workday time / add_working_days time, measured in this run")


if __name__ == "__main__":
    main()
