"""Recurring duties (季报/月报): the engine supports them before any shipped pack needs them.

The pack here is 九江's plus a quarterly report in the shape of 上饶 第十六条 (projects of
6 months or more report within 7 working days after each quarter).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from policies.loader import load_pack
from policies.model import Condition, PolicyPack, Recurring
from tests.jiujiang_cases import doc, project
from workflows.ledger import Ledger, Refused
from workflows.models import LedgerState, ObligationState

TODAY = date(2026, 11, 23)


def pack_with_quarterly_report() -> PolicyPack:
    base = load_pack("jiujiang-2024")
    data = base.model_dump()
    data["documents"]["progress_report_filed"] = {"title": "项目执行情况报送",
                                                   "repeatable": True}
    data["recurring"] = [Recurring(
        id="quarterly_progress", title="报送项目执行情况", actor="owner",
        fulfilled_by="progress_report_filed", every="quarter", due_after_period_end="7wd",
        from_event="contract_signed", until_event="completion_acceptance_passed",
        citation="上饶 第十六条 (test pack)", when=Condition(planned_months_gte=6),
    ).model_dump()]
    return PolicyPack.model_validate(data)


def ledger(planned_months: int, reports: bool = True) -> Ledger:
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
    proj = project("JJT-REC", investment_wan=150, started_on=date(2025, 3, 3),
                   planned_months=planned_months)
    led = Ledger(proj, pack_with_quarterly_report(), cal, LedgerState())
    now = datetime(2026, 11, 23, tzinfo=UTC)
    for d in [doc("tech_plan_submitted", "2025-03-03"), doc("fsr_tech_review_issued", "2025-03-20"),
              doc("budget_submitted", "2025-04-10"),
              doc("budget_approved", "2025-05-14"), doc("contract_signed", "2025-06-16"),
              *([doc("progress_report_filed", "2025-07-08"),
                 doc("progress_report_filed", "2025-10-15")] if reports else [])]:
        led.check_document(d, TODAY)
        led.add_document(d, now)
    return led


def test_one_instance_per_quarter_fulfilled_oldest_first() -> None:
    views = {v.id: v for v in ledger(12).views(TODAY)
             if v.rule == "quarterly_progress"}
    assert list(views)[:3] == ["quarterly_progress@2025Q2", "quarterly_progress@2025Q3",
                               "quarterly_progress@2025Q4"]
    q2, q3, q4 = (views[f"quarterly_progress@2025Q{k}"] for k in (2, 3, 4))
    # Q2 ends 6/30; 7 wd: 7/1–4, 7–9 → due 7/9; filed 7/8.
    assert (q2.due_on, q2.done_on, q2.state) == (date(2025, 7, 9), date(2025, 7, 8),
                                                 ObligationState.DONE)
    # Q3 ends 9/30; 10/1–8 off, Sat 10/11 worked: 10/9, 10, 11, 13, 14, 15, 16 → 10/16.
    assert (q3.due_on, q3.done_on) == (date(2025, 10, 16), date(2025, 10, 15))
    # Q4 ends 12/31; 1/1–3 off, Sun 1/4 worked: 1/4, 5, 6, 7, 8, 9, 12 → 2026-01-12; missed.
    assert q4.due_on == date(2026, 1, 12)
    assert q4.state is ObligationState.OVERDUE
    assert "quarterly_progress@2026Q4" not in views  # the quarter has not ended


def test_short_projects_have_no_quarterly_duty() -> None:
    led = ledger(3, reports=False)
    views = [v for v in led.views(TODAY) if v.rule == "quarterly_progress"]
    assert [v.state for v in views] == [ObligationState.WAIVED]
    with pytest.raises(Refused, match="not on this project's path"):
        led.check_document(doc("progress_report_filed", "2025-07-08"), TODAY)


def test_a_report_before_any_quarter_ended_is_refused() -> None:
    led = ledger(12, reports=False)
    with pytest.raises(Refused, match="not expected"):
        led.check_document(doc("progress_report_filed", "2025-06-20"), TODAY)
