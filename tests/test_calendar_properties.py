"""Property tests: the indexed engine against a naive day-by-day reference, over official
and provisional years. The reference reads the layers' raw day data, not the engine's index."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import CalendarError, DayKind, WorkCalendar
from calendars.official import official_days, official_years
from calendars.provisional import provisional_days

ONE = dt.timedelta(days=1)
FIRST, LAST = dt.date(2004, 1, 1), dt.date(2035, 12, 31)
OFF_LAST = official_years()[1]
CAL = WorkCalendar.default(use_env=False)

RAW = {i.date: i.kind for i in official_days(2004, OFF_LAST)}
for _y in range(OFF_LAST + 1, 2036):
    RAW.update((i.date, i.kind) for i in provisional_days(_y))

SETTINGS = settings(max_examples=250, deadline=None, derandomize=True)
# Half the examples in provisional years, where the count is flagged.
dates = st.one_of(
    st.dates(FIRST, LAST),
    st.dates(dt.date(OFF_LAST, 6, 1), LAST),
)


def ref_workday(d: dt.date) -> bool:
    kind = RAW.get(d)
    return kind is DayKind.MAKEUP_WORKDAY if kind is not None else d.weekday() < 5


def ref_provisional(d: dt.date) -> bool:
    return d.year > OFF_LAST


def ref_add(d: dt.date, n: int) -> dt.date | None:
    while n:
        d += ONE
        if d > LAST:
            return None
        n -= ref_workday(d)
    return d


def ref_subtract(d: dt.date, n: int) -> dt.date | None:
    while n:
        d -= ONE
        if d < FIRST:
            return None
        n -= ref_workday(d)
    return d


def ref_between(a: dt.date, b: dt.date) -> int:
    lo, hi, sign = (a, b, 1) if a <= b else (b, a, -1)
    count, d = 0, lo
    while d < hi:
        d += ONE
        count += ref_workday(d)
    return sign * count


def ref_next_workday(d: dt.date) -> dt.date | None:
    while d <= LAST:
        if ref_workday(d):
            return d
        d += ONE
    return None


def ref_add_months(d: dt.date, months: int) -> dt.date:
    y, m = d.year, d.month
    for _ in range(months):
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    day = d.day
    while True:
        try:
            return dt.date(y, m, day)
        except ValueError:
            day -= 1


@SETTINGS
@given(dates, st.integers(1, 400))
def test_add_working_days(d: dt.date, n: int) -> None:
    expected = ref_add(d, n)
    if expected is None:
        with pytest.raises(CalendarError, match="range"):
            CAL.add_working_days(d, n)
        return
    got = CAL.add_working_days(d, n)
    assert got == expected
    assert CAL.is_workday(got)
    assert CAL.working_days_between(d, got) == n


@SETTINGS
@given(st.dates(FIRST, LAST), st.integers(1, 400))
def test_subtract_working_days(d: dt.date, n: int) -> None:
    expected = ref_subtract(d, n)
    if expected is None:
        with pytest.raises(CalendarError, match="range"):
            CAL.subtract_working_days(d, n)
        return
    got = CAL.subtract_working_days(d, n)
    assert got == expected
    assert CAL.is_workday(got)
    assert CAL.working_days_between(got, d) == n - 1 + CAL.is_workday(d)


@SETTINGS
@given(dates, st.integers(-400, 400))
def test_working_days_between(a: dt.date, offset: int) -> None:
    b = min(max(a + offset * ONE, FIRST), LAST)
    assert CAL.working_days_between(a, b) == ref_between(a, b)
    assert CAL.working_days_between(b, a) == -ref_between(a, b)


@SETTINGS
@given(dates)
def test_day_lookups(d: dt.date) -> None:
    assert CAL.is_workday(d) == ref_workday(d)
    assert CAL.day_info(d).is_workday == ref_workday(d)
    assert CAL.next_workday(d) == ref_next_workday(d)
    prev = d
    while prev >= FIRST and not ref_workday(prev):
        prev -= ONE
    if prev < FIRST:
        with pytest.raises(CalendarError, match="no working day on or before"):
            CAL.previous_workday(d)
    else:
        assert CAL.previous_workday(d) == prev


@SETTINGS
@given(dates, st.sampled_from(["wd", "d", "m", "y"]), st.integers(1, 40))
def test_deadline(start: dt.date, unit: str, count: int) -> None:
    if unit == "wd":
        expected = ref_add(start, count)
    elif unit == "d":
        nominal = start + count * ONE
        expected = ref_next_workday(nominal) if nominal <= LAST else None
    else:
        months = count if unit == "m" else 12 * count
        nominal = ref_add_months(start, months)
        expected = ref_next_workday(nominal) if nominal <= LAST else None
    period = f"{count}{unit}"
    if expected is None:
        with pytest.raises(CalendarError, match="range"):
            CAL.deadline(start, period)
        return
    dl = CAL.deadline(start, period)
    assert dl.last_day == expected
    assert dl.due_at.date() == expected + ONE
    assert dl.due_at.utcoffset() == dt.timedelta(hours=8) and dl.due_at.time() == dt.time(0)
    span = [start + k * ONE for k in range(1, (expected - start).days + 1)]
    assert dl.provisional == any(ref_provisional(d) for d in span)
    assert dl.provisional == CAL.is_provisional_between(start, expected)
