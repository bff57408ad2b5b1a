"""Three 九江 projects from launch notice to self-evaluation, with due days worked out by hand.

Every expected date below was counted on paper against the State Council arrangements
(2024: 端午 6/10, 中秋 9/15–17 with Sat 9/14 worked; 2025: 清明 4/4, 劳动节 5/1–5/5 with
Sun 4/27 worked, 端午 5/31–6/2, 国庆中秋 10/1–10/8 with Sun 9/28 and Sat 10/11 worked;
2026: 元旦 1/1–1/3 with Sun 1/4 worked, 中秋 9/25, 国庆 10/1–10/7 with Sun 9/20 and Sat 10/10
worked), not computed with shixian's calendar: the counting itself is under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from workflows.models import DocumentArrival, Project

D = date.fromisoformat


def doc(doc_type: str, on: str, **kw: str) -> DocumentArrival:
    extra = {k: D(v) if k == "until" else v for k, v in kw.items()}
    return DocumentArrival(type=doc_type, on=D(on), **extra)  # type: ignore[arg-type]


@dataclass
class Case:
    project: Project
    documents: list[DocumentArrival]
    due: dict[str, date]
    done_late: dict[str, int] = field(default_factory=dict)
    waived: set[str] = field(default_factory=set)
    notes: dict[str, str] = field(default_factory=dict)


def project(pid: str, **kw: object) -> Project:
    base: dict[str, object] = {
        "id": pid, "name": f"test project {pid}", "policy": "jiujiang-2024",
        "owner": "市测试局", "owner_type": "administrative", "category": "other",
        "kind": "build",
    }
    base.update(kw)
    return Project.model_validate(base)


# A: < 200万 build project — technical review, then budget (25 末段); 3-month trial, 10 wd.
SMALL_BUILD = Case(
    project=project("JJT-A", investment_wan=150, started_on=D("2025-03-03")),
    documents=[
        doc("tech_plan_submitted", "2025-03-03"),
        doc("fsr_tech_review_issued", "2025-03-20"),
        doc("budget_submitted", "2025-04-10"),
        doc("feedback_requested", "2025-04-22"),
        doc("feedback_returned", "2025-04-25"),
        doc("budget_approved", "2025-05-14"),
        doc("contract_signed", "2025-06-16"),
        doc("trial_run_started", "2025-09-01"),
        doc("final_acceptance_passed", "2025-12-19"),
        doc("completion_acceptance_applied", "2025-12-30"),
        doc("data_sharing_confirmed", "2026-01-20"),
        doc("security_confirmed", "2026-01-22"),
        doc("completion_acceptance_passed", "2026-02-10"),
        doc("self_evaluation_filed", "2026-09-15"),
    ],
    due={
        # 15 wd (shixian 运营默认) from the 技术方案报审 of 3/3 (v2: not the launch notice;
        # here the plan went in the day the notice arrived): Mar 4–7, 10–14, 17–21, 24.
        "small_tech_review": D("2025-03-24"),
        # 15 wd from 3/20: 3/21, 24–28, 31, 4/1–3 (4/4 清明), 4/7–11.
        "budget_submission": D("2025-04-11"),
        # 20 wd from 4/10 less the owner's feedback time 4/22–4/25: 8 used by 4/22, then
        # 12 from 4/25: Sun 4/27 (worked), 28–30, (5/1–5/5 off) 5/6–9, 5/12–15.
        "budget_approval": D("2025-05-15"),
        # 5 wd from 4/22: 23, 24, 25, Sun 27 (worked), 28.
        "feedback_return#1": D("2025-04-28"),
        # trial 3 months (below the 500万 limit for "other"): 9/1 → 12/1; 20 wd: Dec 2–29.
        "final_acceptance": D("2025-12-29"),
        # 10 wd from 12/19: 22–26, 29–31, (1/1–1/3 off) Sun 1/4 (worked), 1/5.
        "completion_application": D("2026-01-05"),
        # 12 months from 2026-02-10 → 2027-02-10: 补假 of a provisional 春节 → 2/11.
        "self_evaluation": D("2027-02-11"),
    },
    waived={"proposal_submission", "proposal_approval", "fsr_submission", "fsr_tech_review",
            "fsr_approval", "design_submission", "design_approval", "revision_resubmission"},
)

# B: 200–5000万 "other" project (merged proposal + FSR, no design), above the 500万 limit:
# 6-month trial and 30 wd to apply for completion acceptance, met thanks to an extension.
MERGED_OTHER = Case(
    project=project("JJT-B", investment_wan=800, started_on=D("2024-06-03")),
    documents=[
        doc("fsr_submitted", "2024-06-28"),
        doc("revision_requested", "2024-07-10"),
        doc("revision_resubmitted", "2024-07-22"),
        doc("fsr_tech_review_issued", "2024-07-30"),
        doc("fsr_approved", "2024-08-06"),
        doc("budget_submitted", "2024-08-27"),
        doc("budget_approved", "2024-09-20"),
        doc("contract_signed", "2024-11-01"),
        doc("trial_run_started", "2025-03-03"),
        doc("final_acceptance_passed", "2025-09-26"),
        doc("extension_granted", "2025-11-10", until="2025-11-28"),
        doc("completion_acceptance_applied", "2025-11-20"),
        doc("data_sharing_confirmed", "2025-12-01"),
        doc("security_confirmed", "2025-12-01"),
        doc("completion_acceptance_passed", "2025-12-15"),
        doc("self_evaluation_filed", "2026-07-01"),
    ],
    due={
        # 20 wd from the launch notice 6/3: 6/4–7, (6/10 端午) 6/11–14, 17–21, 24–28, 7/1–2.
        "fsr_submission": D("2024-07-02"),
        # 15 wd from 6/28 less the revision 7/10–7/22: 8 used by 7/10, 7 more: 7/23–31.
        "fsr_tech_review": D("2024-07-31"),
        # 6 wd from 7/30: 7/31, 8/1–2, 8/5–7.
        "fsr_approval": D("2024-08-07"),
        # 15 wd from 8/6: 8/7–9, 12–16, 19–23, 26–27.
        "budget_submission": D("2024-08-27"),
        # 20 wd from 8/27: 8/28–30, 9/2–6, 9–13, Sat 9/14 (worked), (15–17 中秋) 18–20, 23–25.
        "budget_approval": D("2024-09-25"),
        # 6-month trial 3/3 → 9/3; 20 wd: 9/4–5, 8–12, 15–19, 22–26, Sun 9/28, 29–30.
        "final_acceptance": D("2025-09-30"),
        # 30 wd from 9/26 would end 2025-11-13; the extension moves it to 11/28.
        "completion_application": D("2025-11-28"),
        # 12 months from 2025-12-15.
        "self_evaluation": D("2026-12-15"),
    },
    # v2: the 20-wd cap of 25(三) bounds 初步设计 revisions only; this FSR revision
    # (7/10–7/22) pauses the review clocks and has no due day of its own (v1: 2024-08-07).
    waived={"proposal_submission", "proposal_approval", "design_submission",
            "design_approval", "revision_resubmission", "small_tech_review"},
)

# C: ≥ 5000万 infrastructure project of a state-owned enterprise (第二十六条: no 项目建议书,
# approvals by 市国资委); 6-month trial; still inside its self-evaluation window's wait.
STATE_OWNED_INFRA = Case(
    project=project("JJT-C", investment_wan=5200, owner_type="state_owned",
                    category="infrastructure", started_on=D("2025-03-03")),
    documents=[
        doc("fsr_submitted", "2025-03-28"),
        doc("fsr_tech_review_issued", "2025-04-17"),
        doc("fsr_approved", "2025-04-24"),
        doc("design_submitted", "2025-06-05"),
        doc("design_approved", "2025-06-25"),
        doc("budget_submitted", "2025-07-14"),
        doc("budget_approved", "2025-08-08"),
        doc("contract_signed", "2025-10-20"),
        doc("trial_run_started", "2026-02-02"),
        doc("final_acceptance_passed", "2026-08-28"),
        doc("completion_acceptance_applied", "2026-10-09"),
        doc("data_sharing_confirmed", "2026-10-20"),
        doc("security_confirmed", "2026-10-21"),
        doc("completion_acceptance_passed", "2026-11-02"),
    ],
    due={
        # 20 wd from 3/3: 3/4–7, 10–14, 17–21, 24–28, 31.
        "fsr_submission": D("2025-03-31"),
        # 15 wd from 3/28: 3/31, 4/1–3, (4/4 清明) 4/7–11, 14–18, 21.
        "fsr_tech_review": D("2025-04-21"),
        # 6 wd from 4/17: 4/18, 21–25.
        "fsr_approval": D("2025-04-25"),
        # 30 wd from 4/24: 4/25, Sun 4/27, 28–30, 5/6–9, 12–16, 19–23, 26–30, (端午) 6/3–6,
        # 6/9–10.
        "design_submission": D("2025-06-10"),
        # 15 wd from 6/5: 6/6, 9–13, 16–20, 23–26.
        "design_approval": D("2025-06-26"),
        # 15 wd from 6/25: 6/26–27, 6/30–7/4, 7–11, 14–16.
        "budget_submission": D("2025-07-16"),
        # 20 wd from 7/14: 7/15–18, 21–25, 28–8/1, 8/4–8, 8/11.
        "budget_approval": D("2025-08-11"),
        # trial 6 months 2/2 → Sun 8/2 (a duration's end, not a deadline: not moved to a
        # working day — rule engine v2; v1 moved it to Mon 8/3 and got 8/31);
        # 20 wd from 8/2: 8/3–7, 10–14, 17–21, 24–28.
        "final_acceptance": D("2026-08-28"),
        # 30 wd from 8/28: 8/31, 9/1–4, 7–11, 14–18, Sun 9/20, 21–24, (9/25 中秋) 28–30,
        # (10/1–7) 10/8–9, Sat 10/10, 12–15.
        "completion_application": D("2026-10-15"),
        # 12 months from 2026-11-02 (a provisional 2027 Tuesday).
        "self_evaluation": D("2027-11-02"),
    },
    waived={"proposal_submission", "proposal_approval", "small_tech_review"},
)

# Window of C's self-evaluation: 6 months → Sun 2027-05-02 inside a provisional 劳动节
# (5/1–5/2 with 补假 5/3–5/4) → opens 2027-05-05.
STATE_OWNED_SELF_EVALUATION_OPENS = D("2027-05-05")

ACTORS_C = {"fsr_approval": "sasac", "design_approval": "sasac", "budget_approval": "sasac"}

ALL_CASES = [SMALL_BUILD, MERGED_OTHER, STATE_OWNED_INFRA]
