"""`shixian calendar`: working days, deadlines and published-year files from the command line."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Callable
from itertools import groupby
from pathlib import Path
from typing import Any

from calendars import CalendarError, DayInfo, DayKind, Provenance, WorkCalendar, parse_date
from calendars.loader import (
    ENV_VAR,
    FIRST_YEAR,
    LAST_YEAR,
    build_calendar,
    find_published,
    published_dirs,
)
from calendars.official import erratum_for, official_days, official_years
from calendars.published import PublishedYear, load_published, statutory_warnings
from shixian.errors import UserError

Handler = Callable[[argparse.Namespace], int]

HELP = "working days and deadlines on the official Chinese calendar"
DESCRIPTION = f"""\
Working days (工作日) and deadlines on the Chinese working-day calendar, {FIRST_YEAR}–{LAST_YEAR}.

Each day comes from one of three layers, shown as its provenance:
  official     the chinese-calendar package (State Council notices), with cited errata
  published    a <year>.yaml file transcribing a notice the package does not know yet
  provisional  estimated from the statute (holidays + 补假, no 调休) for unannounced years

Published files are read from the package's calendars/data/, then from ${ENV_VAR}
(os.pathsep-separated), then from each --calendar-dir; a later directory wins.
Errors print one line on stderr and exit with status 2.
"""
EPILOG = """\
examples:
  shixian calendar add 2026-09-30 10wd        the 10th working day after 2026-09-30
  shixian calendar add 2027-01-31 1m --json   a month later, as a deadline (due_at, provisional)
  shixian calendar is-workday 2026-10-10      yes (a Saturday made a working day, 调休)
  shixian calendar info 2028-10-05            holiday, 中秋节(补假), provisional
  shixian calendar year 2027                  holidays and makeup days of 2027
  shixian calendar check data/2027.yaml       validate a published-year file
"""

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "calendar",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=lambda _args: _print_help(parser))
    cmds = parser.add_subparsers(dest="calendar_command", metavar="SUBCOMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object")
    layers = argparse.ArgumentParser(add_help=False)
    layers.add_argument(
        "--calendar-dir",
        action="append",
        default=[],
        metavar="DIR",
        help=f"also read published-year files from DIR (repeatable; wins over ${ENV_VAR})",
    )

    def add(name: str, help_: str, epilog: str, handler: Handler, *, data: bool = True) -> Any:
        p = cmds.add_parser(
            name,
            help=help_,
            description=help_[0].upper() + help_[1:] + ".",
            epilog="examples:\n" + epilog,
            parents=[common, layers] if data else [common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=_user_errors(handler))
        return p

    p = add(
        "add",
        "the last day of a period from a start date (Civil Code arts. 201-203)",
        "  shixian calendar add 2026-09-30 10wd   -> 2026-10-20 (start day not counted)\n"
        "  shixian calendar add 2026-09-21 10d    -> 2026-10-08 (10/1 is a holiday: next"
        " working day)\n"
        "  shixian calendar add 2027-01-31 1m     -> 2027-03-01 (2/28 is a Sunday)\n"
        "  shixian calendar add 2024-02-29 1y --json\n"
        "\nPERIOD: N followed by wd (working days), d (days), m (months) or y (years).\n"
        "Prints the last day; --json adds due_at (24:00 Beijing time) and provisional.\n"
        "A provisional result (a day counted is not from announced data) is noted on stderr.",
        _cmd_add,
    )
    p.add_argument("date", metavar="DATE", help="start date, YYYY-MM-DD (not counted)")
    p.add_argument("period", metavar="PERIOD", help="e.g. 5wd, 20d, 3m, 1y")

    p = add(
        "is-workday",
        "whether a date is a working day (prints yes or no)",
        "  shixian calendar is-workday 2026-10-08        yes\n"
        "  shixian calendar is-workday 2026-10-03 --json\n"
        "\nThe exit status is 0 for both answers (2 for bad input): read the output.",
        _cmd_is_workday,
    )
    p.add_argument("date", metavar="DATE", help="YYYY-MM-DD")

    p = add(
        "info",
        "what a date is: kind, holiday name and provenance",
        "  shixian calendar info 2005-12-31    workday made by the 2006 notice (erratum)\n"
        "  shixian calendar info 2028-10-05 --json",
        _cmd_info,
    )
    p.add_argument("date", metavar="DATE", help="YYYY-MM-DD")

    p = add(
        "year",
        "the holidays and makeup working days of a year, with provenance",
        "  shixian calendar year 2026\n"
        "  shixian calendar year 2027 --calendar-dir ./published --json",
        _cmd_year,
    )
    p.add_argument("year", metavar="YEAR", type=int, help=f"{FIRST_YEAR}–{LAST_YEAR} or later")

    p = add(
        "check",
        "validate a published-year file (schema: calendars/README.md)",
        "  shixian calendar check calendars/data/2027.yaml\n"
        "\nPrints OK and a summary, plus warnings where the file departs from the statute\n"
        "or from chinese-calendar; a file that cannot be used is an error (status 2).",
        _cmd_check,
        data=False,
    )
    p.add_argument("file", metavar="FILE", type=Path, help="a <year>.yaml file")

    p = add(
        "publish",
        "install a published-year file and re-time the running projects it changes",
        "  shixian calendar publish 2027.yaml\n"
        "  shixian calendar publish 2027.yaml --no-apply     install only\n"
        "  shixian calendar publish 2027.yaml --all          send it to every running project\n"
        "\nValidates FILE (as `check` does), installs it in $SHIXIAN_HOME/calendars (read by\n"
        "every shixian process), then applies the year to the running projects whose open\n"
        "deadlines are counted over its provisional days (search attribute\n"
        "ShixianProvisionalYears; projects started before it existed get it too), 16 at a\n"
        "time, reporting every deadline that moved. Safe to re-run, and the way to finish an\n"
        "interrupted run: nothing moves twice, and a re-timed project no longer lists the year.\n"
        "Exit 0 when every project answered (re-timed, up to date, or refused the data: a\n"
        "project that trusts other keys), 3 if any failed to answer (re-run to finish them).",
        _cmd_publish,
        data=False,
    )
    p.add_argument("file", metavar="FILE", type=Path, help="a <year>.yaml file")
    p.add_argument("--no-apply", action="store_true",
                   help="install the file but do not touch running workflows")
    p.add_argument("--concurrency", type=int, default=16, metavar="N",
                   help="updates in flight at once (default 16; 1 sends one at a time)")
    p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                   help="how long a project may take to answer before it is reported failed "
                        "(no worker polling it?); default 30")
    p.add_argument("--all", action="store_true",
                   help="send the data to every running project, not only those listing the "
                        "year (for a deadline computed after the year was published)")
    p.add_argument("--signing-key", type=Path, metavar="PEM", default=None,
                   help="Ed25519 private key to sign the day data with (default "
                        "$SHIXIAN_CALENDAR_SIGNING_KEY); projects started with trusted keys "
                        "refuse unsigned data")

    p = add(
        "keygen",
        "create the Ed25519 key pair that signs published calendar data",
        "  shixian calendar keygen --out /etc/shixian/keys\n"
        "\nWrites calendar-signing.pem (private, mode 600: keep it with the calendar publisher\n"
        "only) and calendar-signing.pub. Then:\n"
        "  publisher:   SHIXIAN_CALENDAR_SIGNING_KEY=/etc/shixian/keys/calendar-signing.pem\n"
        "  starters:    SHIXIAN_CALENDAR_TRUSTED_KEYS=/etc/shixian/keys/calendar-signing.pub\n"
        "Projects started with trusted keys accept calendar data only when it verifies with\n"
        "one of them; projects started without any accept unsigned data (README: Security).\n"
        "Never overwrites an existing key.",
        _cmd_keygen,
        data=False,
    )
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="directory for the key files (default $SHIXIAN_HOME/keys)")


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _user_errors(handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except CalendarError as exc:
            raise UserError(str(exc)) from None

    return run


def _load(args: argparse.Namespace) -> tuple[WorkCalendar, dict[int, PublishedYear]]:
    published = find_published(published_dirs(args.calendar_dir))
    return build_calendar(FIRST_YEAR, LAST_YEAR, published), published


def _emit(args: argparse.Namespace, value: dict[str, Any], text: str) -> None:
    print(json.dumps(value, ensure_ascii=False) if args.json else text)


def _day_json(info: DayInfo) -> dict[str, Any]:
    return {
        "date": info.date.isoformat(),
        "weekday": _WEEKDAYS[info.date.weekday()],
        "workday": info.is_workday,
        "kind": info.kind.value,
        "holiday": info.holiday,
        "provenance": info.provenance.value,
    }


def _cmd_add(args: argparse.Namespace) -> int:
    start = parse_date(args.date, "DATE")
    cal, _ = _load(args)
    dl = cal.deadline(start, args.period)
    value = {
        "date": dl.last_day.isoformat(),
        "due_at": dl.due_at.isoformat(),
        "provisional": dl.provisional,
    }
    _emit(args, value, dl.last_day.isoformat())
    if dl.provisional and not args.json:
        years = sorted(
            y
            for y in range(start.year, dl.last_day.year + 1)
            if cal.year_provenance(y) is Provenance.PROVISIONAL
        )
        print(
            f"note: provisional: {', '.join(map(str, years))} not announced yet "
            "(estimated from the statute, no 调休)",
            file=sys.stderr,
        )
    return 0


def _cmd_is_workday(args: argparse.Namespace) -> int:
    day = parse_date(args.date, "DATE")
    cal, _ = _load(args)
    info = cal.day_info(day)
    _emit(args, _day_json(info), "yes" if info.is_workday else "no")
    return 0


def _describe(info: DayInfo) -> str:
    kinds = {
        DayKind.WORKDAY: "workday",
        DayKind.REST_DAY: "rest day",
        DayKind.HOLIDAY: "holiday",
        DayKind.MAKEUP_WORKDAY: "makeup workday (调休上班)",
    }
    what = kinds[info.kind]
    if info.holiday:
        what += f", for {info.holiday}" if info.is_workday else f", {info.holiday}"
    day = f"{info.date.isoformat()} ({_WEEKDAYS[info.date.weekday()]})"
    return f"{day}: {what} [{info.provenance.value}]"


def _cmd_info(args: argparse.Namespace) -> int:
    day = parse_date(args.date, "DATE")
    cal, _ = _load(args)
    info = cal.day_info(day)
    erratum = erratum_for(day) if info.provenance is Provenance.OFFICIAL else None
    value = _day_json(info) | {"erratum": erratum.source if erratum else None}
    text = _describe(info)
    if erratum:
        text += f"\nerratum: {erratum.note}; the notice says otherwise: {erratum.source}"
    _emit(args, value, text)
    return 0


def _runs(days: list[DayInfo]) -> list[list[DayInfo]]:
    """Consecutive days with the same name and provenance, for a compact listing."""
    runs: list[list[DayInfo]] = []
    for info in days:
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and (info.date - last.date).days == 1
            and (info.holiday, info.provenance) == (last.holiday, last.provenance)
        ):
            runs[-1].append(info)
        else:
            runs.append([info])
    return runs


def _cmd_year(args: argparse.Namespace) -> int:
    cal, published = _load(args)
    year: int = args.year
    prov = cal.year_provenance(year)
    days = cal.exceptions(year)
    jan1 = _dt.date(year, 1, 1)
    working = cal.working_days_between(jan1, _dt.date(year, 12, 31)) + cal.is_workday(jan1)
    py = published.get(year)
    notice = (
        {"number": py.notice_number, "date": py.notice_date.isoformat(), "file": py.path}
        if py
        else None
    )
    holidays = [i for i in days if i.kind is DayKind.HOLIDAY]
    makeups = [i for i in days if i.kind is DayKind.MAKEUP_WORKDAY]
    value = {
        "year": year,
        "provenance": prov.value,
        "notice": notice,
        "holidays": [
            {"date": i.date.isoformat(), "name": i.holiday, "provenance": i.provenance.value}
            for i in holidays
        ],
        "makeup_workdays": [
            {"date": i.date.isoformat(), "for": i.holiday, "provenance": i.provenance.value}
            for i in makeups
        ],
        "working_days": working,
    }
    lines = [f"{year}: {prov.value}" + _layer_note(prov, py)]
    lines.append("holidays:")
    for run in _runs(holidays):
        lines.append("  " + _run_text(run, prov))
    lines.append("makeup workdays (调休上班):")
    lines += ["  " + _run_text([i], prov) for i in makeups] or ["  none"]
    lines.append(f"working days: {working}")
    _emit(args, value, "\n".join(lines))
    return 0


def _layer_note(prov: Provenance, py: PublishedYear | None) -> str:
    if py is not None:
        return f" ({py.notice_number}, {py.notice_date.isoformat()}; {py.path})"
    if prov is Provenance.PROVISIONAL:
        return " (estimated: statutory holidays + art. 6 补假; 调休 not predictable)"
    return " (chinese-calendar)"


def _run_text(run: list[DayInfo], year_prov: Provenance) -> str:
    a, b = run[0].date, run[-1].date
    span = a.isoformat() if a == b else f"{a.isoformat()} – {b.isoformat()}"
    wd = _WEEKDAYS[a.weekday()] if a == b else f"{_WEEKDAYS[a.weekday()]}–{_WEEKDAYS[b.weekday()]}"
    name = run[0].holiday or ""
    note = f" [{run[0].provenance.value}]" if run[0].provenance is not year_prov else ""
    return f"{span:<25} {wd:<8} {name}{note}".rstrip()


def _cmd_check(args: argparse.Namespace) -> int:
    py = load_published(args.file)
    warnings = statutory_warnings(py)
    off_first, off_last = official_years()
    if off_first <= py.year <= off_last:
        warnings += _official_differences(py)
    holiday_days = sum(1 for i in py.days if i.kind is DayKind.HOLIDAY)
    value = {
        "ok": True,
        "file": str(args.file),
        "year": py.year,
        "notice": {"number": py.notice_number, "date": py.notice_date.isoformat()},
        "holiday_ranges": len(py.holidays),
        "holiday_days": holiday_days,
        "makeup_workdays": len(py.makeup_workdays),
        "warnings": warnings,
    }
    names = ", ".join(name for name, _ in groupby(r.name for r in py.holidays))
    text = (
        f"OK {args.file}: {py.year}, {py.notice_number} of {py.notice_date.isoformat()}; "
        f"{len(py.holidays)} holiday ranges ({holiday_days} days: {names}), "
        f"{len(py.makeup_workdays)} makeup workdays"
    )
    text += "".join(f"\nwarning: {w}" for w in warnings)
    _emit(args, value, text)
    return 0


def _official_differences(py: PublishedYear) -> list[str]:
    """A file for a year chinese-calendar knows: say where the two disagree."""
    official = {i.date: i.kind for i in official_days(py.year - 1, py.year)}
    mine = {i.date: i.kind for i in py.days}
    out = []
    for d in sorted(set(mine) | {d for d in official if d.year == py.year}):
        if mine.get(d) != official.get(d):
            theirs = official.get(d)
            out.append(
                f"{d.isoformat()}: {mine[d].value if d in mine else 'not listed'} here, "
                f"{theirs.value if theirs else 'ordinary day'} in chinese-calendar"
            )
    return out


def _cmd_keygen(args: argparse.Namespace) -> int:
    from shixian import config
    from shixian.publishing import keygen

    private, public, text = keygen(args.out or config.state_dir() / "keys")
    from calendars.signing import key_id

    _emit(args, {"private_key": str(private), "public_key_file": str(public),
                 "public_key": text, "key_id": key_id(text)},
          f"private key: {private}  (mode 600; for the calendar publisher only)\n"
          f"public key:  {public}\n  {text}  (key id {key_id(text)})\n"
          f"publish with SHIXIAN_CALENDAR_SIGNING_KEY={private}; start projects with "
          f"SHIXIAN_CALENDAR_TRUSTED_KEYS={public}")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from shixian import config
    from shixian.client import connect
    from shixian.publishing import install, year_update

    signing_key = args.signing_key
    if signing_key is None and os.environ.get(config.SIGNING_KEY_ENV):
        signing_key = Path(os.environ[config.SIGNING_KEY_ENV])
    if signing_key is not None:  # a bad key is said before anything is installed
        year_update(FIRST_YEAR + 1, "", signing_key)

    if args.concurrency < 1:
        raise UserError(f"--concurrency {args.concurrency}: give 1 or more")
    if args.wait <= 0:
        raise UserError(f"--wait {args.wait:g}: give a number of seconds above 0")
    installed = install(args.file)
    year, notice = installed.year.year, installed.year.notice_number
    head = (f"{'installed' if installed.changed else 'already installed'} {year} "
            f"({notice}) as {installed.path}")
    if args.no_apply:
        _emit(args, {"year": year, "installed": str(installed.path),
                     "changed": installed.changed, "projects": []}, head)
        return 0

    from shixian.commands.projects import Progress
    from shixian.publishing import affected_projects, apply_to_running, published_years

    update = year_update(year, f"{year} {notice}", signing_key)
    bar: Progress | None = None
    lines = not args.json
    done: list[Any] = []

    def shown(r: Any) -> None:
        done.append(r)
        if bar is not None:
            bar.show(len(done), r.project_id)
        if lines and r.outcome == "applied":
            moves = "; ".join(f"{m['obligation']} {m['from']} → {m['to']}" for m in r.moved)
            _line(bar, f"  {r.project_id}: {len(r.moved)} deadline(s) moved" +
                  (f": {moves}" if moves else ""))
        elif lines and r.outcome in ("refused", "failed"):
            _line(bar, f"  {r.project_id}: {r.outcome}: {r.reason}")

    async def apply() -> int:
        nonlocal bar
        client = await connect()
        ids = await affected_projects(client, None if args.all else published_years(update))
        if sys.stderr.isatty():
            bar = Progress(len(ids), sys.stderr)
        await apply_to_running(client, update, args.concurrency, ids=ids, wait=args.wait,
                               on_result=shown)
        return len(ids)

    if lines:
        print(head, flush=True)
    total: int | None = None
    try:
        total = asyncio.run(apply())
    except KeyboardInterrupt:
        print(f"\ninterrupted after {len(done)} project(s); run the same command again to "
              "finish the rest (what is done is not done twice)", file=sys.stderr)
    if bar is not None:
        bar.close()
    count = {k: sum(r.outcome == k for r in done)
             for k in ("applied", "unchanged", "refused", "failed")}
    moved = sum(len(r.moved) for r in done)
    scope = "every running project" if args.all else f"running projects listing {year}"
    if args.json:
        print(json.dumps({"year": year, "installed": str(installed.path),
                          "changed": installed.changed, "scope": "all" if args.all else
                          "provisional", "sent_to": total, "interrupted": total is None,
                          **count, "moved": moved,
                          "projects": [r.__dict__ for r in
                                       sorted(done, key=lambda r: r.project_id)]},
                         ensure_ascii=False))
    else:
        sent = f"{total} project(s) sent to" if total is not None else "interrupted:"
        # "re-timed" read as "moved" when nothing moved: a project that took the data
        # counted its deadlines again on it, whether or not a due day changed.
        print(f"{sent} ({scope}): {count['applied']} counted again on the new data "
              f"({moved} deadline(s) moved), {count['unchanged']} already up to date"
              + "".join(f", {count[k]} {k}" for k in ("refused", "failed") if count[k]))
    if total is None:
        return 130
    return 3 if count["failed"] else 0


def _line(bar: Any, text: str) -> None:
    """A result line that does not tear the progress bar on the same terminal."""
    if bar is not None:
        bar.close()
    print(text, flush=True)
