"""The example portfolios in 相城's and 玉山's own spreadsheet shape load and check cleanly."""

from __future__ import annotations

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
    assert all(e.project.facts == {} for e in entries)  # the CSV cannot carry pack facts yet


def test_example_portfolios_pass_the_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    from shixian.cli import main

    code = main(["start", "--dry-run", str(EXAMPLES / "xiangcheng-2018-portfolio.csv"),
                 str(EXAMPLES / "yushan-draft-portfolio.csv")])
    assert code in (0, None)
    out = capsys.readouterr().out
    assert "6 project(s) checked" in out
    assert "相城 第十八条" in out and "玉山 第七条第三款" in out


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
