"""The provisional layer: a year nobody has announced yet, computed from the statute.

《全国年节及纪念日放假办法》 (revised by State Council Order No. 795, in force 2025-01-01):
art. 2 gives every citizen 13 days — 元旦 1; 春节 4 (除夕, 初一–初三); 清明节 1; 劳动节 2
(5/1–5/2); 端午节 1 (lunar 5/5); 中秋节 1 (lunar 8/15); 国庆节 3 (10/1–10/3) — and art. 6
says a nationwide holiday that falls on a Saturday or Sunday is made up (补假) on a
working day. We put each 补假 on the first following weekday not already off, and give a
day where two holidays coincide (2028: 中秋 = 10/3) the same treatment, so the 13 days hold.

What cannot be predicted is left out: the 调休 swaps of each year's notice (weekend makeup
working days and the weekdays they free). Deadlines touching these years are flagged.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter

import chinese_calendar
from lunardate import LunarDate

from calendars.model import CalendarError, DayInfo, DayKind, Provenance

STATUTORY_DAYS_PER_YEAR = 13
MAKEUP_SUFFIX = "(补假)"
# Statute order; a date claimed by two holidays keeps the name of the longer block.
_ORDER = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_ONE_DAY = _dt.timedelta(days=1)


def _lunar(year: int, month: int, day: int) -> _dt.date:
    try:
        solar: _dt.date = LunarDate(year, month, day).to_solar_date()
    except ValueError as exc:
        raise CalendarError(f"provisional {year}: lunar {month}/{day}: {exc}") from None
    return solar


def qingming(year: int) -> _dt.date:
    """清明 (the solar term, ~4–6 April), by chinese-calendar's 寿星 formula."""
    terms = chinese_calendar.get_solar_terms(_dt.date(year, 4, 1), _dt.date(year, 4, 30))
    for day, name in terms:
        if name == "清明":
            return _dt.date(day.year, day.month, day.day)
    raise CalendarError(f"provisional {year}: no 清明 found in April")  # pragma: no cover


def statutory_days(year: int) -> list[tuple[_dt.date, str]]:
    """The 13 (date, holiday) entitlements of art. 2 for `year`, in statute order."""
    if not 1901 <= year <= 2099:
        raise CalendarError(f"provisional {year}: lunar dates are only known for 1901–2099")
    new_year = _lunar(year, 1, 1)  # 春节 = 正月初一
    days = [(_dt.date(year, 1, 1), "元旦")]
    days += [(new_year + k * _ONE_DAY, "春节") for k in (-1, 0, 1, 2)]  # 除夕–初三
    days += [(qingming(year), "清明节")]
    days += [(_dt.date(year, 5, 1), "劳动节"), (_dt.date(year, 5, 2), "劳动节")]
    days += [(_lunar(year, 5, 5), "端午节"), (_lunar(year, 8, 15), "中秋节")]
    days += [(_dt.date(year, 10, d), "国庆节") for d in (1, 2, 3)]
    return days


def provisional_days(year: int) -> list[DayInfo]:
    """Holidays of `year` per arts. 2 and 6: statutory days plus 补假, no 调休."""
    entitlements = statutory_days(year)
    size = Counter(name for _, name in entitlements)

    def rank(item: tuple[_dt.date, str]) -> tuple[_dt.date, int, int]:
        return item[0], -size[item[1]], _ORDER.index(item[1])

    off: dict[_dt.date, str] = {}
    owed: list[tuple[_dt.date, str]] = []
    for day, name in sorted(entitlements, key=rank):
        if day in off:  # two holidays on one date: the second is owed a day
            owed.append((day, name))
            continue
        off[day] = name
        if day.weekday() >= 5:  # art. 6: a holiday on Sat/Sun is made up
            owed.append((day, name))
    for day, name in owed:
        free = day + _ONE_DAY
        while free.weekday() >= 5 or free in off:
            free += _ONE_DAY
        off[free] = name + MAKEUP_SUFFIX
    return [
        DayInfo(d, DayKind.HOLIDAY, off[d], Provenance.PROVISIONAL)
        for d in sorted(off)
        if d.year == year
    ]
