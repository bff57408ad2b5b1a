"""The 上饶 pack applied by the ledger (no Temporal): hand-worked due days, breaches, reports."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from tests.jiujiang_cases import Case, doc
from tests.ledger_harness import NOW, TODAY, Jurisdiction, views_by_id
from tests.shangrao_cases import ALL_CASES, DELAYED_BUILD, OM_SERVICE, SHORT_BUILD, project
from workflows.ledger import Refused
from workflows.models import (
    DocumentArrival,
    NoticeKind,
    ObligationState,
)

JURISDICTION = Jurisdiction("shangrao-2020")
calendar = JURISDICTION.calendar_fixture()
ledger_for = JURISDICTION.ledger_for


@pytest.mark.covers(
    "shangrao-2020:quarterly_progress",
    "shangrao-2020:quarterly_progress_om",
    "shangrao-2020:quarterly_funds",
    "shangrao-2020:quarterly_funds_om",
    "shangrao-2020:yearly_om_assessment",
)
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.project.id)
def test_hand_worked_due_days(case: Case, calendar: WorkCalendar) -> None:
    ledger = ledger_for(case, calendar)
    views = views_by_id(ledger)
    assert {k: views[k].due_on for k in case.due} == case.due
    recurring = {k for k, v in views.items() if "@" in k}
    assert recurring == set(case.due), "exactly the hand-worked periods are due"
    for waived in case.waived:
        assert views[waived].state is ObligationState.WAIVED, waived
    late = {k: v.overdue_working_days for k, v in views.items() if v.overdue_working_days}
    assert late == case.done_late
    assert all(v.state in (ObligationState.DONE, ObligationState.WAIVED) for v in views.values())
    assert ledger.finished(TODAY)


@pytest.mark.covers(
    "shangrao-2020:overdue_half_year",
    "shangrao-2020:overdue_report",
    "shangrao-2020:trial_run_evaluation",
    "shangrao-2020:preliminary_acceptance",
    "shangrao-2020:completion_application",
    "shangrao-2020:completion_acceptance",
    "shangrao-2020:acceptance_archive",
    "shangrao-2020:trial_run_minimum",
)
def test_delayed_build_runs_to_the_archive(calendar: WorkCalendar) -> None:
    ledger = ledger_for(DELAYED_BUILD, calendar)
    status = ledger.status(NOW)
    assert status.stage == "closed" and status.finished
    assert status.breaches == []
    views = {v.id: v for v in status.obligations}
    report = views["overdue_report"]
    assert report.starts_on == date(2025, 6, 30)  # 2024-12-31 + 6 months (not moved)
    assert (report.state, report.done_on, report.due_on) == \
        (ObligationState.DONE, date(2025, 7, 3), None)
    assert views["overdue_report"].citation == "上饶 第十七条"
    assert ledger.escalate(NOW) == []  # everything on time: no notice at all


@pytest.mark.covers("shangrao-2020:overdue_half_year", "shangrao-2020:overdue_report")
def test_overdue_half_year_report_is_open_with_no_due_day(calendar: WorkCalendar) -> None:
    """第十七条 "及时": open from planned completion + 6 months, never escalated."""
    docs = [d for d in DELAYED_BUILD.documents if d.on <= date(2025, 6, 27)]
    ledger = ledger_for(DELAYED_BUILD, calendar, docs)
    on = datetime(2025, 7, 1, 4, tzinfo=UTC)
    before = views_by_id(ledger, date(2025, 6, 29))["overdue_report"]
    assert before.state is ObligationState.PENDING
    view = views_by_id(ledger, date(2025, 7, 1))["overdue_report"]
    assert (view.state, view.starts_on, view.due_on, view.open_ended) == \
        (ObligationState.OPEN, date(2025, 6, 30), None, True)
    assert view.limit == "无时限（及时）"
    far = datetime(2026, 6, 1, 4, tzinfo=UTC)
    assert not [n for n in ledger.escalate(far) if n.obligation == "overdue_report"]
    assert ledger.next_wake(on) is not None  # the recurring reports still wake it


@pytest.mark.covers("shangrao-2020:overdue_report")
def test_completion_in_time_makes_the_overdue_report_moot(calendar: WorkCalendar) -> None:
    views = views_by_id(ledger_for(SHORT_BUILD, calendar))
    report = views["overdue_report"]
    assert report.state is ObligationState.WAIVED
    assert report.note is not None and "moot" in report.note and "2025-09-26" in report.note
    # Completed the day the half year is reached (2026-03-30): still moot, 以上 is not reached.
    late = [d if d.type != "construction_completed" else doc("construction_completed",
                                                             "2026-03-30")
            for d in SHORT_BUILD.documents if d.on <= date(2025, 9, 26)]
    ledger = ledger_for(SHORT_BUILD, calendar, late)
    assert views_by_id(ledger)["overdue_report"].state is \
        ObligationState.WAIVED


@pytest.mark.covers("shangrao-2020:trial_run_minimum")
def test_trial_run_shorter_than_a_month_is_a_recorded_breach(calendar: WorkCalendar) -> None:
    ledger = ledger_for(SHORT_BUILD, calendar)
    status = ledger.status(NOW)
    views = {v.id: v for v in status.obligations}
    assert views["trial_run_evaluation"].state is ObligationState.DONE  # recorded, not refused
    minimum = [b for b in status.breaches if b.rule == "trial_run_minimum"]
    assert [(b.on, b.citation) for b in minimum] == [(date(2025, 10, 27), "上饶 第十八条")]
    assert "早于 2025-10-29" in minimum[0].detail
    notices = [n for n in ledger.escalate(NOW) if n.obligation == "trial_run_minimum"]
    assert [n.kind for n in notices] == [NoticeKind.VIOLATION]
    assert notices[0].recipients == ["市测试局", "市大数据发展管理局"]
    # On the day the month is over (10/29) it is no breach.
    on_time = [doc("trial_evaluation_issued", "2025-10-29") if d.type ==
               "trial_evaluation_issued" else d for d in SHORT_BUILD.documents]
    assert not [b for b in ledger_for(SHORT_BUILD, calendar, on_time).status(NOW).breaches
                if b.rule == "trial_run_minimum"]


@pytest.mark.covers(
    "shangrao-2020:preliminary_after_trial",
    "shangrao-2020:completion_after_preliminary",
)
def test_acceptance_out_of_order_breaks_the_gates(calendar: WorkCalendar) -> None:
    """第二十条: 试运行结束 → 初验 → 竣工验收申请; out of order is recorded and flagged."""
    docs = [d for d in SHORT_BUILD.documents if d.on <= date(2025, 9, 30)] + [
        doc("preliminary_acceptance_passed", "2025-10-20"),   # before the trial's evaluation
        doc("trial_evaluation_issued", "2025-10-30"),
        doc("completion_acceptance_applied", "2025-11-03"),
    ]
    case = Case(SHORT_BUILD.project.model_copy(update={"facts": {
        "planned_completion_on": date(2025, 9, 30)}}), docs, {})
    ledger = ledger_for(case, calendar)
    assert {b.rule for b in ledger.status(NOW).breaches} == {"preliminary_after_trial"}
    # An application before any 初验 (a second project): the other gate.
    docs2 = [d for d in docs if d.type != "preliminary_acceptance_passed"]
    ledger2 = ledger_for(case, calendar, docs2)
    [breach] = ledger2.status(NOW).breaches
    assert (breach.rule, breach.on, breach.citation) == \
        ("completion_after_preliminary", date(2025, 11, 3), "上饶 第二十条")
    assert "初验意见" in breach.detail


@pytest.mark.covers("shangrao-2020:change_needs_approval")
def test_a_change_needs_its_approval_first(calendar: WorkCalendar) -> None:
    """第十五条: 经批准后才能实施."""
    base = [d for d in DELAYED_BUILD.documents if d.on <= date(2024, 4, 8)]
    ok = ledger_for(DELAYED_BUILD, calendar, [*base, doc("change_approved", "2024-05-06"),
                                              doc("change_implemented", "2024-05-20")])
    assert ok.status(NOW).breaches == []
    bad = ledger_for(DELAYED_BUILD, calendar, [*base, doc("change_implemented", "2024-05-20"),
                                               doc("change_approved", "2024-06-03")])
    [breach] = bad.status(NOW).breaches
    assert (breach.rule, breach.on) == ("change_needs_approval", date(2024, 5, 20))


@pytest.mark.covers("shangrao-2020:service_term_cap")
def test_service_term_over_three_years_is_flagged(calendar: WorkCalendar) -> None:
    """第六条(三): 服务期限原则上不超过3年 — on the project record, or stated by a document."""
    four = Case(OM_SERVICE.project.model_copy(update={"facts": {
        **OM_SERVICE.project.facts, "service_term_years": 4}}), OM_SERVICE.documents, {})
    [breach] = ledger_for(four, calendar).status(NOW).breaches
    assert (breach.rule, breach.citation) == ("service_term_cap", "上饶 第六条(三)")
    assert "4 超过上限 3" in breach.detail
    stated = [DocumentArrival(type="contract_signed", on=date(2025, 1, 10),
                              facts={"service_term_years": 3.5}),
              *OM_SERVICE.documents[1:]]
    [breach] = ledger_for(OM_SERVICE, calendar, stated).status(NOW).breaches
    assert breach.on == date(2025, 1, 10) and breach.document == "contract_signed"
    assert ledger_for(OM_SERVICE, calendar).status(NOW).breaches == []  # 1 year: fine
    # Not bought as a service: no cap.
    bought = Case(four.project.model_copy(update={"facts": {
        **four.project.facts, "purchase_of_service": False}}), OM_SERVICE.documents, {})
    assert ledger_for(bought, calendar).status(NOW).breaches == []


@pytest.mark.covers("shangrao-2020:free_om_minimum")
def test_free_om_under_three_years_is_flagged(calendar: WorkCalendar) -> None:
    status = ledger_for(SHORT_BUILD, calendar).status(NOW)
    assert [b.citation for b in status.breaches if b.rule == "free_om_minimum"] == \
        ["上饶 第七条第二款"]
    assert not [b for b in ledger_for(DELAYED_BUILD, calendar).status(NOW).breaches
                if b.rule == "free_om_minimum"]  # exactly 3 years: 不低于 includes 3


@pytest.mark.covers("shangrao-2020:yearly_om_assessment")
def test_year_end_assessment_moves_past_new_year(calendar: WorkCalendar) -> None:
    """第二十三条 年底前: Sun 2023-12-31 → (Mon 2024-01-01 元旦) Tue 2024-01-02."""
    om = project("SR-Y", investment_wan=60, kind="service", planned_months=24,
                 started_on=date(2023, 5, 8), facts={"om_project": True})
    ledger = ledger_for(Case(om, [], {}), calendar, [doc("contract_signed", "2023-06-01")])
    views = views_by_id(ledger, date(2024, 3, 1))
    assert views["yearly_om_assessment@2023"].due_on == date(2024, 1, 2)
    assert views["yearly_om_assessment@2023"].state is ObligationState.OVERDUE
    # 2023Q2 execution report (contract quarter): 7 wd after 6/30 — 7/3–7, 7/10, 7/11.
    assert views["quarterly_progress_om@2023Q2"].due_on == date(2023, 7, 11)
    # funds, 季度末 2023Q4: Sun 12/31 → Tue 2024-01-02.
    assert views["quarterly_funds_om@2023Q4"].due_on == date(2024, 1, 2)


@pytest.mark.covers("shangrao-2020:quarterly_progress")
def test_short_projects_file_no_execution_report(calendar: WorkCalendar) -> None:
    ledger = ledger_for(SHORT_BUILD, calendar)
    with pytest.raises(Refused, match="not on this project's path"):
        ledger.check_document(doc("progress_report_filed", "2025-10-09"), TODAY)


@pytest.mark.covers(
    "shangrao-2020:warning",
    "shangrao-2020:overdue",
    "shangrao-2020:escalated",
    "shangrao-2020:quarterly_progress",
)
def test_a_missed_quarterly_report_climbs_the_ladder(calendar: WorkCalendar) -> None:
    """2024Q3 execution report due 10/15: warning 3 wd before, overdue at 24:00, escalated
    on the 5th working day after (shixian 运营默认 offsets)."""
    docs = [d for d in DELAYED_BUILD.documents if d.on <= date(2024, 9, 27)]
    ledger = ledger_for(DELAYED_BUILD, calendar, docs)
    rungs: dict[str, tuple[date, list[str]]] = {}
    for day in (date(2024, 10, 10), date(2024, 10, 11), date(2024, 10, 15),
                date(2024, 10, 16), date(2024, 10, 21), date(2024, 10, 22)):
        for n in ledger.escalate(datetime(day.year, day.month, day.day, 1, tzinfo=UTC)):
            if n.obligation == "quarterly_progress@2024Q3":
                rungs[n.rung] = (day, n.recipients)
    # due 10/15; 3 wd before: 10/14, Sat 10/12 (worked), 10/11 → at the start of 10/11;
    # overdue at 24:00 on 10/15, seen on 10/16; 5 wd after: 10/16, 17, 18, 21, 22.
    assert rungs == {
        "warning": (date(2024, 10, 11), ["项目主管单位"]),
        "overdue": (date(2024, 10, 16), ["项目主管单位", "市大数据发展管理局"]),
        "escalated": (date(2024, 10, 22), ["市新型智慧城市建设领导小组", "市大数据发展管理局"]),
    }


@pytest.mark.covers("shangrao-2020:quarterly_progress")
def test_a_report_naming_its_quarter_is_credited_to_it(calendar: WorkCalendar) -> None:
    """`doc --period 2024Q4` on a build project, whose O&M variant of the same report is off
    its path (that waived rule has no periods: it once crashed the check as "list index out
    of range"): Q3 missed, Q4's report filed and credited to Q4, Q3 still overdue."""
    docs = [d for d in DELAYED_BUILD.documents if d.on <= date(2024, 9, 27)]
    ledger = ledger_for(DELAYED_BUILD, calendar, docs)
    today = date(2025, 1, 10)
    q4 = DocumentArrival(type="progress_report_filed", on=date(2025, 1, 8), period="2024Q4")
    assert ledger.check_document(q4, today).value == "accepted"
    ledger.add_document(q4, datetime(2025, 1, 10, 1, tzinfo=UTC))
    views = {o.id: o for o in ledger.status(datetime(2025, 1, 10, 1, tzinfo=UTC)).obligations}
    assert views["quarterly_progress@2024Q4"].done_on == date(2025, 1, 8)
    assert views["quarterly_progress@2024Q3"].state is ObligationState.OVERDUE
    with pytest.raises(Refused, match="already filed on 2025-01-08"):
        ledger.check_document(q4.model_copy(update={"on": date(2025, 1, 9)}), today)


@pytest.mark.covers("shangrao-2020:termination_report")
def test_abnormal_termination_must_be_reported(calendar: WorkCalendar) -> None:
    docs = [d for d in OM_SERVICE.documents if d.on <= date(2025, 4, 3)]
    ledger = ledger_for(OM_SERVICE, calendar, [*docs, doc("abnormally_terminated", "2025-05-12")])
    view = views_by_id(ledger, date(2025, 5, 13))["termination_report#1"]
    assert (view.state, view.due_on, view.actor_name) == \
        (ObligationState.OPEN, None, "项目主管单位")
    assert "termination_report" not in {v.id for v in ledger_for(OM_SERVICE, calendar)
                                        .views(TODAY)}


@pytest.mark.covers("shangrao-2020:overdue_report", "shangrao-2020:overdue_half_year")
def test_no_planned_completion_means_no_half_year_duty(calendar: WorkCalendar) -> None:
    """Without 计划完工日期 shixian cannot tell 逾期半年: the duty is not on the path (and does
    not keep the project open forever)."""
    facts = {k: v for k, v in DELAYED_BUILD.project.facts.items() if k != "planned_completion_on"}
    case = Case(DELAYED_BUILD.project.model_copy(update={"facts": facts}), [], {})
    docs = [d for d in DELAYED_BUILD.documents if d.type != "overdue_reported"]
    ledger = ledger_for(case, calendar, docs)
    views = views_by_id(ledger)
    assert views["overdue_report"].state is ObligationState.WAIVED
    assert ledger.finished(TODAY)


@pytest.mark.covers("shangrao-2020:overdue_half_year")
def test_date_fact_survives_the_workflow_boundary(calendar: WorkCalendar) -> None:
    project = DELAYED_BUILD.project.model_validate_json(DELAYED_BUILD.project.model_dump_json())
    ledger = ledger_for(Case(project, [], {}), calendar,
                        [d for d in DELAYED_BUILD.documents if d.on <= date(2025, 6, 27)])
    view = views_by_id(ledger, date(2025, 7, 1))["overdue_report"]
    assert view.starts_on == date(2025, 6, 30)
