"""Facts decide, not the moment they arrived (issue #7 §2, DESIGN §8).

A project started with no documents and back-filled from its paper file: in one batch no
on-time step is ever escalated; one line at a time, every notice a later line proves wrong is
withdrawn by a correction to its recipients, and the 第二十七条 total is the owner's real delay.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from policies.loader import load_pack
from tests.jiujiang_cases import MERGED_OTHER, Case, doc, project
from workflows.ledger import Ledger
from workflows.models import (
    ExtensionRequest,
    LedgerState,
    NoticeKind,
    NoticeRecord,
    ObligationState,
    RecordOutcome,
)

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2024, 2032))


def empty(case: Case, calendar: WorkCalendar) -> Ledger:
    return Ledger(case.project, load_pack("jiujiang-2024"), calendar, LedgerState())


def record(ledger: Ledger, case: Case) -> None:
    for d in sorted(case.documents, key=lambda d: d.on):
        assert ledger.check_document(d, TODAY) is RecordOutcome.ACCEPTED, d
        ledger.add_document(d, NOW)


def test_a_batch_back_fill_escalates_no_step_done_on_time(calendar: WorkCalendar) -> None:
    ledger = empty(MERGED_OTHER, calendar)
    record(ledger, MERGED_OTHER)  # the whole paper file, judged once after the batch
    assert ledger.escalate(NOW) == []
    status = ledger.status(NOW)
    done = [o for o in status.obligations if o.state is ObligationState.DONE]
    assert len(done) >= 8
    assert all(o.on_time and o.escalation_level == 0 for o in done), [
        (o.id, o.on_time, o.escalation_level) for o in done if not o.on_time]
    assert status.delay_working_days == 0 and status.escalation_level == 0


def test_one_line_at_a_time_withdraws_every_wrong_notice(calendar: WorkCalendar) -> None:
    ledger = empty(MERGED_OTHER, calendar)
    sent: list[NoticeRecord] = list(ledger.escalate(NOW))
    # Before any line: the FSR (due 2024-07-02) looks 500+ wd late, 第二十七条 fires.
    assert {(n.obligation, n.kind) for n in sent} == {
        ("fsr_submission", NoticeKind.RUNG), ("funding_at_risk", NoticeKind.CONSEQUENCE)}
    for d in sorted(MERGED_OTHER.documents, key=lambda d: d.on):
        assert ledger.check_document(d, TODAY) is RecordOutcome.ACCEPTED, d
        ledger.add_document(d, NOW)
        sent += ledger.escalate(NOW)
    wrong = [n for n in sent if n.kind is not NoticeKind.CORRECTION]
    corrections = {n.withdraws: n for n in sent if n.kind is NoticeKind.CORRECTION}
    # Every step of this project was done on time: every notice sent meanwhile was wrong.
    assert len(wrong) >= 8
    assert set(corrections) == {n.key for n in wrong}
    for notice in wrong:
        fix = corrections[notice.key]
        assert fix.recipients == notice.recipients
        assert fix.recipient_actors == notice.recipient_actors
        assert "撤回" in fix.message
    fsr = next(n for n in wrong if n.obligation == "fsr_submission")
    assert "依据可行性研究报告报审，该事项已于 2024-06-28 按时完成" in \
        corrections[fsr.key].message
    funding = next(n for n in wrong if n.kind is NoticeKind.CONSEQUENCE)
    assert "累计延后 0 个工作日，未达 30wd" in corrections[funding.key].message
    status = ledger.status(NOW)
    assert status.escalation_level == 0 and status.delay_working_days == 0
    assert status.withdrawn_notices == len(wrong)
    assert ledger.escalate(NOW) == []  # nothing is withdrawn or sent twice


def test_delay_total_is_the_owners_real_delay(calendar: WorkCalendar) -> None:
    """The FSR 31 wd late (due 2024-07-02): 第二十七条 fires with 31, not the days the
    workflow waited for the paper file."""
    late_fsr = calendar.add_working_days(date(2024, 7, 2), 31)
    shifted = Case(project("JJT-LATE", investment_wan=800, started_on=date(2024, 6, 3)),
                   [doc("fsr_submitted", late_fsr.isoformat())], {})
    ledger = empty(shifted, calendar)
    sent = list(ledger.escalate(NOW))  # before the file: hundreds of days
    for d in sorted(shifted.documents, key=lambda d: d.on):
        if ledger.check_document(d, TODAY) is RecordOutcome.ACCEPTED:
            ledger.add_document(d, NOW)
            sent += ledger.escalate(NOW)
    status = ledger.status(NOW)
    views = {o.id: o for o in status.obligations}
    assert views["fsr_submission"].overdue_working_days == 31
    assert views["fsr_submission"].on_time is False
    assert status.delay_working_days == 31
    standing = [n for n in sent if n.kind is NoticeKind.CONSEQUENCE
                and n.key not in ledger.state.withdrawn]
    assert len(standing) == 1
    assert "累计延后 31 个工作日" in standing[0].message


def test_an_extension_granted_late_keeps_the_lateness_accrued(calendar: WorkCalendar) -> None:
    """九江 31: completion application due 2025-11-13 (30 wd from 9/26); the extension to
    11/28 is granted on 11/18 — 3 wd after the due day (11/14, 17, 18) — and the application
    comes 11/20, inside the new day: 3 wd late, not 0 (v1 erased them)."""
    case = Case(MERGED_OTHER.project, [
        d for d in MERGED_OTHER.documents
        if d.type not in ("extension_granted",) and d.on <= date(2025, 9, 26)], {})
    ledger = empty(case, calendar)
    record(ledger, case)
    today = date(2025, 11, 18)
    ledger.check_extension("completion_application", date(2025, 11, 28), today, today)
    from workflows.models import Extension

    req = ExtensionRequest(obligation="completion_application", until=date(2025, 11, 28),
                           on=today, reason="设备到货延迟")
    ledger.apply_extension(Extension(obligation=req.obligation, until=req.until,
                                     reason=req.reason, granted_on=req.on), NOW)
    applied = doc("completion_acceptance_applied", "2025-11-20")
    ledger.add_document(applied, NOW)
    view = next(o for o in ledger.views(TODAY) if o.id == "completion_application")
    assert view.due_on == date(2025, 11, 28)
    assert view.overdue_working_days == 3
    assert view.on_time is False
