"""九江 rules added or corrected on rule engine v2 (issue #7 §3), each counted by hand.

2025 days used: 端午 5/31–6/2; 国庆中秋 10/1–10/8 with Sun 9/28 and Sat 10/11 worked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from policies.loader import load_pack
from tests.jiujiang_cases import MERGED_OTHER, SMALL_BUILD, STATE_OWNED_INFRA, doc
from workflows.ledger import Ledger
from workflows.models import DocumentArrival, LedgerState, ObligationState, RecordOutcome

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2024, 2032))


def ledger_with(project_docs: list[DocumentArrival], calendar: WorkCalendar,
                case: object = SMALL_BUILD) -> Ledger:
    project = case.project  # type: ignore[attr-defined]
    ledger = Ledger(project, load_pack("jiujiang-2024"), calendar, LedgerState())
    for d in sorted(project_docs, key=lambda d: d.on):
        assert ledger.check_document(d, TODAY) is RecordOutcome.ACCEPTED, d
        ledger.add_document(d, NOW)
    return ledger


def until(case_docs: list[DocumentArrival], last: str) -> list[DocumentArrival]:
    cut = date.fromisoformat(last)
    return [d for d in case_docs if d.on <= cut]


@pytest.mark.covers("jiujiang-2024:design_revision", "jiujiang-2024:revision_resubmission",
                    "jiujiang-2024:design_approval")
def test_design_revision_pauses_the_review_and_has_its_own_20_wd_cap(
        calendar: WorkCalendar) -> None:
    """25(三): design submitted Thu 6/5; revision asked 6/12 (5 wd used: 6/6, 9, 10, 11, 12),
    resubmitted 6/19; 10 wd left from 6/19: 6/20, 23–27, 30, 7/1–3 → due 7/3. The owner's
    20 wd from 6/12: 6/13, 16–20, 23–27, 30, 7/1–4, 7–10 → due 7/10; done 6/19."""
    docs = [*until(STATE_OWNED_INFRA.documents, "2025-06-05"),
            doc("design_revision_requested", "2025-06-12"),
            doc("design_revision_resubmitted", "2025-06-19")]
    views = {v.id: v for v in ledger_with(docs, calendar, STATE_OWNED_INFRA).views(TODAY)}
    assert views["design_approval"].due_on == date(2025, 7, 3)
    cap = views["revision_resubmission#1"]
    assert (cap.due_on, cap.done_on, cap.on_time) == (date(2025, 7, 10), date(2025, 6, 19), True)


@pytest.mark.covers("jiujiang-2024:owner_supplement", "jiujiang-2024:budget_approval")
@pytest.mark.covers("jiujiang-2024:revision_resubmission")
def test_no_design_revision_duty_where_there_is_no_preliminary_design(
        calendar: WorkCalendar) -> None:
    """第二十五条(三)'s 20-wd revision cap bounds 初步设计 revisions: a project on the merged
    path (no 初步设计, JJT-B) has no such duty, not even one waiting for its trigger."""
    ledger = ledger_with(until(MERGED_OTHER.documents, "2024-08-06"), calendar, MERGED_OTHER)
    views = {o.id: o for o in ledger.status(NOW).obligations}
    assert views["design_submission"].state is ObligationState.WAIVED
    assert views["revision_resubmission"].state is ObligationState.WAIVED


def test_supplement_pauses_the_budget_review_with_no_limit_of_its_own(
        calendar: WorkCalendar) -> None:
    """25(四): 补充资料 4/22–4/25 is excluded like 反馈意见 (budget due 5/15, as in case A),
    but the 5-wd limit binds only 反馈意见: no feedback_return duty arises."""
    docs = [d for d in until(SMALL_BUILD.documents, "2025-05-14")
            if d.type not in ("feedback_requested", "feedback_returned")]
    docs += [doc("supplement_requested", "2025-04-22"), doc("supplement_returned", "2025-04-25")]
    views = {v.id: v for v in ledger_with(docs, calendar).views(TODAY)}
    assert views["budget_approval"].due_on == date(2025, 5, 15)
    assert not any(v.startswith("feedback_return") for v in views)


@pytest.mark.covers("jiujiang-2024:trial_run_minimum", "jiujiang-2024:trial_run_ended")
def test_final_acceptance_before_the_trial_months_is_a_breach(calendar: WorkCalendar) -> None:
    """31 原则上 3 months below the limit: trial from 9/1 runs to 12/1; 终验 on 11/20 is
    recorded (the duty is done) and flagged, not refused."""
    docs = [*until(SMALL_BUILD.documents, "2025-09-01"),
            doc("final_acceptance_passed", "2025-11-20")]
    ledger = ledger_with(docs, calendar)
    status = ledger.status(NOW)
    views = {v.id: v for v in status.obligations}
    assert views["final_acceptance"].state is ObligationState.DONE
    [breach] = [b for b in status.breaches if b.rule == "trial_run_minimum"]
    assert breach.citation == "九江 第三十一条"
    assert "早于 2025-12-01" in breach.detail


@pytest.mark.covers("jiujiang-2024:no_build_before_approval")
def test_a_contract_before_the_budget_approval_is_unapproved_building(
        calendar: WorkCalendar) -> None:
    """16/27 不得未批先建: a contract on 5/12, two days before the budget approval of 5/14."""
    docs = [*until(SMALL_BUILD.documents, "2025-05-14"), doc("contract_signed", "2025-05-12")]
    ledger = ledger_with(docs, calendar)
    [breach] = ledger.status(NOW).breaches
    assert (breach.rule, breach.on) == ("no_build_before_approval", date(2025, 5, 12))
    assert "项目预算批复" in breach.detail
    notices = ledger.escalate(NOW)
    breach_notice = next(n for n in notices if n.kind.value == "violation")
    assert breach_notice.recipient_actors == ["data_bureau", "owner"]


@pytest.mark.covers("jiujiang-2024:confirmations_before_completion_acceptance")
def test_completion_acceptance_needs_both_confirmations(calendar: WorkCalendar) -> None:
    """31 第二款 / 32: without the 保密机要局 confirmation the acceptance is a breach; recording
    it back-dated before the acceptance withdraws the breach notice."""
    docs = [d for d in until(SMALL_BUILD.documents, "2026-02-10")
            if d.type != "security_confirmed"]
    ledger = ledger_with(docs, calendar)
    [breach] = ledger.status(NOW).breaches
    assert "安全可靠及密码应用情况经市委保密机要局确认" in breach.detail
    sent = ledger.escalate(NOW)
    assert [n.kind.value for n in sent if n.kind.value == "violation"] == ["violation"]
    ledger.add_document(doc("security_confirmed", "2026-01-22"), NOW)
    assert ledger.status(NOW).breaches == []
    fixes = [n for n in ledger.escalate(NOW) if n.kind.value == "correction"]
    assert [f.withdraws for f in fixes] == [n.key for n in sent if n.kind.value == "violation"]
