"""The published layer: `<year>.yaml` files transcribing a State Council notice.

Schema (see calendars/README.md): year, notice {number, date, title?, url?}, holidays
[{name, from, to?}], makeup_workdays [date | {date, for?}]. Every problem raises a
`CalendarError` naming the file and the field. Dates may spill into the December before
`year` (a notice often starts 元旦 on 12/30 of the previous year) but nowhere else.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from calendars.model import CalendarError, DayInfo, DayKind, Provenance
from calendars.provisional import STATUTORY_DAYS_PER_YEAR, statutory_days

_TOP_KEYS = {"year", "notice", "holidays", "makeup_workdays"}
_NOTICE_KEYS = {"number", "date", "title", "url"}
_HOLIDAY_KEYS = {"name", "from", "to"}
_MAKEUP_KEYS = {"date", "for"}
_YEAR_IN_NAME = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATUTE_IN_FORCE_FROM = 2025  # the 13-day statute; earlier years had 11 days


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so a bad date gets our own message."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, slots=True)
class HolidayRange:
    name: str
    first: _dt.date
    last: _dt.date

    @property
    def days(self) -> list[_dt.date]:
        n = (self.last - self.first).days
        return [self.first + _dt.timedelta(days=k) for k in range(n + 1)]


@dataclass(frozen=True, slots=True)
class PublishedYear:
    """One validated file: the notice it transcribes and the exception days it gives."""

    path: str
    year: int
    notice_number: str
    notice_date: _dt.date
    notice_title: str | None
    notice_url: str | None
    holidays: tuple[HolidayRange, ...]
    makeup_workdays: tuple[DayInfo, ...]
    days: tuple[DayInfo, ...] = field(repr=False)  # holidays + makeup days, by date


class _Ctx:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> CalendarError:
        return CalendarError(
            f"{self.path}: {where}: {message}" if where else f"{self.path}: {message}"
        )

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {_describe(value)}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(
                where, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
            )
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, got {_describe(value)}")
        return value.strip()

    def date(self, value: Any, where: str) -> _dt.date:
        if not isinstance(value, str):
            raise self.fail(where, f"expected a date YYYY-MM-DD, got {_describe(value)}")
        try:
            if len(value) != 10:
                raise ValueError("expected YYYY-MM-DD")
            return _dt.date.fromisoformat(value)
        except ValueError as exc:
            raise self.fail(where, f"{value!r} is not a valid date ({exc})") from None


def _describe(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


def load_published(path: str | Path) -> PublishedYear:
    """Read and validate one published-year file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(f"{p}: cannot read: {exc}") from None
    return parse_published(text, str(p))


def parse_published(text: str, path: str = "<published>") -> PublishedYear:
    ctx = _Ctx(path)
    try:
        raw = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ctx.fail("", f"not valid YAML: {at}{problem}") from None
    top = ctx.mapping(raw, "", _TOP_KEYS)
    for key in ("year", "notice", "holidays"):
        if key not in top:
            raise ctx.fail(key, "missing")

    year = top["year"]
    if type(year) is not int or not 1901 <= year <= 2099:
        raise ctx.fail("year", f"expected a year 1901–2099, got {_describe(year)}")
    named = _YEAR_IN_NAME.findall(Path(path).name)
    if len(named) == 1 and int(named[0]) != year:
        raise ctx.fail(
            "year", f"year mismatch: the file name says {named[0]}, the file says {year}"
        )

    notice = ctx.mapping(top["notice"], "notice", _NOTICE_KEYS)
    for key in ("number", "date"):
        if key not in notice:
            raise ctx.fail(f"notice.{key}", "missing")
    number = ctx.text(notice["number"], "notice.number")
    notice_date = ctx.date(notice["date"], "notice.date")
    title = ctx.text(notice["title"], "notice.title") if "title" in notice else None
    url = ctx.text(notice["url"], "notice.url") if "url" in notice else None

    lo, hi = _dt.date(year - 1, 12, 1), _dt.date(year, 12, 31)

    def in_year(d: _dt.date, where: str) -> _dt.date:
        if not lo <= d <= hi:
            raise ctx.fail(
                where, f"{d.isoformat()} is not in {year} (only the December before may spill over)"
            )
        return d

    raw_holidays = top["holidays"]
    if not isinstance(raw_holidays, list) or not raw_holidays:
        raise ctx.fail("holidays", f"expected a non-empty list, got {_describe(raw_holidays)}")
    ranges: list[HolidayRange] = []
    owner: dict[_dt.date, str] = {}
    for n, item in enumerate(raw_holidays):
        where = f"holidays[{n}]"
        entry = ctx.mapping(item, where, _HOLIDAY_KEYS)
        for key in ("name", "from"):
            if key not in entry:
                raise ctx.fail(f"{where}.{key}", "missing")
        name = ctx.text(entry["name"], f"{where}.name")
        first = in_year(ctx.date(entry["from"], f"{where}.from"), f"{where}.from")
        last = first
        if "to" in entry:
            last = in_year(ctx.date(entry["to"], f"{where}.to"), f"{where}.to")
        if last < first:
            raise ctx.fail(f"{where}.to", f"{last.isoformat()} is before from {first.isoformat()}")
        if (last - first).days > 30:
            raise ctx.fail(where, f"{name} spans {(last - first).days + 1} days; more than a month")
        rng = HolidayRange(name, first, last)
        for d in rng.days:
            if d in owner:
                raise ctx.fail(where, f"{d.isoformat()} ({name}) is already in {owner[d]}")
            owner[d] = f"{where} ({name})"
        ranges.append(rng)

    raw_makeup = top.get("makeup_workdays", [])
    if raw_makeup is None:
        raw_makeup = []
    if not isinstance(raw_makeup, list):
        raise ctx.fail("makeup_workdays", f"expected a list, got {_describe(raw_makeup)}")
    makeup: list[DayInfo] = []
    seen: set[_dt.date] = set()
    for n, item in enumerate(raw_makeup):
        where = f"makeup_workdays[{n}]"
        serves: str | None = None
        if isinstance(item, dict):
            entry = ctx.mapping(item, where, _MAKEUP_KEYS)
            if "date" not in entry:
                raise ctx.fail(f"{where}.date", "missing")
            d = in_year(ctx.date(entry["date"], f"{where}.date"), f"{where}.date")
            if "for" in entry:
                serves = ctx.text(entry["for"], f"{where}.for")
        else:
            d = in_year(ctx.date(item, where), where)
        if d.weekday() < 5:
            raise ctx.fail(
                where,
                f"{d.isoformat()} is a {_WEEKDAYS[d.weekday()]}; a makeup workday (调休上班) "
                "must be a Saturday or Sunday",
            )
        if d in owner:
            raise ctx.fail(where, f"{d.isoformat()} is also a holiday in {owner[d]}")
        if d in seen:
            raise ctx.fail(where, f"{d.isoformat()} is listed twice")
        seen.add(d)
        makeup.append(DayInfo(d, DayKind.MAKEUP_WORKDAY, serves, Provenance.PUBLISHED))

    days = [
        DayInfo(d, DayKind.HOLIDAY, r.name, Provenance.PUBLISHED) for r in ranges for d in r.days
    ]
    days += makeup
    return PublishedYear(
        path=path,
        year=year,
        notice_number=number,
        notice_date=notice_date,
        notice_title=title,
        notice_url=url,
        holidays=tuple(ranges),
        makeup_workdays=tuple(sorted(makeup, key=lambda i: i.date)),
        days=tuple(sorted(days, key=lambda i: i.date)),
    )


def statutory_warnings(py: PublishedYear) -> list[str]:
    """Plausibility checks against the statute in force (2025 on); not errors, since a
    notice can grant extra days (2015's 70th anniversary, 2020's epidemic extension)."""
    if py.year < STATUTE_IN_FORCE_FROM:
        return []
    warnings: list[str] = []
    holiday = {i.date for i in py.days if i.kind is DayKind.HOLIDAY}
    makeup = {i.date for i in py.makeup_workdays}
    for d, name in statutory_days(py.year):
        if d in makeup or (d not in holiday and d.weekday() < 5):
            warnings.append(f"statutory holiday {d.isoformat()} ({name}) is a working day here")
    net = sum(1 for d in holiday if d.weekday() < 5) - len(makeup)
    if net != STATUTORY_DAYS_PER_YEAR:
        warnings.append(
            f"weekday holidays minus makeup workdays = {net}; the statute (arts. 2 and 6) "
            f"gives {STATUTORY_DAYS_PER_YEAR}"
        )
    return warnings
