"""The official layer: chinese-calendar's State Council arrangements, plus cited errata.

chinese-calendar transcribes each year's 国务院办公厅关于…部分节假日安排的通知. Where it is
wrong, the notice wins: each erratum below cites the notice and the text that decides it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

from calendars.model import DayInfo, DayKind, Provenance

# chinese-calendar's English holiday names → the names the notices use.
HOLIDAY_NAMES: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True, slots=True)
class Erratum:
    """A day where chinese-calendar disagrees with the notice; `kind`/`holiday` are right."""

    date: _dt.date
    kind: DayKind
    holiday: str | None
    source: str  # the notice: number, date, title and the deciding sentence
    note: str  # what chinese-calendar says instead


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        date=_dt.date(2005, 12, 31),
        kind=DayKind.MAKEUP_WORKDAY,
        holiday="元旦",
        source=(
            "国办发明电〔2005〕35号 (2005-12-16) 国务院办公厅关于2006年部分节假日安排的通知, "
            "一、元旦: “12月31日(星期六)上班”"
        ),
        note="chinese-calendar 1.11.0 has Sat 2005-12-31 as an ordinary rest day",
    ),
)


def erratum_for(day: _dt.date) -> Erratum | None:
    return next((e for e in ERRATA if e.date == day), None)


def holiday_name(english: str) -> str:
    if english in HOLIDAY_NAMES:
        return HOLIDAY_NAMES[english]
    try:  # a holiday added by a newer chinese-calendar: its own Chinese name
        return str(chinese_calendar.Holiday(english).chinese)
    except ValueError:
        return english


@lru_cache(maxsize=1)
def official_years() -> tuple[int, int]:
    """The years chinese-calendar has data for (2004 to its last year)."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


@lru_cache(maxsize=1)
def _all_days() -> tuple[DayInfo, ...]:
    days: dict[_dt.date, DayInfo] = {}
    for d, name in chinese_calendar.holidays.items():
        days[d] = DayInfo(d, DayKind.HOLIDAY, holiday_name(name), Provenance.OFFICIAL)
    for d, name in chinese_calendar.workdays.items():
        days[d] = DayInfo(d, DayKind.MAKEUP_WORKDAY, holiday_name(name), Provenance.OFFICIAL)
    for e in ERRATA:
        if e.kind in (DayKind.HOLIDAY, DayKind.MAKEUP_WORKDAY):
            days[e.date] = DayInfo(e.date, e.kind, e.holiday, Provenance.OFFICIAL)
        else:
            days.pop(e.date, None)
    return tuple(days[d] for d in sorted(days))


def official_days(first_year: int, last_year: int) -> list[DayInfo]:
    """Holidays and makeup workdays of the given years, errata applied."""
    return [i for i in _all_days() if first_year <= i.date.year <= last_year]
