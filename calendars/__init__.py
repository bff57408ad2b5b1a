"""The working-day calendar (工作日历): one engine over official, published and provisional days.

`WorkCalendar.default()` loads the layers (I/O; outside workflows only). Workflows carry
`calendar.snapshot(first, last)` and rebuild with `WorkCalendar.from_snapshot(...)`; the
engine, periods and model modules import only the stdlib.
"""

from calendars.engine import CalendarSnapshot, WorkCalendar
from calendars.model import CalendarError, DayInfo, DayKind, Provenance, parse_date
from calendars.periods import SHANGHAI, Deadline, Period, PeriodUnit, add_months, end_of_day

__all__ = [
    "SHANGHAI",
    "CalendarError",
    "CalendarSnapshot",
    "DayInfo",
    "DayKind",
    "Deadline",
    "Period",
    "PeriodUnit",
    "Provenance",
    "WorkCalendar",
    "add_months",
    "end_of_day",
    "parse_date",
]
