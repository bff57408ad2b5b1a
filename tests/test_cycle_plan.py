"""Each jurisdiction's yearly duties (issue #8 §3): due days and reminder days, counted by hand.

The pure part of the cycle: `activities.cycle.year_plan` on the official calendar (2025 and
2026 are announced years, so every day below is exact; 2027 is provisional and flagged).
Every count is written out in a comment, working day by working day, over 端午, 中秋, 国庆
and their 调休 (makeup) days. The workflow that sends these reminders is in
test_cycle_time_skipping.py.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

import pytest

from activities.cycle import CycleDue, reminder_notice, year_plan
from calendars import WorkCalendar
from delivery.render import render
from policies import yamlio
from policies.errors import PolicyError
from policies.loader import PACK_DIR, load_pack, parse_pack
from policies.model import YearDay
from workflows.models import NoticeKind

CAL = WorkCalendar.default(use_env=False)


def due(policy: str, cycle: str, year: int) -> CycleDue:
    plan = year_plan(load_pack(policy), year, CAL)
    return next(d for d in plan.dues if d.cycle == cycle)


def days(d: CycleDue) -> tuple[date | None, dict[str, date]]:
    return d.due_on, {r.before: r.on for r in d.reminders}


@pytest.mark.covers("jiujiang-2024:needs_call", "jiujiang-2024:county_needs_submission")
def test_jiujiang_may_end_over_duanwu_2025() -> None:
    # 第十一条/第十二条 每年5月底前: Sat 2025-05-31 is 端午 (5/31–6/2 off), so the due day moves
    # to Tue 6/3 (《民法典》第二百零三条).
    # 15wd before 6/3: 5/30 1, 5/29 2, 5/28 3, 5/27 4, 5/26 5, 5/23 6, 5/22 7, 5/21 8,
    # 5/20 9, 5/19 10, 5/16 11, 5/15 12, 5/14 13, 5/13 14, 5/12 15 → Mon 5/12.
    # 5wd before 6/3: 5/30, 5/29, 5/28, 5/27, 5/26 → Mon 5/26.  10wd (counties) → Mon 5/19.
    call = due("jiujiang-2024", "needs_call", 2025)
    assert call.nominal_on == date(2025, 5, 31)
    assert days(call) == (date(2025, 6, 3), {"15wd": date(2025, 5, 12),
                                             "5wd": date(2025, 5, 26)})
    counties = due("jiujiang-2024", "county_needs_submission", 2025)
    assert days(counties) == (date(2025, 6, 3), {"10wd": date(2025, 5, 19)})
    assert counties.reminders[0].notify == ["counties", "leading_group_office"]
    assert counties.reminders[0].recipients == ["各县(市、区)", "市数字政府领导小组办公室"]
    assert call.validity is None and not call.provisional  # in force until 2026-05-23


@pytest.mark.covers("jiujiang-2024:project_call", "jiujiang-2024:om_funds_application")
def test_jiujiang_august_end_2025_and_after_expiry_2026() -> None:
    # 第十七条/第三十五条 每年8月底前: Sun 2025-08-31 → Mon 9/1.
    # 15wd before 9/1: 8/29 1, 8/28 2, 8/27 3, 8/26 4, 8/25 5, 8/22 6, 8/21 7, 8/20 8,
    # 8/19 9, 8/18 10, 8/15 11, 8/14 12, 8/13 13, 8/12 14, 8/11 15 → Mon 8/11; 5wd → Mon 8/25.
    for cycle in ("project_call", "om_funds_application"):
        d = due("jiujiang-2024", cycle, 2025)
        assert days(d) == (date(2025, 9, 1), {"15wd": date(2025, 8, 11),
                                              "5wd": date(2025, 8, 25)})
    om = due("jiujiang-2024", "om_funds_application", 2025)
    assert om.actor_name == "市级项目业主单位"
    assert om.reminders[0].notify == ["municipal_owners", "data_bureau"]
    # 2026: Mon 8/31 is a working day, due as it is; the 办法 lapsed on 2026-05-23 (第四十五条):
    # still listed and reminded, marked 已过有效期.
    later = due("jiujiang-2024", "om_funds_application", 2026)
    assert later.due_on == date(2026, 8, 31)
    assert later.validity is not None and later.validity.startswith("已过有效期 2026-05-23")


@pytest.mark.covers("shangrao-2020:project_call")
def test_shangrao_july_call_is_not_moved() -> None:
    # 第五条 每年7月份: a window 7/1–7/31. 2026: Fri 7/31.
    # 20wd before 7/31: 7/30 1, 7/29 2, 7/28 3, 7/27 4, 7/24 5, 7/23 6, 7/22 7, 7/21 8, 7/20 9,
    # 7/17 10, 7/16 11, 7/15 12, 7/14 13, 7/13 14, 7/10 15, 7/9 16, 7/8 17, 7/7 18, 7/6 19,
    # 7/3 20 → Fri 7/3; 5wd: 7/30, 7/29, 7/28, 7/27, 7/24 → Fri 7/24.
    call = due("shangrao-2020", "project_call", 2026)
    assert call.opens_on == date(2026, 7, 1)
    assert days(call) == (date(2026, 7, 31), {"20wd": date(2026, 7, 3),
                                              "5wd": date(2026, 7, 24)})
    # 2027: 7/31 is a Saturday; the text names a month, not a period's end: not moved to
    # Mon 8/2 (moves_to_workday: false). Provisional: 2027 is not announced yet.
    later = due("shangrao-2020", "project_call", 2027)
    assert later.due_on == date(2027, 7, 31) and later.provisional


@pytest.mark.covers("shangrao-2020:centralised_review")
def test_shangrao_october_early_review_over_national_day() -> None:
    # 第九条 10月上旬前 = by 10/10. 2026: Sat 10/10 is a makeup working day (国庆 10/1–10/7 off,
    # makeup Sun 9/20 and Sat 10/10; 中秋 9/25–9/27 off): due Sat 10/10 as it is.
    # 15wd before 10/10: 10/9 1, 10/8 2, 9/30 3, 9/29 4, 9/28 5, 9/24 6, 9/23 7, 9/22 8,
    # 9/21 9, Sun 9/20 10, 9/18 11, 9/17 12, 9/16 13, 9/15 14, 9/14 15 → Mon 9/14.
    # 5wd: 10/9, 10/8, 9/30, 9/29, 9/28 → Mon 9/28.
    review = due("shangrao-2020", "centralised_review", 2026)
    assert days(review) == (date(2026, 10, 10), {"15wd": date(2026, 9, 14),
                                                 "5wd": date(2026, 9, 28)})
    # 2025: Fri 10/10 (国庆+中秋 10/1–10/8 off, makeup Sun 9/28 and Sat 10/11).
    # 15wd: 10/9 1, 9/30 2, 9/29 3, Sun 9/28 4, 9/26 5, 9/25 6, 9/24 7, 9/23 8, 9/22 9,
    # 9/19 10, 9/18 11, 9/17 12, 9/16 13, 9/15 14, 9/12 15 → Fri 9/12; 5wd → Fri 9/26.
    assert days(due("shangrao-2020", "centralised_review", 2025)) == (
        date(2025, 10, 10), {"15wd": date(2025, 9, 12), "5wd": date(2025, 9, 26)})
    # 2027 (provisional): Sun 10/10 → Mon 10/11.
    later = due("shangrao-2020", "centralised_review", 2027)
    assert later.nominal_on == date(2027, 10, 10) and later.due_on == date(2027, 10, 11)
    assert later.provisional


@pytest.mark.covers("shangrao-2020:om_assessment_collection")
def test_shangrao_year_end_assessments() -> None:
    # 第二十三条 年底前: Thu 2026-12-31. 10wd before: 12/30 1, 12/29 2, 12/28 3, 12/25 4,
    # 12/24 5, 12/23 6, 12/22 7, 12/21 8, 12/18 9, 12/17 10 → Thu 12/17.
    om = due("shangrao-2020", "om_assessment_collection", 2026)
    assert days(om) == (date(2026, 12, 31), {"10wd": date(2026, 12, 17)})
    assert om.reminders[0].recipients == ["项目运维单位（各运维项目）", "市大数据发展管理局"]


@pytest.mark.covers("shangrao-2020:project_applications", "shangrao-2020:library_adjustment",
                    "xiangcheng-2018:annual_plan")
def test_yearly_duties_the_text_gives_no_day_have_none() -> None:
    """上饶 第五条 "在规定时间内" (the call's day), 第二十九条 每年调整一次, 相城 第九条
    "根据每年…申报通知要求": listed each year, no due day invented, nothing reminded."""
    for policy, cycle in (("shangrao-2020", "project_applications"),
                          ("shangrao-2020", "library_adjustment"),
                          ("xiangcheng-2018", "annual_plan")):
        d = due(policy, cycle, 2026)
        assert d.due_on is None and d.reminders == [] and d.no_limit, (policy, cycle)
    assert due("xiangcheng-2018", "annual_plan", 2026).actor_name == "各建设单位"


@pytest.mark.covers("yushan-draft:demand_plan")
def test_yushan_september_end_is_a_draft() -> None:
    # 第六条第一款 每年9月底前: Wed 2026-09-30. 15wd before: 9/29 1, 9/28 2, (中秋 9/25–9/27
    # off) 9/24 3, 9/23 4, 9/22 5, 9/21 6, Sun 9/20 (makeup) 7, 9/18 8, 9/17 9, 9/16 10,
    # 9/15 11, 9/14 12, 9/11 13, 9/10 14, 9/9 15 → Wed 9/9; 5wd: 9/29, 9/28, 9/24, 9/23,
    # 9/22 → Tue 9/22.
    plan = due("yushan-draft", "demand_plan", 2026)
    assert days(plan) == (date(2026, 9, 30), {"15wd": date(2026, 9, 9),
                                              "5wd": date(2026, 9, 22)})
    assert plan.validity is not None and plan.validity.startswith("征求意见稿")
    notice = reminder_notice(plan, plan.reminders[0], datetime(2026, 9, 9, 1, 0))
    assert notice.message.startswith("【征求意见稿，未生效】玉山县年度工作提醒")
    assert notice.kind is NoticeKind.CYCLE and notice.key == "cycle:demand_plan:2026:15wd"


def test_a_reminder_reads_as_a_yearly_duty() -> None:
    d = due("shangrao-2020", "centralised_review", 2026)
    msg = render("cycle-shangrao-2020", reminder_notice(d, d.reminders[1],
                                                        datetime(2026, 9, 28, 1)), "张三")
    assert msg.subject == "[时限][cycle-shangrao-2020] 年度工作提醒：组织对申报项目集中评审"
    assert ("年度工作", "cycle-shangrao-2020 上饶市 2026年度工作") in msg.lines
    assert ("到期日 (北京时间)", "2026-10-10") in msg.lines
    assert "截止前5个工作日提醒" in msg.summary and "上饶 第九条" in msg.summary
    assert not any(k == "逾期工作日" for k, _ in msg.lines)
    late = reminder_notice(d, d.reminders[1], datetime(2026, 10, 9, 1), late=True)
    assert "补发" in late.message


@pytest.mark.parametrize(("text", "year", "expected"), [
    ({"month": 5, "day": "end"}, 2026, date(2026, 5, 31)),
    ({"month": 2, "day": "end"}, 2028, date(2028, 2, 29)),
    ({"month": 10, "day": "early"}, 2026, date(2026, 10, 10)),  # 上旬
    ({"month": 6, "day": "mid"}, 2026, date(2026, 6, 20)),  # 中旬
    ({"month": 4, "day": 31}, 2026, date(2026, 4, 30)),  # clamped
])
def test_year_day_words(text: dict[str, Any], year: int, expected: date) -> None:
    assert YearDay.model_validate(text).in_year(year) == expected


def shangrao_raw() -> dict[str, Any]:
    data = yamlio.load((PACK_DIR / "shangrao-2020.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


GOOD = {"id": "c", "title": "t", "actor": "data_bureau", "due": {"month": 5, "day": "end"},
        "citation": "上饶 第五条"}


@pytest.mark.parametrize(("change", "message"), [
    ({"no_limit": "及时"}, "exactly one of `due`"),
    ({"due": None}, "exactly one of `due`"),
    ({"due": None, "no_limit": "x", "remind": [{"before": "5wd", "notify": ["actor"]}]},
     "cannot be reminded"),
    ({"actor": "nobody"}, "cycle c: unknown actor 'nobody'"),
    ({"remind": [{"before": "5wd", "notify": ["ghost"]}]}, "unknown actor 'ghost' in notify"),
    ({"remind": [{"before": "5d", "notify": ["actor"]}]}, "counted in working days"),
    ({"remind": [{"before": "5wd", "notify": []}]}, "at least 1 item"),
    ({"due": {"month": 5, "day": 32}}, "not a day of a month"),
    ({"due": {"month": 13, "day": 1}}, "less than or equal to 12"),
    ({"due": {"month": 5, "day": "late"}}, "day"),
    ({"opens": {"month": 6, "day": 1}}, "`opens` falls after `due`"),
    ({"id": "quarterly_progress"}, "already names an obligation or recurring duty"),
])
def test_invalid_cycles_are_refused_on_load(change: dict[str, Any], message: str) -> None:
    data = shangrao_raw()
    cycle = {k: v for k, v in (GOOD | change).items() if v is not None}
    data["cycles"] = [cycle]
    with pytest.raises(PolicyError, match=message):
        parse_pack(copy.deepcopy(data), "shangrao-2020.yaml")


def test_a_cycle_id_used_twice_is_refused() -> None:
    data = shangrao_raw()
    data["cycles"] = [GOOD, GOOD]
    with pytest.raises(PolicyError, match="cycle c: id used twice"):
        parse_pack(data, "shangrao-2020.yaml")


def test_every_shipped_pack_with_cycles_plans_each_year_2025_to_2035() -> None:
    """No cycle of a shipped pack fails to plan on any covered year (leap years included)."""
    for policy in ("jiujiang-2024", "shangrao-2020", "xiangcheng-2018", "yushan-draft"):
        pack = load_pack(policy)
        assert pack.cycles, policy
        for year in range(2025, 2036):
            plan = year_plan(pack, year, CAL)
            for d in plan.dues:
                assert all(r.on <= d.due_on for r in d.reminders if d.due_on)
                assert all(r.at.hour == 9 for r in d.reminders)
