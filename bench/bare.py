"""The baselines of `bench/scale.py`: bare Temporal workflows with no shixian code in them.

`BareTimerWorkflow` only sleeps on a timer. It has one update so that `calendar publish`
has something to compare with; the update changes nothing and adds no command, so the
history up to the first timer stays the smallest Temporal allows (started, one workflow
task, the timer: 5 events).

`BareRetimeWorkflow` is the same sleeper whose update does, with no shixian code, the
parts of a `calendar publish` re-timing that Temporal itself charges for: the timer moved
(its deadline changed: the old one cancelled, a new one started), one search attribute
upserted (`ShixianProvisionalYears` losing the year: what makes a re-run of publish find
only the projects left), and one activity scheduled and not awaited (the read model's new
due days, written by the workflow through an activity), whose completion is one more
workflow task. `steps` chooses how many of the three an update does, in that order, so the
bench prices each on the dev server (issue #12's publish row).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

BARE_WORKFLOW = "BareTimerWorkflow"
RETIME_WORKFLOW = "BareRetimeWorkflow"
RETIME_STEPS = ("the timer moved", "one search attribute upserted",
                "one activity (its completion: one more workflow task)")
_YEARS = SearchAttributeKey.for_keyword_list("ShixianProvisionalYears")


@workflow.defn(name=BARE_WORKFLOW)
class BareTimerWorkflow:
    def __init__(self) -> None:
        self._touched = 0

    @workflow.run
    async def run(self, seconds: float, ballast: str = "") -> int:
        """`ballast`: an input of a chosen size, to weigh what a large input costs a
        cached workflow (bench/memprobe.py --bare-input-kb)."""
        await asyncio.sleep(seconds)
        return self._touched

    @workflow.update
    def touch(self, note: str) -> int:
        self._touched += 1
        return self._touched


@activity.defn(name="bare_record")
async def bare_record(note: str) -> str:
    """Nothing: what an activity costs Temporal, not what a read-model write costs."""
    return note


@workflow.defn(name=RETIME_WORKFLOW)
class BareRetimeWorkflow:
    def __init__(self) -> None:
        self._seconds = 0.0
        self._moved = False
        self._steps = 0

    @workflow.run
    async def run(self, seconds: float, steps: int) -> int:
        self._seconds, self._steps = seconds, steps
        if steps >= 2:  # the year it counts over, as a project's first wake lists it
            workflow.upsert_search_attributes([_YEARS.value_set(["2027"])])
        while True:
            self._moved = False
            try:
                await workflow.wait_condition(lambda: self._moved,
                                              timeout=timedelta(seconds=self._seconds))
            except TimeoutError:
                return self._steps

    @workflow.update
    def retime(self, year: str) -> int:
        """The deadline moves by a day; with `steps` ≥ 2 the year leaves the attribute, ≥ 3
        an activity records it."""
        self._seconds -= 86400
        self._moved = True  # the loop wakes: its timer is cancelled and a new one started
        if self._steps >= 2:
            workflow.upsert_search_attributes([_YEARS.value_set([])])
        if self._steps >= 3:
            workflow.start_activity(bare_record, year,
                                    start_to_close_timeout=timedelta(seconds=30))
        return self._steps
