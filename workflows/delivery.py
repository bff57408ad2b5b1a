"""`NoticeDeliveryWorkflow`: one notice to each of its (recipient, channel) targets.

Started by `send_notice` on the delivery task queue with the id
`delivery-<project workflow id>-<notice key>`, so a retried `send_notice` cannot start two.
Each target is one `deliver` activity on its channel kind's task queue (rate-limited there
by the worker), retried by Temporal's retry policy; a permanent error or exhausted retries
lands as `failed` with the reason. Quiet hours hold IM messages on a durable timer; e-mail
goes at once. The plan (recipients, channels) arrives in the input: no files read here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.delivery import (
        PERMANENT,
        DeliverInput,
        DeliveryMark,
        DeliveryOutcome,
        DeliveryPlan,
        DeliveryTarget,
        channel_queue,
        deliver,
        mark_delivery,
    )
    from delivery.quiet import BEIJING, quiet_until

BOOKKEEPING = RetryPolicy(initial_interval=timedelta(seconds=1),
                          maximum_interval=timedelta(minutes=1))


def _cause(err: ActivityError) -> str:
    """The innermost failure's message: what the channel said, not 'activity failed'."""
    cause: BaseException | None = err.cause
    while isinstance(cause, FailureError) and not cause.message and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, FailureError):
        return cause.message or str(cause)
    return str(cause or err)


@workflow.defn
class NoticeDeliveryWorkflow:
    @workflow.run
    async def run(self, plan: DeliveryPlan) -> list[DeliveryOutcome]:
        return list(await asyncio.gather(*(self._one(plan, t) for t in plan.targets)))

    async def _one(self, plan: DeliveryPlan, t: DeliveryTarget) -> DeliveryOutcome:
        if t.quiet_hours and t.channel_kind != "email":
            until = quiet_until(workflow.now(), t.quiet_hours)
            if until is not None:
                await self._mark(DeliveryMark(
                    delivery_id=t.delivery_id, state="delayed", quiet_until=until,
                    reason=f"quiet hours {t.quiet_hours}: held until "
                           f"{until.astimezone(BEIJING):%Y-%m-%d %H:%M} Beijing"))
                await workflow.sleep(until - workflow.now())
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=plan.retry_initial_seconds),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=plan.retry_maximum_seconds),
            maximum_attempts=plan.retry_maximum_attempts,
            non_retryable_error_types=[PERMANENT],
        )
        try:
            return await workflow.execute_activity(
                deliver, DeliverInput(project_id=plan.project_id, notice=plan.notice, target=t),
                task_queue=channel_queue(plan.queue, t.channel_kind),
                start_to_close_timeout=timedelta(seconds=plan.attempt_timeout_seconds),
                retry_policy=retry,
            )
        except ActivityError as err:
            reason = _cause(err)
            await self._mark(DeliveryMark(delivery_id=t.delivery_id, state="failed",
                                          reason=reason))
            return DeliveryOutcome(delivery_id=t.delivery_id, state="failed", reason=reason)

    async def _mark(self, mark: DeliveryMark) -> None:
        await workflow.execute_activity(mark_delivery, mark,
                                        start_to_close_timeout=timedelta(seconds=30),
                                        retry_policy=BOOKKEEPING)
