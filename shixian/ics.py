"""iCalendar (RFC 5545) feeds of deadlines, written directly as RFC 5545 text.

The wire format is small and fixed here — TEXT escaping (§3.3.11), folding at 75 octets
without splitting a UTF-8 character (§3.1), CRLF line ends — so the feed is written as
text instead of through the `icalendar` object model, which took ~0.5 ms a deadline (4.75 s
for 10,000 projects, issue #12). tests/test_ics.py parses every feed back with `icalendar`
and compares it with the events the object model made. This module owns what a deadline means
as an event: one all-day event on the due day with a stable UID (project/obligation), an
alarm on each warning rung of the pack's ladder, TENTATIVE when the due day was counted over
days the State Council has not announced. It is pure (no I/O, no clock); the read model's
rows arrive as `Deadline`s (`shixian.readmodel.deadlines`).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from calendars.periods import SHANGHAI

if TYPE_CHECKING:
    from policies.model import Rung

PRODID = "-//shixian//shixian deadlines//ZH"
LIVE_STATES = frozenset({"pending", "open", "overdue", "paused"})
FINISHED_STATES = frozenset({"done", "waived", "cancelled"})
# An absolute alarm needs a time of day; the ledger's warning fires at 00:00 of the warning
# day, but a calendar reminder at midnight is useless, so it rings at 09:00 Beijing time on
# that same working day (a fixed UTC+8: China has no DST).
WARNING_TIME = _dt.time(9, 0)
PROVISIONAL_NOTE = "暂定: counted over days the State Council has not announced yet"


# Control characters TEXT does not allow (§3.3.11): all below 0x20 but tab and newline, DEL.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(value: str) -> str:
    """A TEXT value's content: line breaks as `\n`; other control characters (not allowed
    in TEXT, §3.3.11) dropped."""
    return CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def utc(moment: _dt.datetime) -> _dt.datetime:
    """UTC for DTSTAMP, LAST-MODIFIED and alarm triggers; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r}: a naive datetime has no place in a feed")
    return moment.astimezone(_dt.UTC)


class Alarm(NamedTuple):
    """A rung of the pack's ladder that fires before the due day: an alarm."""

    name: str  # warning, 预警 …
    offset: str  # -3wd: working days before the due day


@dataclass(frozen=True)
class Deadline:
    """One obligation of one project as the read model holds it."""

    project_id: str
    project_name: str
    owner: str
    jurisdiction: str
    obligation_id: str
    title: str
    actor_name: str
    state: str
    due_on: _dt.date
    provisional: bool
    overdue_working_days: int
    escalation_level: int
    escalation_rung: str | None
    citation: str
    as_of: _dt.datetime | None = None
    warnings: tuple[Alarm, ...] = ()  # the pack's rungs before the due day

    @property
    def uid(self) -> str:
        return f"{self.project_id}/{self.obligation_id}@shixian"


def warning_rungs(ladder: Sequence[Rung]) -> tuple[Alarm, ...]:
    """The rungs that fire before the due day (offset -Nwd): those become alarms."""
    return tuple(Alarm(r.name, r.offset) for r in ladder if int(r.offset[:-2]) < 0)


def warning_day(calendar: WorkCalendar, due_on: _dt.date, rung: Alarm) -> _dt.date | None:
    """The N-th working day before the due day, as the ledger counts it; None off-calendar."""
    try:
        return calendar.subtract_working_days(due_on, -int(rung.offset[:-2]))
    except CalendarError:
        return None


def escape(value: str) -> str:
    """A TEXT value on the wire (§3.3.11): backslash, semicolon, comma and line breaks."""
    return (clean_text(value).replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\n", "\\n"))


def fold(line: str) -> bytes:
    """One content line as UTF-8 with CRLF, folded at 75 octets (a continuation starts with
    a space, which counts) without splitting a character (§3.1)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return data + b"\r\n"
    parts = []
    start, limit = 0, 75
    while len(data) - start > limit:
        cut = start + limit
        while data[cut] & 0xC0 == 0x80:  # inside a multi-byte character: back to its start
            cut -= 1
        parts.append(data[start:cut])
        start, limit = cut, 74
    parts.append(data[start:])
    return b"\r\n ".join(parts) + b"\r\n"


def ymd(day: _dt.date) -> str:
    """A DATE (`20261124`)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def stamp(moment: _dt.datetime) -> str:
    """A UTC DATE-TIME (`20261124T031951Z`)."""
    m = utc(moment)
    return f"{ymd(m)}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"


def header(name: str, description: str | None, refresh_hours: int) -> list[str]:
    """The VCALENDAR's properties and the Asia/Shanghai VTIMEZONE: it keeps a feed with no
    deadlines valid (RFC 5545 wants at least one component) and names the zone the
    X-WR-TIMEZONE hint refers to."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH"]
    if description:
        lines.append(f"X-WR-CALDESC:{escape(description)}")
    lines += [
        f"NAME:{escape(name)}",  # RFC 7986's standard spelling of X-WR-CALNAME
        f"X-WR-CALNAME:{escape(name)}",
        # How often subscribers should re-fetch (RFC 7986, and Outlook's older hint).
        f"REFRESH-INTERVAL;VALUE=DURATION:PT{refresh_hours}H",
        f"X-PUBLISHED-TTL:PT{refresh_hours}H",
        "X-WR-TIMEZONE:Asia/Shanghai",
        "BEGIN:VTIMEZONE", "TZID:Asia/Shanghai", "BEGIN:STANDARD", "DTSTART:19700101T000000",
        "TZNAME:CST", "TZOFFSETFROM:+0800", "TZOFFSETTO:+0800", "END:STANDARD", "END:VTIMEZONE",
    ]
    return lines


class _Days:
    """Working-day counts a feed asks many times (10,000 projects share a few due days)."""

    def __init__(self, calendar: WorkCalendar, today: _dt.date) -> None:
        self.calendar, self.today = calendar, today
        self._late: dict[_dt.date, int | None] = {}
        self._warning: dict[tuple[_dt.date, str], _dt.date | None] = {}

    def late(self, d: Deadline) -> int:
        if d.state not in ("open", "overdue") or self.today <= d.due_on:
            return d.overdue_working_days
        if d.due_on not in self._late:
            try:
                self._late[d.due_on] = self.calendar.working_days_between(d.due_on, self.today)
            except CalendarError:
                self._late[d.due_on] = None
        found = self._late[d.due_on]
        return d.overdue_working_days if found is None else found

    def warning(self, due_on: _dt.date, rung: Alarm) -> _dt.date | None:
        key = (due_on, rung.offset)
        if key not in self._warning:
            self._warning[key] = warning_day(self.calendar, due_on, rung)
        return self._warning[key]


def deadline_lines(d: Deadline, days: _Days, dtstamp: str) -> Iterator[str]:
    """One all-day VEVENT on the due day (DTEND exclusive, §3.6.1), transparent (a deadline
    makes nobody busy), with a display alarm on each warning day."""
    late = days.late(d)
    summary = f"{d.project_id} {d.title} · {d.actor_name}"
    if late:
        summary += f" · 逾期{late}个工作日"
    if d.provisional:
        summary += " · 暂定"
    info = [
        f"项目 project: {d.project_name} ({d.project_id})",
        f"责任单位 actor: {d.actor_name}",
        f"状态 state: {d.state}",
        f"到期 due: {d.due_on.isoformat()} 24:00 北京时间",
    ]
    if late:
        info.append(f"逾期 overdue: {late} 个工作日 working days")
    if d.escalation_level:
        named = f" ({d.escalation_rung})" if d.escalation_rung else ""
        info.append(f"升级 escalation: level {d.escalation_level}{named}")
    if d.provisional:
        info.append(PROVISIONAL_NOTE)
    info += [f"依据 citation: {d.citation}", f"业主 owner: {d.owner}"]
    yield "BEGIN:VEVENT"
    yield f"SUMMARY:{escape(summary)}"
    yield f"DTSTART;VALUE=DATE:{ymd(d.due_on)}"
    yield f"DTEND;VALUE=DATE:{ymd(d.due_on + _dt.timedelta(days=1))}"
    yield f"DTSTAMP:{dtstamp}"
    yield f"UID:{escape(d.uid)}"
    yield "CATEGORIES:" + ",".join(escape(c) for c in ("时限", d.state, d.jurisdiction))
    yield f"DESCRIPTION:{escape(chr(10).join(info))}"
    if d.as_of is not None:
        yield f"LAST-MODIFIED:{stamp(d.as_of)}"
    yield "STATUS:" + ("CANCELLED" if d.state == "cancelled"
                       else "TENTATIVE" if d.provisional else "CONFIRMED")
    yield "TRANSP:TRANSPARENT"
    if d.state in LIVE_STATES:
        # Past warnings stay in: the feed does not depend on when it was generated, and
        # clients do not ring alarms of days gone by.
        for rung in d.warnings:
            day = days.warning(d.due_on, rung)
            if day is None:
                continue
            text = (f"{rung.name}: {d.project_id} {d.title} 将于 {d.due_on.isoformat()} 到期 "
                    f"({d.actor_name}; {rung.offset})")
            # An absolute trigger must be a UTC DATE-TIME (§3.8.6.3).
            trigger = stamp(_dt.datetime.combine(day, WARNING_TIME, tzinfo=SHANGHAI))
            yield from ("BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{escape(text)}",
                        f"TRIGGER;VALUE=DATE-TIME:{trigger}", "END:VALARM")
    yield "END:VEVENT"


def feed(selected: Sequence[Deadline], *, name: str, calendar: WorkCalendar,
         today: _dt.date, now: _dt.datetime, refresh_hours: int = 1) -> bytes:
    """The whole VCALENDAR as UTF-8 bytes with CRLF line ends; every event stamped `now`."""
    days = _Days(calendar, today)
    dtstamp = stamp(now)
    out = [fold(line) for line in header(
        name, "shixian 时限: 政务信息化项目 deadlines, counted in Chinese working days",
        refresh_hours)]
    for d in selected:
        out += [fold(line) for line in deadline_lines(d, days, dtstamp)]
    out.append(b"END:VCALENDAR\r\n")
    return b"".join(out)
