"""The 老河口 pack applied by the ledger (no Temporal): hand-worked due days, windows, gates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from policies.loader import load_pack
from tests.jiujiang_cases import Case, doc
from tests.laohekou_cases import (
    ALL_CASES,
    PLATFORM_BREACHES,
    PLATFORM_FIXED,
    SERVICE_PATH,
    project,
)
from tests.ledger_harness import NOW, TODAY, Jurisdiction, views_by_id
from workflows.ledger import Refused
from workflows.models import (
    NoticeKind,
    ObligationState,
    RecordOutcome,
)

JURISDICTION = Jurisdiction("laohekou-2024")
calendar = JURISDICTION.calendar_fixture()
ledger_for = JURISDICTION.ledger_for


EXCLUDED = ("supervision_application", "supervisor_assignment", "unified_acceptance",
            "acceptance_report", "supervisor_scoring", "self_evaluation")


def D(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.covers("laohekou-2024:supervision_application", "laohekou-2024:self_evaluation")
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.project.id)
def test_hand_worked_due_days(case: Case, calendar: WorkCalendar) -> None:
    views = views_by_id(ledger_for(case, calendar))
    assert {k: views[k].due_on for k in case.due} == case.due
    assert {k for k, v in views.items() if v.due_on is not None} == set(case.due)
    assert views["self_evaluation"].opens_on == D(case.notes["self_evaluation.opens"])
    assert views["self_evaluation"].provisional  # 2027/2028 are not announced
    assert not views["supervision_application"].provisional
    assert {k for k, v in views.items() if v.state is ObligationState.WAIVED} == case.waived
    late = {k: v.overdue_working_days for k, v in views.items() if v.overdue_working_days}
    assert late == case.done_late


@pytest.mark.covers(
    "laohekou-2024:design_submission",
    "laohekou-2024:ndrc_approval",
    "laohekou-2024:tech_design_submission",
    "laohekou-2024:tech_review",
    "laohekou-2024:budget_review",
    "laohekou-2024:supervisor_assignment",
    "laohekou-2024:unified_acceptance",
    "laohekou-2024:acceptance_report",
    "laohekou-2024:supervisor_scoring",
    "laohekou-2024:self_evaluation",
    "laohekou-2024:procurement_after_approval",
    "laohekou-2024:approval_after_ocmc_opinion",
    "laohekou-2024:trial_after_preliminary",
    "laohekou-2024:acceptance_after_trial",
    "laohekou-2024:third_party_software_test",
    "laohekou-2024:third_party_data_quality",
    "laohekou-2024:user_report_first",
    "laohekou-2024:payment_after_acceptance",
    "laohekou-2024:trial_run_minimum",
)
def test_fixed_asset_path_runs_to_the_self_evaluation(calendar: WorkCalendar) -> None:
    ledger = ledger_for(PLATFORM_FIXED, calendar)
    status = ledger.status(NOW)
    assert status.finished and status.stage == "closed"
    assert status.breaches == []
    views = {v.id: v for v in status.obligations}
    assert views["ndrc_approval"].actor_name == "市发展和改革局"
    assert views["budget_review"].actor_name == "市财政局"
    assert views["supervision_application"].citation == "老河口 第十八条; 第十七条"
    assert views["self_evaluation"].state is ObligationState.DONE
    assert views["self_evaluation"].on_time
    assert all(views[k].open_ended for k in ("tech_review", "unified_acceptance"))
    assert ledger.escalate(NOW) == []
    assert status.policy_status == "in_force" and status.policy_note is None


@pytest.mark.covers(
    "laohekou-2024:review_opinion",
    "laohekou-2024:self_evaluation",
    "laohekou-2024:procurement_after_review",
)
def test_service_path_window_is_open(calendar: WorkCalendar) -> None:
    ledger = ledger_for(SERVICE_PATH, calendar)
    status = ledger.status(NOW)
    assert status.stage == "operation" and not status.finished
    assert status.breaches == []
    ev = {v.id: v for v in status.obligations}["self_evaluation"]
    assert (ev.state, ev.opens_on, ev.due_on) == \
        (ObligationState.OPEN, date(2026, 10, 20), date(2027, 10, 20))
    # The late supervision application is a fact of the past: no notice today.
    assert ledger.escalate(NOW) == []


@pytest.mark.covers(
    "laohekou-2024:trial_run_minimum",
    "laohekou-2024:third_party_software_test",
    "laohekou-2024:payment_after_acceptance",
)
def test_early_acceptance_and_payment_are_recorded_breaches(calendar: WorkCalendar) -> None:
    ledger = ledger_for(PLATFORM_BREACHES, calendar)
    status = ledger.status(NOW)
    found = {(b.rule, b.on, b.citation) for b in status.breaches}
    assert found == {
        ("trial_run_minimum", date(2026, 3, 27), "老河口 第二十三条(二)"),
        ("third_party_software_test", date(2026, 3, 27), "老河口 第二十三条(八)"),
        ("payment_after_acceptance", date(2026, 3, 20), "老河口 第二十四条"),
    }
    assert {v.id: v.state for v in status.obligations}["unified_acceptance"] is \
        ObligationState.DONE  # recorded, not refused
    notices = ledger.escalate(NOW)
    assert {n.kind for n in notices} == {NoticeKind.VIOLATION}
    assert all(n.recipients == ["市测试局", "市城市运行管理中心"] for n in notices)
    assert ledger.escalate(NOW) == []  # once each
    # No data collection declared: no data quality report is needed.
    assert "third_party_data_quality" not in found


@pytest.mark.covers(
    "laohekou-2024:supervision_application",
    "laohekou-2024:unified_acceptance",
    "laohekou-2024:self_evaluation",
)
def test_design_consulting_is_outside_supervision_and_acceptance(calendar: WorkCalendar) -> None:
    """第十七条/第二十一条: 设计咨询、测评 services: no 统一监理, no 统一验收, no 自评价."""
    for work in ("design_consulting", "assessment"):
        proj = project(f"LHK-{work}", investment_wan=40, kind="service",
                       started_on=date(2025, 6, 3), facts={"work_type": work})
        ledger = ledger_for(Case(proj, [], {}), calendar,
                            [doc("review_opinion_issued", "2025-06-20"),
                             doc("tech_design_submitted", "2025-07-01"),
                             doc("tech_review_issued", "2025-07-18"),
                             doc("budget_review_done", "2025-08-08"),
                             doc("tender_awarded", "2025-09-26")])
        views = views_by_id(ledger)
        assert all(views[k].state is ObligationState.WAIVED for k in EXCLUDED), work
        assert ledger.finished(TODAY)  # the pack asks nothing more after the award
        with pytest.raises(Refused, match="not on this project's path"):
            ledger.check_document(doc("supervision_applied", "2025-09-30"), TODAY)


@pytest.mark.covers(
    "laohekou-2024:procurement_after_review",
    "laohekou-2024:procurement_after_approval",
    "laohekou-2024:approval_after_ocmc_opinion",
)
def test_procurement_out_of_order_breaks_the_gates(calendar: WorkCalendar) -> None:
    # Service path: an award before the budget review.
    early = [doc("review_opinion_issued", "2025-02-12"), doc("tender_awarded", "2025-03-03")]
    [breach] = ledger_for(SERVICE_PATH, calendar, early).status(NOW).breaches
    assert (breach.rule, breach.citation) == ("procurement_after_review", "老河口 第八条; 第十二条")
    assert "投资预算评审结果" in breach.detail
    # 发改 path: approved without the 城运中心's opinion, awarded before the approval.
    docs = [doc("design_submitted", "2025-06-20"), doc("tender_awarded", "2025-07-01"),
            doc("ndrc_approved", "2025-07-11")]
    found = {b.rule for b in ledger_for(PLATFORM_BREACHES, calendar, docs).status(NOW).breaches}
    assert found == {"procurement_after_approval", "approval_after_ocmc_opinion"}


@pytest.mark.covers(
    "laohekou-2024:trial_after_preliminary",
    "laohekou-2024:acceptance_after_trial",
    "laohekou-2024:user_report_first",
    "laohekou-2024:third_party_data_quality",
)
def test_trial_and_acceptance_order(calendar: WorkCalendar) -> None:
    """23(二): 初验 → trial; 23(五) user report and 23(八) data quality before acceptance."""
    head = [d for d in PLATFORM_FIXED.documents if d.on <= date(2024, 10, 15)]
    docs = [*head, doc("trial_run_started", "2025-04-21"),
            doc("preliminary_acceptance_passed", "2025-04-25"),
            doc("software_test_report", "2025-05-20"), doc("acceptance_passed", "2025-06-03")]
    found = {b.rule for b in ledger_for(PLATFORM_FIXED, calendar, docs).status(NOW).breaches}
    assert found == {"trial_after_preliminary", "user_report_first", "third_party_data_quality"}
    # An acceptance with no trial at all.
    docs = [*head, doc("preliminary_acceptance_passed", "2025-04-25"),
            doc("software_test_report", "2025-05-20"), doc("data_quality_report", "2025-05-22"),
            doc("user_report", "2025-05-26"), doc("acceptance_passed", "2025-06-03")]
    [breach] = ledger_for(PLATFORM_FIXED, calendar, docs).status(NOW).breaches
    assert breach.rule == "acceptance_after_trial"
    # Acceptance before 初验 is out of order: recorded, and its gate flags it (DESIGN §8).
    early = ledger_for(PLATFORM_FIXED, calendar, head)
    assert early.check_document(doc("acceptance_passed", "2025-06-03"), TODAY) is \
        RecordOutcome.ACCEPTED


@pytest.mark.covers("laohekou-2024:self_evaluation")
def test_self_evaluation_before_twelve_months_is_flagged(calendar: WorkCalendar) -> None:
    docs = [*SERVICE_PATH.documents, doc("self_evaluation_filed", "2026-10-19")]
    ledger = ledger_for(SERVICE_PATH, calendar, docs)
    status = ledger.status(NOW)
    [breach] = status.breaches
    assert (breach.rule, breach.citation) == ("self_evaluation", "老河口 第二十六条")
    assert "早于窗口开始日 2026-10-20" in breach.detail
    assert {v.id: v.state for v in status.obligations}["self_evaluation"] is \
        ObligationState.DONE
    on_day = ledger_for(SERVICE_PATH, calendar,
                        [*SERVICE_PATH.documents, doc("self_evaluation_filed", "2026-10-20")])
    assert on_day.status(NOW).breaches == [] and on_day.finished(TODAY)


@pytest.mark.covers(
    "laohekou-2024:warning",
    "laohekou-2024:overdue",
    "laohekou-2024:escalated",
    "laohekou-2024:supervision_application",
)
def test_a_late_supervision_application_climbs_the_ladder(calendar: WorkCalendar) -> None:
    """Award Fri 2024-09-27, due 10/10 (Sun 9/29, 9/30, 10/8, 10/9, 10/10)."""
    head = [d for d in PLATFORM_FIXED.documents if d.on <= date(2024, 9, 27)]
    ledger = ledger_for(PLATFORM_FIXED, calendar, head)
    fired: dict[str, tuple[date, list[str]]] = {}
    for day in (date(2024, 9, 29), date(2024, 9, 30), date(2024, 10, 10), date(2024, 10, 11),
                date(2024, 10, 15), date(2024, 10, 16), date(2024, 10, 17)):
        for n in ledger.escalate(datetime(day.year, day.month, day.day, 1, tzinfo=UTC)):
            fired[n.rung] = (day, n.recipients)
    # warning: 3 wd before 10/10 — 10/9, 10/8, 9/30 → at the start of 9/30 (the 国庆 week is
    # not counted); overdue at 24:00 on 10/10; escalated on the 5th working day after:
    # 10/11, Sat 10/12 (worked), 10/14, 10/15, 10/16 → at the start of 10/16.
    assert fired == {
        "warning": (date(2024, 9, 30), ["市测试局"]),
        "overdue": (date(2024, 10, 11), ["市测试局", "市城市运行管理中心"]),
        "escalated": (date(2024, 10, 16), ["市城市运行管理中心", "市财政局"]),
    }


def test_valid_for_five_years() -> None:
    """第三十条 自印发之日起施行，有效期5年: 2024-01-15 … 2029-01-14."""
    pack = load_pack("laohekou-2024")
    assert pack.validity_on(date(2024, 1, 15)) is None
    assert pack.validity_on(date(2029, 1, 14)) is None
    note = pack.validity_on(date(2029, 1, 15))
    assert note is not None and "expired on 2029-01-14" in note and "第三十条" in note
    assert pack.validity_on(date(2024, 1, 14)) == "laohekou-2024 takes effect on 2024-01-15"
