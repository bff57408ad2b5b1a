"""Quiet hours (免打扰时段) in Beijing time: pure, so the delivery workflow can use it."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))  # China has no DST; ZoneInfo is proxied in the sandbox


def parse_hhmm(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    h1, m1 = (int(x) for x in start.split(":"))
    h2, m2 = (int(x) for x in end.split(":"))
    return time(h1, m1), time(h2, m2)


def quiet_until(now: datetime, window: str) -> datetime | None:
    """When the quiet window containing `now` ends, or None when `now` is not quiet.

    "22:00-08:00" spans midnight; "12:00-14:00" does not; equal ends mean never quiet."""
    start, end = parse_hhmm(window)
    local = now.astimezone(BEIJING)
    t = local.time().replace(tzinfo=None)
    if start == end:
        return None
    quiet = (start <= t < end) if start < end else (t >= start or t < end)
    if not quiet:
        return None
    until = datetime.combine(local.date(), end, tzinfo=BEIJING)
    if until <= local:
        until += timedelta(days=1)
    return until
