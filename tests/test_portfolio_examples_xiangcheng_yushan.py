"""The example portfolios in 相城's and 玉山's own spreadsheet shape load and check cleanly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shixian.projects_file import load_all

EXAMPLES = Path(__file__).parents[1] / "shixian" / "examples"


@pytest.mark.parametrize(("name", "policy", "ids"), [
    ("xiangcheng-2018-portfolio.csv", "xiangcheng-2018",
     ["XC-2026-003", "XC-2026-011", "XC-2026-020"]),
    ("yushan-draft-portfolio.csv", "yushan-draft", ["YS-2026-002", "YS-2026-005", "YS-2026-009"]),
])
def test_example_portfolio_loads(name: str, policy: str, ids: list[str]) -> None:
    entries, problems = load_all([EXAMPLES / name])
    assert problems == []
    assert [e.project.id for e in entries] == ids
    assert {e.project.policy for e in entries} == {policy}  # resolved from 苏州市相城区 / 玉山县
    assert all(e.project.facts for e in entries)  # the pack's facts, from Chinese headers


def test_example_csv_columns_are_the_packs_fact_labels() -> None:
    """计划开工时间 / 需定制开发 … are the packs' own labels; a month-only 启动年月 is its
    first day (相城's 申报表), and 是/否 are booleans."""
    xc = {e.project.id: e.project.facts for e in
          load_all([EXAMPLES / "xiangcheng-2018-portfolio.csv"])[0]}
    assert xc["XC-2026-003"] == {"planned_start_on": date(2026, 3, 2),
                                 "above_procurement_threshold": True, "classified": False}
    assert xc["XC-2026-020"]["planned_start_on"] == date(2026, 6, 1)  # "2026-06"
    ys = {e.project.id: e.project.facts for e in
          load_all([EXAMPLES / "yushan-draft-portfolio.csv"])[0]}
    assert ys["YS-2026-005"]["custom_development"] is True


def test_example_portfolios_pass_the_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    from shixian.cli import main

    files = [str(EXAMPLES / "xiangcheng-2018-portfolio.csv"),
             str(EXAMPLES / "yushan-draft-portfolio.csv")]
    # 玉山's text is a draft: starting under it is an explicit choice, said for every row.
    assert main(["start", "--dry-run", *files]) == 2
    err = capsys.readouterr().err
    assert err.count("yushan-draft is a draft (征求意见稿)") == 3
    assert "--allow-draft-policy" in err
    code = main(["start", "--dry-run", "--allow-draft-policy", *files])
    assert code in (0, None)
    out = capsys.readouterr().out
    assert "6 project(s) checked" in out
    assert "相城 第十八条" in out and "玉山 第七条第三款" in out
    assert out.count("DRAFT: yushan-draft is a draft (征求意见稿)") == 3


@pytest.mark.parametrize(("policy", "expected"), [
    ("xiangcheng-2018", ["before fact:planned_start_on", "open from +1y", "by 12-end",
                         "minimum acceptance_after_operation", "construction_start overdue"]),
    ("yushan-draft", ["no due day (未规定时限)", "gate procurement_after_steps",
                      "check acceptance_group"]),
])
def test_policy_show_describes_v2_rules(policy: str, expected: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`shixian policy show` on duties with no counted limit (it asserted a list before)."""
    from shixian.cli import main

    assert main(["policy", "show", policy]) in (0, None)
    out = capsys.readouterr().out
    for text in expected:
        assert text in out, text
