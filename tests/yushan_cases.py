"""Three 玉山 projects under the draft (征求意见稿), worked out by hand from the text.

The draft sets no time limit on any project duty (第六条's 9月底 is the county's yearly call,
not a project duty), so no case has a due day: what is worked out by hand is which duties apply
on each path by amount (第七条第二款, 第八条: 50 / 100 / 200万, 含; custom development) and which
facts break the order (第七条第三款) or a bound (第九条, 第十二条). Every duty below is expected
open with no due day until its document arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from policies.model import FactValue
from workflows.models import DocumentArrival, Project

D = date.fromisoformat
POLICY = "yushan-draft"

EVERY_DUTY = {"ex_ante_evaluation", "resource_catalogue", "project_approval",
              "tech_plan_submission", "expert_review", "tech_review", "cyber_filing_submission",
              "cyber_filing_review", "demand_survey", "procurement", "acceptance",
              "performance_evaluation"}


def doc(doc_type: str, on: str, **facts: FactValue) -> DocumentArrival:
    return DocumentArrival(type=doc_type, on=D(on), facts=facts)


def project(pid: str, **kw: object) -> Project:
    base: dict[str, object] = {
        "id": pid, "name": f"玉山测试项目 {pid}", "policy": POLICY, "owner": "县测试局",
        "owner_type": "administrative", "category": "other", "kind": "build",
    }
    base.update(kw)
    return Project.model_validate(base)


@dataclass
class YushanCase:
    project: Project
    documents: list[DocumentArrival]
    applies: set[str]  # duties on this project's path; the others are waived
    breaches: set[str] = field(default_factory=set)  # rule ids the facts break


# A: a 30万 O&M (service) project outside the 集采目录: below 50万 there is no technical
# review and the purchase is on the 电子卖场 (第八条第一款); no 事前绩效评估 (not 新建, 第十五条);
# no survey (< 200万, not custom). O&M contract 3 years (= the cap of 第九条), annual fee 2.5万
# on a 40万 system = 6.25% (within 10%); acceptance group of 3 (= the minimum of 第十二条).
SMALL_SERVICE = YushanCase(
    project=project("YST-A", kind="service", investment_wan=30, started_on=D("2025-03-03")),
    documents=[
        doc("resource_catalogue_submitted", "2025-03-10"),
        doc("project_approved", "2025-03-20"),
        doc("cyber_filing_submitted", "2025-03-25"),
        doc("cyber_filing_reviewed", "2025-04-08"),
        doc("procurement_started", "2025-04-15"),
        doc("contract_signed", "2025-05-06", om_contract_years=3, annual_om_fee_wan=2.5,
            construction_cost_wan=40),
        doc("construction_completed", "2025-06-30"),
        doc("acceptance_passed", "2025-07-10", acceptance_group_size=3),
        doc("formal_use_started", "2025-07-11"),
        doc("final_payment_made", "2025-07-20"),
        doc("performance_evaluated", "2025-12-15"),
    ],
    applies={"resource_catalogue", "project_approval", "cyber_filing_submission",
             "cyber_filing_review", "procurement", "acceptance", "performance_evaluation"},
)

# B: a 120万 build project with custom development: expert review (≥ 100万), technical review,
# demand survey (custom development, although < 200万), 事前绩效评估 (新建). O&M 2 years, 10万 a
# year on 120万 = 8.3%; acceptance group of 5. Every step in order: no breach.
CUSTOM_BUILD = YushanCase(
    project=project("YST-B", investment_wan=120, started_on=D("2025-09-01"),
                    facts={"custom_development": True}),
    documents=[
        doc("ex_ante_evaluation_done", "2025-09-10"),
        doc("resource_catalogue_submitted", "2025-09-12"),
        doc("project_approved", "2025-09-26"),
        doc("tech_plan_submitted", "2025-10-13"),
        doc("expert_review_concluded", "2025-10-24"),
        doc("tech_review_passed", "2025-10-30"),
        doc("cyber_filing_submitted", "2025-11-03"),
        doc("demand_survey_completed", "2025-11-14"),
        doc("cyber_filing_reviewed", "2025-11-17"),
        doc("procurement_started", "2025-11-24"),
        doc("contract_signed", "2025-12-22", om_contract_years=2, annual_om_fee_wan=10),
        doc("construction_completed", "2026-06-30"),
        doc("acceptance_passed", "2026-07-15", acceptance_group_size=5),
        doc("formal_use_started", "2026-07-20"),
        doc("final_payment_made", "2026-08-05"),
        doc("performance_evaluated", "2026-10-30"),
    ],
    applies=EVERY_DUTY,
)

# C: a 260万 build project that breaks the draft six ways: 立项 before the 信息资源目录 (第十一条),
# procurement before the 备案审查 (第七条第三款), an O&M term of 5 years (> 3) and a fee of 30万
# a year on 260万 (11.5% > 10%, 第九条), use before acceptance (第十三条) and an acceptance group
# of 2 (< 3, 第十二条). Still open on 2026-11-23: the performance evaluation (no due day).
BREACHES = YushanCase(
    project=project("YST-C", investment_wan=260, started_on=D("2026-02-02")),
    documents=[
        doc("ex_ante_evaluation_done", "2026-02-10"),
        doc("project_approved", "2026-03-02"),
        doc("resource_catalogue_submitted", "2026-03-05"),
        doc("tech_plan_submitted", "2026-03-10"),
        doc("expert_review_concluded", "2026-03-25"),
        doc("tech_review_passed", "2026-03-31"),
        doc("cyber_filing_submitted", "2026-04-03"),
        doc("demand_survey_completed", "2026-04-10"),
        doc("procurement_started", "2026-04-13"),
        doc("cyber_filing_reviewed", "2026-04-20"),
        doc("contract_signed", "2026-05-18", om_contract_years=5, annual_om_fee_wan=30),
        doc("construction_completed", "2026-09-30"),
        doc("formal_use_started", "2026-10-12"),
        doc("acceptance_passed", "2026-10-20", acceptance_group_size=2),
    ],
    applies=EVERY_DUTY,
    breaches={"catalogue_before_approval", "procurement_after_steps", "om_contract_term",
              "om_fee_ratio_build", "use_after_acceptance", "acceptance_group"},
)

ALL_CASES = [SMALL_SERVICE, CUSTOM_BUILD, BREACHES]

# The paths by amount, worked from 第七条第二款 and 第八条 (以上/含 include the number):
# investment, custom development, in the 集采目录 → the review-path duties that apply.
REVIEW_DUTIES = {"tech_plan_submission", "tech_review", "expert_review", "demand_survey"}
PATHS: list[tuple[float, bool, bool, set[str]]] = [
    (30, False, False, set()),                                   # 电子卖场, no review
    (30, False, True, {"tech_plan_submission", "tech_review"}),  # 集采目录: review below 50万
    (30, True, False, {"demand_survey"}),                        # custom: survey at any amount
    (50, False, False, {"tech_plan_submission", "tech_review"}),  # 50万 (含): review by the centre
    (99.99, False, False, {"tech_plan_submission", "tech_review"}),
    (100, False, False, {"tech_plan_submission", "tech_review", "expert_review"}),  # 含100万
    (199.99, False, False, {"tech_plan_submission", "tech_review", "expert_review"}),
    (200, False, False, REVIEW_DUTIES),                          # 200万 (含): survey too
]
