"""iCalendar (RFC 5545) feeds of deadlines, written by hand.

`icalendar` is only a test dependency: this module is small, pure (no I/O, no clock) and
owns the few rules that matter — TEXT escaping (§3.3.11), folding at 75 octets without
splitting a UTF-8 character (§3.1), CRLF line ends, UTC for DTSTAMP and alarm triggers.
The CLI (`shixian ics`) reads the read model and hands rows here as `Deadline`s.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from calendars.periods import SHANGHAI
from policies.model import Rung

CRLF = "\r\n"
MAX_OCTETS = 75  # per physical line, CRLF excluded (§3.1)
PRODID = "-//shixian//shixian deadlines//ZH"
LIVE_STATES = frozenset({"pending", "open", "overdue", "paused"})
FINISHED_STATES = frozenset({"done", "waived", "cancelled"})
# An absolute alarm needs a time of day; the ledger's warning fires at 00:00 of the warning
# day, but a calendar reminder at midnight is useless, so it rings at 09:00 Beijing time on
# that same working day (a fixed UTC+8: China has no DST).
WARNING_TIME = _dt.time(9, 0)
PROVISIONAL_NOTE = "暂定: counted over days the State Council has not announced yet"


def escape_text(value: str) -> str:
    """A TEXT value (§3.3.11): backslash, `;` and `,` escaped, any line break as `\\n`.

    Control characters other than TAB are not allowed in TEXT, so they are dropped.
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch in ";,":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t" or not (ord(ch) < 0x20 or ord(ch) == 0x7F):
            out.append(ch)
    return "".join(out)


def fold(line: str) -> str:
    """One content line, folded so no physical line exceeds 75 octets, CRLF-terminated.

    Continuation lines start with a space, which counts toward their 75 octets; a
    multi-octet UTF-8 character is never split (clients would show mojibake).
    """
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, MAX_OCTETS
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, MAX_OCTETS - 1
        current.append(ch)
        size += n
    parts.append("".join(current))
    return (CRLF + " ").join(parts) + CRLF


def prop(name: str, value: str, /, **params: str) -> str:
    """`NAME;PARAM=V:value`, folded. `value` must already be in its value type's syntax."""
    head = name + "".join(f";{k.replace('_', '-').upper()}={v}" for k, v in params.items())
    return fold(f"{head}:{value}")


def text(name: str, value: str) -> str:
    return prop(name, escape_text(value))


def ical_date(day: _dt.date) -> str:
    return day.strftime("%Y%m%d")


def ical_utc(moment: _dt.datetime) -> str:
    """A DATE-TIME in UTC form (`…Z`); naive datetimes are refused, not guessed."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r}: a naive datetime has no place in a feed")
    return moment.astimezone(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Alarm:
    at: _dt.datetime
    description: str


@dataclass(frozen=True)
class Event:
    """One all-day VEVENT: a deadline on its due day."""

    uid: str
    day: _dt.date
    summary: str
    description: str
    categories: tuple[str, ...] = ()
    status: str = "CONFIRMED"  # TENTATIVE for provisional due days, CANCELLED when cancelled
    last_modified: _dt.datetime | None = None
    alarms: tuple[Alarm, ...] = ()

    def lines(self, stamp: str) -> list[str]:
        out = [
            "BEGIN:VEVENT\r\n",
            text("UID", self.uid),
            prop("DTSTAMP", stamp),
            prop("DTSTART", ical_date(self.day), value="DATE"),
            # DTEND is exclusive (§3.6.1): the next day makes a one-day all-day event.
            prop("DTEND", ical_date(self.day + _dt.timedelta(days=1)), value="DATE"),
            text("SUMMARY", self.summary),
            text("DESCRIPTION", self.description),
            prop("STATUS", self.status),
            # A deadline does not make anyone busy.
            prop("TRANSP", "TRANSPARENT"),
        ]
        if self.categories:
            out.append(prop("CATEGORIES", ",".join(escape_text(c) for c in self.categories)))
        if self.last_modified is not None:
            out.append(prop("LAST-MODIFIED", ical_utc(self.last_modified)))
        for alarm in self.alarms:
            out += [
                "BEGIN:VALARM\r\n",
                prop("ACTION", "DISPLAY"),
                text("DESCRIPTION", alarm.description),
                # An absolute trigger must be a UTC DATE-TIME (§3.8.6.3).
                prop("TRIGGER", ical_utc(alarm.at), value="DATE-TIME"),
                "END:VALARM\r\n",
            ]
        out.append("END:VEVENT\r\n")
        return out


# Asia/Shanghai as a VTIMEZONE: it keeps a feed with no deadlines valid (RFC 5545 wants at
# least one component in a calendar) and names the zone the X-WR-TIMEZONE hint refers to.
VTIMEZONE = [
    "BEGIN:VTIMEZONE\r\n",
    "TZID:Asia/Shanghai\r\n",
    "BEGIN:STANDARD\r\n",
    "DTSTART:19700101T000000\r\n",
    "TZOFFSETFROM:+0800\r\n",
    "TZOFFSETTO:+0800\r\n",
    "TZNAME:CST\r\n",
    "END:STANDARD\r\n",
    "END:VTIMEZONE\r\n",
]


def render(events: Iterable[Event], *, name: str, now: _dt.datetime,
           description: str | None = None, refresh_hours: int = 1) -> bytes:
    """The whole VCALENDAR as UTF-8 bytes with CRLF line ends."""
    lines = [
        "BEGIN:VCALENDAR\r\n",
        prop("VERSION", "2.0"),
        text("PRODID", PRODID),
        prop("CALSCALE", "GREGORIAN"),
        prop("METHOD", "PUBLISH"),
        text("X-WR-CALNAME", name),
        text("NAME", name),  # RFC 7986's standard spelling of X-WR-CALNAME
        text("X-WR-TIMEZONE", "Asia/Shanghai"),
        # How often subscribers should re-fetch (RFC 7986, and Outlook's older hint).
        prop("REFRESH-INTERVAL", f"PT{refresh_hours}H", value="DURATION"),
        prop("X-PUBLISHED-TTL", f"PT{refresh_hours}H"),
    ]
    if description:
        lines.append(text("X-WR-CALDESC", description))
    lines += VTIMEZONE
    stamp = ical_utc(now)
    for event in events:
        lines += event.lines(stamp)
    lines.append("END:VCALENDAR\r\n")
    return "".join(lines).encode("utf-8")


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
    warnings: tuple[Rung, ...] = ()  # the pack's rungs before the due day

    @property
    def uid(self) -> str:
        return f"{self.project_id}/{self.obligation_id}@shixian"


def warning_rungs(ladder: Sequence[Rung]) -> tuple[Rung, ...]:
    """The rungs that fire before the due day (offset -Nwd): those become alarms."""
    return tuple(r for r in ladder if int(r.offset[:-2]) < 0)


def warning_day(calendar: WorkCalendar, due_on: _dt.date, rung: Rung) -> _dt.date | None:
    """The N-th working day before the due day, as the ledger counts it; None off-calendar."""
    try:
        return calendar.subtract_working_days(due_on, -int(rung.offset[:-2]))
    except CalendarError:
        return None


def late_days(d: Deadline, calendar: WorkCalendar, today: _dt.date) -> int:
    """Working days late as of today: rows are as of the workflow's last wake-up, so a
    running clock is recounted (like `shixian list`); a paused one keeps its stored count."""
    if d.state not in ("open", "overdue") or today <= d.due_on:
        return d.overdue_working_days
    try:
        return calendar.working_days_between(d.due_on, today)
    except CalendarError:
        return d.overdue_working_days


def deadline_event(d: Deadline, calendar: WorkCalendar, today: _dt.date) -> Event:
    late = late_days(d, calendar, today)
    summary = f"{d.project_id} {d.title}"
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
    alarms: list[Alarm] = []
    if d.state in LIVE_STATES:
        # Past warnings stay in: the feed does not depend on when it was generated, and
        # clients do not ring alarms of days gone by.
        for rung in d.warnings:
            day = warning_day(calendar, d.due_on, rung)
            if day is None:
                continue
            alarms.append(Alarm(
                at=_dt.datetime.combine(day, WARNING_TIME, tzinfo=SHANGHAI),
                description=f"{rung.name}: {d.project_id} {d.title} 将于 "
                            f"{d.due_on.isoformat()} 到期 ({d.actor_name}; {rung.offset})"))
    status = ("CANCELLED" if d.state == "cancelled"
              else "TENTATIVE" if d.provisional else "CONFIRMED")
    return Event(
        uid=d.uid, day=d.due_on, summary=summary, description="\n".join(info),
        categories=("时限", d.state, d.jurisdiction), status=status,
        last_modified=d.as_of, alarms=tuple(alarms))
