"""The official layer: day-by-day agreement with chinese-calendar (errata excepted) and a
cross-check against a second, independent source, the `holidays` package (which models 调休)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import holidays
import pytest

from calendars import DayKind, Provenance, WorkCalendar
from calendars.official import ERRATA, erratum_for, official_years
from calendars.provisional import STATUTORY_DAYS_PER_YEAR, statutory_days

FIRST, LAST = official_years()
ONE = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.default(use_env=False)


def every_day(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + k * ONE for k in range((last - first).days + 1)]


def test_official_layer_covers_2004_to_the_packages_last_year(cal: WorkCalendar) -> None:
    assert FIRST == 2004
    assert LAST >= 2026
    assert all(cal.year_provenance(y) is Provenance.OFFICIAL for y in range(FIRST, LAST + 1))
    assert cal.covered_years[0] <= 2004 and cal.covered_years[1] >= 2035


def test_agrees_with_chinese_calendar_on_every_day_except_errata(cal: WorkCalendar) -> None:
    errata = {e.date for e in ERRATA}
    disagreements = []
    for d in every_day(dt.date(FIRST, 1, 1), dt.date(LAST, 12, 31)):
        info = cal.day_info(d)
        is_holiday, name = chinese_calendar.get_holiday_detail(d)
        assert info.provenance is Provenance.OFFICIAL
        if info.is_workday == is_holiday:  # is_holiday means "not a working day"
            disagreements.append(d)
            continue
        if name is not None and d not in errata:  # chinese-calendar names holiday and 调休 days
            expected = DayKind.MAKEUP_WORKDAY if info.is_workday else DayKind.HOLIDAY
            assert info.kind is expected, d
            assert info.holiday, d
    assert disagreements == sorted(errata)


def test_erratum_2005_12_31_is_cited_and_still_needed(cal: WorkCalendar) -> None:
    d = dt.date(2005, 12, 31)
    assert d.weekday() == 5  # a Saturday
    # chinese-calendar still has it wrong; when it is fixed, drop the erratum.
    assert not chinese_calendar.is_workday(d)
    info = cal.day_info(d)
    assert info.kind is DayKind.MAKEUP_WORKDAY and info.holiday == "元旦"
    erratum = erratum_for(d)
    assert erratum is not None and "国办发明电〔2005〕35号" in erratum.source
    # The 2006 notice's 元旦 holiday itself is unchanged: 2006-01-01 to 01-03 off.
    assert [cal.is_workday(dt.date(2006, 1, k)) for k in (1, 2, 3, 4)] == [0, 0, 0, 1]


def test_official_layer_matches_the_holidays_package_on_every_day(cal: WorkCalendar) -> None:
    """A second source with its own transcription of every notice since 2001."""
    second = holidays.country_holidays("CN", years=range(FIRST - 1, LAST + 2))
    disagreements = [
        d
        for d in every_day(dt.date(FIRST, 1, 1), dt.date(LAST, 12, 31))
        if cal.is_workday(d) != second.is_working_day(d)
    ]
    assert disagreements == []


def test_chinese_calendar_alone_disagrees_with_holidays_only_on_the_erratum() -> None:
    second = holidays.country_holidays("CN", years=range(FIRST - 1, LAST + 2))
    disagreements = [
        d
        for d in every_day(dt.date(FIRST, 1, 1), dt.date(LAST, 12, 31))
        if chinese_calendar.is_workday(d) != second.is_working_day(d)
    ]
    assert disagreements == [e.date for e in ERRATA]


@pytest.mark.parametrize("year", [y for y in (2025, 2026) if y <= LAST])
def test_statute_in_force_holds_in_official_years(cal: WorkCalendar, year: int) -> None:
    """The provisional model's statutory dates are rest days in the real 2025/2026 notices,
    and weekday holidays minus makeup workdays is the statute's 13 (调休 nets to zero)."""
    for d, name in statutory_days(year):
        assert not cal.is_workday(d), (d, name)
    days = cal.exceptions(year)
    weekday_off = sum(1 for i in days if i.kind is DayKind.HOLIDAY and i.date.weekday() < 5)
    makeup = sum(1 for i in days if i.kind is DayKind.MAKEUP_WORKDAY)
    assert weekday_off - makeup == STATUTORY_DAYS_PER_YEAR


def test_official_holiday_names_are_chinese(cal: WorkCalendar) -> None:
    names = {i.holiday for i in cal.exceptions(FIRST, LAST)}
    assert {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"} <= names
    assert all(n and not n.isascii() for n in names)
