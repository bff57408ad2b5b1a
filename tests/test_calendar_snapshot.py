"""Snapshots are what workflows carry: exact round trips, deterministic and small; merging a
newly published year; and the engine importing nothing that does I/O."""

from __future__ import annotations

import ast
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

import calendars
from calendars import CalendarError, Provenance, WorkCalendar

FIXTURES = Path(__file__).parent / "fixtures" / "calendars"
PURE_MODULES = ("engine", "model", "periods")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.default(use_env=False)


def every_day(first_year: int, last_year: int) -> list[dt.date]:
    first = dt.date(first_year, 1, 1)
    n = (dt.date(last_year, 12, 31) - first).days + 1
    return [first + dt.timedelta(k) for k in range(n)]


def test_full_round_trip_answers_identically_on_every_day(cal: WorkCalendar) -> None:
    snap = json.loads(json.dumps(cal.snapshot()))  # through JSON, as in workflow history
    again = WorkCalendar.from_snapshot(snap)
    assert again == cal
    assert again.covered_years == cal.covered_years == (2004, 2035)
    for d in every_day(2004, 2035):
        assert again.day_info(d) == cal.day_info(d)
    assert again.snapshot() == cal.snapshot()


def test_partial_snapshot(cal: WorkCalendar) -> None:
    snap = cal.snapshot(2026, 2028)
    assert snap["years"] == {"2026": "official", "2027": "provisional", "2028": "provisional"}
    assert snap["days"][0] == ["2026-01-01", "holiday", "元旦"]
    assert ["2026-01-04", "makeup_workday", "元旦"] in snap["days"]
    again = WorkCalendar.from_snapshot(snap)
    assert again.covered_years == (2026, 2028)
    for d in every_day(2026, 2028):
        assert again.day_info(d) == cal.day_info(d)
    assert again.add_working_days(dt.date(2026, 9, 30), 10) == dt.date(2026, 10, 20)
    with pytest.raises(CalendarError, match=r"outside the calendar's range 2026-01-01\.\.2028"):
        again.is_workday(dt.date(2029, 1, 1))


def test_snapshot_is_plain_deterministic_and_small(cal: WorkCalendar) -> None:
    snap = cal.snapshot(2026, 2030)

    def plain(x: object) -> bool:
        if isinstance(x, dict):
            return all(isinstance(k, str) and plain(v) for k, v in x.items())
        if isinstance(x, list):
            return all(plain(v) for v in x)
        return type(x) in (str, int)

    assert plain(snap)
    dates = [row[0] for row in snap["days"]]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    text = json.dumps(snap, ensure_ascii=False, sort_keys=True)
    rebuilt = WorkCalendar.default(use_env=False).snapshot(2026, 2030)
    assert json.dumps(rebuilt, ensure_ascii=False, sort_keys=True) == text
    assert len(text.encode()) < 5_000  # five years in a few KB
    assert len(json.dumps(cal.snapshot()).encode()) < 60_000  # all 32 years


def test_merge_a_newly_published_year(cal: WorkCalendar) -> None:
    running = WorkCalendar.from_snapshot(cal.snapshot(2026, 2028))  # what a workflow holds
    published = WorkCalendar.default([FIXTURES], use_env=False)
    merged = running.merge(published.snapshot(2027, 2027))
    assert merged.years == {
        2026: Provenance.OFFICIAL,
        2027: Provenance.PUBLISHED,
        2028: Provenance.PROVISIONAL,
    }
    assert merged == WorkCalendar.from_snapshot(published.snapshot(2026, 2028))
    assert running.year_provenance(2027) is Provenance.PROVISIONAL  # immutable
    # extending at the end works; leaving a gap does not
    longer = running.with_years(cal.snapshot(2029, 2030))
    assert longer.covered_years == (2026, 2030)
    with pytest.raises(CalendarError, match="contiguous"):
        running.merge(cal.snapshot(2031, 2031))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.update(version=2), "unsupported version"),
        (lambda s: s.update(first_year=2025), "years do not match"),
        (lambda s: s["years"].update({"2027": "rumoured"}), "unknown provenance"),
        (lambda s: s["days"].append(["2027-02-30", "holiday", "x"]), "not a valid date"),
        (lambda s: s["days"].append(["2031-01-01", "holiday", "x"]), "outside the years"),
        (lambda s: s["days"].append(["2027-03-03", "makeup_workday", ""]), "Saturday or Sunday"),
        (lambda s: s["days"].append(["2027-03-03", "workday", ""]), "only holidays and makeup"),
        (lambda s: s["days"].append(["2027-01-01", "holiday", "元旦"]), "listed twice"),
        (lambda s: s["days"].append(["2027-03-03", "holiday"]), "expected [date, kind, name"),
        (lambda s: s["days"].append(["2027-03-03", "holiday", ""]), "needs a name"),
        (lambda s: s["days"].append(["2027-03-03", "feast", "x"]), "feast"),
    ],
)
def test_malformed_snapshots_are_rejected(cal: WorkCalendar, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    snap = json.loads(json.dumps(cal.snapshot(2026, 2028)))
    mutate(snap)
    with pytest.raises(CalendarError, match=message.replace("[", r"\[")) as info:
        WorkCalendar.from_snapshot(snap)
    assert "\n" not in str(info.value)


def test_engine_modules_import_only_the_stdlib() -> None:
    """What the workflow sandbox imports must not do I/O; only `default()` may, lazily."""
    package = Path(calendars.__file__).parent
    for name in PURE_MODULES:
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            for mod in mods:
                top = mod.split(".")[0]
                ok = top in sys.stdlib_module_names or top == "__future__"
                ok = ok or mod in {f"calendars.{m}" for m in PURE_MODULES}
                ok = ok or (name == "engine" and mod == "calendars.loader")  # inside default()
                assert ok, f"calendars/{name}.py imports {mod}"


def test_importing_calendars_loads_no_data_libraries() -> None:
    code = (
        "import sys, calendars, datetime as d;"
        "c = calendars.WorkCalendar({2027: 'provisional'}, []);"
        "c.deadline(d.date(2027, 3, 1), '5wd');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'yaml', 'chinese_calendar', 'lunardate', 'holidays', 'zoneinfo', 'calendars.loader'}"
        " or m in {'calendars.loader', 'calendars.official', 'calendars.published'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
