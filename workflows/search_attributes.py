"""Custom search attributes that make fleet-wide lists cheap (DESIGN §4).

Registered on the embedded dev server at start; on a real cluster, register them once
with `temporal operator search-attribute create` (the README lists the command).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from temporalio.common import SearchAttributeKey

if TYPE_CHECKING:
    from calendars.engine import WorkCalendar

JURISDICTION = SearchAttributeKey.for_keyword("ShixianJurisdiction")
STAGE = SearchAttributeKey.for_keyword("ShixianStage")
OWNER = SearchAttributeKey.for_keyword("ShixianOwner")
NEXT_DUE = SearchAttributeKey.for_datetime("ShixianNextDue")
OVERDUE = SearchAttributeKey.for_bool("ShixianOverdue")
ESCALATION_LEVEL = SearchAttributeKey.for_int("ShixianEscalationLevel")
# The calendar years whose provisional days (暂定, not yet announced by the State Council)
# the project's open deadlines are counted over: `calendar publish` sends a year only to
# the projects that list it (or list nothing yet). NO_PROVISIONAL_YEARS when none: an empty
# list reads as unset, and unset means "not known yet" (started before this attribute).
PROVISIONAL_YEARS = SearchAttributeKey.for_keyword_list("ShixianProvisionalYears")
NO_PROVISIONAL_YEARS = "none"

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    JURISDICTION,
    STAGE,
    OWNER,
    NEXT_DUE,
    OVERDUE,
    ESCALATION_LEVEL,
    PROVISIONAL_YEARS,
)

_CLI_TYPE = {
    "KEYWORD": "Keyword",
    "DATETIME": "Datetime",
    "BOOL": "Bool",
    "INT": "Int",
    "KEYWORD_LIST": "KeywordList",
}


def for_dev_server() -> dict[str, str]:
    """name -> type as `temporal server start-dev --search-attribute` wants it."""
    return {key.name: _CLI_TYPE[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
            for key in ALL}


def provisional_in(snapshot: Mapping[str, Any]) -> list[str]:
    """Every provisional year of a calendar snapshot: what a project is started with, until
    its first wake narrows it to the years its deadlines count (no index built here)."""
    years = sorted(y for y, prov in snapshot.get("years", {}).items() if prov == "provisional")
    return years or [NO_PROVISIONAL_YEARS]


def provisional_years(calendar: WorkCalendar,
                      spans: Iterable[tuple[_dt.date, _dt.date]]) -> list[str]:
    """The years with a provisional day in any span (a, b] (deadlines counted from a to b),
    as the sorted values of PROVISIONAL_YEARS; [NO_PROVISIONAL_YEARS] when none.

    Days outside the calendar's years are not counted (the deadline could not be computed
    there either)."""
    first, last = calendar.covered_range
    years: set[int] = set()
    for a, b in spans:
        lo, hi = max(min(a, b), first), min(max(a, b), last)
        for year in range(lo.year, hi.year + 1):
            if year in years:
                continue
            start = max(lo, _dt.date(year - 1, 12, 31)) if year > first.year else lo
            end = min(hi, _dt.date(year, 12, 31))
            if start < end and calendar.is_provisional_between(start, end):
                years.add(year)
    return [str(y) for y in sorted(years)] or [NO_PROVISIONAL_YEARS]
