"""Three 上饶 projects (饶府办发〔2020〕6号), with every due day worked out by hand.

Counted on paper against the State Council arrangements, not with shixian's calendar:
2024: 元旦 1/1; 清明 4/4–4/6 with Sun 4/7 worked; 劳动节 5/1–5/5; 端午 6/10; 中秋 9/15–9/17;
国庆 10/1–10/7 with Sun 9/29 and Sat 10/12 worked. 2025: 元旦 1/1; 清明 4/4–4/6; 劳动节
5/1–5/5 with Sun 4/27 worked; 端午 5/31–6/2; 国庆中秋 10/1–10/8 with Sun 9/28 and Sat 10/11
worked. 2026: 元旦 1/1–1/3 with Sun 1/4 worked.

The text's numbers: 第十六条 7 working days after each quarter; 第二十五条 the quarter's last
day (季度末, moved to the next working day when it is a rest day: 2024-03-31 and 2024-06-30 are
Sundays); 第十七条 half a year after the planned completion; 第十八条 a trial of at least one
month; 第二十三条 31 December.
"""

from __future__ import annotations

from datetime import date

from tests.jiujiang_cases import Case, doc
from workflows.models import Project

D = date.fromisoformat
PACK = "shangrao-2020"


def project(pid: str, **kw: object) -> Project:
    base: dict[str, object] = {
        "id": pid, "name": f"上饶 test project {pid}", "policy": PACK,
        "owner": "市测试局", "owner_type": "administrative", "category": "other",
        "kind": "build",
    }
    base.update(kw)
    return Project.model_validate(base)


# A: a 12-month build project finished 8 months late: every quarter reported on time, the
# 逾期半年以上 report (第十七条) arises on 2025-06-30, trial ≥ 1 month, 初验 → 竣工验收 → 存档.
DELAYED_BUILD = Case(
    project=project("SR-A", investment_wan=900, planned_months=12, started_on=D("2023-12-20"),
                    facts={"planned_completion_on": D("2024-12-31"), "free_om_years": 3}),
    documents=[
        doc("contract_signed", "2024-01-10"),
        doc("funds_report_filed", "2024-04-01"),
        doc("progress_report_filed", "2024-04-08"),
        doc("funds_report_filed", "2024-06-28"),
        doc("progress_report_filed", "2024-07-05"),
        doc("funds_report_filed", "2024-09-27"),
        doc("progress_report_filed", "2024-10-14"),
        doc("funds_report_filed", "2024-12-27"),
        doc("progress_report_filed", "2025-01-09"),
        doc("funds_report_filed", "2025-03-28"),
        doc("progress_report_filed", "2025-04-09"),
        doc("funds_report_filed", "2025-06-27"),
        doc("overdue_reported", "2025-07-03"),
        doc("progress_report_filed", "2025-07-08"),
        doc("construction_completed", "2025-08-15"),
        doc("trial_run_started", "2025-08-18"),
        doc("trial_evaluation_issued", "2025-09-19"),
        doc("funds_report_filed", "2025-09-29"),
        doc("progress_report_filed", "2025-10-16"),
        doc("preliminary_acceptance_passed", "2025-10-20"),
        doc("completion_acceptance_applied", "2025-10-27"),
        doc("completion_acceptance_passed", "2025-11-20"),
        doc("acceptance_archive_filed", "2025-12-05"),
    ],
    due={
        # 第十六条, 7 wd after each quarter (the contract's quarter 2024Q1 is due):
        # 2024Q1 ends Sun 3/31: 4/1, 4/2, 4/3, (4/4–6 清明) Sun 4/7 worked, 4/8, 4/9, 4/10.
        "quarterly_progress@2024Q1": D("2024-04-10"),
        # 2024Q2 ends 6/30: 7/1–7/5, 7/8, 7/9.
        "quarterly_progress@2024Q2": D("2024-07-09"),
        # 2024Q3 ends 9/30: (10/1–7 国庆) 10/8, 9, 10, 11, Sat 10/12 worked, 10/14, 10/15.
        "quarterly_progress@2024Q3": D("2024-10-15"),
        # 2024Q4 ends 12/31: (1/1 元旦) 1/2, 3, 6, 7, 8, 9, 10.
        "quarterly_progress@2024Q4": D("2025-01-10"),
        # 2025Q1 ends 3/31: 4/1, 2, 3, (4/4–6 清明) 4/7, 8, 9, 10.
        "quarterly_progress@2025Q1": D("2025-04-10"),
        # 2025Q2 ends 6/30: 7/1–7/4, 7/7, 8, 9.
        "quarterly_progress@2025Q2": D("2025-07-09"),
        # 2025Q3 ends 9/30: (10/1–8) 10/9, 10, Sat 10/11 worked, 10/13, 14, 15, 16.
        "quarterly_progress@2025Q3": D("2025-10-16"),
        # 第二十五条 季度末: Sun 2024-03-31 → Mon 4/1; Sun 6/30 → Mon 7/1; the others are
        # working days: Mon 9/30, Tue 12/31, Mon 2025-03-31, Mon 6/30, Tue 9/30.
        "quarterly_funds@2024Q1": D("2024-04-01"),
        "quarterly_funds@2024Q2": D("2024-07-01"),
        "quarterly_funds@2024Q3": D("2024-09-30"),
        "quarterly_funds@2024Q4": D("2024-12-31"),
        "quarterly_funds@2025Q1": D("2025-03-31"),
        "quarterly_funds@2025Q2": D("2025-06-30"),
        "quarterly_funds@2025Q3": D("2025-09-30"),
    },
    waived={"quarterly_progress_om", "quarterly_funds_om", "yearly_om_assessment"},
    notes={
        # 第十七条: planned 2024-12-31 + 6 months = 2025-06-30 (Civil Code art. 202, not moved);
        # not 完工 by then, so the 及时 report is open from that day, with no due day.
        "overdue_report": "2025-06-30",
        # 第十八条: trial from 2025-08-18, one month → 2025-09-18; evaluated 9/19: no breach.
        "trial_run_minimum": "2025-09-18",
    },
)

# B: a one-year O&M (运维类) project bought as a service: quarterly execution reports count
# (第十六条 makes no exception), one filed a day late; quarterly funds on the quarter's last day;
# the year-end assessment (第二十三条) for 2025; the term ends 2026-01-09.
OM_SERVICE = Case(
    project=project("SR-B", investment_wan=120, kind="service", planned_months=12,
                    started_on=D("2024-12-16"),
                    facts={"om_project": True, "purchase_of_service": True,
                           "service_term_years": 1}),
    documents=[
        doc("contract_signed", "2025-01-10"),
        doc("funds_report_filed", "2025-03-31"),
        doc("progress_report_filed", "2025-04-03"),
        doc("funds_report_filed", "2025-06-30"),
        doc("progress_report_filed", "2025-07-10"),
        doc("funds_report_filed", "2025-09-30"),
        doc("progress_report_filed", "2025-10-15"),
        doc("om_assessment_filed", "2025-12-26"),
        doc("funds_report_filed", "2025-12-30"),
        doc("progress_report_filed", "2026-01-08"),
        doc("service_term_ended", "2026-01-09"),
    ],
    due={
        # 7 wd after 2025Q1 (3/31): 4/1, 2, 3, (4/4–6) 4/7, 8, 9, 10.
        "quarterly_progress_om@2025Q1": D("2025-04-10"),
        # after 6/30: 7/1, 2, 3, 4, 7, 8, 9 — filed 7/10: one working day late.
        "quarterly_progress_om@2025Q2": D("2025-07-09"),
        # after 9/30: 10/9, 10, Sat 10/11, 13, 14, 15, 16.
        "quarterly_progress_om@2025Q3": D("2025-10-16"),
        # after 12/31: (1/1–3 元旦) Sun 1/4 worked, 1/5, 6, 7, 8, 9, 12 — due after the term
        # ended (1/9): the last full quarter is still reported.
        "quarterly_progress_om@2025Q4": D("2026-01-12"),
        # 季度末 2025: Mon 3/31, Mon 6/30, Tue 9/30, Wed 12/31 — all working days.
        "quarterly_funds_om@2025Q1": D("2025-03-31"),
        "quarterly_funds_om@2025Q2": D("2025-06-30"),
        "quarterly_funds_om@2025Q3": D("2025-09-30"),
        "quarterly_funds_om@2025Q4": D("2025-12-31"),
        # 年底前: Wed 2025-12-31. 2026 is not due: the term ended on 1/9.
        "yearly_om_assessment@2025": D("2025-12-31"),
    },
    done_late={"quarterly_progress_om@2025Q2": 1},
    waived={"quarterly_progress", "quarterly_funds", "overdue_report", "trial_run_evaluation",
            "preliminary_acceptance", "completion_application", "completion_acceptance",
            "acceptance_archive"},
)

# C: a 5-month build project (no quarterly execution report: 第十六条 is for 6 months or more),
# completed on time (the 第十七条 duty is moot), with a trial evaluated two days short of a
# month (第十八条, a breach) and a plan with only 2 years of free O&M (第七条, a breach).
SHORT_BUILD = Case(
    project=project("SR-C", investment_wan=80, planned_months=5, started_on=D("2025-04-01"),
                    facts={"planned_completion_on": D("2025-09-30"), "free_om_years": 2}),
    documents=[
        doc("contract_signed", "2025-04-21"),
        doc("funds_report_filed", "2025-07-02"),
        doc("construction_completed", "2025-09-26"),
        doc("trial_run_started", "2025-09-29"),
        doc("funds_report_filed", "2025-09-30"),
        doc("trial_evaluation_issued", "2025-10-27"),
        doc("preliminary_acceptance_passed", "2025-11-03"),
        doc("completion_acceptance_applied", "2025-11-10"),
        doc("completion_acceptance_passed", "2025-12-10"),
        doc("acceptance_archive_filed", "2025-12-22"),
    ],
    due={
        # 季度末: the contract's quarter 2025Q2 ends Mon 6/30; filed Wed 7/2: 7/1, 7/2 → 2 wd
        # late. 2025Q3 ends Tue 9/30. 2025Q4 is the quarter acceptance passes in: not due.
        "quarterly_funds@2025Q2": D("2025-06-30"),
        "quarterly_funds@2025Q3": D("2025-09-30"),
    },
    done_late={"quarterly_funds@2025Q2": 2},
    waived={"quarterly_progress", "quarterly_progress_om", "quarterly_funds_om",
            "yearly_om_assessment", "overdue_report"},
    notes={
        # trial from Mon 9/29 + 1 month = Wed 10/29; evaluation on 10/27 is before it.
        "trial_run_minimum": "2025-10-29",
    },
)

ALL_CASES = [DELAYED_BUILD, OM_SERVICE, SHORT_BUILD]
