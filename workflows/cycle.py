"""`JurisdictionCycleWorkflow`: one jurisdiction's year (年度工作), for as long as it runs.

One workflow per pack with `cycles:` (id `cycle-<pack id>`), started by `shixian up` or
`shixian cycle register`. Each year it asks `plan_cycle_year` for the due days and reminder
days (the calendar reaches it only as that activity's result), sleeps on durable timers until
each reminder's moment (09:00 Beijing on its working day), sends it once through
`send_notice` (outbox → delivery) and remembers the key, re-plans at least every
`REPLAN_DAYS` (a year the State Council publishes meanwhile moves the days), and at the turn
of the year continues as new for the next. A reminder whose due day has passed when the
workflow first sees it is not sent (registered late); one whose day has passed but whose due
day has not is sent at once. No project's workflow waits for any of this.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.cycle import (
        CycleDue,
        CycleYear,
        PlanInput,
        ReminderPlan,
        plan_cycle_year,
        reminder_notice,
    )
    from activities.notices import NoticeInput, send_notice
    from calendars.periods import SHANGHAI, end_of_day

REPLAN_DAYS = 30
PLAN_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5),
                         maximum_interval=timedelta(hours=1))
NOTICE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5),
                           maximum_interval=timedelta(minutes=10))


class CycleInput(BaseModel):
    """`year`: the year to run (default: the Beijing year when it starts); `last_year`: stop
    after that year (tests, a pack that is being replaced); `sent`: this year's reminders
    already sent, carried across continue-as-new."""

    model_config = ConfigDict(extra="forbid")

    policy: str = Field(max_length=64)
    year: int | None = Field(default=None, ge=2000, le=2100)
    last_year: int | None = Field(default=None, ge=2000, le=2100)
    sent: dict[str, datetime] = Field(default_factory=dict)


class CycleState(BaseModel):
    """What the workflow knows now: this year's plan and which reminders went when."""

    model_config = ConfigDict(extra="forbid")

    policy: str
    year: int
    plan: CycleYear | None
    sent: dict[str, datetime]
    skipped: list[str] = Field(default_factory=list, description="reminders whose due day "
                               "had passed when the workflow first saw them")


def _beijing_year(now: datetime) -> int:
    return now.astimezone(SHANGHAI).year


@workflow.defn(name="JurisdictionCycleWorkflow")
class JurisdictionCycleWorkflow:
    def __init__(self) -> None:
        self._state: CycleState | None = None

    @workflow.query
    def state(self) -> CycleState | None:
        return self._state

    @workflow.run
    async def run(self, inp: CycleInput) -> CycleState:
        year = inp.year if inp.year is not None else _beijing_year(workflow.now())
        state = CycleState(policy=inp.policy, year=year, plan=None, sent=dict(inp.sent))
        self._state = state
        while True:
            plan = await workflow.execute_activity(
                plan_cycle_year, PlanInput(policy=inp.policy, year=year),
                start_to_close_timeout=timedelta(minutes=2), retry_policy=PLAN_RETRY)
            state.plan = plan
            now = workflow.now()
            waiting: list[datetime] = []
            for due in plan.dues:
                if due.due_on is None:
                    continue
                for reminder in due.reminders:
                    if reminder.key in state.sent or reminder.key in state.skipped:
                        continue
                    if now >= end_of_day(due.due_on):
                        state.skipped.append(reminder.key)
                    elif reminder.at <= now:
                        await self._send(due, reminder, now)
                        state.sent[reminder.key] = now
                    else:
                        waiting.append(reminder.at)
            now = workflow.now()
            if waiting:
                await workflow.sleep(min(min(waiting) - now, timedelta(days=REPLAN_DAYS)))
                continue
            if inp.last_year is not None and year >= inp.last_year:
                return state
            next_year = datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
            if now < next_year:
                await workflow.sleep(next_year - now)
            workflow.continue_as_new(CycleInput(policy=inp.policy, year=year + 1,
                                                last_year=inp.last_year))

    async def _send(self, due: CycleDue, reminder: ReminderPlan, now: datetime) -> None:
        late = now.astimezone(SHANGHAI).date() > reminder.on
        wid = workflow.info().workflow_id
        await workflow.execute_activity(
            send_notice,
            NoticeInput(workflow_id=wid, project_id=wid, jurisdiction=due.jurisdiction,
                        notice=reminder_notice(due, reminder, now, late=late)),
            start_to_close_timeout=timedelta(seconds=30), retry_policy=NOTICE_RETRY)
