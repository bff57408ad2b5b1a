"""What every part of the engine shares: the refusal, Beijing business dates."""

from __future__ import annotations

from datetime import date, datetime

from temporalio.exceptions import ApplicationError

from calendars.periods import SHANGHAI
from workflows.models import ObligationState

OPEN_STATES = (ObligationState.OPEN, ObligationState.OVERDUE, ObligationState.PAUSED)


class Refused(ApplicationError):
    """An input the ledger will not take; the message is the reason given to the caller.

    An ApplicationError, so that raised in an update handler it fails only that update and
    never the workflow task.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, type="Refused", non_retryable=True)


def business_date(now: datetime) -> date:
    """Today in Asia/Shanghai: business dates are Beijing dates whatever the server's zone."""
    return now.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
