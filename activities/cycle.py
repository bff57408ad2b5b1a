"""Each jurisdiction's year (年度工作): its yearly duties' due days and reminders.

Plain functions compute one year of a pack's `cycles:` on the working-day calendar
(`year_plan`, pure: tests count its days by hand); `plan_cycle_year` is the activity that
gives `JurisdictionCycleWorkflow` that plan, so calendar data reaches the workflow only as an
activity result (and a year the State Council publishes later is picked up at the next
plan). The reminders themselves go through `send_notice` (outbox → delivery), keyed
`cycle:<cycle>:<year>:<offset>`, so the outbox is the record of who was reminded when.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from temporalio import activity

from activities.db import engine, notice_outbox
from calendars.engine import WorkCalendar
from calendars.model import Provenance
from calendars.periods import SHANGHAI
from policies.loader import load_pack
from policies.model import Cycle, CycleReminder, PolicyPack
from workflows.models import NoticeKind, NoticeRecord

REMIND_AT = time(9, 0)  # reminders go out at 09:00 Beijing on their day (shixian 运营默认)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def cycle_workflow_id(policy: str) -> str:
    """One workflow per jurisdiction: `cycle-jiujiang-2024` (never `project-…`)."""
    return f"cycle-{policy}"


class ReminderPlan(Model):
    """One reminder of one year: its notice key, its working day and moment, its recipients."""

    key: str
    before: str
    on: date
    at: datetime
    notify: list[str]  # actor ids (`actor` already replaced by the cycle's actor)
    recipients: list[str]  # their names in the pack


class CycleDue(Model):
    """What one yearly duty asks in one year: the due day (Beijing) or none, and why."""

    policy: str
    jurisdiction: str
    cycle: str
    title: str
    actor: str
    actor_name: str
    year: int
    opens_on: date | None
    nominal_on: date | None  # the day the text names, before art. 203 moves it
    due_on: date | None
    provisional: bool  # counted over days the State Council has not announced
    no_limit: str | None
    citation: str
    validity: str | None  # 征求意见稿 / 已过有效期 / 尚未施行, else None
    reminders: list[ReminderPlan]


class CycleYear(Model):
    policy: str
    jurisdiction: str
    year: int
    dues: list[CycleDue]


class PlanInput(Model):
    policy: str
    year: int


def validity(pack: PolicyPack, day: date) -> str | None:
    """Why a duty on `day` is not simply in force: a draft, a lapsed text, not yet in force."""
    if pack.status == "draft":
        return "征求意见稿，未生效 (draft)"
    if pack.status == "expired" or (pack.expires_on is not None and day > pack.expires_on):
        until = f" {pack.expires_on}" if pack.expires_on else ""
        return f"已过有效期{until} (expired; shown and reminded until a successor pack)"
    if pack.effective_from is not None and day < pack.effective_from:
        return f"尚未施行 (in force from {pack.effective_from})"
    return None


def due_day(cycle: Cycle, year: int, calendar: WorkCalendar) -> tuple[date, date] | None:
    """(the day the text names, the due day): moved to the next working day when it is a
    rest day (《民法典》第二百零三条) unless the cycle says the text names a month."""
    if cycle.due is None:
        return None
    nominal = cycle.due.in_year(year)
    return nominal, calendar.next_workday(nominal) if cycle.moves_to_workday else nominal


def reminder_day(reminder: CycleReminder, due_on: date, calendar: WorkCalendar) -> date:
    """`before: Nwd`: the N-th working day before the due day (the due day not counted);
    `0wd`: the due day itself, or the working day before it when it is a rest day."""
    n = reminder.working_days
    if n == 0:
        return calendar.previous_workday(due_on)
    return calendar.subtract_working_days(due_on, n)


def reminder_key(cycle: str, year: int, before: str) -> str:
    return f"cycle:{cycle}:{year}:{before}"


def year_plan(pack: PolicyPack, year: int, calendar: WorkCalendar) -> CycleYear:
    """Every cycle of `pack` in `year`, with its due day and reminders."""
    dues: list[CycleDue] = []
    for cyc in pack.cycles:
        days = due_day(cyc, year, calendar)
        nominal, due_on = days if days is not None else (None, None)
        reminders: list[ReminderPlan] = []
        if due_on is not None:
            for r in cyc.remind:
                on = reminder_day(r, due_on, calendar)
                notify = list(dict.fromkeys(cyc.actor if a == "actor" else a for a in r.notify))
                reminders.append(ReminderPlan(
                    key=reminder_key(cyc.id, year, r.before), before=r.before, on=on,
                    at=datetime.combine(on, REMIND_AT, SHANGHAI), notify=notify,
                    recipients=[pack.actors[a] for a in notify]))
        first = min([r.on for r in reminders] + ([nominal] if nominal else []), default=None)
        provisional = (due_on is not None and first is not None and calendar.is_provisional_between(
            first - timedelta(days=1), due_on)) or (
            due_on is None and calendar.year_provenance(year) is Provenance.PROVISIONAL)
        dues.append(CycleDue(
            policy=pack.id, jurisdiction=pack.jurisdiction, cycle=cyc.id, title=cyc.title,
            actor=cyc.actor, actor_name=pack.actors[cyc.actor], year=year,
            opens_on=cyc.opens.in_year(year) if cyc.opens else None, nominal_on=nominal,
            due_on=due_on, provisional=provisional, no_limit=cyc.no_limit,
            citation=cyc.citation,
            validity=validity(pack, due_on or date(year, 12, 31)), reminders=reminders))
    return CycleYear(policy=pack.id, jurisdiction=pack.jurisdiction, year=year, dues=dues)


def reminder_notice(due: CycleDue, reminder: ReminderPlan, now: datetime, *,
                    late: bool = False) -> NoticeRecord:
    """The notice a reminder sends (pure: built inside the workflow from the plan)."""
    assert due.due_on is not None
    mark = f"【{due.validity.split(' (')[0]}】" if due.validity else ""
    n = reminder.before.removesuffix("wd")
    when = ("补发：提醒日已过" if late else "今日到期" if n == "0"
            else f"截止前{n}个工作日提醒")
    message = (f"{mark}{due.jurisdiction}年度工作提醒：{due.actor_name}应于"
               f"{due.due_on.isoformat()}前完成「{due.title}」（{when}；依据 {due.citation}）。")
    return NoticeRecord(
        key=reminder.key, obligation=due.cycle, rung="reminder", level=0,
        recipients=reminder.recipients, message=message, citation=due.citation,
        due_on=due.due_on, overdue_working_days=0, fired_at=now, kind=NoticeKind.CYCLE,
        recipient_actors=reminder.notify, policy=due.policy,
        project_name=f"{due.jurisdiction} {due.year}年度工作", duty_title=due.title,
        actor=due.actor, actor_name=due.actor_name)


# ---- the calendar: built once, rebuilt when a published year appears or changes -------------
_CALENDAR: tuple[tuple[tuple[str, int], ...], WorkCalendar] | None = None


def _published_signature() -> tuple[tuple[str, int], ...]:
    """Every published-year file the default calendar would read, with its mtime."""
    from calendars.loader import published_dirs  # lazy: workflow sandboxes import this module

    return tuple((str(f), f.stat().st_mtime_ns) for d in published_dirs() if d.is_dir()
                 for f in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]))


def current_calendar() -> WorkCalendar:
    """The worker's calendar; a year `shixian calendar publish` installed since the last
    plan (or a file in SHIXIAN_CALENDAR_DIR) is in the next plan."""
    global _CALENDAR
    signature = _published_signature()
    if _CALENDAR is None or _CALENDAR[0] != signature:
        _CALENDAR = (signature, WorkCalendar.default())
    return _CALENDAR[1]


@activity.defn
async def plan_cycle_year(inp: PlanInput) -> CycleYear:
    """One year of a jurisdiction's cycles, from the shipped pack and today's calendar."""
    calendar = await asyncio.to_thread(current_calendar)
    return year_plan(load_pack(inp.policy), inp.year, calendar)


# ---- the record: which reminders the outbox holds ---------------------------------------------
def sent_reminders(policy: str, year: int | None = None) -> dict[str, datetime]:
    """Reminder key → when it was sent, from the notice outbox (the record of the cycle)."""
    rows = select(notice_outbox.c.notice_key, notice_outbox.c.fired_at).where(
        notice_outbox.c.workflow_id == cycle_workflow_id(policy))
    if year is not None:
        rows = rows.where(notice_outbox.c.notice_key.like(f"cycle:%:{year}:%"))
    with engine().connect() as conn:
        return {k: at for k, at in conn.execute(rows)}
