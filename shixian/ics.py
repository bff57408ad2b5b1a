"""iCalendar (RFC 5545) feeds of deadlines, through the `icalendar` library.

`icalendar` does the wire format — TEXT escaping (§3.3.11), folding at 75 octets without
splitting a UTF-8 character (§3.1), CRLF line ends. This module owns what a deadline means
as an event: one all-day event on the due day with a stable UID (project/obligation), an
alarm on each warning rung of the pack's ladder, TENTATIVE when the due day was counted over
days the State Council has not announced. It is pure (no I/O, no clock); the read model's
rows arrive as `Deadline`s (`shixian.readmodel.deadlines`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import icalendar

from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from calendars.periods import SHANGHAI
from policies.model import Rung

PRODID = "-//shixian//shixian deadlines//ZH"
LIVE_STATES = frozenset({"pending", "open", "overdue", "paused"})
FINISHED_STATES = frozenset({"done", "waived", "cancelled"})
# An absolute alarm needs a time of day; the ledger's warning fires at 00:00 of the warning
# day, but a calendar reminder at midnight is useless, so it rings at 09:00 Beijing time on
# that same working day (a fixed UTC+8: China has no DST).
WARNING_TIME = _dt.time(9, 0)
PROVISIONAL_NOTE = "暂定: counted over days the State Council has not announced yet"


def clean_text(value: str) -> str:
    """A TEXT value's content: line breaks as `\n`; other control characters (not allowed
    in TEXT, §3.3.11) dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in value
                   if ch in "\t\n" or not (ord(ch) < 0x20 or ord(ch) == 0x7F))


def utc(moment: _dt.datetime) -> _dt.datetime:
    """UTC for DTSTAMP, LAST-MODIFIED and alarm triggers; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r}: a naive datetime has no place in a feed")
    return moment.astimezone(_dt.UTC)


def _vtimezone() -> icalendar.Timezone:
    """Asia/Shanghai: keeps a feed with no deadlines valid (RFC 5545 wants at least one
    component) and names the zone the X-WR-TIMEZONE hint refers to."""
    tz = icalendar.Timezone()
    tz.add("tzid", "Asia/Shanghai")
    std = icalendar.TimezoneStandard()
    std.add("dtstart", _dt.datetime(1970, 1, 1))
    std.add("tzoffsetfrom", _dt.timedelta(hours=8))
    std.add("tzoffsetto", _dt.timedelta(hours=8))
    std.add("tzname", "CST")
    tz.add_component(std)
    return tz


def render(events: Iterable[icalendar.Event], *, name: str, now: _dt.datetime,
           description: str | None = None, refresh_hours: int = 1) -> bytes:
    """The whole VCALENDAR as UTF-8 bytes with CRLF line ends; every event stamped `now`."""
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", clean_text(name))
    cal.add("name", clean_text(name))  # RFC 7986's standard spelling of X-WR-CALNAME
    cal.add("x-wr-timezone", "Asia/Shanghai")
    # How often subscribers should re-fetch (RFC 7986, and Outlook's older hint).
    cal.add("refresh-interval", _dt.timedelta(hours=refresh_hours),
            parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", f"PT{refresh_hours}H")
    if description:
        cal.add("x-wr-caldesc", clean_text(description))
    cal.add_component(_vtimezone())
    stamp = utc(now)
    for event in events:
        event.add("dtstamp", stamp)
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


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


def deadline_event(d: Deadline, calendar: WorkCalendar, today: _dt.date) -> icalendar.Event:
    """One all-day VEVENT on the due day (DTEND exclusive, §3.6.1), transparent (a deadline
    makes nobody busy), with a display alarm on each warning day."""
    late = late_days(d, calendar, today)
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
    event = icalendar.Event()
    event.add("uid", d.uid)
    event.add("dtstart", d.due_on)
    event.add("dtend", d.due_on + _dt.timedelta(days=1))
    event.add("summary", clean_text(summary))
    event.add("description", clean_text("\n".join(info)))
    event.add("status", "CANCELLED" if d.state == "cancelled"
              else "TENTATIVE" if d.provisional else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("categories", [clean_text(c) for c in ("时限", d.state, d.jurisdiction)])
    if d.as_of is not None:
        event.add("last-modified", utc(d.as_of))
    if d.state in LIVE_STATES:
        # Past warnings stay in: the feed does not depend on when it was generated, and
        # clients do not ring alarms of days gone by.
        for rung in d.warnings:
            day = warning_day(calendar, d.due_on, rung)
            if day is None:
                continue
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", clean_text(
                f"{rung.name}: {d.project_id} {d.title} 将于 {d.due_on.isoformat()} 到期 "
                f"({d.actor_name}; {rung.offset})"))
            # An absolute trigger must be a UTC DATE-TIME (§3.8.6.3).
            alarm.add("trigger", utc(_dt.datetime.combine(day, WARNING_TIME, tzinfo=SHANGHAI)),
                      parameters={"VALUE": "DATE-TIME"})
            event.add_component(alarm)
    return event


def feed(selected: Sequence[Deadline], *, name: str, calendar: WorkCalendar,
         today: _dt.date, now: _dt.datetime) -> bytes:
    return render((deadline_event(d, calendar, today) for d in selected), name=name, now=now,
                  description="shixian 时限: 政务信息化项目 deadlines, counted in Chinese "
                              "working days")
