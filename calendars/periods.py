"""Periods ("5wd", "20d", "3m", "1y") and deadlines under Civil Code arts. 201–203.

Pure stdlib. Asia/Shanghai is a fixed UTC+8 offset (China has had no DST since 1991):
`zoneinfo` objects are proxied inside the Temporal sandbox and break `astimezone`.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from enum import StrEnum

from calendars.model import CalendarError

SHANGHAI = _dt.timezone(_dt.timedelta(hours=8), "CST")

_PERIOD_RE = re.compile(r"^\s*([+-]?\d+)\s*([A-Za-z]+)\s*$")


class PeriodUnit(StrEnum):
    WORKING_DAYS = "wd"  # 工作日
    DAYS = "d"  # 日 (calendar days)
    MONTHS = "m"  # 月
    YEARS = "y"  # 年


@dataclass(frozen=True, slots=True)
class Period:
    count: int
    unit: PeriodUnit

    def __str__(self) -> str:
        return f"{self.count}{self.unit.value}"

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Parse "5wd", "20d", "3m", "1y"; the count must be ≥ 1."""
        if type(text) is str and (known := _PARSED.get(text)) is not None:
            return known
        if isinstance(text, Period):
            return text
        if not isinstance(text, str):
            raise CalendarError(f"period: expected a string like '5wd', got {text!r}")
        m = _PERIOD_RE.match(text)
        if m is None:
            raise CalendarError(
                f"period {text!r}: expected a count and a unit, e.g. 5wd, 20d, 3m, 1y"
            )
        count, unit = int(m.group(1)), m.group(2).lower()
        try:
            punit = PeriodUnit(unit)
        except ValueError:
            raise CalendarError(
                f"period {text!r}: unknown unit {unit!r} "
                "(wd = working days, d = calendar days, m = months, y = years)"
            ) from None
        if count < 1:
            raise CalendarError(f"period {text!r}: the count must be at least 1")
        period = cls(count, punit)
        if type(text) is str and len(_PARSED) < _PARSED_MAX:
            _PARSED[text] = period
        return period


# Periods as parsed, by their text: a pack's few limits ("5wd", "3m") are parsed again at
# every wake's schedule, and in a workflow task each isinstance goes through the sandbox's
# wrapper (issue #12). Periods are immutable; the bound only guards odd callers.
_PARSED: dict[str, Period] = {}
_PARSED_MAX = 1024


@dataclass(frozen=True, slots=True)
class Deadline:
    """A period's end: `last_day` (期间的最后一日) and `due_at` = 24:00 of it in Beijing time."""

    start: _dt.date
    period: str  # canonical text, e.g. "5wd"
    last_day: _dt.date
    due_at: _dt.datetime  # aware: the next day 00:00 at UTC+8
    provisional: bool  # some day counted (or the last day) is not from announced data


def end_of_day(day: _dt.date) -> _dt.datetime:
    """24:00 Asia/Shanghai of `day`, i.e. 00:00 of the next day at UTC+8 (art. 203)."""
    nxt = day + _dt.timedelta(days=1)
    return _dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=SHANGHAI)


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def add_months(start: _dt.date, months: int) -> _dt.date:
    """The corresponding day of the target month, else its last day (art. 202)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    if not 1 <= year <= 9999:
        raise CalendarError(f"{start.isoformat()} + {months} months is outside the date range")
    return _dt.date(year, month, min(start.day, days_in_month(year, month)))
