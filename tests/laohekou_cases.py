"""Three 老河口 projects (河政规〔2024〕1号), with every due day worked out by hand.

Counted on paper against the State Council arrangements, not with shixian's calendar:
2024: 国庆 10/1–10/7 with Sun 9/29 and Sat 10/12 worked. 2025: 劳动节 5/1–5/5 with Sun 4/27
worked; 国庆中秋 10/1–10/8 with Sun 9/28 and Sat 10/11 worked. 2027 and 2028 are provisional
(statutory holidays only); the days used below are ordinary weekdays or weekends.

The text's numbers: 第十八条 5 working days from the award to the supervision application;
第二十三条(二) a trial of at least one month; 第二十六条 self-evaluation 12 to 24 months after
acceptance (a window; month counts end on the corresponding day, moved to the next working day).
"""

from __future__ import annotations

from datetime import date

from tests.jiujiang_cases import Case, doc
from workflows.models import Project

D = date.fromisoformat
PACK = "laohekou-2024"

PREPARATORY = ("review_opinion", "design_submission", "ndrc_approval", "tech_design_submission",
               "tech_review", "budget_review")


def project(pid: str, **kw: object) -> Project:
    base: dict[str, object] = {
        "id": pid, "name": f"老河口 test project {pid}", "policy": PACK,
        "owner": "市测试局", "owner_type": "administrative", "category": "other",
        "kind": "build",
    }
    base.update(kw)
    return Project.model_validate(base)


# A: a platform project with new fixed-asset investment and data collection: the 发改 path of
# 第八条, the award on the Friday before 国庆 2024, supervision applied inside 5 wd, 初验 →
# a month's trial → third-party reports → unified acceptance → report, score, payment, and the
# self-evaluation 13 months after acceptance.
PLATFORM_FIXED = Case(
    project=project("LHK-A", investment_wan=680, started_on=D("2024-03-01"),
                    facts={"new_fixed_assets": True, "platform": True,
                           "data_collection": True}),
    documents=[
        doc("design_submitted", "2024-04-15"),
        doc("ocmc_opinion_given", "2024-05-20"),
        doc("ndrc_approved", "2024-05-31"),
        doc("tech_design_submitted", "2024-06-14"),
        doc("tech_review_issued", "2024-07-12"),
        doc("budget_review_done", "2024-08-23"),
        doc("tender_awarded", "2024-09-27"),
        doc("supervision_applied", "2024-10-09"),
        doc("supervisor_assigned", "2024-10-15"),
        doc("preliminary_acceptance_passed", "2025-04-25"),
        doc("trial_run_started", "2025-04-28"),
        doc("software_test_report", "2025-05-20"),
        doc("data_quality_report", "2025-05-22"),
        doc("user_report", "2025-05-26"),
        doc("acceptance_passed", "2025-06-03"),
        doc("acceptance_report_filed", "2025-06-10"),
        doc("supervisor_scored", "2025-06-12"),
        doc("subsequent_payment", "2025-07-01"),
        doc("self_evaluation_filed", "2026-07-15"),
    ],
    due={
        # 5 wd from Fri 2024-09-27: Sun 9/29 (worked), Mon 9/30, (10/1–7 国庆) 10/8, 10/9, 10/10.
        "supervision_application": D("2024-10-10"),
        # 24 months from Tue 2025-06-03 → Thu 2027-06-03 (provisional year, a weekday).
        "self_evaluation": D("2027-06-03"),
    },
    waived={"review_opinion"},
    notes={
        # 12 months from 2025-06-03 → Wed 2026-06-03, a working day: the window opens then.
        "self_evaluation.opens": "2026-06-03",
        # trial from Mon 4/28 + 1 month = Wed 5/28; accepted 6/3: no breach.
        "trial_run_minimum": "2025-05-28",
    },
)

# B: a software service bought without fixed-asset investment (第八条's 审查意见 path), awarded
# on the Friday before 劳动节 2025, supervision applied one working day late; accepted
# 2025-10-20, the self-evaluation window is open today.
SERVICE_PATH = Case(
    project=project("LHK-B", investment_wan=150, kind="service", started_on=D("2025-01-06")),
    documents=[
        doc("review_opinion_issued", "2025-02-12"),
        doc("tech_design_submitted", "2025-02-24"),
        doc("tech_review_issued", "2025-03-14"),
        doc("budget_review_done", "2025-04-02"),
        doc("tender_awarded", "2025-04-25"),
        doc("supervision_applied", "2025-05-07"),
        doc("supervisor_assigned", "2025-05-12"),
        doc("preliminary_acceptance_passed", "2025-09-05"),
        doc("trial_run_started", "2025-09-08"),
        doc("user_report", "2025-10-14"),
        doc("acceptance_passed", "2025-10-20"),
        doc("acceptance_report_filed", "2025-10-24"),
        doc("supervisor_scored", "2025-10-27"),
    ],
    due={
        # 5 wd from Fri 2025-04-25: Sun 4/27 (worked), 4/28, 4/29, 4/30, (5/1–5 劳动节) 5/6;
        # applied Wed 5/7: one working day late.
        "supervision_application": D("2025-05-06"),
        # 24 months from Mon 2025-10-20 → Wed 2027-10-20 (provisional, a weekday).
        "self_evaluation": D("2027-10-20"),
    },
    done_late={"supervision_application": 1},
    waived={"design_submission", "ndrc_approval"},
    notes={
        # 12 months from 2025-10-20 → Tue 2026-10-20, a working day.
        "self_evaluation.opens": "2026-10-20",
        # trial from Mon 9/8 + 1 month = Wed 10/8 (inside 国庆, not moved); accepted 10/20.
        "trial_run_minimum": "2025-10-08",
    },
)

# C: a platform project (no data collection) awarded on the last working day before 国庆中秋
# 2025, then accepted too early: before its month of trial was over, with no third-party
# software test report, and a payment of the remaining fees before the acceptance — all
# recorded, all flagged (第二十三条(二)(八), 第二十四条).
PLATFORM_BREACHES = Case(
    project=project("LHK-C", investment_wan=420, started_on=D("2025-06-03"),
                    facts={"new_fixed_assets": True, "platform": True}),
    documents=[
        doc("design_submitted", "2025-06-20"),
        doc("ocmc_opinion_given", "2025-07-04"),
        doc("ndrc_approved", "2025-07-11"),
        doc("tech_design_submitted", "2025-07-21"),
        doc("tech_review_issued", "2025-08-08"),
        doc("budget_review_done", "2025-09-05"),
        doc("tender_awarded", "2025-09-30"),
        doc("supervision_applied", "2025-10-13"),
        doc("supervisor_assigned", "2025-10-17"),
        doc("preliminary_acceptance_passed", "2026-03-02"),
        doc("trial_run_started", "2026-03-02"),
        doc("subsequent_payment", "2026-03-20"),
        doc("user_report", "2026-03-25"),
        doc("acceptance_passed", "2026-03-27"),
        doc("acceptance_report_filed", "2026-04-03"),
        doc("supervisor_scored", "2026-04-08"),
    ],
    due={
        # 5 wd from Tue 2025-09-30: (10/1–8 国庆中秋) 10/9, 10/10, Sat 10/11 (worked),
        # 10/13, 10/14; applied 10/13 — on time.
        "supervision_application": D("2025-10-14"),
        # 24 months from Fri 2026-03-27 → Mon 2028-03-27 (provisional, a weekday).
        "self_evaluation": D("2028-03-27"),
    },
    waived={"review_opinion"},
    notes={
        # 12 months from Fri 2026-03-27 → Sat 2027-03-27 → opens Mon 2027-03-29.
        "self_evaluation.opens": "2027-03-29",
        # trial from Mon 3/2 + 1 month = Thu 4/2; accepted Fri 3/27: before it.
        "trial_run_minimum": "2026-04-02",
    },
)

ALL_CASES = [PLATFORM_FIXED, SERVICE_PATH, PLATFORM_BREACHES]
