"""The baseline of `bench/scale.py`: a bare Temporal workflow that only sleeps on a timer.

It has one update so that `calendar publish` has something to compare with; the update
changes nothing and adds no command, so the history up to the first timer stays the
smallest Temporal allows (started, one workflow task, the timer: 5 events).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

BARE_WORKFLOW = "BareTimerWorkflow"


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
