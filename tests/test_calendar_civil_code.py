"""Hand-worked Civil Code cases (arts. 201–203), each checked against the 2026 notice
(chinese-calendar) or the provisional 2027/2028 layers by reading the calendar by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calendars import SHANGHAI, Deadline, WorkCalendar

D = dt.date
FIXTURES = Path(__file__).parent / "fixtures" / "calendars"


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.default(use_env=False)


def last(cal: WorkCalendar, start: dt.date, period: str) -> dt.date:
    return cal.deadline(start, period).last_day


def test_issue_example(cal: WorkCalendar) -> None:
    # 9/30 → 国庆 10/1–10/7 off; 10/8 Thu (1), 10/9 (2), Sat 10/10 调休上班 (3), … 10/20 (10)
    assert cal.add_working_days(D(2026, 9, 30), 10) == D(2026, 10, 20)
    assert last(cal, D(2026, 9, 30), "10wd") == D(2026, 10, 20)


def test_start_day_is_not_counted(cal: WorkCalendar) -> None:
    assert cal.add_working_days(D(2026, 3, 2), 1) == D(2026, 3, 3)  # Mon → Tue
    assert cal.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)  # Fri → Mon
    assert last(cal, D(2026, 3, 2), "1d") == D(2026, 3, 3)


def test_start_on_a_holiday(cal: WorkCalendar) -> None:
    # 2026-10-01 is 国庆节; the count starts with the first working day after it.
    assert cal.add_working_days(D(2026, 10, 1), 1) == D(2026, 10, 8)
    assert cal.add_working_days(D(2026, 10, 1), 3) == D(2026, 10, 10)  # the 调休 Saturday
    assert cal.add_working_days(D(2026, 10, 4), 1) == D(2026, 10, 8)  # a Sunday inside 国庆
    assert cal.working_days_between(D(2026, 10, 1), D(2026, 10, 10)) == 3


def test_count_across_spring_festival_with_makeup_saturdays(cal: WorkCalendar) -> None:
    # 2026: 春节 2/15–2/23 off; Sat 2/14 and Sat 2/28 are working days (调休).
    start = D(2026, 2, 13)  # Friday
    assert [cal.add_working_days(start, n) for n in (1, 2, 5, 6, 7)] == [
        D(2026, 2, 14),
        D(2026, 2, 24),
        D(2026, 2, 27),
        D(2026, 2, 28),
        D(2026, 3, 2),
    ]
    assert cal.working_days_between(start, D(2026, 2, 28)) == 6
    assert cal.working_days_between(D(2026, 2, 28), start) == -6
    dl = cal.deadline(start, "5wd")
    assert dl == Deadline(
        start=start,
        period="5wd",
        last_day=D(2026, 2, 27),
        due_at=dt.datetime(2026, 2, 28, 0, 0, tzinfo=SHANGHAI),
        provisional=False,
    )


def test_31_january_plus_one_month(cal: WorkCalendar) -> None:
    # No 31 February: the month's last day (art. 202), then art. 203 if it is not a working day.
    assert last(cal, D(2025, 1, 31), "1m") == D(2025, 2, 28)  # Friday
    assert last(cal, D(2024, 1, 31), "1m") == D(2024, 2, 29)  # leap year, Thursday
    assert last(cal, D(2026, 1, 31), "1m") == D(2026, 2, 28)  # Saturday, but 调休上班
    dl = cal.deadline(D(2027, 1, 31), "1m")  # 2027-02-28 is a Sunday
    assert (dl.last_day, dl.provisional) == (D(2027, 3, 1), True)
    assert last(cal, D(2026, 1, 30), "1m") == D(2026, 2, 28)  # clamped too
    assert last(cal, D(2026, 2, 28), "1m") == D(2026, 3, 30)  # 3/28 is a Saturday


def test_month_end_clamp_is_not_month_end_rule(cal: WorkCalendar) -> None:
    # 4/30 + 1m is 5/30, not 5/31: the corresponding day, not the month's end.
    assert cal.deadline(D(2025, 4, 30), "1m").last_day == D(2025, 5, 30)  # Friday


def test_29_february_plus_one_year(cal: WorkCalendar) -> None:
    assert last(cal, D(2024, 2, 29), "1y") == D(2025, 2, 28)  # Friday
    assert last(cal, D(2020, 2, 29), "1y") == D(2021, 3, 1)  # 2021-02-28 is a Sunday
    dl = cal.deadline(D(2028, 2, 29), "1y")
    assert (dl.last_day, dl.provisional) == (D(2029, 2, 28), True)  # Wednesday, provisional
    assert cal.deadline(D(2024, 2, 29), "12m") == Deadline(
        D(2024, 2, 29), "12m", D(2025, 2, 28), dt.datetime(2025, 3, 1, tzinfo=SHANGHAI), False
    )


def test_day_period_ending_on_national_day(cal: WorkCalendar) -> None:
    dl = cal.deadline(D(2026, 9, 21), "10d")  # nominal 10/1 → 国庆 until 10/7 → Thu 10/8
    assert dl.last_day == D(2026, 10, 8)
    assert dl.due_at == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    assert dl.due_at.utcoffset() == dt.timedelta(hours=8)
    assert dl.due_at.astimezone(dt.UTC) == dt.datetime(2026, 10, 8, 16, 0, tzinfo=dt.UTC)
    # 2025: 国庆 + 中秋 10/1–10/8, 10/11 (Sat) worked
    assert last(cal, D(2025, 9, 21), "10d") == D(2025, 10, 9)
    # ending on a 调休 Saturday: that Saturday is a working day, so it stands
    assert last(cal, D(2026, 10, 3), "7d") == D(2026, 10, 10)
    # ending on an ordinary weekend: the Monday
    assert last(cal, D(2026, 3, 6), "1d") == D(2026, 3, 9)


def test_working_day_periods_are_not_moved(cal: WorkCalendar) -> None:
    for start in (D(2026, 1, 5), D(2026, 9, 25), D(2026, 12, 18)):
        dl = cal.deadline(start, "3wd")
        assert cal.is_workday(dl.last_day)
        assert cal.working_days_between(start, dl.last_day) == 3


def test_provisional_flag(cal: WorkCalendar) -> None:
    assert not cal.deadline(D(2026, 1, 1), "5wd").provisional
    assert not cal.deadline(D(2026, 12, 1), "20d").provisional
    assert cal.deadline(D(2026, 12, 24), "10wd").provisional  # runs into 2027
    assert cal.is_provisional_between(D(2026, 12, 31), D(2027, 1, 1))
    assert not cal.is_provisional_between(D(2026, 1, 1), D(2026, 12, 31))
    # the start day itself is not counted
    assert not cal.is_provisional_between(D(2027, 1, 1), D(2027, 1, 1))


def test_a_published_year_changes_and_unflags_a_deadline() -> None:
    provisional = WorkCalendar.default(use_env=False)
    published = WorkCalendar.default([FIXTURES], use_env=False)
    # 11/10 + 3m = 2027-02-10: provisional 春节(补假) → Thu 2/11; in the (fixture) notice
    # 春节 runs 2/5–2/13 and Sun 2/14 is worked → 2/14.
    a = provisional.deadline(D(2026, 11, 10), "3m")
    b = published.deadline(D(2026, 11, 10), "3m")
    assert (a.last_day, a.provisional) == (D(2027, 2, 11), True)
    assert (b.last_day, b.provisional) == (D(2027, 2, 14), False)


def test_due_at_is_24_00_in_beijing() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database")
    cal = WorkCalendar.default(use_env=False)
    dl = cal.deadline(D(2026, 6, 1), "5wd")
    assert dl.due_at == dt.datetime.combine(dl.last_day + dt.timedelta(1), dt.time(), shanghai)
