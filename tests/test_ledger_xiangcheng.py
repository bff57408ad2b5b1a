"""The 相城 pack (相政办〔2018〕150号) applied by the ledger, no Temporal: hand-worked due days,
the monthly reports, the year-end revocation, the minimum before 竣工验收, the gates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from tests.jiujiang_cases import Case, doc
from tests.ledger_harness import NOW, TODAY, Jurisdiction, views_by_id
from tests.xiangcheng_cases import (
    ALL_CASES,
    BEFORE_YEAR_END,
    CLASSIFIED_LATE,
    CLASSIFIED_OCTOBER_LATE,
    MAJOR,
    MAJOR_MINIMUM_ENDS,
    MAJOR_SELF_EVALUATION_OPENS,
    ORDINARY,
    ORDINARY_MINIMUM_ENDS,
    ORDINARY_SELF_EVALUATION_OPENS,
    project,
)
from workflows.models import (
    NoticeKind,
    ObligationState,
    Project,
    RecordOutcome,
)

JURISDICTION = Jurisdiction("xiangcheng-2018", in_date_order=True)
calendar = JURISDICTION.calendar_fixture()
ledger_for = JURISDICTION.ledger_for


@pytest.mark.covers(
    "xiangcheng-2018:project_application",
    "xiangcheng-2018:implementation_plan",
    "xiangcheng-2018:construction_start",
    "xiangcheng-2018:contract_filing_procurement_office",
    "xiangcheng-2018:contract_filing_xinxiban",
    "xiangcheng-2018:contract_filing_finance",
    "xiangcheng-2018:monthly_progress",
    "xiangcheng-2018:completion_acceptance",
    "xiangcheng-2018:revocation_report",
)
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.project.id)
def test_hand_worked_due_days(case: Case, calendar: WorkCalendar) -> None:
    got = views_by_id(ledger_for(case, calendar))
    assert {k: got[k].due_on for k in case.due} == case.due
    late = {k: v.overdue_working_days for k, v in got.items()
            if v.state is ObligationState.DONE and v.overdue_working_days}
    assert late == case.done_late
    assert {k for k, v in got.items() if v.state is ObligationState.WAIVED} == case.waived
    reports = sorted(k for k in got if k.startswith("monthly_progress@"))
    assert reports == sorted(k for k in case.due if k.startswith("monthly_progress@"))
    assert all(got[k].citation.startswith("相城 第") for k in got)


@pytest.mark.covers(
    "xiangcheng-2018:self_evaluation",
    "xiangcheng-2018:performance_report",
    "xiangcheng-2018:task_book",
)
@pytest.mark.parametrize("case", [ORDINARY, MAJOR], ids=lambda c: c.project.id)
def test_whole_lives_end_with_the_self_evaluation(case: Case, calendar: WorkCalendar) -> None:
    ledger = ledger_for(case, calendar)
    assert ledger.finished(TODAY)
    assert ledger.stage(TODAY) == "evaluated"
    status = ledger.status(NOW)
    assert status.breaches == []
    assert status.policy_status == "in_force"
    assert ledger.escalate(NOW) == []  # imported whole: nothing is open, nothing to say


@pytest.mark.covers("xiangcheng-2018:self_evaluation")
def test_self_evaluation_is_a_window_with_no_closing_day(calendar: WorkCalendar) -> None:
    """第二十九条 "投入使用一年后": open from a year after 竣工验收, no due day, no rung."""
    case = Case(MAJOR.project, [d for d in MAJOR.documents if d.type not in
                                ("self_evaluation_filed", "performance_report_filed")], {})
    ledger = ledger_for(case, calendar)
    got = views_by_id(ledger)
    window = got["self_evaluation"]
    assert window.opens_on == MAJOR_SELF_EVALUATION_OPENS
    assert window.due_on is None and window.open_ended and window.state is ObligationState.OPEN
    assert window.limit == "1y 后起"
    report = got["performance_report"]
    assert report.due_on is None and report.open_ended
    assert report.limit is not None and report.limit.startswith("无时限")
    assert ledger.escalate(NOW) == []


@pytest.mark.covers("xiangcheng-2018:self_evaluation")
def test_self_evaluation_before_a_year_is_a_recorded_breach(calendar: WorkCalendar) -> None:
    docs = [d for d in ORDINARY.documents if d.type not in ("self_evaluation_filed",)]
    ledger = ledger_for(ORDINARY, calendar, docs=docs)
    early = doc("self_evaluation_filed", "2026-11-10")
    assert ledger.check_document(early, TODAY) is RecordOutcome.ACCEPTED
    ledger.add_document(early, NOW)
    [breach] = ledger.status(NOW).breaches
    assert breach.citation == "相城 第二十九条第一款"
    assert f"早于窗口开始日 {ORDINARY_SELF_EVALUATION_OPENS}" in breach.detail


@pytest.mark.parametrize(
    ("case", "ends", "early", "on_time"),
    [
        # 3 months from 2025-08-01 → Sat 11/01: 10/31 is early, Sat 11/01 itself meets it.
        (ORDINARY, ORDINARY_MINIMUM_ENDS, "2025-10-31", "2025-11-01"),
        # major: 6 months from 2025-01-06 → Sun 7/06 (not moved): 7/04 early, 7/06 meets it.
        (MAJOR, MAJOR_MINIMUM_ENDS, "2025-07-04", "2025-07-06"),
    ],
    ids=["ordinary-3m", "major-6m"],
)
@pytest.mark.covers("xiangcheng-2018:acceptance_after_operation")
def test_acceptance_before_the_minimum_is_a_breach(case: Case, ends: date, early: str,
                                                   on_time: str,
                                                   calendar: WorkCalendar) -> None:
    """第二十五条: 不少于三个月 / 重大项目六个月 — recorded, flagged, never refused."""
    for day, breached in ((early, True), (on_time, False)):
        docs = [d for d in case.documents if d.type in (
            "project_application_submitted", "task_book_issued", "procurement_form_stamped",
            "procurement_started", "contract_signed", "construction_started", "system_online")]
        docs += [doc("acceptance_applied", day), doc("acceptance_review_passed", day),
                 doc("completion_acceptance_passed", day)]
        ledger = ledger_for(case, calendar, docs=docs)
        found = [b for b in ledger.status(NOW).breaches if b.rule == "acceptance_after_operation"]
        assert bool(found) is breached, day
        if breached:
            assert found[0].citation == "相城 第二十五条"
            assert f"早于 {ends}" in found[0].detail


@pytest.mark.covers(
    "xiangcheng-2018:procurement_needs_task_book",
    "xiangcheng-2018:procurement_form_before_procurement",
)
def test_gates_of_the_task_book_and_the_procurement_form(calendar: WorkCalendar) -> None:
    """第十五条 未获得项目任务书不得组织招标和建设; 第十八条 审核表 before procurement."""
    docs = [doc("project_application_submitted", "2025-02-14"),
            doc("procurement_started", "2025-03-10"),
            doc("task_book_issued", "2025-03-21")]
    ledger = ledger_for(ORDINARY, calendar, docs=docs)
    rules = sorted(b.rule for b in ledger.status(NOW).breaches)
    assert rules == ["procurement_form_before_procurement", "procurement_needs_task_book"]
    notices = ledger.escalate(NOW)
    violations = [n for n in notices if n.kind is NoticeKind.VIOLATION]
    assert len(violations) == 2
    assert all("相城 第十" in n.citation for n in violations)
    assert all(set(n.recipient_actors) == {"owner", "xinxiban"} for n in violations)
    # Below the procurement threshold the 审核表 is not required (第十八条 "超过…以上的项目").
    below = Case(project("XCT-G", investment_wan=40, started_on=date(2024, 12, 16),
                         facts={"planned_start_on": date(2025, 3, 3)}), [], {})
    ledger = ledger_for(below, calendar, docs=[
        doc("project_application_submitted", "2025-02-14"), doc("task_book_issued", "2025-03-21"),
        doc("procurement_started", "2025-04-01")])
    assert ledger.status(NOW).breaches == []


@pytest.mark.covers("xiangcheng-2018:construction_needs_task_book")
def test_construction_before_the_task_book_is_a_recorded_breach(calendar: WorkCalendar) -> None:
    docs = [doc("project_application_submitted", "2025-02-14"),
            doc("construction_started", "2025-03-12"),
            doc("task_book_issued", "2025-03-21")]
    ledger = ledger_for(ORDINARY, calendar, docs=docs)
    assert [b.rule for b in ledger.status(NOW).breaches] == ["construction_needs_task_book"]


@pytest.mark.covers("xiangcheng-2018:secrecy_before_use")
def test_classified_system_online_before_approval_is_a_breach(calendar: WorkCalendar) -> None:
    ledger = ledger_for(CLASSIFIED_LATE, calendar)
    [breach] = ledger.status(NOW).breaches
    assert breach.rule == "secrecy_before_use" and breach.citation == "相城 第二十二条"
    assert breach.on == date(2026, 6, 1)
    assert "涉密信息系统测评通过、市保密局审批通过" in breach.detail


@pytest.mark.covers(
    "xiangcheng-2018:acceptance_after_review",
    "xiangcheng-2018:payment_after_acceptance",
)
def test_acceptance_and_payment_gates(calendar: WorkCalendar) -> None:
    """第二十三条 审核通过后组织竣工验收; 第二十六/二十七条 payment only after acceptance."""
    docs = [d for d in ORDINARY.documents if d.type not in (
        "acceptance_review_passed", "completion_acceptance_passed", "acceptance_payment_made",
        "self_evaluation_filed", "performance_report_filed")]
    docs += [doc("acceptance_payment_made", "2025-11-10"),
             doc("completion_acceptance_passed", "2025-11-12")]
    ledger = ledger_for(ORDINARY, calendar, docs=docs)
    got = {b.rule: b for b in ledger.status(NOW).breaches}
    assert set(got) == {"acceptance_after_review", "payment_after_acceptance"}
    assert got["payment_after_acceptance"].citation == "相城 第二十六条; 第二十七条"


@pytest.mark.covers("xiangcheng-2018:monthly_progress")
def test_monthly_reports_escalate_the_missing_month(calendar: WorkCalendar) -> None:
    """第二十条 每月: October 2026 (due Mon 11/2) missing on 11/23 → 15 wd, 督办 rung."""
    ledger = ledger_for(CLASSIFIED_LATE, calendar)
    got = views_by_id(ledger)
    october = got["monthly_progress@2026-10"]
    assert october.state is ObligationState.OVERDUE
    assert october.overdue_working_days == CLASSIFIED_OCTOBER_LATE
    assert got["monthly_progress@2026-11"].state is ObligationState.OPEN
    notices = ledger.escalate(NOW)
    rungs = [(n.obligation, n.rung) for n in notices if n.kind is NoticeKind.RUNG]
    assert rungs == [("monthly_progress@2026-10", "escalated")]
    assert notices[0].citation.startswith("相城 第二十条第一款")
    assert "督办" in notices[0].message


@pytest.mark.covers("xiangcheng-2018:monthly_progress")
def test_a_report_on_the_last_day_counts_for_its_month(calendar: WorkCalendar) -> None:
    """A report filed on the (moved) last day fulfils that month; the next month's report is
    not fulfilled by it."""
    docs = [d for d in MAJOR.documents if d.type != "progress_report_filed"]
    docs += [doc("progress_report_filed", "2024-10-31"), doc("progress_report_filed", "2024-12-02")]
    ledger = ledger_for(MAJOR, calendar, docs=docs)
    got = views_by_id(ledger)
    assert got["monthly_progress@2024-10"].done_on == date(2024, 10, 31)
    assert got["monthly_progress@2024-10"].on_time is True
    # November's report is due Mon 12/2 (11/30 a Saturday); filed that day: on time.
    assert got["monthly_progress@2024-11"].done_on == date(2024, 12, 2)
    assert got["monthly_progress@2024-11"].on_time is True
    assert got["monthly_progress@2024-12"].state is ObligationState.OVERDUE


@pytest.mark.covers("xiangcheng-2018:construction_start", "xiangcheng-2018:task_book_revoked")
def test_not_started_within_the_year_revokes_the_task_book(calendar: WorkCalendar) -> None:
    """第二十条第二款: 任务书 2025-07-15, no 启动建设 by 2025-12-31 → revocation at 24:00; a
    contract or a start while it stands is a breach (第十五条)."""
    case = Case(CLASSIFIED_LATE.project, [], {})
    dec = date(2025, 12, 24)
    ledger = ledger_for(case, calendar, today=dec, docs=BEFORE_YEAR_END)
    ledger.escalate(datetime(2025, 12, 24, 4, tzinfo=UTC))
    wake = ledger.next_wake(datetime(2025, 12, 31, 4, tzinfo=UTC))
    assert wake == datetime.fromisoformat("2026-01-01T00:00:00+08:00")
    fired = ledger.escalate(wake)
    [cons] = [n for n in fired if n.kind is NoticeKind.CONSEQUENCE]
    assert cons.key == "consequence:task_book_revoked"
    assert cons.citation == "相城 第二十条第二款; 第十五条"
    assert set(cons.recipient_actors) == {"xinxiban", "finance", "owner"}
    later = datetime(2026, 3, 2, 4, tzinfo=UTC)
    for d in (doc("contract_signed", "2026-02-13"), doc("construction_started", "2026-03-02")):
        assert ledger.check_document(d, date(2026, 3, 2)) is RecordOutcome.ACCEPTED
        ledger.add_document(d, later)
    blocked = sorted(b.id for b in ledger.status(later).breaches)
    assert blocked == ["task_book_revoked:construction_started@2026-03-02",
                       "task_book_revoked:contract_signed@2026-02-13"]
    got = views_by_id(ledger, date(2026, 3, 2))
    assert got["construction_start"].overdue_working_days == 38  # counted in the cases file
    # The facts do not disprove the revocation: it held on 2026-01-01, so it is not withdrawn.
    assert not [n for n in ledger.escalate(later) if n.kind is NoticeKind.CORRECTION]


@pytest.mark.covers("xiangcheng-2018:revocation_report")
def test_no_application_by_the_planned_start_owes_a_report(calendar: WorkCalendar) -> None:
    """第二十条第二款 first sentence: no 立项申请 by the planned start → a report, no due day."""
    proj = project("XCT-R", investment_wan=90, started_on=date(2026, 1, 12),
                   facts={"planned_start_on": date(2026, 4, 1)})
    ledger = ledger_for(Case(proj, [], {}), calendar, docs=[])
    got = views_by_id(ledger)
    assert got["project_application"].due_on == date(2026, 3, 31)
    assert got["project_application"].state is ObligationState.OVERDUE
    report = got["revocation_report"]
    assert report.state is ObligationState.OPEN and report.due_on is None
    assert report.starts_on == date(2026, 4, 1)
    ledger.add_document(doc("revocation_report_filed", "2026-04-20"), NOW)
    assert views_by_id(ledger)["revocation_report"].state is \
        ObligationState.DONE
    # An application on the planned start day itself still makes the report moot.
    on_day = ledger_for(Case(proj, [], {}), calendar,
                        docs=[doc("project_application_submitted", "2026-04-01")])
    assert views_by_id(on_day)["revocation_report"].state is \
        ObligationState.WAIVED


@pytest.mark.covers("xiangcheng-2018:revocation_report")
def test_a_late_application_makes_the_revocation_report_moot(calendar: WorkCalendar) -> None:
    proj = project("XCT-L", investment_wan=90, started_on=date(2026, 1, 12),
                   facts={"planned_start_on": date(2026, 4, 1)})
    ledger = ledger_for(Case(proj, [], {}), calendar,
                        docs=[doc("project_application_submitted", "2026-04-10")])
    got = views_by_id(ledger)
    assert got["project_application"].overdue_working_days == 7  # 4/1–4/3, 4/7–4/10
    assert got["revocation_report"].state is ObligationState.WAIVED


@pytest.mark.covers(
    "xiangcheng-2018:acceptance_rectification",
    "xiangcheng-2018:completion_rectification",
    "xiangcheng-2018:change_approval",
)
def test_rectification_and_change_duties_have_no_due_day(calendar: WorkCalendar) -> None:
    """第二十三条 / 第二十七条 及时整改, 第十七条第二款 重大变更: one open duty per occurrence, no
    due day, done by the next application / approval."""
    docs = [d for d in ORDINARY.documents if d.type in (
        "project_application_submitted", "task_book_issued", "procurement_form_stamped",
        "procurement_started", "contract_signed", "construction_started", "system_online")]
    docs += [doc("change_applied", "2025-06-10"), doc("change_approved", "2025-06-20"),
             doc("acceptance_applied", "2025-11-03"), doc("acceptance_review_failed", "2025-11-05"),
             doc("acceptance_applied", "2025-11-14"), doc("acceptance_review_passed", "2025-11-18"),
             doc("completion_acceptance_failed", "2025-11-25")]
    ledger = ledger_for(ORDINARY, calendar, docs=docs)
    got = views_by_id(ledger)
    assert got["change_approval#1"].state is ObligationState.DONE
    assert got["acceptance_rectification#1"].done_on == date(2025, 11, 14)
    open_one = got["completion_rectification#1"]
    assert open_one.state is ObligationState.OPEN and open_one.due_on is None
    assert open_one.limit == "无时限（及时）"


def test_pack_declares_its_facts_and_start() -> None:
    pack = JURISDICTION.pack
    assert pack.starts_with == "annual_plan_listed"
    assert pack.facts["planned_start_on"].type == "date" and pack.facts["planned_start_on"].required
    assert pack.status == "in_force" and pack.effective_from == date(2018, 8, 22)
    assert pack.validity_on(date(2026, 1, 1)) is None


@pytest.mark.covers("xiangcheng-2018:project_application", "xiangcheng-2018:revocation_report")
def test_date_facts_survive_the_workflow_boundary(calendar: WorkCalendar) -> None:
    wire = Project.model_validate_json(ORDINARY.project.model_dump_json())
    ledger = ledger_for(Case(wire, ORDINARY.documents, {}), calendar)
    got = views_by_id(ledger)
    assert got["project_application"].due_on == date(2025, 3, 2)
    assert got["revocation_report"].state is ObligationState.WAIVED


@pytest.mark.covers(
    "xiangcheng-2018:warning",
    "xiangcheng-2018:overdue",
    "xiangcheng-2018:escalated",
)
def test_ladder_on_a_contract_filing_over_national_day(calendar: WorkCalendar) -> None:
    """第十八条 7 wd from Fri 2024-09-27 → Sat 10/12 (worked). 预警 at the start of the 3rd
    working day before (10/11, 10/10, 10/9), 逾期 at 24:00 of 10/12, 督办 at the start of the
    5th working day after (10/14, 15, 16, 17, 18)."""
    docs = [d for d in MAJOR.documents if d.on <= date(2024, 9, 27)]
    ledger = ledger_for(MAJOR, calendar, today=date(2024, 9, 27), docs=docs)
    assert [n for n in ledger.escalate(datetime(2024, 9, 27, 4, tzinfo=UTC))
            if n.obligation.startswith("contract_filing")] == []
    seen: list[tuple[str, str, datetime]] = []
    now = datetime(2024, 9, 27, 4, tzinfo=UTC)
    while len(seen) < 9:
        wake = ledger.next_wake(now)
        assert wake is not None
        now = wake
        seen += [(n.obligation, n.rung, wake) for n in ledger.escalate(wake)
                 if n.obligation == "contract_filing_finance"]
        if now > datetime(2024, 10, 19, tzinfo=UTC):
            break
    at = {rung: when for _, rung, when in seen}
    assert at == {
        "warning": datetime.fromisoformat("2024-10-09T00:00:00+08:00"),
        "overdue": datetime.fromisoformat("2024-10-13T00:00:00+08:00"),
        "escalated": datetime.fromisoformat("2024-10-18T00:00:00+08:00"),
    }
    labels = {n.rung: n.message for n in ledger.state.notices
              if n.obligation == "contract_filing_finance"}
    assert "预警" in labels["warning"] and "逾期" in labels["overdue"]
    assert "督办" in labels["escalated"]
    escalated = next(n for n in ledger.state.notices if n.rung == "escalated"
                     and n.obligation == "contract_filing_finance")
    assert escalated.recipient_actors == ["leading_group"]
