"""The 玉山 draft (征求意见稿) applied by the ledger: paths by amount, no invented time limits,
the order of 第七条 as gates, the bounds of 第九条 and 第十二条 as checks, and the draft status."""

from __future__ import annotations

from datetime import date

import pytest

from calendars import WorkCalendar
from tests.ledger_harness import NOW, TODAY, Jurisdiction, views_by_id
from tests.yushan_cases import (
    ALL_CASES,
    BREACHES,
    CUSTOM_BUILD,
    EVERY_DUTY,
    PATHS,
    REVIEW_DUTIES,
    SMALL_SERVICE,
    YushanCase,
    doc,
    project,
)
from workflows.models import NoticeKind, ObligationState

JURISDICTION = Jurisdiction("yushan-draft", in_date_order=True, accepted_only=False)
calendar = JURISDICTION.calendar_fixture()
ledger_for = JURISDICTION.ledger_for


@pytest.mark.covers(
    "yushan-draft:acceptance",
    "yushan-draft:cyber_filing_review",
    "yushan-draft:cyber_filing_submission",
    "yushan-draft:demand_survey",
    "yushan-draft:ex_ante_evaluation",
    "yushan-draft:expert_review",
    "yushan-draft:performance_evaluation",
    "yushan-draft:procurement",
    "yushan-draft:project_approval",
    "yushan-draft:resource_catalogue",
    "yushan-draft:tech_plan_submission",
    "yushan-draft:tech_review",
)
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.project.id)
def test_duties_on_each_path(case: YushanCase, calendar: WorkCalendar) -> None:
    got = views_by_id(ledger_for(case, calendar))
    assert set(got) == EVERY_DUTY
    assert {k for k, v in got.items() if v.state is not ObligationState.WAIVED} == case.applies
    assert all(v.citation.startswith("玉山 第") for v in got.values())


@pytest.mark.parametrize(("investment", "custom", "catalogue", "expected"), PATHS,
                         ids=[f"{p[0]}万{'-custom' if p[1] else ''}{'-catalogue' if p[2] else ''}"
                              for p in PATHS])
@pytest.mark.covers(
    "yushan-draft:demand_survey",
    "yushan-draft:expert_review",
    "yushan-draft:tech_plan_submission",
    "yushan-draft:tech_review",
)
def test_paths_by_amount(investment: float, custom: bool, catalogue: bool, expected: set[str],
                         calendar: WorkCalendar) -> None:
    """第七条第二款 / 第八条: 50万 (含) review, 100万 (含) experts, 200万 (含) or custom survey."""
    proj = project("YST-P", investment_wan=investment, started_on=date(2026, 3, 2),
                   facts={"custom_development": custom, "in_central_catalogue": catalogue})
    got = views_by_id(ledger_for(YushanCase(proj, [], set()), calendar))
    applying = {k for k in REVIEW_DUTIES if got[k].state is not ObligationState.WAIVED}
    assert applying == expected


@pytest.mark.covers(
    "yushan-draft:acceptance",
    "yushan-draft:cyber_filing_review",
    "yushan-draft:cyber_filing_submission",
    "yushan-draft:demand_survey",
    "yushan-draft:ex_ante_evaluation",
    "yushan-draft:expert_review",
    "yushan-draft:performance_evaluation",
    "yushan-draft:procurement",
    "yushan-draft:project_approval",
    "yushan-draft:resource_catalogue",
    "yushan-draft:tech_plan_submission",
    "yushan-draft:tech_review",
)
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.project.id)
def test_no_duty_has_a_due_day(case: YushanCase, calendar: WorkCalendar) -> None:
    """The draft gives no project duty a time limit, and shixian invents none."""
    pack = JURISDICTION.pack
    assert all(o.no_limit and o.limit is None and o.due_by is None for o in pack.obligations)
    assert pack.recurring == [] and pack.minimums == []
    ledger = ledger_for(case, calendar, docs=[])
    for view in ledger.views(TODAY):
        assert view.due_on is None, view.id
        assert view.limit is not None and view.limit.startswith("无时限"), view.id
    assert ledger.escalate(NOW) == []
    assert ledger.next_wake(NOW) is None


@pytest.mark.covers(
    "yushan-draft:acceptance",
    "yushan-draft:cyber_filing_review",
    "yushan-draft:cyber_filing_submission",
    "yushan-draft:demand_survey",
    "yushan-draft:ex_ante_evaluation",
    "yushan-draft:expert_review",
    "yushan-draft:performance_evaluation",
    "yushan-draft:procurement",
    "yushan-draft:project_approval",
    "yushan-draft:resource_catalogue",
    "yushan-draft:tech_plan_submission",
    "yushan-draft:tech_review",
)
@pytest.mark.parametrize("case", [SMALL_SERVICE, CUSTOM_BUILD], ids=lambda c: c.project.id)
def test_whole_lives_in_order_have_no_breach(case: YushanCase, calendar: WorkCalendar) -> None:
    ledger = ledger_for(case, calendar)
    status = ledger.status(NOW)
    assert status.breaches == []
    assert ledger.finished(TODAY) and status.stage == "evaluated"
    assert status.policy_status == "draft"
    assert status.policy_note is not None and "征求意见稿" in status.policy_note


@pytest.mark.covers(
    "yushan-draft:catalogue_before_approval",
    "yushan-draft:procurement_after_steps",
    "yushan-draft:om_contract_term",
    "yushan-draft:om_fee_ratio_build",
    "yushan-draft:use_after_acceptance",
    "yushan-draft:acceptance_group",
)
def test_breaches_of_order_and_bounds(calendar: WorkCalendar) -> None:
    ledger = ledger_for(BREACHES, calendar)
    status = ledger.status(NOW)
    assert {b.rule for b in status.breaches} == BREACHES.breaches
    by_rule = {b.rule: b for b in status.breaches}
    assert by_rule["procurement_after_steps"].citation == \
        "玉山 第七条第三款; 第八条第一款; 第十六条"
    assert "县委网信办备案审查完成" in by_rule["procurement_after_steps"].detail
    assert by_rule["om_contract_term"].on == date(2026, 5, 18)  # stated by the contract
    assert "5 超过上限 3" in by_rule["om_contract_term"].detail
    assert "2 低于下限 3" in by_rule["acceptance_group"].detail
    notices = ledger.escalate(NOW)
    assert {n.kind for n in notices} == {NoticeKind.VIOLATION}  # no rungs: no due days
    assert len(notices) == 6
    assert all(set(n.recipient_actors) == {"owner", "big_data_center", "finance"}
               for n in notices)
    assert not ledger.finished(TODAY)  # the performance evaluation is open, no due day
    assert {v.id: v for v in status.obligations}["performance_evaluation"].state is \
        ObligationState.OPEN


@pytest.mark.covers(
    "yushan-draft:tech_review_after_approval",
    "yushan-draft:expert_review_in_opinion",
    "yushan-draft:filing_after_review",
    "yushan-draft:filing_after_approval",
    "yushan-draft:procurement_after_filing",
    "yushan-draft:demand_survey_before_procurement",
    "yushan-draft:payment_after_acceptance",
)
def test_gates_in_the_order_of_article_7(calendar: WorkCalendar) -> None:
    """立项 → 技术评审 (experts ≥ 100万) → 网信办备案审查 → (需求调查) → 采购; 付款 after 验收."""
    big = project("YST-G", investment_wan=150, started_on=date(2026, 3, 2))
    docs = [doc("resource_catalogue_submitted", "2026-03-03"),
            doc("project_approved", "2026-03-04"),
            doc("tech_plan_submitted", "2026-03-05"),
            doc("cyber_filing_submitted", "2026-03-06"),      # before the review: breach
            doc("tech_review_passed", "2026-03-09"),          # without experts: breach
            doc("expert_review_concluded", "2026-03-10"),
            doc("cyber_filing_reviewed", "2026-03-11"),
            doc("procurement_started", "2026-03-12"),
            doc("contract_signed", "2026-03-20"),
            doc("construction_completed", "2026-06-01"),
            doc("final_payment_made", "2026-06-02"),          # before acceptance: breach
            doc("acceptance_passed", "2026-06-05", acceptance_group_size=3)]
    ledger = ledger_for(YushanCase(big, [], set()), calendar, docs=docs)
    assert sorted(b.rule for b in ledger.status(NOW).breaches) == [
        "expert_review_in_opinion", "filing_after_review", "payment_after_acceptance"]
    # Custom development: procurement before the survey (第八条第二款).
    custom = project("YST-S", investment_wan=60, started_on=date(2026, 3, 2),
                     facts={"custom_development": True})
    docs = [doc("resource_catalogue_submitted", "2026-03-03"),
            doc("project_approved", "2026-03-04"),
            doc("tech_plan_submitted", "2026-03-05"), doc("tech_review_passed", "2026-03-09"),
            doc("cyber_filing_submitted", "2026-03-10"), doc("cyber_filing_reviewed", "2026-03-11"),
            doc("procurement_started", "2026-03-12"), doc("demand_survey_completed", "2026-03-13")]
    ledger = ledger_for(YushanCase(custom, [], set()), calendar, docs=docs)
    assert [b.rule for b in ledger.status(NOW).breaches] == ["demand_survey_before_procurement"]
    # Below 50万: no review owed, but 备案审查 still before procurement.
    small = project("YST-E", investment_wan=20, started_on=date(2026, 3, 2))
    docs = [doc("resource_catalogue_submitted", "2026-03-03"),
            doc("project_approved", "2026-03-04"),
            doc("cyber_filing_submitted", "2026-03-05"), doc("procurement_started", "2026-03-06"),
            doc("cyber_filing_reviewed", "2026-03-09")]
    ledger = ledger_for(YushanCase(small, [], set()), calendar, docs=docs)
    assert [b.rule for b in ledger.status(NOW).breaches] == ["procurement_after_filing"]


@pytest.mark.covers("yushan-draft:om_fee_ratio_service")
def test_service_fee_is_measured_on_the_system_maintained(calendar: WorkCalendar) -> None:
    """第九条: an O&M project's fee against the 建设成本 of the system it maintains."""
    docs = [d for d in SMALL_SERVICE.documents if d.type != "contract_signed"]
    docs.append(doc("contract_signed", "2025-05-06", om_contract_years=1,
                    annual_om_fee_wan=4.5, construction_cost_wan=40))  # 11.25% > 10%
    ledger = ledger_for(SMALL_SERVICE, calendar, docs=docs)
    [breach] = ledger.status(NOW).breaches
    assert breach.rule == "om_fee_ratio_service" and breach.citation == "玉山 第九条"


@pytest.mark.covers("yushan-draft:tech_plan_after_approval")
@pytest.mark.covers("yushan-draft:tech_review_after_approval")
def test_tech_plan_before_approval_is_a_recorded_breach(calendar: WorkCalendar) -> None:
    """第八条第一款 '通过县发改委审批后…提交技术性方案': a 技术性方案 (and its 技术评审)
    before 立项 is recorded, and both breaches are flagged — never refused."""
    proj = project("YST-T", investment_wan=80, started_on=date(2026, 3, 2))
    docs = [doc("resource_catalogue_submitted", "2026-03-03"),
            doc("tech_plan_submitted", "2026-03-04"), doc("tech_review_passed", "2026-03-05"),
            doc("project_approved", "2026-03-06")]
    ledger = ledger_for(YushanCase(proj, [], set()), calendar, docs=docs)
    assert [b.rule for b in ledger.status(NOW).breaches] == ["tech_plan_after_approval",
                                                            "tech_review_after_approval"]


def test_the_draft_says_it_is_a_draft() -> None:
    pack = JURISDICTION.pack
    assert pack.status == "draft" and "征求意见稿" in pack.title
    note = pack.validity_on(date(2026, 11, 23))
    assert note is not None and "征求意见稿" in note
    assert pack.documents[pack.starts_with].title.endswith("（征求意见稿）")
