"""`WorkCalendar`: working-day arithmetic over a contiguous range of years.

Pure: this module imports only the stdlib and the package's pure modules, and none of its
methods does I/O or reads the clock or the environment — except `WorkCalendar.default()`,
which loads data files and must not be called inside a workflow. Workflows rebuild their
calendar with `WorkCalendar.from_snapshot()` (pass `calendars` through the sandbox).

The index is built once: for each day of the range, the number of working days before it
(`_cum`), the ordinals of all working days (`_work`) and the number of provisional days
before it (`_pcum`). Every query is then a few list lookups — O(1), no day-by-day loops.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from calendars.model import CalendarError, DayInfo, DayKind, Provenance, parse_date
from calendars.periods import Deadline, Period, PeriodUnit, add_months, end_of_day

if TYPE_CHECKING:
    from pathlib import Path

SNAPSHOT_VERSION = 1
# Calendars built from snapshots, shared by every workflow of a worker process: a province's
# projects carry a handful of distinct snapshots, and a calendar is immutable, so one
# index per distinct snapshot serves them all (DESIGN §8: per-project cost).
SHARED_CALENDARS_MAX = 64
_shared: dict[str, WorkCalendar] = {}
_EXCEPTION_KINDS = (DayKind.HOLIDAY, DayKind.MAKEUP_WORKDAY)


class CalendarSnapshot(TypedDict):
    """What a workflow carries in its history: exceptions only, plain JSON types.

    `days` rows are `[date, kind, name]` (name "" when none), plus a 4th element, the
    provenance, only when it differs from its year's (a notice's December spill-over).
    """

    version: int
    first_year: int
    last_year: int
    years: dict[str, str]
    days: list[list[str]]


class WorkCalendar:
    """Answers working-day questions for `years` (contiguous), from their exception days.

    `exceptions` lists only days that are not what the weekday says: holidays (on any
    weekday, including 调休 rest days and 补假) and makeup working days (调休上班, Sat/Sun).
    Every other day is a workday Mon–Fri and a rest day Sat/Sun, with its year's provenance.
    """

    __slots__ = ("_base", "_cum", "_exc", "_first", "_last", "_n", "_pcum", "_work", "_years")

    def __init__(
        self,
        years: Mapping[int, Provenance | str],
        exceptions: Iterable[DayInfo] = (),
    ) -> None:
        self._years = _check_years(years)
        self._first, self._last = min(self._years), max(self._years)
        self._base = _dt.date(self._first, 1, 1).toordinal()
        self._n = _dt.date(self._last, 12, 31).toordinal() - self._base + 1
        self._exc: dict[int, DayInfo] = {}
        for info in exceptions:
            self._add_exception(info)
        self._build_index()

    # ---- construction -------------------------------------------------------------
    def _add_exception(self, info: DayInfo) -> None:
        # isinstance, not type(): the workflow sandbox hands out proxied date subclasses
        if (
            not isinstance(info, DayInfo)
            or not isinstance(info.date, _dt.date)
            or isinstance(info.date, _dt.datetime)
        ):
            raise CalendarError(f"calendar data: expected DayInfo with a date, got {info!r}")
        d = info.date
        where = f"calendar data: {d.isoformat()}"
        if not self._first <= d.year <= self._last:
            raise CalendarError(f"{where} is outside the years {self._first}–{self._last}")
        try:
            kind, prov = DayKind(info.kind), Provenance(info.provenance)
        except ValueError as exc:
            raise CalendarError(f"{where}: {exc}") from None
        if kind not in _EXCEPTION_KINDS:
            raise CalendarError(f"{where}: only holidays and makeup workdays are exceptions")
        if kind is DayKind.MAKEUP_WORKDAY and d.weekday() < 5:
            raise CalendarError(f"{where}: a makeup workday must be a Saturday or Sunday")
        if info.holiday is not None and (not isinstance(info.holiday, str) or not info.holiday):
            raise CalendarError(f"{where}: holiday name must be a non-empty string or None")
        if kind is DayKind.HOLIDAY and info.holiday is None:
            raise CalendarError(f"{where}: a holiday needs a name")
        if d.toordinal() in self._exc:
            raise CalendarError(f"{where} is listed twice")
        self._exc[d.toordinal()] = DayInfo(d, kind, info.holiday, prov)

    def _build_index(self) -> None:
        cum = [0] * (self._n + 1)
        pcum = [0] * (self._n + 1)
        work: list[int] = []
        exc, base = self._exc, self._base
        count = pcount = 0
        for year in range(self._first, self._last + 1):
            year_prov = self._years[year] is Provenance.PROVISIONAL
            start = _dt.date(year, 1, 1).toordinal()
            for ordinal in range(start, _dt.date(year, 12, 31).toordinal() + 1):
                info = exc.get(ordinal)
                if info is None:
                    working = (ordinal - 1) % 7 < 5  # ordinal 1 (0001-01-01) is a Monday
                    provisional = year_prov
                else:
                    working = info.kind is DayKind.MAKEUP_WORKDAY
                    provisional = info.provenance is Provenance.PROVISIONAL
                if working:
                    work.append(ordinal)
                    count += 1
                if provisional:
                    pcount += 1
                cum[ordinal - base + 1] = count
                pcum[ordinal - base + 1] = pcount
        self._cum, self._pcum, self._work = cum, pcum, work

    @classmethod
    def default(
        cls, extra_dirs: Iterable[str | Path] = (), *, use_env: bool = True
    ) -> WorkCalendar:
        """Official + published + provisional, 2004–2035. Does I/O: never inside a workflow.

        Published files come from the package's `calendars/data/`, then the directories in
        `SHIXIAN_CALENDAR_DIR` (if `use_env`), then `extra_dirs`; later ones win.
        """
        from calendars.loader import load_default  # lazy: keeps this module I/O-free

        return load_default(extra_dirs, use_env=use_env)

    # ---- lookups --------------------------------------------------------------------
    def _index(self, d: _dt.date) -> int:
        # A plain date (nearly every call) skips the checks: inside the workflow sandbox each
        # isinstance goes through its unwrapping wrapper (issue #12: ~2,500 a replay here).
        if type(d) is not _dt.date:
            self._check_date(d)
        i = d.toordinal() - self._base
        if not 0 <= i < self._n:
            raise CalendarError(f"{d.isoformat()} is outside the calendar's range {self._range()}")
        return i

    @staticmethod
    def _check_date(d: object) -> None:
        if isinstance(d, _dt.datetime):  # before date: datetime is a date subclass
            raise CalendarError(
                f"expected a date, got the datetime {d.isoformat()}: "
                "take its date in Asia/Shanghai first"
            )
        if not isinstance(d, _dt.date):  # a date subclass passes (the sandbox's proxies)
            raise CalendarError(f"expected a date, got {d!r}")

    def _range(self) -> str:
        return f"{self._first}-01-01..{self._last}-12-31"

    @property
    def covered_years(self) -> tuple[int, int]:
        return self._first, self._last

    @property
    def covered_range(self) -> tuple[_dt.date, _dt.date]:
        return _dt.date(self._first, 1, 1), _dt.date(self._last, 12, 31)

    @property
    def years(self) -> dict[int, Provenance]:
        """Each covered year's provenance (the layer its days come from)."""
        return dict(self._years)

    def year_provenance(self, year: int) -> Provenance:
        try:
            return self._years[year]
        except KeyError:
            raise CalendarError(
                f"year {year} is outside the calendar's years {self._first}–{self._last}"
            ) from None

    def is_workday(self, d: _dt.date) -> bool:
        i = self._index(d)
        return self._cum[i + 1] != self._cum[i]

    def day_info(self, d: _dt.date) -> DayInfo:
        self._index(d)
        info = self._exc.get(d.toordinal())
        if info is not None:
            return info
        kind = DayKind.WORKDAY if d.weekday() < 5 else DayKind.REST_DAY
        return DayInfo(d, kind, None, self._years[d.year])

    def exceptions(self, first_year: int, last_year: int | None = None) -> list[DayInfo]:
        """Holidays and makeup workdays of the given years, by date."""
        last_year = first_year if last_year is None else last_year
        self._check_span(first_year, last_year)
        lo = _dt.date(first_year, 1, 1).toordinal()
        hi = _dt.date(last_year, 12, 31).toordinal()
        return [self._exc[o] for o in sorted(self._exc) if lo <= o <= hi]

    # ---- arithmetic -------------------------------------------------------------------
    def next_workday(self, d: _dt.date) -> _dt.date:
        """The first working day on or after `d`."""
        k = self._cum[self._index(d)]
        if k >= len(self._work):
            raise CalendarError(
                f"no working day on or after {d.isoformat()} within {self._range()}"
            )
        return _dt.date.fromordinal(self._work[k])

    def add_working_days(self, d: _dt.date, n: int) -> _dt.date:
        """The n-th working day after `d`; `d` itself is not counted (Civil Code art. 201)."""
        if type(n) is not int or n < 1:
            raise CalendarError(f"working days to add must be a whole number ≥ 1, got {n!r}")
        k = self._cum[self._index(d) + 1] + n - 1
        if k >= len(self._work):
            raise CalendarError(
                f"{d.isoformat()} + {n} working days ends after the calendar's range "
                f"{self._range()}"
            )
        return _dt.date.fromordinal(self._work[k])

    def subtract_working_days(self, d: _dt.date, n: int) -> _dt.date:
        """The n-th working day before `d` (`d` not counted): for "n working days before"."""
        if type(n) is not int or n < 1:
            raise CalendarError(f"working days to subtract must be a whole number ≥ 1, got {n!r}")
        k = self._cum[self._index(d)] - n
        if k < 0:
            raise CalendarError(
                f"{d.isoformat()} - {n} working days starts before the calendar's range "
                f"{self._range()}"
            )
        return _dt.date.fromordinal(self._work[k])

    def previous_workday(self, d: _dt.date) -> _dt.date:
        """The last working day on or before `d`."""
        k = self._cum[self._index(d) + 1] - 1
        if k < 0:
            raise CalendarError(
                f"no working day on or before {d.isoformat()} within {self._range()}"
            )
        return _dt.date.fromordinal(self._work[k])

    def working_days_between(self, a: _dt.date, b: _dt.date) -> int:
        """Working days in (a, b]; when b < a, minus the working days in (b, a]."""
        return self._cum[self._index(b) + 1] - self._cum[self._index(a) + 1]

    def is_provisional_between(self, a: _dt.date, b: _dt.date) -> bool:
        """Whether any day in (a, b] (or (b, a]) comes from the provisional layer."""
        ia, ib = self._index(a), self._index(b)
        return self._pcum[ib + 1] != self._pcum[ia + 1]

    def deadline(self, start: _dt.date, period: str | Period) -> Deadline:
        """The end of `period` from `start` per Civil Code arts. 201–203.

        wd: the n-th working day after start. d/m/y: start + n days, or the corresponding
        day of the target month (its last day if none); a last day that is not a working
        day moves to the next working day. Due at 24:00 Beijing time of the last day.
        """
        p = Period.parse(period)
        self._index(start)
        if p.unit is PeriodUnit.WORKING_DAYS:
            last = self.add_working_days(start, p.count)
        else:
            try:
                if p.unit is PeriodUnit.DAYS:
                    nominal = start + _dt.timedelta(days=p.count)
                else:
                    months = p.count if p.unit is PeriodUnit.MONTHS else 12 * p.count
                    nominal = add_months(start, months)
            except (OverflowError, CalendarError):
                nominal = _dt.date.max
            if nominal > self.covered_range[1]:
                raise CalendarError(
                    f"{start.isoformat()} + {p} ends after the calendar's range {self._range()}"
                )
            last = self.next_workday(nominal)
        return Deadline(
            start=start,
            period=str(p),
            last_day=last,
            due_at=end_of_day(last),
            provisional=self.is_provisional_between(start, last),
        )

    # ---- snapshots ----------------------------------------------------------------------
    def _check_span(self, first_year: int, last_year: int) -> None:
        if type(first_year) is not int or type(last_year) is not int or first_year > last_year:
            raise CalendarError(f"bad year span {first_year!r}–{last_year!r}")
        if first_year < self._first or last_year > self._last:
            raise CalendarError(
                f"years {first_year}–{last_year} are not all within the calendar's years "
                f"{self._first}–{self._last}"
            )

    def snapshot(
        self, first_year: int | None = None, last_year: int | None = None
    ) -> CalendarSnapshot:
        """The exceptions of the given years (default: all) as plain, ordered JSON data."""
        first = self._first if first_year is None else first_year
        last = self._last if last_year is None else last_year
        self._check_span(first, last)
        rows: list[list[str]] = []
        for info in self.exceptions(first, last):
            row = [info.date.isoformat(), info.kind.value, info.holiday or ""]
            if info.provenance is not self._years[info.date.year]:
                row.append(info.provenance.value)
            rows.append(row)
        return {
            "version": SNAPSHOT_VERSION,
            "first_year": first,
            "last_year": last,
            "years": {str(y): self._years[y].value for y in range(first, last + 1)},
            "days": rows,
        }

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> WorkCalendar:
        """Rebuild exactly the calendar a snapshot was taken from (for its years).

        Equal snapshots give the same shared instance: the result depends only on the
        snapshot's content (its canonical JSON), so sharing keeps workflows deterministic.
        """
        key = _snapshot_key(snapshot)
        if key is not None:
            found = _shared.get(key)
            if found is not None:
                return found
        years, days = _parse_snapshot(snapshot)
        calendar = cls(years, days)
        if key is not None and cls is WorkCalendar:
            while len(_shared) >= SHARED_CALENDARS_MAX:
                _shared.pop(next(iter(_shared), ""), None)
            _shared[key] = calendar
        return calendar

    def merge(self, other: WorkCalendar | Mapping[str, Any]) -> WorkCalendar:
        """A new calendar where `other`'s years replace (or extend) this one's.

        The union of years must stay contiguous. Used when a running workflow receives a
        newly published year as a snapshot.
        """
        if not isinstance(other, WorkCalendar):
            other = WorkCalendar.from_snapshot(other)
        years: dict[int, Provenance] = {**self._years, **other._years}
        kept = [i for i in self._exc.values() if i.date.year not in other._years]
        return WorkCalendar(years, [*kept, *other._exc.values()])

    with_years = merge

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return self._years == other._years and self._exc == other._exc

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        layers = sorted({p.value for p in self._years.values()})
        return (
            f"WorkCalendar({self._first}–{self._last}, {len(self._exc)} exception days, "
            f"layers: {', '.join(layers)})"
        )


def _snapshot_key(snapshot: object) -> str | None:
    """The snapshot's canonical JSON, or None for anything that is not plain JSON data
    (which `_parse_snapshot` then refuses with its own message)."""
    try:
        return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return None


def _check_years(years: Mapping[int, Provenance | str]) -> dict[int, Provenance]:
    if not years:
        raise CalendarError("calendar data: no years given")
    out: dict[int, Provenance] = {}
    for year, prov in years.items():
        if type(year) is not int or not 1 <= year <= 9998:
            raise CalendarError(f"calendar data: bad year {year!r}")
        try:
            out[year] = Provenance(prov)
        except ValueError:
            raise CalendarError(
                f"calendar data: year {year}: unknown provenance {prov!r}"
            ) from None
    first, last = min(out), max(out)
    missing = [y for y in range(first, last + 1) if y not in out]
    if missing:
        raise CalendarError(
            f"calendar data: years must be contiguous; {first}–{last} lacks {missing[0]}"
        )
    return dict(sorted(out.items()))


def _parse_snapshot(s: Mapping[str, Any]) -> tuple[dict[int, Provenance], list[DayInfo]]:
    if not isinstance(s, Mapping):
        raise CalendarError(f"snapshot: expected a mapping, got {type(s).__name__}")
    if s.get("version") != SNAPSHOT_VERSION:
        raise CalendarError(f"snapshot: unsupported version {s.get('version')!r}")
    first, last, raw_years, raw_days = (
        s.get("first_year"),
        s.get("last_year"),
        s.get("years"),
        s.get("days"),
    )
    if type(first) is not int or type(last) is not int or first > last:
        raise CalendarError(f"snapshot: bad first_year/last_year {first!r}/{last!r}")
    if not isinstance(raw_years, Mapping):
        raise CalendarError("snapshot: years must be a mapping of year -> provenance")
    years: dict[int, Provenance] = {}
    for key, prov in raw_years.items():
        if not isinstance(key, str) or not key.isdigit():
            raise CalendarError(f"snapshot: years: bad year key {key!r}")
        try:
            years[int(key)] = Provenance(prov)
        except ValueError:
            raise CalendarError(f"snapshot: years.{key}: unknown provenance {prov!r}") from None
    if sorted(years) != list(range(first, last + 1)):
        raise CalendarError(f"snapshot: years do not match {first}–{last}")
    if not isinstance(raw_days, Sequence) or isinstance(raw_days, str):
        raise CalendarError("snapshot: days must be a list")
    days: list[DayInfo] = []
    for n, row in enumerate(raw_days):
        where = f"snapshot: days[{n}]"
        if (
            not isinstance(row, Sequence)
            or isinstance(row, str)
            or len(row) not in (3, 4)
            or not all(isinstance(x, str) for x in row)
        ):
            raise CalendarError(f"{where}: expected [date, kind, name(, provenance)]: {row!r}")
        d = parse_date(row[0], where)
        try:
            kind = DayKind(row[1])
            prov = Provenance(row[3]) if len(row) == 4 else None
        except ValueError as exc:
            raise CalendarError(f"{where}: {exc}") from None
        if d.year not in years:
            raise CalendarError(f"{where}: {row[0]} is outside the years {first}–{last}")
        days.append(DayInfo(d, kind, row[2] or None, prov or years[d.year]))
    return years, days


def merge_snapshots(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """`WorkCalendar.merge` on snapshot data, for years `incoming` holds within `current`'s
    (a running workflow taking a published year): those years' provenance and exception
    days are replaced, the rest of `current` is kept. Rebuilding the result through
    `WorkCalendar.from_snapshot` then shares one index per distinct result in a worker,
    where merging calendars built a new one per project."""
    replaced = set(incoming["years"])
    days = [row for row in current["days"] if row[0][:4] not in replaced]
    days += incoming["days"]
    days.sort(key=lambda row: row[0])
    return {"version": current["version"], "first_year": current["first_year"],
            "last_year": current["last_year"], "years": {**current["years"], **incoming["years"]},
            "days": days}
