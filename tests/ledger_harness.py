"""One harness for the per-jurisdiction ledger tests (tests/test_ledger_<city>.py).

In the style of python-holidays' per-country test cases: each jurisdiction's test file says
which pack it tests, once, and gets the same day, calendar and ledger builder as the others;
what stays in the file is what differs — its hand-worked cases and their assertions.

    JURISDICTION = Jurisdiction("shangrao-2020")
    calendar = JURISDICTION.calendar_fixture()
    ledger_for = JURISDICTION.ledger_for
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Protocol

import pytest

from calendars import WorkCalendar
from policies.loader import load_pack
from policies.model import PolicyPack
from workflows.ledger import Ledger
from workflows.models import DocumentArrival, LedgerState, ObligationView, Project, RecordOutcome

# The day the hand-worked cases are judged on, and noon of it in Beijing.
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
# Years of day data every case's counting stays inside (上饶's oldest case starts in 2023).
CALENDAR_YEARS = (2023, 2032)


class HasDocuments(Protocol):
    """A hand-worked case: a project and the documents it received (tests/*_cases.py)."""

    @property
    def project(self) -> Project: ...

    @property
    def documents(self) -> list[DocumentArrival]: ...


def noon(day: date) -> datetime:
    """12:00 in Beijing on `day`: when a document recorded on that day is recorded."""
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


class Jurisdiction:
    """A pack under test: its ledger builder and calendar fixture.

    `in_date_order`: record the documents sorted by business date (a case may list them
    as a person would remember them). `accepted_only`: every document must be accepted —
    off for a pack whose cases record documents the ledger refuses on purpose."""

    def __init__(self, pack_id: str, *, in_date_order: bool = False,
                 accepted_only: bool = True) -> None:
        self.pack_id = pack_id
        self.in_date_order = in_date_order
        self.accepted_only = accepted_only

    @cached_property
    def pack(self) -> PolicyPack:
        return load_pack(self.pack_id)

    @staticmethod
    def calendar_fixture() -> Callable[[], WorkCalendar]:
        """A module-scoped `calendar` fixture: the official calendar as a project carries
        it (a snapshot), so a test counts exactly as the workflow does."""
        @pytest.fixture(scope="module", name="calendar")
        def calendar() -> WorkCalendar:
            return WorkCalendar.from_snapshot(
                WorkCalendar.default(use_env=False).snapshot(*CALENDAR_YEARS))
        return calendar

    def ledger_for(self, case: HasDocuments, calendar: WorkCalendar,
                   docs: Sequence[DocumentArrival] | None = None, *,
                   today: date = TODAY) -> Ledger:
        """The case's project on this pack with `docs` (default: the case's documents)
        recorded as of `today`, each checked the way the workflow checks it."""
        ledger = Ledger(case.project, self.pack, calendar, LedgerState())
        listed = list(case.documents if docs is None else docs)
        for d in sorted(listed, key=lambda d: d.on) if self.in_date_order else listed:
            outcome = ledger.check_document(d, today)
            if self.accepted_only:
                assert outcome is RecordOutcome.ACCEPTED, d
            ledger.add_document(d, noon(today))
        return ledger


def views_by_id(ledger: Ledger, today: date = TODAY) -> dict[str, ObligationView]:
    """Every obligation as `status` shows it, by id."""
    return {v.id: v for v in ledger.views(today)}
