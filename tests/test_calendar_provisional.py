"""The provisional layer for unannounced years: lunar and solar-term dates checked against an
almanac and against sxtwl (an independent astronomical library), art. 6 补假, and 2028's
中秋 on 10/3 inside 国庆 with the statutory total still holding."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
import sxtwl  # type: ignore[import-untyped]

from calendars import DayKind, Provenance, WorkCalendar
from calendars.official import official_years
from calendars.provisional import (
    STATUTORY_DAYS_PER_YEAR,
    provisional_days,
    qingming,
    statutory_days,
)

D = dt.date
PROVISIONAL_YEARS = range(official_years()[1] + 1, 2036)
SXTWL_QINGMING = 7  # sxtwl's solar-term index: 0 = 冬至, …, 7 = 清明

# Written out from the almanac (农历 / 节气 tables): 除夕, 春节, 清明, 端午, 中秋.
ALMANAC = {
    2027: (D(2027, 2, 5), D(2027, 2, 6), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15)),
    2028: (D(2028, 1, 25), D(2028, 1, 26), D(2028, 4, 4), D(2028, 5, 28), D(2028, 10, 3)),
}


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.default(use_env=False)


def by_name(year: int) -> dict[str, list[dt.date]]:
    out: dict[str, list[dt.date]] = {}
    for d, name in statutory_days(year):
        out.setdefault(name, []).append(d)
    return out


@pytest.mark.parametrize("year", [2027, 2028])
def test_lunar_and_solar_term_dates_match_the_almanac(year: int) -> None:
    eve, new_year, qm, duanwu, zhongqiu = ALMANAC[year]
    days = by_name(year)
    assert days["春节"] == [eve, new_year, new_year + dt.timedelta(1), new_year + dt.timedelta(2)]
    assert days["清明节"] == [qm]
    assert days["端午节"] == [duanwu]
    assert days["中秋节"] == [zhongqiu]
    assert days["元旦"] == [D(year, 1, 1)]
    assert days["劳动节"] == [D(year, 5, 1), D(year, 5, 2)]
    assert days["国庆节"] == [D(year, 10, 1), D(year, 10, 2), D(year, 10, 3)]


def _sxtwl_lunar(year: int, month: int, day: int) -> dt.date:
    x = sxtwl.fromLunar(year, month, day)
    return D(x.getSolarYear(), x.getSolarMonth(), x.getSolarDay())


def _sxtwl_qingming(year: int) -> dt.date:
    for day in range(1, 31):
        x = sxtwl.fromSolar(year, 4, day)
        if x.hasJieQi() and x.getJieQi() == SXTWL_QINGMING:
            return D(year, 4, day)
    raise AssertionError(f"sxtwl has no 清明 in April {year}")


@pytest.mark.parametrize("year", PROVISIONAL_YEARS)
def test_dates_match_sxtwl(year: int) -> None:
    days = by_name(year)
    assert days["春节"][1] == _sxtwl_lunar(year, 1, 1)
    assert days["端午节"] == [_sxtwl_lunar(year, 5, 5)]
    assert days["中秋节"] == [_sxtwl_lunar(year, 8, 15)]
    assert qingming(year) == _sxtwl_qingming(year)


def test_2027_makeup_days(cal: WorkCalendar) -> None:
    """2027: 春节 初一/初二 on Sat/Sun, 劳动节 on Sat/Sun, 国庆 10/2–3 on Sat/Sun."""
    bu = {i.date: i.holiday for i in cal.exceptions(2027) if (i.holiday or "").endswith("(补假)")}
    assert bu == {
        D(2027, 2, 9): "春节(补假)",
        D(2027, 2, 10): "春节(补假)",
        D(2027, 5, 3): "劳动节(补假)",
        D(2027, 5, 4): "劳动节(补假)",
        D(2027, 10, 4): "国庆节(补假)",
        D(2027, 10, 5): "国庆节(补假)",
    }


def test_2028_mid_autumn_inside_national_day(cal: WorkCalendar) -> None:
    """中秋 = 10/3 = 国庆's third day: 10/1 (Sun) is made up on 10/4 and the coinciding
    中秋 on 10/5, so 国庆 + 中秋 still give 4 weekdays off."""
    assert D(2028, 10, 3) in by_name(2028)["中秋节"]
    oct_days = [cal.day_info(D(2028, 10, k)) for k in range(1, 9)]
    assert [i.is_workday for i in oct_days] == [False] * 5 + [True, False, False]
    assert oct_days[3].holiday == "国庆节(补假)"
    assert oct_days[4].holiday == "中秋节(补假)"
    weekday_off = [i.date for i in oct_days if i.kind is DayKind.HOLIDAY and i.date.weekday() < 5]
    assert len(weekday_off) == 3 + 1
    bu_2028 = sorted(i.date for i in cal.exceptions(2028) if (i.holiday or "").endswith("(补假)"))
    assert bu_2028 == [D(2028, 1, 3), D(2028, 5, 29), D(2028, 10, 4), D(2028, 10, 5)]


def test_2020_precedent_for_coinciding_holidays(cal: WorkCalendar) -> None:
    """国办发明电〔2019〕16号: 中秋 = 10/1/2020, and 国庆节、中秋节 10/1–10/8 with 9/27 and
    10/10 worked — weekdays off minus makeup days = 3 + 1, the rule we apply to 2028."""
    days = [i for i in cal.exceptions(2020) if D(2020, 9, 20) <= i.date <= D(2020, 10, 15)]
    off = sum(1 for i in days if i.kind is DayKind.HOLIDAY and i.date.weekday() < 5)
    makeup = sum(1 for i in days if i.kind is DayKind.MAKEUP_WORKDAY)
    assert off - makeup == 4


@pytest.mark.parametrize("year", PROVISIONAL_YEARS)
def test_statutory_total_holds_every_provisional_year(cal: WorkCalendar, year: int) -> None:
    days = cal.exceptions(year)
    assert all(i.provenance is Provenance.PROVISIONAL for i in days)
    assert all(i.kind is DayKind.HOLIDAY for i in days)  # no 调休 is predicted
    assert sum(1 for i in days if i.date.weekday() < 5) == STATUTORY_DAYS_PER_YEAR
    for d, name in statutory_days(year):
        assert not cal.is_workday(d), (d, name)
    # every 补假 is a weekday right after its holiday (within the week)
    for i in days:
        if i.holiday and i.holiday.endswith("(补假)"):
            assert i.date.weekday() < 5
    assert provisional_days(year) == days


def test_holidays_package_agrees_except_on_coinciding_holidays(cal: WorkCalendar) -> None:
    """`holidays` estimates future years with the same art. 6 rule, but gives no extra day
    when 中秋 falls inside 国庆 (2028: 10/3, 2031: 10/1) — although it hard-codes that extra
    day for 2020. These two days are the only disagreements."""
    second = holidays.country_holidays("CN", years=PROVISIONAL_YEARS)
    diffs = []
    for year in PROVISIONAL_YEARS:
        d = D(year, 1, 1)
        while d.year == year:
            if cal.is_workday(d) != second.is_working_day(d):
                diffs.append((d, cal.day_info(d).holiday))
            d += dt.timedelta(1)
    expected = [(D(2028, 10, 5), "中秋节(补假)"), (D(2031, 10, 6), "中秋节(补假)")]
    assert diffs == [x for x in expected if x[0].year in PROVISIONAL_YEARS]
