"""Three 相城 projects (相政办〔2018〕150号), with every due day worked out by hand from the text.

Counted on paper against the State Council arrangements, not with shixian's calendar:
2024: 劳动节 5/1–5/5 (Sun 4/28, Sat 5/11 worked), 国庆 10/1–10/7 (Sun 9/29, Sat 10/12 worked);
2025: 春节 1/28–2/4 (Sun 1/26, Sat 2/8 worked), 劳动节 5/1–5/5 (Sun 4/27 worked), 端午 5/31–6/2,
国庆中秋 10/1–10/8 (Sun 9/28, Sat 10/11 worked); 2026: 元旦 1/1–1/3 (Sun 1/4 worked), 春节
2/15–2/23 (Sat 2/14, Sat 2/28 worked), 端午 6/19–6/21, 国庆 10/1–10/7 (Sun 9/20, Sat 10/10 worked).

The rules as the text gives them: 第十条 立项申请 before the planned start (the day before, not
moved); 第十七条 / 第二十条第二款 实施方案 and 启动建设 within the year of the 任务书 (12/31);
第十八条 three contract filings, 7 working days each; 第二十条第一款 a progress report every
month, due on its last day (moved to the next working day); 第二十五条 竣工验收 within a year of
上线运行 (moved) and not before 3 (major: 6) months of it (not moved); 第二十九条 the
self-evaluation open from a year after 竣工验收, with no closing day.
"""

from __future__ import annotations

from datetime import date

from tests.jiujiang_cases import Case, doc
from workflows.models import DocumentArrival, Project

D = date.fromisoformat
POLICY = "xiangcheng-2018"


def project(pid: str, **kw: object) -> Project:
    base: dict[str, object] = {
        "id": pid, "name": f"相城测试项目 {pid}", "policy": POLICY, "owner": "区测试局",
        "owner_type": "administrative", "category": "other", "kind": "build",
    }
    base.update(kw)
    return Project.model_validate(base)


def reports(*days: str) -> list[DocumentArrival]:
    return [doc("progress_report_filed", d) for d in days]


# A: an ordinary project above the procurement threshold, 2025, every step on time; the
# contract is signed just before 劳动节 and the first report falls due in 端午.
ORDINARY = Case(
    project=project("XCT-A", investment_wan=380, started_on=D("2024-12-16"),
                    facts={"planned_start_on": D("2025-03-03"),
                           "above_procurement_threshold": True}),
    documents=[
        doc("project_application_submitted", "2025-02-14"),
        doc("task_book_issued", "2025-03-21"),
        doc("procurement_form_stamped", "2025-03-28"),
        doc("procurement_started", "2025-04-01"),
        doc("implementation_plan_filed", "2025-04-10"),
        doc("contract_signed", "2025-04-25"),
        doc("contract_filed_procurement_office", "2025-04-30"),
        doc("contract_filed_xinxiban", "2025-05-06"),
        doc("contract_filed_finance", "2025-05-08"),
        doc("construction_started", "2025-05-06"),
        *reports("2025-05-30", "2025-06-30", "2025-07-31", "2025-09-01", "2025-09-30",
                 "2025-10-31"),
        doc("system_online", "2025-08-01"),
        doc("acceptance_applied", "2025-11-03"),
        doc("acceptance_review_passed", "2025-11-07"),
        doc("completion_acceptance_passed", "2025-11-12"),
        doc("acceptance_payment_made", "2025-11-20"),
        doc("self_evaluation_filed", "2026-11-16"),
        doc("performance_report_filed", "2026-11-20"),
    ],
    due={
        # 第十条: the day before the planned start 3/3 → Sun 3/2 (a rest day, not moved).
        "project_application": D("2025-03-02"),
        # 第十七条: 任务书 on 2025-03-21 → 2025-12-31, a Wednesday.
        "implementation_plan": D("2025-12-31"),
        "construction_start": D("2025-12-31"),
        # 第十八条: 7 wd from Fri 4/25: Sun 4/27 (worked) 1, 4/28 2, 4/29 3, 4/30 4,
        # (5/1–5/5 劳动节) 5/6 5, 5/7 6, 5/8 7.
        "contract_filing_procurement_office": D("2025-05-08"),
        "contract_filing_xinxiban": D("2025-05-08"),
        "contract_filing_finance": D("2025-05-08"),
        # 第二十条: May (construction from 5/6, the partial first month is due): Sat 5/31 in
        # 端午 5/31–6/2 → Tue 6/3.
        "monthly_progress@2025-05": D("2025-06-03"),
        "monthly_progress@2025-06": D("2025-06-30"),  # Monday
        "monthly_progress@2025-07": D("2025-07-31"),  # Thursday
        "monthly_progress@2025-08": D("2025-09-01"),  # Sun 8/31 → Mon 9/1
        "monthly_progress@2025-09": D("2025-09-30"),  # Tuesday
        "monthly_progress@2025-10": D("2025-10-31"),  # Friday
        # (November, the month of 竣工验收 on 11/12, is not due: last_partial false.)
        # 第二十五条: a year from 上线运行 2025-08-01 → Sat 2026-08-01 → Mon 8/3.
        "completion_acceptance": D("2026-08-03"),
    },
    waived={"revocation_report"},  # moot: the application came before the planned start
)
ORDINARY_SELF_EVALUATION_OPENS = D("2026-11-12")  # 竣工验收 2025-11-12 + 1 year, a Thursday
ORDINARY_MINIMUM_ENDS = D("2025-11-01")  # 上线运行 8/1 + 3 months (a Saturday, not moved)

# B: a major project (重大项目), 2024–2026: contract just before 国庆 2024 with the last day on a
# worked Saturday; one filing 2 working days late; a report in the 2025 春节; 6 months of
# operation before 竣工验收.
MAJOR = Case(
    project=project("XCT-B", investment_wan=2600, major=True, category="infrastructure",
                    started_on=D("2024-01-15"),
                    facts={"planned_start_on": D("2024-05-06")}),
    documents=[
        doc("project_application_submitted", "2024-04-26"),
        doc("task_book_issued", "2024-05-20"),
        doc("implementation_plan_filed", "2024-06-28"),
        doc("procurement_started", "2024-07-15"),
        doc("contract_signed", "2024-09-27"),
        doc("contract_filed_procurement_office", "2024-10-10"),
        doc("contract_filed_xinxiban", "2024-10-12"),
        doc("contract_filed_finance", "2024-10-15"),
        doc("construction_started", "2024-10-16"),
        *reports("2024-10-31", "2024-12-02", "2024-12-31", "2025-02-05", "2025-02-28",
                 "2025-03-31", "2025-04-30", "2025-06-03", "2025-06-30"),
        doc("system_online", "2025-01-06"),
        doc("acceptance_applied", "2025-07-07"),
        doc("acceptance_review_passed", "2025-07-10"),
        doc("completion_acceptance_passed", "2025-07-15"),
        doc("acceptance_payment_made", "2025-07-25"),
        doc("self_evaluation_filed", "2026-08-10"),
        doc("performance_report_filed", "2026-09-01"),
    ],
    due={
        # 第十条: the day before 5/6 → Sun 5/5, inside 劳动节 (not moved: "前").
        "project_application": D("2024-05-05"),
        # 第十七条: 任务书 2024-05-20 → Tue 2024-12-31.
        "implementation_plan": D("2024-12-31"),
        "construction_start": D("2024-12-31"),
        # 第十八条: 7 wd from Fri 9/27: Sun 9/29 (worked) 1, 9/30 2, (10/1–10/7 国庆) 10/8 3,
        # 10/9 4, 10/10 5, 10/11 6, Sat 10/12 (worked) 7.
        "contract_filing_procurement_office": D("2024-10-12"),
        "contract_filing_xinxiban": D("2024-10-12"),
        "contract_filing_finance": D("2024-10-12"),
        # 第二十条: from October 2024 (construction 10/16).
        "monthly_progress@2024-10": D("2024-10-31"),  # Thursday
        "monthly_progress@2024-11": D("2024-12-02"),  # Sat 11/30 → Mon 12/2
        "monthly_progress@2024-12": D("2024-12-31"),  # Tuesday
        "monthly_progress@2025-01": D("2025-02-05"),  # Fri 1/31 in 春节 1/28–2/4 → Wed 2/5
        "monthly_progress@2025-02": D("2025-02-28"),  # Friday
        "monthly_progress@2025-03": D("2025-03-31"),  # Monday
        "monthly_progress@2025-04": D("2025-04-30"),  # Wednesday
        "monthly_progress@2025-05": D("2025-06-03"),  # Sat 5/31 in 端午 5/31–6/2 → Tue 6/3
        "monthly_progress@2025-06": D("2025-06-30"),  # Monday
        # 第二十五条: a year from 2025-01-06 → Tue 2026-01-06 (元旦 2026 ended 1/3).
        "completion_acceptance": D("2026-01-06"),
    },
    done_late={
        # due Sat 10/12 (worked); filed Tue 10/15: 10/14, 10/15 → 2 working days late.
        "contract_filing_finance": 2,
    },
    waived={"revocation_report"},
)
MAJOR_SELF_EVALUATION_OPENS = D("2026-07-15")  # 竣工验收 2025-07-15 + 1 year, a Wednesday
MAJOR_MINIMUM_ENDS = D("2025-07-06")  # 上线运行 1/6 + 6 months: Sun 7/6 (a minimum: not moved)

# C: a classified system whose 任务书 came in July 2025 and that did not start construction
# within the year (第二十条第二款); its contract falls in the 2026 春节; it went online before the
# 市保密局 approval (第二十二条). Still running on 2026-11-23, the October report missing.
BEFORE_YEAR_END = [
    doc("project_application_submitted", "2025-05-29"),
    doc("task_book_issued", "2025-07-15"),
    doc("procurement_started", "2025-11-03"),
    doc("implementation_plan_filed", "2025-11-20"),
]
AFTER_YEAR_END = [
    doc("contract_signed", "2026-02-13"),
    doc("contract_filed_procurement_office", "2026-02-27"),
    doc("contract_filed_xinxiban", "2026-02-27"),
    doc("contract_filed_finance", "2026-03-02"),
    doc("construction_started", "2026-03-02"),
    *reports("2026-03-31", "2026-04-30", "2026-06-01", "2026-06-30", "2026-07-31", "2026-08-31",
             "2026-09-30"),
    doc("system_online", "2026-06-01"),
    doc("secrecy_test_passed", "2026-06-10"),
    doc("secrecy_approved", "2026-06-20"),
]
CLASSIFIED_LATE = Case(
    project=project("XCT-C", investment_wan=160, started_on=D("2025-02-10"),
                    facts={"planned_start_on": D("2025-06-03"), "classified": True}),
    documents=BEFORE_YEAR_END + AFTER_YEAR_END,
    due={
        # 第十条: the day before Tue 6/3 → Mon 6/2, inside 端午 5/31–6/2 (not moved).
        "project_application": D("2025-06-02"),
        # 第十七条 / 第二十条第二款: 任务书 2025-07-15 → Wed 2025-12-31.
        "implementation_plan": D("2025-12-31"),
        "construction_start": D("2025-12-31"),
        # 第十八条: 7 wd from Fri 2026-02-13: Sat 2/14 (worked) 1, (春节 2/15–2/23) 2/24 2,
        # 2/25 3, 2/26 4, 2/27 5, Sat 2/28 (worked) 6, Mon 3/2 7.
        "contract_filing_procurement_office": D("2026-03-02"),
        "contract_filing_xinxiban": D("2026-03-02"),
        "contract_filing_finance": D("2026-03-02"),
        "monthly_progress@2026-03": D("2026-03-31"),  # Tuesday
        "monthly_progress@2026-04": D("2026-04-30"),  # Thursday
        "monthly_progress@2026-05": D("2026-06-01"),  # Sun 5/31 → Mon 6/1
        "monthly_progress@2026-06": D("2026-06-30"),  # Tuesday
        "monthly_progress@2026-07": D("2026-07-31"),  # Friday
        "monthly_progress@2026-08": D("2026-08-31"),  # Monday
        "monthly_progress@2026-09": D("2026-09-30"),  # Wednesday
        "monthly_progress@2026-10": D("2026-11-02"),  # Sat 10/31 → Mon 11/2
        "monthly_progress@2026-11": D("2026-11-30"),  # Monday, still open on 11/23
        # 第二十五条: a year from 上线运行 2026-06-01 → Tue 2027-06-01.
        "completion_acceptance": D("2027-06-01"),
    },
    done_late={
        # due 2025-12-31, construction started 2026-03-02: January 2026 = Sun 1/4 (worked)
        # + 1/5–1/30 (20) = 21; February = 2/2–2/13 (10) + Sat 2/14 + 2/24–2/27 (4) + Sat 2/28
        # = 16; March 3/2 = 1 → 38 working days.
        "construction_start": 38,
    },
    waived={"revocation_report"},
)
# The October 2026 report, due Mon 11/2, missing on Mon 11/23: 11/3–6 (4), 9–13 (5),
# 16–20 (5), 23 (1) → 15 working days late.
CLASSIFIED_OCTOBER_LATE = 15

ALL_CASES = [ORDINARY, MAJOR, CLASSIFIED_LATE]
