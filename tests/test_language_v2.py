"""The v2 policy language, construct by construct, on small synthetic packs (no Temporal).

Each construct of policies/README.md has: a pack built as a dict and validated like a
shipped pack (`parse_pack`), a pure-ledger test whose due days are counted by hand in the
comments (2025/2026 holidays and 调休, see tests/language_packs.py), and the invalid forms
that are refused on load with a message naming the rule and the field.

`COVERS` maps each README construct to the tests that show it (the report lists them).
"""

from __future__ import annotations

import copy
from datetime import UTC, date
from typing import Any

import pytest

from policies.loader import PolicyError
from tests.language_packs import APPROVAL, D, at, base, doc, ledger, pack, project, record
from workflows.intake import breaches
from workflows.ledger import Ledger, Refused
from workflows.models import (
    DocumentArrival,
    Extension,
    NoticeKind,
    NoticeRecord,
    ObligationState,
)

COVERS: dict[str, list[str]] = {
    "facts": ["test_fact_conditions_choose_the_path", "test_fact_date_is_an_event",
              "test_a_document_states_a_fact",
              "test_a_fact_stated_by_a_document_reaches_conditions_and_events"],
    "starts_with": ["test_starts_with_is_the_start_event"],
    "limit": ["test_limit_counts_working_days_over_national_day_and_makeup_days"],
    "due_by": ["test_due_by_month_end_moves_to_a_working_day",
               "test_due_by_next_if_passed", "test_due_by_before_a_fact_date",
               "test_due_by_passed_when_the_duty_arises_is_due_at_once"],
    "no_limit": ["test_no_limit_is_open_and_never_escalated"],
    "opens_only": ["test_window_with_no_closing_day"],
    "limit_basis": ["test_limit_basis_is_shown"],
    "cancelled_by": ["test_condition_arising_over_time_and_cancelled_by"],
    "recurring": ["test_monthly_report_due_on_the_last_day_of_its_month",
                  "test_partial_first_and_last_months", "test_quarterly_report_in_period",
                  "test_yearly_report_due_by_year_end", "test_yearly_august_application",
                  "test_a_filing_that_names_its_period_is_credited_to_it",
                  "test_a_period_that_is_not_a_period_is_refused"],
    "periods": ["test_period_end_is_not_moved_unless_told"],
    "minimums": ["test_minimum_duration_is_a_breach_not_a_refusal"],
    "gates": ["test_gate_breach_is_recorded_and_withdrawn_by_a_back_dated_requirement",
              "test_gate_requires_any"],
    "checks": ["test_fact_check_max_and_ratio"],
    "consequences": ["test_delay_total_consequence_and_its_correction",
                     "test_overdue_consequence_blocks_a_document",
                     "test_overdue_consequence_with_a_threshold"],
    "breach_notify": ["test_breach_notify_chooses_recipients"],
    "ladder": ["test_ladder_labels_and_colours_reach_the_views"],
    "validity": ["test_validity_draft_expired_not_yet"],
    "elections": ["test_owner_election_chooses_the_path",
                  "test_owner_election_by_a_stage_document"],
    "facts_decide": ["test_back_dated_document_withdraws_the_escalation",
                     "test_batch_gives_no_notice_and_one_at_a_time_is_corrected",
                     "test_extension_after_due_keeps_accrued_lateness",
                     "test_status_is_as_of_the_callers_day"],
    "validation": ["test_invalid_forms_are_refused_on_load",
                   "test_unchecked_forms_should_be_refused_on_load"],
}


def kind(notices: list[NoticeRecord], k: NoticeKind) -> list[NoticeRecord]:
    return [n for n in notices if n.kind is k]


def views(led: Ledger, today: str) -> dict[str, Any]:
    return {v.id: v for v in led.views(D(today))}


def with_obligations(*obligations: dict[str, Any], **top: Any) -> dict[str, Any]:
    data = base()
    data["obligations"] = list(obligations)
    data.update(top)
    return data


# ---- limit, starts_with ------------------------------------------------------------------
def test_limit_counts_working_days_over_national_day_and_makeup_days() -> None:
    led = ledger(base(), "2025-09-26")
    # 任务书 Fri 9/26; 5 wd: Sun 9/28 (调休, 1), 9/29 (2), 9/30 (3), 10/1–8 off, 10/9 (4),
    # 10/10 (5) → 2025-10-10.
    v = views(led, "2025-10-10")["plan_submission"]
    assert (v.due_on, v.state, v.limit) == (date(2025, 10, 10), ObligationState.OPEN, "5wd")
    # Sat 10/11 is a 调休 working day: one working day late on it.
    late = views(led, "2025-10-11")["plan_submission"]
    assert (late.state, late.overdue_working_days) == (ObligationState.OVERDUE, 1)
    # Warning 3 wd before: 10/9 (1), 9/30 (2), 9/29 (3) → from the start of 9/29.
    assert led.escalate(at("2025-09-28", 23)) == []
    [warn] = led.escalate(at("2025-09-29", 0))
    assert (warn.rung, warn.kind, warn.recipients) == ("warning", NoticeKind.RUNG, ["市测试局"])
    [over] = led.escalate(at("2025-10-11"))
    assert over.recipients == ["市测试局", "市数据局"]
    assert "逾期 1 个工作日 (到期日 2025-10-10)" in over.message
    # Escalated 5 wd after: 10/11 (1), 13, 14, 15, 16 (5) → the start of 10/16.
    assert led.next_wake(at("2025-10-11")) == at("2025-10-16", 0)
    [esc] = led.escalate(at("2025-10-16", 0))
    assert (esc.rung, esc.recipients) == ("escalated", ["市领导小组办公室"])


def test_starts_with_is_the_start_event() -> None:
    """`starts_with` names the document a life starts with; `started_on` is its date."""
    led = ledger(base(), "2025-09-26")
    assert views(led, "2025-09-26")["plan_submission"].starts_on == date(2025, 9, 26)
    assert led.pack.started_on_means == "接到任务书之日"
    with pytest.raises(Refused, match="before the task_issued"):
        led.check_document(doc("plan_submitted", "2025-09-25"), D("2025-10-01"))
    with pytest.raises(Refused, match="already recorded on 2025-09-26"):
        led.check_document(doc("task_issued", "2025-09-29"), D("2025-10-01"))


# ---- facts -------------------------------------------------------------------------------
FACTS: dict[str, Any] = {
    "platform": {"type": "bool", "label": "平台类项目"},
    "contract_term_years": {"type": "number", "label": "服务期限（年）"},
    "om_fee_wan": {"type": "number", "label": "年度运维费（万元）"},
    "om_kind": {"type": "choice", "label": "运维类型",
                "choices": {"self": "自行运维", "outsourced": "委托运维"}},
    "planned_start_on": {"type": "date", "label": "计划开工时间"},
    "planned_completion_on": {"type": "date", "label": "计划完工时间"},
}


def test_fact_conditions_choose_the_path() -> None:
    testing = {"id": "third_party_test", "title": "第三方测评", "actor": "owner",
               "fulfilled_by": "filing_done", "starts": "contract_signed", "limit": "20wd",
               "citation": "测试 第二十三条(八)",
               "when": {"facts": {"platform": True, "contract_term_years": {"gt": 3}}}}
    data = with_obligations(testing, facts=FACTS)
    on = ledger(data, "2025-03-03", [doc("contract_signed", "2025-04-01")],
                facts={"platform": True, "contract_term_years": 5})
    off = ledger(data, "2025-03-03", facts={"platform": True, "contract_term_years": 3})
    unknown = ledger(data, "2025-03-03", facts={"platform": True})
    # 合同 Tue 4/1; 20 wd: 4/2, 3 (2), 4/4–6 清明, 4/7–11 (7), 14–18 (12), 21–25 (17),
    # Sun 4/27 调休 (18), 4/28 (19), 4/29 (20) → 2025-04-29.
    assert views(on, "2025-04-10")["third_party_test"].due_on == date(2025, 4, 29)
    assert views(off, "2025-04-10")["third_party_test"].state is ObligationState.WAIVED
    # A fact the project does not state fails every test but `present: false`.
    assert views(unknown, "2025-04-10")["third_party_test"].state is ObligationState.WAIVED


def test_fact_date_is_an_event() -> None:
    """A date fact is an event (`fact:planned_start_on`) a duty can count from."""
    report = {"id": "start_report", "title": "开工报告", "actor": "owner",
              "fulfilled_by": "construction_started", "starts": "fact:planned_start_on",
              "limit": "10wd", "citation": "测试 第十条"}
    led = ledger(with_obligations(report, facts=FACTS), "2026-01-05",
                 facts={"planned_start_on": D("2026-02-06")})
    # Fri 2/6; 10 wd: 2/9–13 (5), Sat 2/14 调休 (6), 2/15–23 春节, 2/24–27 (10) → 2026-02-27.
    v = views(led, "2026-01-20")["start_report"]
    assert (v.starts_on, v.due_on, v.state) == (date(2026, 2, 6), date(2026, 2, 27),
                                                ObligationState.PENDING)


def test_a_document_states_a_fact() -> None:
    """The latest document stating a fact overrides the project record (合同服务期限)."""
    data = base()
    data["facts"] = FACTS
    data["checks"] = [{"id": "term_cap", "title": "服务期限不超过3年",
                       "fact": "contract_term_years", "max": 3, "citation": "测试 第九条"}]
    led = ledger(data, "2025-03-03", facts={"contract_term_years": 5})
    [breach] = led.status(at("2025-03-04")).breaches
    assert breach.detail == "服务期限（年） 5 超过上限 3"
    [violation] = led.escalate(at("2025-03-04"))  # plan_submission is not yet due (3/10)
    assert violation.kind is NoticeKind.VIOLATION
    # The signed contract says 2 years: the breach is gone and its notice withdrawn.
    record(led, doc("contract_signed", "2025-03-20", contract_term_years=2), "2025-03-20")
    assert led.status(at("2025-03-21")).breaches == []
    [correction] = kind(led.escalate(at("2025-03-21")), NoticeKind.CORRECTION)
    assert correction.withdraws == violation.key
    with pytest.raises(Refused, match="unknown fact 'term'"):
        led.check_document(doc("plan_submitted", "2025-03-21", term=2), D("2025-03-21"))


def test_a_fact_stated_by_a_document_reaches_conditions_and_events() -> None:
    testing = {"id": "third_party_test", "title": "第三方测评", "actor": "owner",
               "fulfilled_by": "filing_done", "starts": "contract_signed", "limit": "20wd",
               "citation": "测试 第二十三条(八)", "when": {"facts": {"platform": True}}}
    report = {"id": "start_report", "title": "开工报告", "actor": "owner",
              "fulfilled_by": "construction_started", "starts": "fact:planned_start_on",
              "limit": "10wd", "citation": "测试 第十条"}
    led = ledger(with_obligations(testing, report, facts=FACTS), "2026-01-05",
                 [doc("contract_signed", "2026-01-06", platform=True,
                      planned_start_on=D("2026-02-06"))], now="2026-01-07")
    v = views(led, "2026-01-07")
    # 20 wd from Tue 1/6: 1/7–9 (3), 12–16 (8), 19–23 (13), 26–30 (18), 2/2, 2/3 (20) → 2/3;
    # 10 wd from Fri 2/6 → 2/27 (as in test_fact_date_is_an_event).
    assert v["third_party_test"].due_on == date(2026, 2, 3)
    assert v["start_report"].due_on == date(2026, 2, 27)


# ---- due_by ------------------------------------------------------------------------------
def due_by_pack(due_by: dict[str, Any], **extra: Any) -> dict[str, Any]:
    ob = {"id": "application", "title": "申请运维经费", "actor": "owner",
          "fulfilled_by": "plan_submitted", "starts": "task_issued", "due_by": due_by,
          "citation": "测试 第三十五条", **extra}
    return with_obligations(ob, facts=FACTS)


def test_due_by_month_end_moves_to_a_working_day() -> None:
    # 每年8月底前 from 3/10/2025: Sun 8/31 → Mon 2025-09-01 (art. 203).
    led = ledger(due_by_pack({"month": 8, "day": "end"}), "2025-03-10")
    v = views(led, "2025-03-10")["application"]
    assert (v.due_on, v.limit) == (date(2025, 9, 1), "每年8月底前")
    # 5月底前: Sat 5/31 is 端午 (5/31–6/2) → Tue 2025-06-03.
    led = ledger(due_by_pack({"month": 5, "day": "end"}), "2025-01-06")
    assert views(led, "2025-01-06")["application"].due_on == date(2025, 6, 3)
    # 2月15日前 in 2026: Sun 2/15 is 春节 (2/15–2/23) → Tue 2026-02-24.
    led = ledger(due_by_pack({"month": 2, "day": 15}), "2026-01-05")
    assert views(led, "2026-01-05")["application"].due_on == date(2026, 2, 24)


def test_due_by_next_if_passed() -> None:
    # From 9/10/2025 this year's 8月底 has passed: 2026-08-31 is a Monday.
    led = ledger(due_by_pack({"month": 8, "day": "end", "next_if_passed": True}), "2025-09-10")
    assert views(led, "2025-09-10")["application"].due_on == date(2026, 8, 31)


def test_due_by_before_a_fact_date() -> None:
    """项目计划开工时间前: the day before the date, not moved (moving it onto a working day
    would land on the planned start itself)."""
    led = ledger(due_by_pack({"before_event": "fact:planned_start_on"}), "2026-01-05",
                 facts={"planned_start_on": D("2026-03-02")})
    # Planned start Mon 3/2 → due Sun 2026-03-01; warning 3 wd before: Sat 2/28 (调休, 1),
    # 2/27 (2), 2/26 (3) → from the start of 2/26.
    v = views(led, "2026-01-05")["application"]
    assert v.due_on == date(2026, 3, 1)
    assert led.escalate(at("2026-02-25", 23)) == []
    assert [n.rung for n in led.escalate(at("2026-02-26", 0))] == ["warning"]
    # No planned start known: no due day, nothing escalates.
    led = ledger(due_by_pack({"before_event": "fact:planned_start_on"}), "2026-01-05")
    assert views(led, "2026-01-05")["application"].due_on is None
    assert led.escalate(at("2026-11-23")) == []


def test_due_by_passed_when_the_duty_arises_is_due_at_once() -> None:
    """每年5月底前, arising on Wed 2025-09-10 without next_if_passed: 5/31 was before the duty
    existed, so it is due on the day it arose and lateness counts from then, not from May."""
    led = ledger(due_by_pack({"month": 5, "day": "end"}), "2025-09-10")
    v = views(led, "2025-09-10")["application"]
    assert v.due_on == date(2025, 9, 10)
    assert v.note is not None and "早于事项产生之日 2025-09-10" in v.note
    # Thu 9/11, Fri 9/12, Mon 9/15: 3 working days late on 9/15 (not ~75 from 6/3).
    assert views(led, "2025-09-15")["application"].overdue_working_days == 3


# ---- no_limit, opens_only, limit_basis ---------------------------------------------------
def test_no_limit_is_open_and_never_escalated() -> None:
    filing = {"id": "filing", "title": "备案", "actor": "owner", "fulfilled_by": "filing_done",
              "starts": "contract_signed", "no_limit": "及时", "citation": "测试 第十一条"}
    led = ledger(with_obligations(filing), "2025-03-03", [doc("contract_signed", "2025-03-20")])
    v = views(led, "2026-11-23")["filing"]
    assert (v.state, v.due_on, v.open_ended, v.limit) == (ObligationState.OPEN, None, True,
                                                          "无时限（及时）")
    assert led.escalate(at("2026-11-23")) == []
    assert led.next_wake(at("2026-11-23")) is None
    record(led, doc("filing_done", "2026-11-20"))
    v = views(led, "2026-11-23")["filing"]
    assert (v.state, v.on_time) == (ObligationState.DONE, None)


def test_window_with_no_closing_day() -> None:
    """投入使用一年后: open from a day, no due day, no escalation; earlier = a breach."""
    evaluation = {"id": "post_evaluation", "title": "后评价", "actor": "owner",
                  "fulfilled_by": "evaluation_filed", "starts": "acceptance_passed",
                  "opens": "1y", "opens_only": True, "citation": "测试 第二十九条"}
    led = ledger(with_obligations(evaluation), "2025-03-03",
                 [doc("acceptance_passed", "2025-10-10")])
    # 10/10/2025 + 1 year = Sat 2026-10-10, a 调休 working day: not moved.
    v = views(led, "2026-09-01")["post_evaluation"]
    assert (v.opens_on, v.due_on, v.open_ended, v.state) == (
        date(2026, 10, 10), None, True, ObligationState.OPEN)
    assert v.limit == "1y 后起"
    assert led.escalate(at("2026-11-23")) == []
    record(led, doc("evaluation_filed", "2026-10-09"))
    [breach] = led.status(at("2026-11-23")).breaches
    assert breach.detail == "于 2026-10-09 完成，早于窗口开始日 2026-10-10"
    assert [n.kind for n in led.escalate(at("2026-11-23"))] == [NoticeKind.VIOLATION]
    on_day = ledger(with_obligations(evaluation), "2025-03-03",
                    [doc("acceptance_passed", "2025-10-10"), doc("evaluation_filed", "2026-10-10")])
    assert on_day.status(at("2026-11-23")).breaches == []


def test_limit_basis_is_shown() -> None:
    review = {**APPROVAL, "limit": "15wd",
              "limit_basis": "shixian 运营默认：办法未规定审核时限"}
    led = ledger(with_obligations({**review, "starts": "task_issued"}), "2025-09-26")
    v = views(led, "2025-09-26")["plan_approval"]
    assert v.limit_basis == "shixian 运营默认：办法未规定审核时限"
    # 15 wd from Fri 9/26: 9/28, 29, 30 (3), 10/9, 10, 11 (6), 13–17 (11), 20–23 (15) → 10/23.
    assert v.due_on == date(2025, 10, 23)


# ---- conditions arising over time, cancelled_by, periods ---------------------------------
def half_year_pack() -> dict[str, Any]:
    """上饶 17 shape: 逾期半年以上 — 6 months past the planned completion with no 竣工验收,
    a report is due; moot when the acceptance came first."""
    data = with_obligations({
        "id": "delay_report", "title": "报告逾期原因", "actor": "owner",
        "fulfilled_by": "plan_submitted", "starts": "half_year_late", "limit": "10wd",
        "cancelled_by": ["acceptance_passed"], "citation": "测试 第十七条"}, facts=FACTS)
    data["periods"] = [{"id": "half_year_late", "title": "计划完工后半年",
                        "starts": "fact:planned_completion_on", "length": "6m",
                        "citation": "测试 第十七条"}]
    return data


def test_condition_arising_over_time_and_cancelled_by() -> None:
    facts = {"planned_completion_on": D("2025-03-31")}
    late = ledger(half_year_pack(), "2025-01-06", facts=facts)
    # 3/31 + 6 months = Tue 9/30; 10 wd: 10/1–8 off, 10/9, 10, Sat 10/11 (调休), 13–17 (8),
    # 20, 21 (10) → 2025-10-21. Before 9/30 it has not arisen.
    assert views(late, "2025-09-01")["delay_report"].state is ObligationState.PENDING
    v = views(late, "2025-10-01")["delay_report"]
    assert (v.starts_on, v.due_on, v.state) == (date(2025, 9, 30), date(2025, 10, 21),
                                                ObligationState.OPEN)
    done = ledger(half_year_pack(), "2025-01-06", [doc("acceptance_passed", "2025-09-15")],
                  facts=facts)
    v = views(done, "2025-10-01")["delay_report"]
    assert v.state is ObligationState.WAIVED
    assert v.note == "moot: 竣工验收通过 on 2025-09-15 came first"


def test_period_end_is_not_moved_unless_told() -> None:
    """A duration is not a deadline: its end stays on a rest day unless `moves_to_workday`."""
    def build(moves: bool) -> Ledger:
        data = with_obligations({
            "id": "acceptance_application", "title": "申请竣工验收", "actor": "owner",
            "fulfilled_by": "acceptance_passed", "starts": "trial_run", "limit": "5wd",
            "citation": "测试 第三十一条"})
        data["periods"] = [{"id": "trial_run", "title": "试运行", "starts": "trial_run_started",
                            "length": "1m", "moves_to_workday": moves,
                            "citation": "测试 第三十一条"}]
        return ledger(data, "2025-03-03", [doc("trial_run_started", "2025-07-31")])
    # 7/31 + 1 month = Sun 8/31. Not moved: 5 wd 9/1–9/5 → 9/5. Moved to Mon 9/1: 9/2–5, 9/8.
    assert views(build(False), "2025-08-01")["acceptance_application"].due_on == \
        date(2025, 9, 5)
    assert views(build(True), "2025-08-01")["acceptance_application"].due_on == \
        date(2025, 9, 8)


# ---- recurring ---------------------------------------------------------------------------
def recurring_pack(every: str, doc_type: str, **rule: Any) -> dict[str, Any]:
    data = base()
    data["recurring"] = [{"id": f"{every}_report", "title": "报送进展", "actor": "owner",
                          "fulfilled_by": doc_type, "every": every,
                          "from_event": "contract_signed", "until_event": "acceptance_passed",
                          "citation": "测试 第二十条", **rule}]
    return data


def test_monthly_report_due_on_the_last_day_of_its_month() -> None:
    """相城 20 shape "每月": `due_after_period_end: 0d` = the month's last day (art. 203)."""
    led = ledger(recurring_pack("month", "monthly_report", due_after_period_end="0d"),
                 "2026-01-05", [doc("contract_signed", "2026-01-12"),
                                doc("monthly_report", "2026-01-30"),
                                doc("monthly_report", "2026-02-28"),
                                doc("acceptance_passed", "2026-04-20")])
    v = {k: x for k, x in views(led, "2026-05-10").items() if k.startswith("month_report")}
    # Jan: Sat 1/31 → Mon 2/2. Feb: Sat 2/28 is a 调休 working day → 2/28 itself.
    # Mar: Tue 3/31. Apr: the phase ended 4/20, last partial month not due.
    assert {k: x.due_on for k, x in v.items()} == {
        "month_report@2026-01": date(2026, 2, 2), "month_report@2026-02": date(2026, 2, 28),
        "month_report@2026-03": date(2026, 3, 31)}
    assert v["month_report@2026-01"].starts_on == date(2026, 1, 12)  # the phase's first day
    # A filing on the last day counts for that month, on time.
    assert (v["month_report@2026-02"].done_on, v["month_report@2026-02"].on_time) == (
        date(2026, 2, 28), True)
    # March missed; late by 5/10: 4/1–3 (3), 4/4–6 清明, 4/7–10 (7), 13–17 (12), 20–24 (17),
    # 27–30 (21), 5/1–5 off, 5/6–8 (24), Sat 5/9 调休 (25).
    assert (v["month_report@2026-03"].state, v["month_report@2026-03"].overdue_working_days) \
        == (ObligationState.OVERDUE, 25)


def test_partial_first_and_last_months() -> None:
    data = recurring_pack("month", "monthly_report", due_after_period_end="0d",
                          first_partial=False, last_partial=True)
    led = ledger(data, "2026-01-05", [doc("contract_signed", "2026-01-12"),
                                      doc("acceptance_passed", "2026-04-20")])
    due = {k: x.due_on for k, x in views(led, "2026-05-10").items()
           if k.startswith("month_report")}
    # January (the phase starts 1/12) is not due; April (it ends 4/20) is: Thu 4/30.
    assert due == {"month_report@2026-02": date(2026, 2, 28),
                   "month_report@2026-03": date(2026, 3, 31),
                   "month_report@2026-04": date(2026, 4, 30)}


def test_quarterly_report_in_period() -> None:
    """上饶 25 shape "按季度（季度末）": listed from the quarter's first day, due on its last."""
    led = ledger(recurring_pack("quarter", "quarterly_report", due_after_period_end="0d"),
                 "2025-03-03", [doc("contract_signed", "2025-05-06")], now="2025-09-10")
    v = views(led, "2025-09-10")
    # Q2: 5/6 – Mon 6/30. Q3 is under way: due Tue 9/30, open.
    assert (v["quarter_report@2025Q2"].due_on, v["quarter_report@2025Q2"].state) == (
        date(2025, 6, 30), ObligationState.OVERDUE)
    q3 = v["quarter_report@2025Q3"]
    assert (q3.starts_on, q3.due_on, q3.state) == (date(2025, 7, 1), date(2025, 9, 30),
                                                   ObligationState.OPEN)
    assert "quarter_report@2025Q4" not in v
    # Two filings: the first fulfils the oldest quarter (Q2, late), the second Q3 on its last day.
    record(led, doc("quarterly_report", "2025-07-02"), "2025-10-01")
    record(led, doc("quarterly_report", "2025-09-30"), "2025-10-01")
    v = views(led, "2025-10-01")
    assert (v["quarter_report@2025Q2"].done_on, v["quarter_report@2025Q2"].overdue_working_days) \
        == (date(2025, 7, 2), 2)
    assert (v["quarter_report@2025Q3"].done_on, v["quarter_report@2025Q3"].on_time) == (
        date(2025, 9, 30), True)


def test_a_filing_that_names_its_period_is_credited_to_it() -> None:
    """Q2 missed, Q3 filed on time: unstated, the 9/30 filing would settle Q2 (the oldest
    open) and leave Q3 late; `period: 2025Q3` credits Q3, and Q2 stays overdue."""
    led = ledger(recurring_pack("quarter", "quarterly_report", due_after_period_end="0d"),
                 "2025-03-03", [doc("contract_signed", "2025-05-06")], now="2025-09-10")
    named = doc("quarterly_report", "2025-09-30").model_copy(update={"period": "2025Q3"})
    record(led, named, "2025-10-09")
    v = views(led, "2025-10-09")
    assert (v["quarter_report@2025Q3"].done_on, v["quarter_report@2025Q3"].on_time) == (
        date(2025, 9, 30), True)
    assert v["quarter_report@2025Q2"].state is ObligationState.OVERDUE
    # A later unstated filing settles the oldest open report: Q2, late.
    record(led, doc("quarterly_report", "2025-10-09"), "2025-10-09")
    assert views(led, "2025-10-09")["quarter_report@2025Q2"].done_on == date(2025, 10, 9)


def test_a_period_that_is_not_a_period_is_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        DocumentArrival(type="quarterly_report", on=date(2025, 9, 30), period="Q3 2025")
    led = ledger(recurring_pack("quarter", "quarterly_report", due_after_period_end="0d"),
                 "2025-03-03", [doc("contract_signed", "2025-05-06")], now="2025-09-10")
    today = date(2025, 10, 9)

    def named(period: str, on: str = "2025-09-30") -> DocumentArrival:
        return doc("quarterly_report", on).model_copy(update={"period": period})

    with pytest.raises(Refused,
                       match=r"no period 2026Q1 is due.*open periods: 2025Q2, 2025Q3, 2025Q4"):
        led.check_document(named("2026Q1"), today)
    with pytest.raises(Refused, match="can be filed from 2025-07-01"):
        led.check_document(named("2025Q3", "2025-06-30"), today)
    record(led, named("2025Q3"), "2025-10-09")
    with pytest.raises(Refused, match="already filed on 2025-09-30; open periods: 2025Q2, 2025Q4"):
        led.check_document(named("2025Q3", "2025-10-08"), today)
    with pytest.raises(Refused, match="not a periodic report"):
        led.check_document(doc("acceptance_passed", "2025-10-08").model_copy(
            update={"period": "2025Q3"}), today)


def test_yearly_report_due_by_year_end() -> None:
    """当年度内: every year by 12/31, while the phase lasts."""
    data = recurring_pack("year", "annual_report", due_by={"month": 12, "day": "end"})
    led = ledger(data, "2025-03-03", [doc("contract_signed", "2025-03-10"),
                                      doc("acceptance_passed", "2026-06-15")])
    due = {k: x.due_on for k, x in views(led, "2026-11-23").items()
           if k.startswith("year_report")}
    # 2025: Wed 12/31. 2026's 12/31 falls after the phase ended (6/15): not due.
    assert due == {"year_report@2025": date(2025, 12, 31)}


def test_yearly_august_application() -> None:
    """九江 35 shape 每年8月底前 while in operation: not due in a year whose day came first."""
    data = base()
    data["recurring"] = [{"id": "om_funds", "title": "申请运维经费", "actor": "owner",
                          "fulfilled_by": "annual_report", "every": "year",
                          "due_by": {"month": 8, "day": "end"}, "from_event": "acceptance_passed",
                          "until_event": "evaluation_filed", "citation": "测试 第三十五条"}]
    led = ledger(data, "2025-03-03", [doc("acceptance_passed", "2025-09-10")])
    due = {k: x.due_on for k, x in views(led, "2026-11-23").items() if k.startswith("om_funds")}
    # 2025: 8/31 → 9/1 came before operation began (9/10). 2026: Mon 8/31.
    assert due == {"om_funds@2026": date(2026, 8, 31)}


# ---- minimums, gates, checks -------------------------------------------------------------
def minimum_pack() -> dict[str, Any]:
    data = base()
    data["minimums"] = [{"id": "trial_minimum", "title": "试运行不少于1个月",
                         "after": "trial_run_started", "length": "1m",
                         "document": "acceptance_passed", "citation": "测试 第三十一条"}]
    return data


def test_minimum_duration_is_a_breach_not_a_refusal() -> None:
    # Trial from 9/1/2025: 1 month ends 10/1 (国庆), not moved to 10/9.
    early = ledger(minimum_pack(), "2025-03-03", [doc("trial_run_started", "2025-09-01"),
                                                  doc("acceptance_passed", "2025-09-30")])
    assert early.stage(D("2025-10-09")) == "operating"  # recorded as a fact
    [breach] = early.status(at("2025-10-09")).breaches
    assert (breach.rule, breach.citation, breach.on) == ("trial_minimum", "测试 第三十一条",
                                                        date(2025, 9, 30))
    assert "早于 2025-10-01" in breach.detail
    [notice] = kind(early.escalate(at("2025-10-09")), NoticeKind.VIOLATION)
    assert (notice.kind, notice.recipients) == (NoticeKind.VIOLATION, ["市测试局", "市数据局"])
    assert kind(early.escalate(at("2025-10-10")), NoticeKind.VIOLATION) == []  # once
    # On a day inside the holiday but after the month: satisfied (an end moved to 10/9 would
    # have made it a breach).
    ok = ledger(minimum_pack(), "2025-03-03", [doc("trial_run_started", "2025-09-01"),
                                               doc("acceptance_passed", "2025-10-08")])
    assert ok.status(at("2025-10-09")).breaches == []


def gate_pack() -> dict[str, Any]:
    data = with_obligations({**APPROVAL})
    data["obligations"].insert(0, {
        "id": "plan_submission", "title": "报送实施方案", "actor": "owner",
        "fulfilled_by": "plan_submitted", "starts": "task_issued", "limit": "20wd",
        "citation": "测试 第五条"})
    data["gates"] = [{"id": "no_build_before_approval", "title": "不得未批先建",
                      "document": "contract_signed", "requires": ["plan_approved"],
                      "citation": "测试 第十六条"}]
    return data


def test_gate_breach_is_recorded_and_withdrawn_by_a_back_dated_requirement() -> None:
    led = ledger(gate_pack(), "2025-04-01", [doc("plan_submitted", "2025-04-20"),
                                             doc("contract_signed", "2025-05-06")],
                 now="2025-05-07")
    assert led.stage(D("2025-05-07")) == "building"
    [breach] = led.status(at("2025-05-07")).breaches
    assert breach.detail == "合同签订于 2025-05-06 记录，此前未见实施方案批复"
    [violation] = kind(led.escalate(at("2025-05-07")), NoticeKind.VIOLATION)
    assert violation.kind is NoticeKind.VIOLATION and "测试 第十六条" in violation.message
    # The approval turns up, dated 4/30: no breach, and the notice is withdrawn.
    record(led, doc("plan_approved", "2025-04-30", ref="测批〔2025〕3号"), "2025-05-12")
    assert led.status(at("2025-05-12")).breaches == []
    corrections = {n.withdraws: n for n in kind(led.escalate(at("2025-05-12")),
                                                NoticeKind.CORRECTION)}
    correction = corrections[violation.key]
    assert correction.message.endswith("按现有事实，不构成该违规")
    assert correction.recipients == violation.recipients
    # The approval's own overdue notice (due 10 wd after Sun 4/20: 4/21–25, Sun 4/27 调休,
    # 4/28–30, 5/1–5 off, 5/6) is withdrawn as well: it was approved on time.
    assert set(corrections) == {violation.key, "plan_approval:overdue@2025-05-06"}
    assert led.state.withdrawn[violation.key] == correction.key
    assert kind(led.escalate(at("2025-05-13")), NoticeKind.CORRECTION) == []


def test_gate_requires_any() -> None:
    data = gate_pack()
    data["gates"] = [{"id": "filing_first", "title": "先备案后采购", "document": "contract_signed",
                      "requires_any": ["filing_done", "plan_approved"],
                      "citation": "测试 第七条"}]
    bad = ledger(data, "2025-04-01", [doc("contract_signed", "2025-05-06")])
    [breach] = bad.status(at("2025-05-07")).breaches
    assert breach.detail.endswith("此前未见filing_done / plan_approved")
    good = ledger(data, "2025-04-01", [doc("filing_done", "2025-05-06"),
                                       doc("contract_signed", "2025-05-06")])
    assert good.status(at("2025-05-07")).breaches == []


def test_fact_check_max_and_ratio() -> None:
    data = base()
    data["facts"] = FACTS
    data["checks"] = [
        {"id": "term_cap", "title": "服务期限不超过3年", "fact": "contract_term_years",
         "max": 3, "citation": "测试 第九条"},
        {"id": "om_fee_cap", "title": "年度运维费不超过建设费15%", "fact": "om_fee_wan",
         "max_ratio_of": "investment_wan", "ratio": 0.15, "citation": "测试 第九条"}]
    ok = ledger(data, "2025-03-03", facts={"contract_term_years": 3, "om_fee_wan": 75})
    assert ok.status(at("2025-03-04")).breaches == []  # 3 ≤ 3; 75 ≤ 500 × 0.15
    bad = ledger(data, "2025-03-03", facts={"contract_term_years": 3.5, "om_fee_wan": 80})
    assert [b.detail for b in bad.status(at("2025-03-04")).breaches] == [
        "服务期限（年） 3.5 超过上限 3", "年度运维费（万元） 80 超过 investment_wan 500 的 0.15 倍"]
    assert [n.kind for n in bad.escalate(at("2025-03-04"))] == [NoticeKind.VIOLATION] * 2
    data["checks"] = [{"id": "term_floor", "title": "服务期限不少于1年",
                       "fact": "contract_term_years", "min": 1, "citation": "测试 第九条"}]
    short = ledger(data, "2025-03-03", facts={"contract_term_years": 0.5})
    assert [b.detail for b in short.status(at("2025-03-04")).breaches] == [
        "服务期限（年） 0.5 低于下限 1"]
    assert ledger(data, "2025-03-03").status(at("2025-03-04")).breaches == []  # not known yet


# ---- consequences, breach_notify, ladder -------------------------------------------------
def test_delay_total_consequence_and_its_correction() -> None:
    """九江 27 shape: the owner's overdue working days add up; a later fact lowers them."""
    data = with_obligations({**base()["obligations"][0], "counts_toward_delay": True})
    data["escalation"]["consequences"] = [{
        "id": "funding_at_risk", "title": "暂停安排资金", "kind": "delay_total",
        "threshold": "10wd", "phase": "preparatory", "notify": ["bureau", "owner"],
        "citation": "测试 第二十七条", "message": "累计延后超过10个工作日"}]
    led = ledger(data, "2025-09-26")
    # Due 10/10; the 10th overdue working day: 10/11 (1), 13–17 (6), 20–23 (10) → 10/23.
    led.escalate(at("2025-10-22"))
    assert led.next_wake(at("2025-10-22")) == at("2025-10-23", 0)
    fired = led.escalate(at("2025-10-23"))
    [cons] = [n for n in fired if n.kind is NoticeKind.CONSEQUENCE]
    assert "累计延后 10 个工作日" in cons.message and cons.recipients == ["市数据局", "市测试局"]
    assert led.status(at("2025-10-23")).delay_working_days == 10
    # The plan was in fact submitted 10/15: 4 wd late (10/11, 13, 14, 15), under the threshold.
    record(led, doc("plan_submitted", "2025-10-15"), "2025-10-24")
    corrections = led.escalate(at("2025-10-24"))
    assert {n.withdraws for n in corrections} == set(led.state.withdrawn)
    assert cons.key in led.state.withdrawn
    [c] = [n for n in corrections if n.withdraws == cons.key]
    assert "累计延后 4 个工作日，未达 10wd" in c.message
    assert led.status(at("2025-10-24")).delay_working_days == 4
    # The escalated rung (sent 10/22, due from 10/16) is withdrawn too: on 10/16 the plan
    # was in. The duty shows done 4 wd late.
    v = views(led, "2025-10-24")["plan_submission"]
    assert (v.state, v.on_time, v.overdue_working_days, v.escalation_level) == (
        ObligationState.DONE, False, 4, 0)


def revocation_pack() -> dict[str, Any]:
    """相城 20(二) shape: start construction by year end, or the project is revoked and a
    later 开工 is blocked."""
    start = {"id": "start_construction", "title": "当年开工", "actor": "owner",
             "fulfilled_by": "construction_started", "starts": "contract_signed",
             "due_by": {"month": 12, "day": "end"}, "citation": "测试 第二十条(二)"}
    data = with_obligations(start)
    data["escalation"]["consequences"] = [{
        "id": "revoked", "title": "撤销项目", "kind": "overdue",
        "obligation": "start_construction", "blocks": ["construction_started"],
        "notify": ["office", "owner"], "citation": "测试 第二十条(二)",
        "message": "年底前未开工，撤销项目"}]
    return data


def test_overdue_consequence_blocks_a_document() -> None:
    """相城 20(二) shape: not started by year end → revoked; a later 开工 is a breach."""
    led = ledger(revocation_pack(), "2025-03-03", [doc("contract_signed", "2025-06-10")])
    # Due Wed 2025-12-31; the consequence fires at its 24:00.
    assert views(led, "2025-06-10")["start_construction"].due_on == date(2025, 12, 31)
    assert not [n for n in led.escalate(at("2025-12-31", 23))
                if n.kind is NoticeKind.CONSEQUENCE]
    [cons] = [n for n in led.escalate(at("2026-01-01", 0))
              if n.kind is NoticeKind.CONSEQUENCE]
    assert cons.recipients == ["市领导小组办公室", "市测试局"]
    record(led, doc("construction_started", "2026-01-05"), "2026-01-06")
    breaches = led.status(at("2026-01-06")).breaches
    assert [b.id for b in breaches] == ["revoked:construction_started@2026-01-05"]
    notices = led.escalate(at("2026-01-06"))
    assert [n.kind for n in notices] == [NoticeKind.VIOLATION]  # the revocation stands
    assert views(led, "2026-01-06")["start_construction"].overdue_working_days == 2  # 1/4, 1/5


def test_breaches_are_kept_per_state_and_follow_documents_and_standing_notices() -> None:
    """A wake asks for the breaches up to five times: the rules part is derived once per
    state (instances and plan), again when a document arrives; what a standing consequence
    forbids follows the notices at every call, though no instance changed."""
    led = ledger(revocation_pack(), "2025-03-03", [doc("contract_signed", "2025-06-10")])
    [cons] = [n for n in led.escalate(at("2026-01-01", 0))
              if n.kind is NoticeKind.CONSEQUENCE]
    day = date(2026, 1, 6)
    assert breaches(led, day) == []
    kept = led.broken_rules
    assert kept is not None
    breaches(led, day)
    assert led.broken_rules is kept  # not derived again
    record(led, doc("construction_started", "2026-01-05"), "2026-01-06")
    assert [b.id for b in breaches(led, day)] == ["revoked:construction_started@2026-01-05"]
    assert led.broken_rules is not kept
    led.state.withdrawn[cons.key] = f"{cons.key}:withdrawn"  # the revocation taken back
    assert breaches(led, day) == []


def test_overdue_consequence_with_a_threshold() -> None:
    """`threshold` on an overdue consequence: it fires once the duty is that many wd late."""
    data = base()
    data["escalation"]["consequences"] = [{
        "id": "report_to_leaders", "title": "报领导小组", "kind": "overdue",
        "obligation": "plan_submission", "threshold": "3wd", "notify": ["office"],
        "citation": "测试 第二十七条", "message": "逾期3个工作日以上"}]
    led = ledger(data, "2025-09-26")
    # Due 10/10; 3 wd late: Sat 10/11 (调休, 1), 10/13 (2), 10/14 (3) → from the start of 10/14.
    assert led.next_wake(at("2025-10-13")) == at("2025-10-14", 0)
    assert kind(led.escalate(at("2025-10-13")), NoticeKind.CONSEQUENCE) == []
    [cons] = kind(led.escalate(at("2025-10-14", 0)), NoticeKind.CONSEQUENCE)
    assert "逾期 3 个工作日" in cons.message


def test_breach_notify_chooses_recipients() -> None:
    data = minimum_pack()
    data["escalation"]["breach_notify"] = ["audit", "owner"]
    led = ledger(data, "2025-03-03", [doc("trial_run_started", "2025-09-01"),
                                      doc("acceptance_passed", "2025-09-30")])
    [notice] = kind(led.escalate(at("2025-10-09")), NoticeKind.VIOLATION)
    assert (notice.recipients, notice.recipient_actors) == (["市审计局", "市测试局"],
                                                            ["audit", "owner"])


def test_ladder_labels_and_colours_reach_the_views() -> None:
    led = ledger(base(), "2025-09-26")
    led.escalate(at("2025-10-16"))  # 5 wd after 10/10: 督办
    status = led.status(at("2025-10-16"))
    v = {o.id: o for o in status.obligations}["plan_submission"]
    assert (v.escalation_level, v.escalation_label, v.escalation_colour) == (3, "督办", "red")
    assert (status.escalation_label, status.escalation_colour) == ("督办", "red")
    assert led.state.notices[0].message.startswith("[LANG-1] 督办: ")
    quiet = ledger(base(), "2025-09-26").status(at("2025-09-26"))
    assert (quiet.escalation_level, quiet.escalation_colour) == (0, "green")


# ---- validity, elections -----------------------------------------------------------------
def test_validity_draft_expired_not_yet() -> None:
    draft = pack({**base(), "status": "draft"})
    assert draft.validity_on(D("2025-03-03")) == "lang-test is a draft (征求意见稿): its rules " \
        "are not in force"
    dated = {**base(), "effective_from": "2025-03-01", "expires_on": "2025-12-31",
             "after_expiry": "按原办法继续管理至项目结束"}
    assert pack(dated).validity_on(D("2025-02-01")) == "lang-test takes effect on 2025-03-01"
    assert pack(dated).validity_on(D("2025-12-31")) is None
    assert pack(dated).validity_on(D("2026-01-05")) == \
        "lang-test expired on 2025-12-31; 按原办法继续管理至项目结束"
    status = ledger(dated, "2026-01-05").status(at("2026-01-06"))
    assert (status.policy_status, status.policy_note) == (
        "expired", "lang-test expired on 2025-12-31; 按原办法继续管理至项目结束")
    status = ledger({**base(), "status": "draft"}, "2025-03-03").status(at("2025-03-04"))
    assert status.policy_status == "draft"


def election_pack() -> dict[str, Any]:
    """九江 25 末段 shape "可合并": the owner's 合并编报 election replaces two steps by one."""
    data = base()
    data["documents"]["merge_elected"] = {"title": "合并编报申请"}
    data["obligations"] = [
        {"id": "plan_submission", "title": "报送实施方案", "actor": "owner",
         "fulfilled_by": "plan_submitted", "starts": "task_issued", "limit": "20wd",
         "citation": "测试 第二十五条", "when": {"none_of": [{"elected": ["merge_elected"]}]}},
        {"id": "merged_submission", "title": "合并报送实施方案和预算", "actor": "owner",
         "fulfilled_by": "plan_submitted", "starts": "merge_elected", "limit": "30wd",
         "citation": "测试 第二十五条 末段", "when": {"elected": ["merge_elected"]}},
    ]
    return data


def test_owner_election_chooses_the_path() -> None:
    led = ledger(election_pack(), "2025-09-01")
    assert views(led, "2025-09-01")["merged_submission"].state is ObligationState.WAIVED
    record(led, doc("merge_elected", "2025-09-03"), "2025-09-03")
    v = views(led, "2025-09-03")
    assert v["plan_submission"].state is ObligationState.WAIVED
    # 30 wd from Wed 9/3: 9/4–5 (2), 8–12 (7), 15–19 (12), 22–26 (17), Sun 9/28 (18), 29,
    # 30 (20), 10/1–8 off, 10/9, 10, Sat 10/11 (23), 13–17 (28), 20, 21 (30) → 2025-10-21.
    assert v["merged_submission"].due_on == date(2025, 10, 21)


def test_owner_election_by_a_stage_document() -> None:
    """An election document the pack also lists as a stage's entry is taken and switches the
    path (today's workaround for the case above)."""
    data = election_pack()
    data["stages"][0]["entered_by"] = ["task_issued", "merge_elected"]
    led = ledger(data, "2025-09-01")
    assert views(led, "2025-09-01")["merged_submission"].state is ObligationState.WAIVED
    assert views(led, "2025-09-01")["plan_submission"].state is ObligationState.OPEN
    record(led, doc("merge_elected", "2025-09-03"), "2025-09-03")
    v = views(led, "2025-09-03")
    assert v["plan_submission"].state is ObligationState.WAIVED
    # Same count as above → 2025-10-21.
    assert v["merged_submission"].due_on == date(2025, 10, 21)


# ---- facts decide ------------------------------------------------------------------------
def chain_pack() -> dict[str, Any]:
    data = with_obligations({**base()["obligations"][0], "counts_toward_delay": True},
                            {**APPROVAL, "counts_toward_delay": True})
    data["escalation"]["consequences"] = [{
        "id": "funding_at_risk", "title": "暂停安排资金", "kind": "delay_total",
        "threshold": "10wd", "phase": "preparatory", "notify": ["bureau"],
        "citation": "测试 第二十七条", "message": "累计延后超过10个工作日"}]
    return data


def test_back_dated_document_withdraws_the_escalation() -> None:
    led = ledger(base(), "2025-09-26")
    # By 10/20 the escalated rung (10/16) is the highest reached: one notice.
    [esc] = led.escalate(at("2025-10-20"))
    assert (esc.rung, esc.overdue_working_days) == ("escalated", 7)  # 10/11, 13–17, 20
    record(led, doc("plan_submitted", "2025-10-09", ref="测报〔2025〕9号"), "2025-10-21")
    [correction] = led.escalate(at("2025-10-21"))
    assert correction.kind is NoticeKind.CORRECTION and correction.withdraws == esc.key
    assert correction.recipients == esc.recipients == ["市领导小组办公室"]
    assert correction.message.endswith(
        "依据实施方案报送（测报〔2025〕9号），该事项已于 2025-10-09 按时完成")
    assert led.state.withdrawn == {esc.key: correction.key}
    v = views(led, "2025-10-21")["plan_submission"]
    assert (v.state, v.on_time, v.escalation_level, v.withdrawn_notices) == (
        ObligationState.DONE, True, 0, 1)
    assert [n.key for n in led.state.notices] == [esc.key, correction.key]  # both kept


def history() -> list[Any]:
    # 任务书 9/26; plan 10/9 (due 10/10, on time); approval due 10 wd after 10/9: 10/10,
    # Sat 10/11, 13–17 (7), 20–22 (10) → 10/22; approved 10/24: 2 wd late (10/23, 10/24).
    return [doc("plan_submitted", "2025-10-09"), doc("plan_approved", "2025-10-24")]


def test_batch_gives_no_notice_and_one_at_a_time_is_corrected() -> None:
    """Recording a past history: as one batch, only the real delay is notified; line by
    line, the wrong notices sent between lines are each withdrawn."""
    batch = ledger(chain_pack(), "2025-09-26", history())
    notices = batch.escalate(at("2026-11-23"))
    assert notices == []  # both done: nothing is open to escalate, no consequence (2 < 10)
    v = views(batch, "2026-11-23")
    assert (v["plan_submission"].on_time, v["plan_approval"].on_time) == (True, False)
    assert v["plan_approval"].overdue_working_days == 2
    assert batch.status(at("2026-11-23")).delay_working_days == 2

    lines = ledger(chain_pack(), "2025-09-26")
    sent = lines.escalate(at("2026-11-23"))
    for d in history():
        record(lines, d)
        sent += lines.escalate(at("2026-11-23"))
    wrong = [n for n in sent if n.kind is not NoticeKind.CORRECTION]
    corrections = [n for n in sent if n.kind is NoticeKind.CORRECTION]
    assert wrong and {n.withdraws for n in corrections} == {n.key for n in wrong}
    assert lines.status(at("2026-11-23")).delay_working_days == 2
    assert all(n.level == 0 or n.key in lines.state.withdrawn for n in wrong)


def test_extension_after_due_keeps_accrued_lateness() -> None:
    led = ledger(base(), "2025-09-26")  # due 10/10
    ext = Extension(obligation="plan_submission", until=D("2025-10-31"), reason="批准延期",
                    granted_on=D("2025-10-15"))
    led.check_extension(ext.obligation, ext.until, ext.granted_on, D("2025-10-15"))
    led.apply_extension(ext, at("2025-10-15"))
    record(led, doc("plan_submitted", "2025-10-30"), "2025-10-30")
    v = views(led, "2025-10-30")["plan_submission"]
    # Late 10/11, 13, 14, 15 until the grant (4 wd); on time against the new due day after.
    assert (v.due_on, v.overdue_working_days, v.on_time) == (date(2025, 10, 31), 4, False)
    # A second extension must move the due day later still.
    again = ledger(base(), "2025-09-26")
    again.apply_extension(ext, at("2025-10-15"))
    with pytest.raises(Refused, match="later than 2025-10-31"):
        again.check_extension("plan_submission", D("2025-10-20"), D("2025-10-16"),
                              D("2025-10-16"))


def test_status_is_as_of_the_callers_day() -> None:
    led = ledger(base(), "2025-09-26")
    last_task = at("2025-10-01")
    assert views(led, "2025-10-01")["plan_submission"].state is ObligationState.OPEN
    later = led.status(last_task, D("2025-10-20"))
    v = {o.id: o for o in later.obligations}["plan_submission"]
    assert (later.today, v.state, v.overdue_working_days) == (
        date(2025, 10, 20), ObligationState.OVERDUE, 7)
    assert later.overdue


# ---- validation: each construct's invalid forms ------------------------------------------
def _with(path: str, value: Any, *, drop: str | None = None) -> dict[str, Any]:
    """`base()` with one field set (path like obligations.0.due_by) or dropped."""
    data = base()
    data["facts"] = copy.deepcopy(FACTS)
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[keys[-1]] = value
    if drop:
        del node[drop]
    return data


def _ob(**changes: Any) -> dict[str, Any]:
    data = base()
    data["facts"] = copy.deepcopy(FACTS)
    data["obligations"] = [{**base()["obligations"][0], **changes}]
    return data


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("limit and due_by", _ob(due_by={"month": 8, "day": "end"}),
     r"obligation plan_submission: give exactly one of limit, due_by or no_limit .*"
     r"got \['limit', 'due_by'\]"),
    ("no limit at all", _ob(limit=None),
     r"obligation plan_submission: give exactly one of limit, due_by or no_limit"),
    ("limit and no_limit", _ob(no_limit="及时"), r"got \['limit', 'no_limit'\]"),
    ("bad limit", _ob(limit="5 days"),
     r"obligation plan_submission: limit '5 days' is not a period: write e.g. 5wd"),
    ("limit_basis citing an article", _ob(limit_basis="测试 第五条"),
     r"obligation plan_submission, limit_basis: limit_basis must start with 'shixian 运营默认'"),
    ("opens_only without opens", _ob(limit=None, opens_only=True),
     r"obligation plan_submission: opens_only needs `opens` and no limit"),
    ("opens_only with a limit", _ob(opens="1y", opens_only=True),
     r"opens_only needs `opens` and no limit"),
    ("due_by neither form", _ob(limit=None, due_by={"day": 3}),
     r"obligation plan_submission, due_by: a calendar due day is either month\+day or "
     r"before_event"),
    ("due_by month without day", _ob(limit=None, due_by={"month": 8}),
     r"due_by: a calendar due day with `month` needs `day`"),
    ("due_by day 32", _ob(limit=None, due_by={"month": 8, "day": 32}),
     r"due_by: day 32 is not a day of a month"),
    ("due_by month 13", _ob(limit=None, due_by={"month": 13, "day": 1}),
     r"obligation plan_submission, due_by, month: Input should be less than or equal to 12"),
    ("due_by unknown event", _ob(limit=None, due_by={"before_event": "fact:nope"}),
     r"obligation plan_submission: due_by.before_event unknown event 'fact:nope'"),
    ("starts from a non-date fact", _ob(starts="fact:platform"),
     r"obligation plan_submission: unknown start event 'fact:platform'"),
    ("condition on an undeclared fact", _ob(when={"facts": {"secret": True}}),
     r"obligation plan_submission: condition on undeclared fact 'secret' \(declare it under "
     r"`facts:`\)"),
    ("nested condition on an undeclared fact",
     _ob(when={"any_of": [{"facts": {"secret": True}}]}),
     r"condition on undeclared fact 'secret'"),
    ("election of an unknown document", _ob(when={"elected": ["merge"]}),
     r"obligation plan_submission: condition on unknown document 'merge'"),
    ("cancelled_by unknown", _ob(cancelled_by=["nope"]),
     r"obligation plan_submission: unknown document 'nope' in cancelled_by"),
    ("choice fact without choices", _with("facts.om_kind", {"type": "choice", "label": "运维"}),
     r"facts, om_kind: a choice fact needs `choices`"),
    ("fact of an unknown type", _with("facts.x", {"type": "money", "label": "金额"}),
     r"facts, x, type: Input should be 'date', 'number', 'bool', 'choice' or 'text'"),
    ("starts_with unknown", _with("starts_with", "contract"),
     r"starts_with: unknown document 'contract'"),
    ("recurring with both dues", _with("recurring", [{
        "id": "r", "title": "t", "actor": "owner", "fulfilled_by": "annual_report",
        "every": "year", "due_after_period_end": "0d", "due_by": {"month": 12, "day": "end"},
        "from_event": "contract_signed", "until_event": "acceptance_passed", "citation": "c"}]),
     r"recurring r: give one of due_after_period_end or due_by"),
    ("recurring due_by on a month", _with("recurring", [{
        "id": "r", "title": "t", "actor": "owner", "fulfilled_by": "monthly_report",
        "every": "month", "due_by": {"month": 12, "day": "end"},
        "from_event": "contract_signed", "until_event": "acceptance_passed", "citation": "c"}]),
     r"recurring r: due_by on a recurring duty is for `every: year` with month\+day"),
    ("recurring every week", _with("recurring", [{
        "id": "r", "title": "t", "actor": "owner", "fulfilled_by": "monthly_report",
        "every": "week", "due_after_period_end": "0d",
        "from_event": "contract_signed", "until_event": "acceptance_passed", "citation": "c"}]),
     r"recurring r, every: Input should be 'quarter', 'month' or 'year'"),
    ("recurring unknown event", _with("recurring", [{
        "id": "r", "title": "t", "actor": "owner", "fulfilled_by": "monthly_report",
        "every": "month", "due_after_period_end": "0d",
        "from_event": "signed", "until_event": "acceptance_passed", "citation": "c"}]),
     r"recurring r: unknown event 'signed'"),
    ("period from an unknown event", _with("periods", [{
        "id": "trial", "title": "试运行", "starts": "trial_begun", "length": "1m",
        "citation": "c"}]),
     r"period trial: unknown start event 'trial_begun'"),
    ("minimum on an unknown document", _with("minimums", [{
        "id": "m", "title": "t", "after": "trial_run_started", "length": "1m",
        "document": "accepted", "citation": "c"}]),
     r"minimum m: unknown document 'accepted'"),
    ("gate with no requires", _with("gates", [{
        "id": "g", "title": "不得未批先建", "document": "contract_signed", "citation": "c"}]),
     r"gate g: a gate needs `requires` or `requires_any`"),
    ("gate on an unknown document", _with("gates", [{
        "id": "g", "title": "t", "document": "contract_signed", "requires": ["approved"],
        "citation": "c"}]),
     r"gate g: unknown document 'approved'"),
    ("check with no bound", _with("checks", [{
        "id": "k", "title": "t", "fact": "contract_term_years", "citation": "c"}]),
     r"check k: a check needs max, min or max_ratio_of"),
    ("check ratio without base", _with("checks", [{
        "id": "k", "title": "t", "fact": "om_fee_wan", "max": 100, "ratio": 0.1,
        "citation": "c"}]),
     r"check k: max_ratio_of goes with ratio"),
    ("check on an undeclared fact", _with("checks", [{
        "id": "k", "title": "t", "fact": "term", "max": 3, "citation": "c"}]),
     r"check k: undeclared fact 'term'"),
    ("delay_total without threshold", _with("escalation.consequences", [{
        "id": "c", "title": "t", "phase": "preparatory", "notify": ["owner"], "citation": "c",
        "message": "m"}]),
     r"escalation, consequence c: a delay_total consequence needs threshold and phase"),
    ("overdue without obligation", _with("escalation.consequences", [{
        "id": "c", "title": "t", "kind": "overdue", "notify": ["owner"], "citation": "c",
        "message": "m"}]),
     r"consequence c: an overdue consequence names its obligation"),
    ("overdue on an unknown obligation", _with("escalation.consequences", [{
        "id": "c", "title": "t", "kind": "overdue", "obligation": "nope", "notify": ["owner"],
        "citation": "c", "message": "m"}]),
     r"consequence c: unknown obligation 'nope'"),
    ("threshold in days", _with("escalation.consequences", [{
        "id": "c", "title": "t", "threshold": "30d", "phase": "preparatory",
        "notify": ["owner"], "citation": "c", "message": "m"}]),
     r"consequence c, threshold: '30d': a delay threshold is counted in working days"),
    ("blocks an unknown document", _with("escalation.consequences", [{
        "id": "c", "title": "t", "kind": "overdue", "obligation": "plan_submission",
        "blocks": ["pay"], "notify": ["owner"], "citation": "c", "message": "m"}]),
     r"consequence c: unknown document 'pay' in blocks"),
    ("breach_notify unknown actor", _with("escalation.breach_notify", ["police"]),
     r"escalation.breach_notify: unknown actor 'police'"),
    ("ladder out of order", _with("escalation.ladder.2.level", 4),
     r"escalation, ladder: .*ladder levels must be 1, 2, 3… in order, got \[1, 2, 4\]"),
    ("ladder offset in days", _with("escalation.ladder.0.offset", "-3d"),
     r"escalation, ladder\[0\], offset: '-3d': ladder offsets are counted in working days"),
    ("ladder colour", _with("escalation.ladder.2.colour", "purple"),
     r"escalation, ladder\[2\], colour: Input should be 'green', 'amber', 'red' or 'grey'"),
    ("status", _with("status", "repealed"),
     r"status: Input should be 'in_force', 'draft' or 'expired'"),
    ("expires_on not a date", _with("expires_on", "两年"), r"expires_on: Input should be a "
     r"valid date"),
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in INVALID],
                         ids=[name for name, _, _ in INVALID])
def test_invalid_forms_are_refused_on_load(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        pack(data)


UNCHECKED: list[tuple[str, dict[str, Any], str]] = [
    # Loads today; `status` then raises CalendarError (a workflow task that fails forever).
    ("minimum with a bad length", _with("minimums", [{
        "id": "m", "title": "t", "after": "trial_run_started", "length": "a month",
        "document": "acceptance_passed", "citation": "c"}]),
     r"minimum m.*'a month' is not a period"),
    # Loads today; the period silently never ends, so what counts from it never starts.
    ("period with a bad length", _with("periods", [{
        "id": "trial", "title": "试运行", "starts": "trial_run_started", "length": "a month",
        "citation": "c"}]),
     r"period trial.*'a month' is not a period"),
    # Loads today; Schedule.event_dates recurses forever (RecursionError in every view).
    ("period that starts from itself", _with("periods", [{
        "id": "trial", "title": "试运行", "starts": "trial", "length": "1m", "citation": "c"}]),
     r"period trial: .*trial"),
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in UNCHECKED],
                         ids=[name for name, _, _ in UNCHECKED])
def test_unchecked_forms_should_be_refused_on_load(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        pack(data)


def test_every_valid_example_in_this_file_loads() -> None:
    """The examples above are valid packs (a typo in one would make its test meaningless)."""
    for data in (half_year_pack(), minimum_pack(), gate_pack(), election_pack(), chain_pack(),
                 recurring_pack("month", "monthly_report", due_after_period_end="0d"),
                 due_by_pack({"before_event": "fact:planned_start_on"})):
        assert pack(data).id == "lang-test"
    assert project("2025-01-06").policy == "lang-test"


def test_correction_names_the_beijing_day_the_notice_was_sent() -> None:
    led = ledger(base(), "2025-09-26")
    # The escalated rung at 00:00 Beijing, as the workflow's clock gives it: in UTC.
    [esc] = led.escalate(at("2025-10-16", 0).astimezone(UTC))
    record(led, doc("plan_submitted", "2025-10-09"), "2025-10-21")
    [correction] = led.escalate(at("2025-10-21"))
    assert correction.withdraws == esc.key
    assert "撤回 2025-10-16 的通知" in correction.message
