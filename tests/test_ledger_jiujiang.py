"""The 九江 pack applied by the ledger (no Temporal): hand-worked due days and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from tests.jiujiang_cases import (
    ACTORS_C,
    ALL_CASES,
    STATE_OWNED_INFRA,
    STATE_OWNED_SELF_EVALUATION_OPENS,
    Case,
    doc,
)
from tests.ledger_harness import NOW, TODAY, Jurisdiction, views_by_id
from workflows.ledger import Refused
from workflows.models import ObligationState, RecordOutcome

JURISDICTION = Jurisdiction("jiujiang-2024")
calendar = JURISDICTION.calendar_fixture()
ledger_for = JURISDICTION.ledger_for


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.project.id)
@pytest.mark.covers(
    "jiujiang-2024:limits", "jiujiang-2024:trial_run_ended", "jiujiang-2024:owner_revision",
    "jiujiang-2024:owner_feedback", "jiujiang-2024:fsr_submission",
    "jiujiang-2024:fsr_tech_review", "jiujiang-2024:fsr_approval",
    "jiujiang-2024:design_submission", "jiujiang-2024:design_approval",
    "jiujiang-2024:small_tech_review", "jiujiang-2024:budget_submission",
    "jiujiang-2024:budget_approval", "jiujiang-2024:revision_resubmission",
    "jiujiang-2024:feedback_return", "jiujiang-2024:final_acceptance",
    "jiujiang-2024:completion_application", "jiujiang-2024:self_evaluation")
def test_hand_worked_due_days(case: Case, calendar: WorkCalendar) -> None:
    views = views_by_id(ledger_for(case, calendar))
    computed = {k: views[k].due_on for k in case.due}
    assert computed == case.due
    for waived in case.waived:
        assert views[waived].state is ObligationState.WAIVED, waived


@pytest.mark.covers("jiujiang-2024:self_evaluation")
def test_small_build_is_finished_after_self_evaluation(calendar: WorkCalendar) -> None:
    ledger = ledger_for(ALL_CASES[0], calendar)
    assert ledger.finished(TODAY)
    assert ledger.stage(TODAY) == "closed"
    views = views_by_id(ledger)
    assert views["self_evaluation"].provisional  # 2027 is not announced yet
    assert not views["final_acceptance"].provisional


@pytest.mark.covers(
    "jiujiang-2024:fsr_approval", "jiujiang-2024:design_approval", "jiujiang-2024:budget_approval",
    "jiujiang-2024:self_evaluation")
def test_state_owned_approvals_go_to_sasac(calendar: WorkCalendar) -> None:
    views = views_by_id(ledger_for(STATE_OWNED_INFRA, calendar))
    assert {k: views[k].actor for k in ACTORS_C} == ACTORS_C
    assert views["self_evaluation"].opens_on == STATE_OWNED_SELF_EVALUATION_OPENS
    assert views["self_evaluation"].state is ObligationState.OPEN


@pytest.mark.covers("jiujiang-2024:self_evaluation")
def test_self_evaluation_before_its_window_is_a_recorded_breach(calendar: WorkCalendar) -> None:
    """九江 39 "6至12个月内": an early report is a fact (done) and a breach, not a refusal."""
    ledger = ledger_for(STATE_OWNED_INFRA, calendar)
    early = doc("self_evaluation_filed", "2026-11-20")
    assert ledger.check_document(early, TODAY) is RecordOutcome.ACCEPTED
    ledger.add_document(early, NOW)
    status = ledger.status(NOW)
    views = {v.id: v for v in status.obligations}
    assert views["self_evaluation"].state is ObligationState.DONE
    [breach] = status.breaches
    assert breach.citation == "九江 第三十九条"
    assert "早于窗口开始日 2027-05-05" in breach.detail
    notices = ledger.escalate(NOW)
    assert [n.kind.value for n in notices] == ["violation"]
    assert ledger.escalate(NOW) == []  # once


@pytest.mark.covers("jiujiang-2024:completion_application")
def test_late_submission_counts_overdue_working_days(calendar: WorkCalendar) -> None:
    case = ALL_CASES[1]
    late = Case(case.project, [d for d in case.documents if d.type != "extension_granted"],
                case.due)
    views = views_by_id(ledger_for(late, calendar))
    # due 2025-11-13 without the extension; applied 11/20: 14, 17, 18, 19, 20 → 5 wd late.
    assert views["completion_application"].due_on == date(2025, 11, 13)
    assert views["completion_application"].overdue_working_days == 5


def test_a_document_named_by_its_chinese_title_is_recorded_by_id(
        calendar: WorkCalendar) -> None:
    case = Case(ALL_CASES[1].project.model_copy(update={"started_on": date(2025, 3, 3)}), [], {})
    ledger = ledger_for(case, calendar)
    titled = doc("可行性研究报告报审", "2025-03-10")
    assert ledger.check_document(titled, date(2025, 3, 11)).value == "accepted"
    ledger.add_document(titled, datetime(2025, 3, 11, 1, tzinfo=UTC))
    assert [d.type for d in ledger.state.documents] == ["fsr_submitted"]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (doc("nonsense", "2025-03-10"), "unknown document type 'nonsense'"),
        (doc("fsr_submited", "2025-03-10"),
         r"did you mean fsr_submitted \(可行性研究报告报审\)\?"),
        (doc("可研报告报审", "2025-03-10"), "did you mean fsr_submitted"),
        (doc("budget_approved", "2025-03-10"), "not expected in this state"),
        (doc("fsr_submitted", "2026-12-01"), "after today"),
        (doc("fsr_submitted", "2025-03-01"), "before the launch_notice"),
        (doc("design_submitted", "2025-03-10"), "not on this project's path"),
        (doc("extension_granted", "2025-03-10"), "needs the new due day"),
        (doc("revision_resubmitted", "2025-03-10"), "no revision_requested is waiting"),
        (doc("launch_notice", "2025-03-04"), "already recorded on 2025-03-03"),
    ],
)
def test_refusals_name_the_reason(document: object, reason: str, calendar: WorkCalendar) -> None:
    case = Case(ALL_CASES[1].project.model_copy(update={"started_on": date(2025, 3, 3)}), [], {})
    ledger = ledger_for(case, calendar)
    with pytest.raises(Refused, match=reason):
        ledger.check_document(document, TODAY)  # type: ignore[arg-type]
    assert ledger.state.documents == []


def test_same_document_twice_is_a_duplicate(calendar: WorkCalendar) -> None:
    ledger = ledger_for(ALL_CASES[0], calendar)
    again = doc("budget_submitted", "2025-04-10")
    assert ledger.check_document(again, TODAY) is RecordOutcome.DUPLICATE
    with pytest.raises(Refused, match="already recorded on 2025-04-10"):
        ledger.check_document(doc("budget_submitted", "2025-04-11"), TODAY)


@pytest.mark.covers("jiujiang-2024:proposal_submission", "jiujiang-2024:escalated")
def test_import_fires_only_the_highest_rung_reached(calendar: WorkCalendar) -> None:
    """An imported project 24 wd late gets one 'escalated' notice, not three."""
    case = Case(ALL_CASES[1].project.model_copy(
        update={"investment_wan": 6800, "category": "infrastructure",
                "started_on": date(2026, 9, 30)}), [], {})
    ledger = ledger_for(case, calendar)
    notices = ledger.escalate(NOW)
    assert [(n.obligation, n.rung) for n in notices] == [("proposal_submission", "escalated")]
    assert notices[0].overdue_working_days == 24  # due 10/20; 10/21 … 11/23
    assert ledger.escalate(NOW) == []  # once


@pytest.mark.covers("jiujiang-2024:proposal_submission", "jiujiang-2024:funding_at_risk")
def test_owner_delay_of_30_working_days_puts_funding_at_risk(calendar: WorkCalendar) -> None:
    """九江 第二十七条: the consequence fires on the 30th overdue working day, once."""
    case = Case(ALL_CASES[1].project.model_copy(
        update={"investment_wan": 6800, "category": "infrastructure",
                "started_on": date(2026, 9, 30)}), [], {})
    ledger = ledger_for(case, calendar)
    ledger.escalate(NOW)
    wake = ledger.next_wake(NOW)
    # 24 wd late on 11/23 → the 30th is 12/1 (11/24–27, 11/30, 12/1).
    assert wake == datetime.fromisoformat("2026-12-01T00:00:00+08:00")
    notices = ledger.escalate(wake)
    assert [n.key for n in notices] == ["consequence:funding_at_risk"]
    assert "第二十七条" in notices[0].citation


@pytest.mark.covers("jiujiang-2024:small_tech_review")
def test_manual_clock_stop_excludes_requirement_confirmation(calendar: WorkCalendar) -> None:
    """25(二) 不含需求确认时间: stopped 4/3, restarted 4/10 → 4 wd used, 11 from 4/10."""
    case = Case(ALL_CASES[0].project, [doc("tech_plan_submitted", "2025-03-03")], {})
    ledger = ledger_for(case, calendar)  # small build: review due 3/24 from 3/3
    pause = ledger.check_stop_clock("small_tech_review", date(2025, 3, 7), TODAY)
    ledger.state.manual_pauses.append(pause)
    assert ledger.due_map(TODAY).get("small_tech_review") is None
    ledger.check_restart_clock("small_tech_review", date(2025, 3, 14), TODAY).until = \
        date(2025, 3, 14)
    # used (3/3, 3/7] = 4; remaining 11 from 3/14: 17–21, 24–28, 31 → 3/31.
    assert ledger.due_map(TODAY)["small_tech_review"] == date(2025, 3, 31)
    with pytest.raises(Refused, match="no excluded time"):
        ledger.check_stop_clock("budget_submission", date(2025, 3, 20), TODAY)
