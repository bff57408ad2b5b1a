"""Builds the default calendar from the three layers. Does I/O; never inside a workflow.

For each year: a published file if there is one, else chinese-calendar if it covers the
year, else the provisional estimate. A published file's December spill-over days (e.g.
元旦 starting on 12/30) override the previous year's days on those dates.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from calendars.engine import WorkCalendar
from calendars.model import CalendarError, DayInfo, Provenance
from calendars.official import official_days, official_years
from calendars.provisional import provisional_days
from calendars.published import PublishedYear, load_published

PACKAGE_DATA_DIR = Path(__file__).resolve().parent / "data"
ENV_VAR = "SHIXIAN_CALENDAR_DIR"
HOME_VAR = "SHIXIAN_HOME"


def installed_dir(environ: Mapping[str, str] | None = None, start: Path | None = None) -> Path:
    """Where `shixian calendar publish` installs files: <state directory>/calendars.

    The state directory is found by the same rule as `shixian.config.find_home` (repeated
    here so that this package needs nothing from the rest of shixian): SHIXIAN_HOME, else the
    nearest `.shixian/` in the working directory or above, else the user data directory.
    """
    env = os.environ if environ is None else environ
    home = env.get(HOME_VAR)
    if home:
        return Path(home).resolve() / "calendars"
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / ".shixian").is_dir():
            return directory / ".shixian" / "calendars"
    base = env.get("XDG_DATA_HOME")
    data = Path(base) if base else Path.home() / ".local" / "share"
    return data / "shixian" / "calendars"


FIRST_YEAR, LAST_YEAR = 2004, 2035


def dirs_from_env(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The directories in SHIXIAN_CALENDAR_DIR (os.pathsep-separated), in order."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return [Path(part) for part in value.split(os.pathsep) if part.strip()]


def find_published(dirs: Iterable[str | Path]) -> dict[int, PublishedYear]:
    """Every *.yaml / *.yml in `dirs`, validated; a later directory wins for a year."""
    found: dict[int, PublishedYear] = {}
    for directory in dirs:
        d = Path(directory)
        if not d.is_dir():
            raise CalendarError(f"calendar directory {d}: not found or not a directory")
        here: dict[int, PublishedYear] = {}
        for path in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]):
            py = load_published(path)
            if py.year in here:
                raise CalendarError(
                    f"{path}: year {py.year} is already given by {here[py.year].path}"
                )
            here[py.year] = py
        found.update(here)
    return found


def build_calendar(
    first_year: int,
    last_year: int,
    published: Mapping[int, PublishedYear] | None = None,
) -> WorkCalendar:
    """Layer the years `first_year`..`last_year` (extended up to the last published year)."""
    published = dict(published or {})
    if published and min(published) < first_year:
        early = published[min(published)]
        raise CalendarError(f"{early.path}: year {early.year} is before {first_year}")
    last_year = max([last_year, *published])
    off_first, off_last = official_years()
    years: dict[int, Provenance] = {}
    days: dict[object, DayInfo] = {}
    for year in range(first_year, last_year + 1):
        if year in published:
            years[year] = Provenance.PUBLISHED
            layer = [i for i in published[year].days if i.date.year == year]
        elif off_first <= year <= off_last:
            years[year] = Provenance.OFFICIAL
            layer = official_days(year, year)
        else:
            years[year] = Provenance.PROVISIONAL
            layer = provisional_days(year)
        days.update((i.date, i) for i in layer)
    for year in sorted(published):  # December spill-over into the year before
        for info in published[year].days:
            if info.date.year == year - 1 and info.date.year >= first_year:
                days[info.date] = info
    return WorkCalendar(years, days.values())


def load_default(
    extra_dirs: Iterable[str | Path] = (),
    *,
    use_env: bool = True,
    first_year: int = FIRST_YEAR,
    last_year: int = LAST_YEAR,
) -> WorkCalendar:
    """The calendar every process uses: package data, then env dirs, then `extra_dirs`."""
    published = find_published(published_dirs(extra_dirs, use_env=use_env))
    return build_calendar(first_year, last_year, published)


def published_dirs(extra_dirs: Iterable[str | Path] = (), *, use_env: bool = True) -> list[Path]:
    """Where published files are looked for, lowest precedence first."""
    dirs: list[Path] = [PACKAGE_DATA_DIR] if PACKAGE_DATA_DIR.is_dir() else []
    if use_env:
        if installed_dir().is_dir():
            dirs.append(installed_dir())
        dirs += dirs_from_env()
    return dirs + [Path(d) for d in extra_dirs]
