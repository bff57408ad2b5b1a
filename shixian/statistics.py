"""统计分析: what a 督办 office reports upward for a month, quarter or year.

Per jurisdiction and per responsible body (责任单位): duties done in the period on time and
late, the median and 90th-percentile working days they took against their limits, duties
overdue at the end of the period (or today, for the period still running), and the notices
sent in it — escalations (逾期通报, 升级督办: sent on or after the due day) apart from
warnings (预警). Pure arithmetic over rows `shixian.readmodel` reads; no SQL here.

Working days are counted on the official calendar, from the day a duty's clock starts to the
day it was done (taken) or due (its limit); a duty whose days fall outside the calendar's
years is counted as done on time or late but left out of the working-day figures.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from shixian.errors import UserError

RUNNING = ("open", "overdue")


@dataclass(frozen=True)
class Period:
    """A month (2026-11), quarter (2026-Q3) or year (2026), first and last day included."""

    label: str
    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


PERIOD_FORMS = "2026-11 (a month), 2026-Q3 (a quarter) or 2026 (a year)"


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str) -> Period:
    """`2026-11`, `2026年11月`, `2026-Q3`, `2026Q3`, `2026` → a Period; else a UserError."""
    t = text.strip().upper().replace("年", "-").replace("月", "").replace("季度", "")
    t = t.replace(" ", "").rstrip("-")
    try:
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", t):
            year, q = int(m[1]), int(m[2])
            return Period(f"{year}-Q{q}", date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", t):
            year, month = int(m[1]), int(m[2])
            return Period(f"{year}-{month:02d}", date(year, month, 1), _month_end(year, month))
        if re.fullmatch(r"\d{4}", t):
            year = int(t)
            return Period(str(year), date(year, 1, 1), date(year, 12, 31))
    except ValueError:
        pass
    raise UserError(f"period {text!r} is not one shixian reads; give {PERIOD_FORMS}")


def current_month(today: date) -> Period:
    return parse_period(f"{today.year}-{today.month}")


@dataclass
class DutyOutcome:
    """One duty as the read model holds it, with its project's jurisdiction."""

    project_id: str
    policy: str
    jurisdiction: str
    obligation_id: str
    title: str
    actor: str
    actor_name: str
    state: str
    starts_on: date | None
    due_on: date | None
    done_on: date | None
    on_time: bool | None  # the workflow's verdict (extensions counted); None before 0003
    late_when_done: int  # working days late when done (0 on time)
    limit_text: str | None


@dataclass
class NoticeSent:
    project_id: str
    policy: str
    jurisdiction: str
    actor_name: str | None  # the duty's responsible body; None for a notice on no duty
    rung: str
    on: date  # Beijing date it was sent
    escalation: bool  # on or after the due day (not a 预警 before it)


def percentile(values: list[int], p: float) -> int | None:
    """Nearest-rank percentile (the value at rank ⌈p·n⌉): always one of the values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


@dataclass
class GroupStats:
    """One row of the report."""

    group: str  # jurisdiction, actor or total
    key: str
    done: int = 0
    on_time: int = 0
    late: int = 0
    on_time_rate: float | None = None  # on_time / done, None when nothing was done
    median_taken_wd: int | None = None
    p90_taken_wd: int | None = None
    median_limit_wd: int | None = None
    late_wd_total: int = 0  # working days late, summed over the duties done late
    overdue_now: int = 0  # overdue at the end of the period (or today)
    overdue_max_wd: int = 0
    warnings: int = 0  # 预警 sent in the period
    escalations: int = 0  # notices sent on or after a due day in the period
    taken: list[int] = field(default_factory=list, repr=False)
    limits: list[int] = field(default_factory=list, repr=False)

    def finish(self) -> GroupStats:
        if self.done:
            self.on_time_rate = round(self.on_time / self.done, 4)
        self.median_taken_wd = percentile(self.taken, 0.5)
        self.p90_taken_wd = percentile(self.taken, 0.9)
        self.median_limit_wd = percentile(self.limits, 0.5)
        return self

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        del data["taken"], data["limits"]
        return data


FIELDS = ("group", "key", "done", "on_time", "late", "on_time_rate", "median_taken_wd",
          "p90_taken_wd", "median_limit_wd", "late_wd_total", "overdue_now", "overdue_max_wd",
          "warnings", "escalations")
HEADERS_ZH = ("分组", "名称", "办结", "按时", "逾期办结", "按时率", "用时中位数(工作日)",
              "用时90分位(工作日)", "时限中位数(工作日)", "逾期工作日合计", "当前逾期",
              "最长逾期(工作日)", "预警", "逾期通报与督办")


@dataclass
class Report:
    period: Period
    as_of: date  # overdue counted on this day: the period's last day, or today if earlier
    today: date
    jurisdiction: list[GroupStats]
    actor: list[GroupStats]
    total: GroupStats
    jurisdiction_filter: str | None = None
    actor_filter: str | None = None

    def rows(self) -> list[GroupStats]:
        return [*self.jurisdiction, *self.actor, self.total]

    def as_dict(self) -> dict[str, object]:
        return {"period": self.period.label, "first": self.period.first.isoformat(),
                "last": self.period.last.isoformat(), "as_of": self.as_of.isoformat(),
                "today": self.today.isoformat(),
                "filters": {k: v for k, v in (("jurisdiction", self.jurisdiction_filter),
                                              ("actor", self.actor_filter)) if v},
                "by_jurisdiction": [g.as_dict() for g in self.jurisdiction],
                "by_actor": [g.as_dict() for g in self.actor],
                "total": self.total.as_dict()}


def _wd(calendar: WorkCalendar, a: date | None, b: date | None) -> int | None:
    if a is None or b is None or b < a:
        return None
    try:
        return calendar.working_days_between(a, b)
    except CalendarError:
        return None


def _late_at(calendar: WorkCalendar, d: DutyOutcome, day: date) -> int:
    """Working days a duty was overdue on `day` (0 if not running then, or not late)."""
    if d.due_on is None or day <= d.due_on or (d.starts_on is not None and d.starts_on > day):
        return 0
    running = d.state in RUNNING or (d.state == "done" and d.done_on is not None
                                     and d.done_on > day)
    if not running:
        return 0
    return _wd(calendar, d.due_on, day) or 0


def report(period: Period, today: date, calendar: WorkCalendar, duties: list[DutyOutcome],
           notices: list[NoticeSent]) -> Report:
    as_of = min(today, period.last)
    groups: dict[tuple[str, str], GroupStats] = {}
    total = GroupStats("total", "合计")

    def targets(jurisdiction: str, actor: str | None) -> list[GroupStats]:
        keys = [("jurisdiction", jurisdiction)] + ([("actor", actor)] if actor else [])
        return [groups.setdefault(k, GroupStats(*k)) for k in keys] + [total]

    for d in duties:
        done_here = d.state == "done" and d.done_on is not None and d.done_on in period
        late = _late_at(calendar, d, as_of)
        if not ((done_here and d.due_on is not None) or late):
            continue  # nothing to count: no empty rows for bodies with nothing in the period
        stats = targets(d.jurisdiction, d.actor_name)
        if done_here and d.due_on is not None:
            on_time = d.on_time if d.on_time is not None else d.late_when_done == 0
            taken = _wd(calendar, d.starts_on, d.done_on)
            limit = _wd(calendar, d.starts_on, d.due_on)
            for g in stats:
                g.done += 1
                g.on_time += on_time
                g.late += not on_time
                g.late_wd_total += 0 if on_time else d.late_when_done
                if taken is not None and limit is not None:
                    g.taken.append(taken)
                    g.limits.append(limit)
        if late:
            for g in stats:
                g.overdue_now += 1
                g.overdue_max_wd = max(g.overdue_max_wd, late)
    for n in notices:
        if n.on not in period:
            continue
        for g in targets(n.jurisdiction, n.actor_name):
            g.escalations += n.escalation
            g.warnings += not n.escalation

    def ordered(group: str) -> list[GroupStats]:
        rows = [g.finish() for (kind, _), g in groups.items() if kind == group]
        # The most to chase first: overdue now, then late, then by name.
        return sorted(rows, key=lambda g: (-g.overdue_now, -g.late, g.key))

    return Report(period=period, as_of=as_of, today=today, jurisdiction=ordered("jurisdiction"),
                  actor=ordered("actor"), total=total.finish())
