"""The calendar's value types. Pure stdlib: safe inside the Temporal workflow sandbox."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from enum import StrEnum


class CalendarError(ValueError):
    """Bad calendar input or data; the one-line message says what is wrong and where."""


class DayKind(StrEnum):
    """What a day is for someone working in a Chinese government office."""

    WORKDAY = "workday"  # 工作日: Mon–Fri, not a holiday
    REST_DAY = "rest_day"  # 公休日: Sat/Sun, not moved
    HOLIDAY = "holiday"  # 节假日 (incl. 调休 rest days and 补假), on any weekday
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班: a Sat/Sun turned into a working day

    @property
    def is_working(self) -> bool:
        return self in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)


class Provenance(StrEnum):
    """Where a day's answer comes from; only `official` and `published` are announced data."""

    OFFICIAL = "official"  # chinese-calendar package (+ cited errata)
    PUBLISHED = "published"  # an operator's calendars/data/<year>.yaml from a State Council notice
    PROVISIONAL = "provisional"  # computed from the statute for a year nobody has announced


@dataclass(frozen=True, slots=True)
class DayInfo:
    """One day's answer. `holiday` names the holiday (for a makeup workday: the one it serves)."""

    date: _dt.date
    kind: DayKind
    holiday: str | None
    provenance: Provenance

    @property
    def is_workday(self) -> bool:
        return self.kind.is_working


def parse_date(text: str, where: str = "date") -> _dt.date:
    """Strict ISO YYYY-MM-DD, with a message that says which field was wrong."""
    try:
        if len(text) != 10:
            raise ValueError("expected YYYY-MM-DD")
        return _dt.date.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise CalendarError(f"{where}: {text!r} is not a valid date ({exc})") from None
