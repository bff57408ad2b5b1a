"""`shixian start --dry-run` on a project of each of the five jurisdictions: every duty that
applies with its due day (or why there is none), the recurring reports, minimums, gates and
checks on facts, each with its article. Due days are counted by hand below on the 2026
calendar (劳动节 5/1–5/5 with Sat 5/9 worked; 国庆 10/1–10/7 with Sat 10/10 worked), from
the example portfolios `shixian up` starts, on a fixed day so the states stay true."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from calendars import WorkCalendar
from policies.loader import load_pack
from shixian import operations
from shixian.cli import main
from shixian.commands.projects import dry_run_plan, dry_run_text
from shixian.projects_file import load_all

EXAMPLES = Path(__file__).parents[1] / "shixian" / "examples"
FILES = ["jiujiang-portfolio.yaml", "shangrao-2020-portfolio.csv",
         "laohekou-2024-portfolio.csv", "xiangcheng-2018-portfolio.csv",
         "yushan-draft-portfolio.csv"]
TODAY = date(2026, 11, 24)
SHORT = {"jiujiang-2024": "九江", "shangrao-2020": "上饶", "laohekou-2024": "老河口",
         "xiangcheng-2018": "相城", "yushan-draft": "玉山"}


def plan(project_id: str) -> dict[str, Any]:
    entries, problems = load_all([EXAMPLES / f for f in FILES])
    assert problems == []
    entry = next(e for e in entries if e.project.id == project_id)
    inp = operations.prepare(entry.project, WorkCalendar.default(use_env=False), TODAY,
                             frozenset({"draft", "expired"}))
    return dry_run_plan(inp, TODAY)


def duties(p: dict[str, Any]) -> dict[str, str]:
    return {o["id"]: f"{o['state']} {o['due']}" for o in p["obligations"]}


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows}


def assert_complete(p: dict[str, Any]) -> None:
    """Every obligation of the pack is listed as applying or waived, each rule cites its
    regulation's article (checked against the text by tests/test_articles.py), and nothing
    is left without a due day or a reason."""
    pack = load_pack(p["policy"])
    listed = ({o["rule"] for o in p["obligations"]} | {w["id"] for w in p["waived"]}
              | {o["id"] for o in p["when_arising"]})
    assert {o.id for o in pack.obligations} <= listed
    for rule in [*p["obligations"], *p["when_arising"], *p["recurring"], *p["minimums"],
                 *p["gates"], *p["checks"]]:
        short = SHORT[p["policy"]]
        assert re.match(short + r" 第[一二三四五六七八九十]+条", rule["citation"]), rule
    for ob in p["obligations"]:
        assert ob["due"] and ob["due"] != "-", ob


def test_jiujiang_dry_run() -> None:
    p = plan("JJ-2026-001")
    assert_complete(p)
    # Started 2026-09-30, after the 2024 办法 lapsed on 2026-05-23 (第四十五条): said.
    assert p["policy_status"] == "expired" and "expired on 2026-05-23" in p["policy_note"]
    d = duties(p)
    # 10 wd from the notice of 9/30: 10/8, 9, 10 (Sat, worked), 12–16, 19, 20 → 10/20.
    assert d["proposal_submission"] == "done 2026-10-20"
    # 5 wd from the proposal of 10/15: 10/16, 19, 20, 21, 22 → 10/22.
    assert d["proposal_approval"] == "done 2026-10-22"
    # 20 wd from the approval of 10/22: 10/23, 10/26–30, 11/2–6, 11/9–13, 11/16–19 → 11/19.
    assert d["fsr_submission"] == "overdue 2026-11-19"
    # Not started yet: what it counts from, in the pack's words.
    assert d["fsr_tech_review"] == "pending 15wd after 可行性研究报告报审 (not yet)"
    assert by_id(p["minimums"])["trial_run_minimum"]["state"] == "pending"
    gate = by_id(p["gates"])["no_build_before_approval"]
    assert (gate["state"], gate["requires_any"]) == ("closed", ["项目预算批复"])
    assert [w["id"] for w in p["waived"]] == ["small_tech_review"]  # ≥ 200万: the FSR path
    # Duties that arise with each occurrence of their document are listed with their time.
    arising = by_id(p["when_arising"])["feedback_return"]
    assert (arising["starts_with_title"], arising["due"]) == ("财政局要求反馈意见", "5wd after it")


def test_shangrao_dry_run() -> None:
    p = plan("SR-2026-003")
    assert_complete(p)
    assert p["policy_status"] == "in_force"
    d = duties(p)
    # Q3 ends Wed 9/30; 7 wd: (10/1–7 国庆) 10/8, 10/9, Sat 10/10, 10/12, 13, 14, 15.
    assert d["quarterly_progress@2026Q3"] == "overdue 2026-10-15"
    # 季度末: due on the quarter's last day, Thu 2026-12-31, a working day.
    assert d["quarterly_funds@2026Q4"] == "open 2026-12-31"
    # 第十八条–第二十二条 set no time limit: tracked open with no due day, never invented.
    assert d["completion_acceptance"] == "pending no due day (文中未规定)"
    assert d["trial_run_evaluation"].startswith("pending no due day (文中未规定时限：")
    rec = by_id(p["recurring"])
    assert rec["quarterly_progress"]["due"] == "7wd after each period ends"
    assert rec["quarterly_funds"]["due"] == "on the period's last day (moved to a working day)"
    assert by_id(p["minimums"])["trial_run_minimum"]["length"] == "1m"
    check = by_id(p["checks"])["free_om_minimum"]
    # 免费运维服务期（年） = 3 in the CSV: "不低于3年" includes 3.
    assert (check["bound"], check["value"], check["state"]) == ("≥ 3", 3.0, "ok")
    assert by_id(p["when_arising"])["termination_report"]["due"] == \
        "no due day (文中未规定时限：及时)"
    # 第十七条: planned completion 2026-03-31 (the CSV's 计划完工日期), not completed; six
    # months later, 9/30, the report is due 及时: tracked open from that day, no due day.
    late = duties(plan("SR-2025-018"))
    assert late["overdue_report"] == "open no due day (文中未规定时限：及时)"
    assert by_id(plan("SR-2025-018")["obligations"])["overdue_report"]["starts_on"] == \
        "2026-09-30"
    # An O&M purchase of services for 5 years: 第六条(三) caps it at 3, a breach; and its
    # reports are the O&M ones (yearly assessment 年底前: Thu 12/31).
    om = plan("SR-2026-012")
    assert by_id(om["checks"])["service_term_cap"]["state"] == "breached"
    assert [b["rule"] for b in om["breaches"]] == ["service_term_cap"]
    assert duties(om)["yearly_om_assessment@2026"] == "open 2026-12-31"
    assert "quarterly_progress" in {w["id"] for w in om["waived"]}


def test_laohekou_dry_run() -> None:
    p = plan("LHK-2026-005")
    assert_complete(p)
    d = duties(p)
    # Award Fri 7/10; 5 wd: 7/13, 14, 15, 16, 17 → 7/17 (applied 7/15, on time).
    assert d["supervision_application"] == "done 2026-07-17"
    assert d["unified_acceptance"] == "open no due day (文中未规定)"
    # Trial run from Mon 11/2; ≥ 1 month → 12/2 (a minimum: not a deadline, never moved).
    mini = by_id(p["minimums"])["trial_run_minimum"]
    assert (mini["starts_on"], mini["ends_on"], mini["state"]) == (
        "2026-11-02", "2026-12-02", "running")
    gates = by_id(p["gates"])
    assert gates["user_report_first"]["state"] == "closed"
    assert gates["user_report_first"]["missing"] == ["使用单位用户报告"]
    assert gates["trial_after_preliminary"]["state"] == "passed"
    # A platform project with data collection (the CSV's 平台类项目 / 含数据采集): two
    # third-party reports gate its acceptance (第二十三条(八)); other projects have none.
    assert "third_party_software_test" not in gates
    platform = by_id(plan("LHK-2026-002")["gates"])
    assert platform["third_party_software_test"]["state"] == "closed"
    assert platform["third_party_data_quality"]["citation"] == "老河口 第二十三条(八)"
    # 测评服务 is not under 统一监理 (第十七条): no supervision application to chase.
    testing = plan("LHK-2026-009")
    assert "supervision_application" in {w["id"] for w in testing["waived"]}


def test_xiangcheng_dry_run() -> None:
    p = plan("XC-2026-003")
    assert_complete(p)
    facts = by_id(p["facts"])
    assert (facts["planned_start_on"]["value"], facts["planned_start_on"]["source"]) == (
        "2026-03-02", "project")  # from the CSV's 计划开工时间 column
    d = duties(p)
    # 于计划开工时间前: planned start Mon 3/2 → the day before, Sun 3/1 (not moved: "前").
    assert d["project_application"] == "done 2026-03-01"
    # Contract Thu 4/30; 7 wd: (5/1–5/5 劳动节) 5/6, 7, 8, Sat 5/9 (worked), 5/11, 12, 13.
    assert d["contract_filing_xinxiban"] == "overdue 2026-05-13"
    # 当年度内 from the task book of 3/20 → 12/31.
    assert d["implementation_plan"] == "open 2026-12-31"
    assert d["self_evaluation"] == "pending opens 1y after 竣工验收合格 (not yet), no closing day"
    assert by_id(p["recurring"])["monthly_progress"]["every"] == "month"
    assert by_id(p["minimums"])["acceptance_after_operation"]["length"] == "3m"
    # Procurement 4/1 without the stamped 审核表: a breach, recorded and shown.
    assert by_id(p["gates"])["procurement_form_before_procurement"]["state"] == "breached"
    assert [b["rule"] for b in p["breaches"]] == ["procurement_form_before_procurement"]
    # A major project's minimum is six months (第二十五条 重大项目).
    major = plan("XC-2026-011")
    assert by_id(major["minimums"])["acceptance_after_operation"]["length"] == "6m"


def test_yushan_dry_run() -> None:
    p = plan("YS-2026-009")
    assert_complete(p)
    assert p["policy_status"] == "draft"  # 征求意见稿: marked
    # 玉山 sets almost no time limits: every duty says so, none is invented.
    assert all(o["due_on"] is None and o["due"].startswith("no due day")
               for o in p["obligations"])
    assert duties(p)["demand_survey"].startswith("open no due day")  # 260万 ≥ 200万
    gate = by_id(p["gates"])["procurement_after_steps"]
    assert gate["state"] == "closed"
    assert gate["missing"] == ["技术评审通过（书面技术性审核意见）", "县委网信办备案审查完成"]
    checks = by_id(p["checks"])
    assert (checks["acceptance_group"]["bound"], checks["acceptance_group"]["state"]) == (
        "≥ 3", "unknown")
    assert checks["om_contract_term"]["bound"] == "≤ 3"
    small = plan("YS-2026-002")  # 30万, not custom: no expert review, no demand survey
    assert {"expert_review", "demand_survey"} <= {w["id"] for w in small["waived"]}


def test_dry_run_text_says_no_due_day_and_each_rule_kind() -> None:
    text = dry_run_text(plan("YS-2026-009"))
    assert "DRAFT: yushan-draft is a draft (征求意见稿)" in text
    assert "no due day (未规定时限)" in text
    assert "gate procurement_after_steps: 进入政府采购程序 only after" in text
    assert "check acceptance_group: 验收小组人数 ≥ 3 — not given yet, unknown" in text
    text = dry_run_text(plan("LHK-2026-005"))
    assert "minimum trial_run_minimum: 统一验收通过 not before 1m after 安全稳定试运行开始 " \
        "(from 2026-11-02, not before 2026-12-02) — running  [老河口 第二十三条(二)]" in text


def test_cli_dry_run_json_on_the_five_city_portfolio(capsys: pytest.CaptureFixture[str],
                                                     ) -> None:
    files = [str(EXAMPLES / f) for f in FILES]
    flags = ["--allow-draft-policy", "--allow-expired-policy"]
    assert main(["start", "--dry-run", "--json", *flags, *files]) in (0, None)
    plans = json.loads(capsys.readouterr().out)
    assert {p["policy"] for p in plans} == set(SHORT)
    assert len(plans) == 19
    for p in plans:
        assert_complete(p)
    # The human form of the same run.
    assert main(["start", "--dry-run", *flags, *files]) in (0, None)
    out = capsys.readouterr().out
    assert "19 project(s) checked, nothing started" in out
    assert out.count("DRAFT: ") == 3 and out.count("EXPIRED (已过有效期)") == 3
