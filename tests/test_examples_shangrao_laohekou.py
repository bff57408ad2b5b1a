"""The 上饶 and 老河口 example portfolios: spreadsheet CSV as a bureau keeps it, checked like
`shixian start --dry-run` does, on a fixed day so the states below stay true."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from calendars import WorkCalendar
from shixian import operations
from shixian.commands.projects import dry_run_plan
from shixian.projects_file import load_all

EXAMPLES = Path(__file__).parents[1] / "shixian" / "examples"
TODAY = date(2026, 11, 24)


def plans(name: str) -> dict[str, dict[str, str]]:
    entries, problems = load_all([EXAMPLES / name])
    assert problems == []
    calendar = WorkCalendar.default(use_env=False)
    out: dict[str, dict[str, str]] = {}
    for entry in entries:
        plan = dry_run_plan(operations.prepare(entry.project, calendar, TODAY), TODAY)
        out[plan["project_id"]] = {o["id"]: f"{o['state']} {o['due_on'] or '-'}"
                                   for o in plan["obligations"]}
        out[plan["project_id"]]["stage"] = plan["stage"]
        out[plan["project_id"]]["policy"] = plan["policy"]
    return out


def test_shangrao_portfolio() -> None:
    p = plans("shangrao-2020-portfolio.csv")
    assert {v["policy"] for v in p.values()} == {"shangrao-2020"}  # 上饶市 / 上饶 / the id
    # 2026Q3 ends Wed 9/30; 7 wd: (10/1–7) 10/8, 10/9, Sat 10/10, 10/12, 13, 14, 15.
    assert p["SR-2026-003"]["quarterly_progress@2026Q3"] == "overdue 2026-10-15"
    assert p["SR-2026-007"]["quarterly_funds@2026Q3"] == "overdue 2026-09-30"
    assert "quarterly_progress@2026Q2" not in p["SR-2026-007"]  # 5 months: 第十六条 not due
    assert p["SR-2025-021"]["stage"] == "closed"
    assert all(v.startswith("done") for k, v in p["SR-2025-021"].items()
               if k not in ("stage", "policy"))


def test_laohekou_portfolio() -> None:
    p = plans("laohekou-2024-portfolio.csv")
    assert {v["policy"] for v in p.values()} == {"laohekou-2024"}
    # award Fri 11/13; 5 wd: 11/16–11/20.
    assert p["LHK-2026-002"]["supervision_application"] == "overdue 2026-11-20"
    assert p["LHK-2026-005"]["stage"] == "trial_run"
    # accepted Fri 2025-10-17; 24 months → Sun 2027-10-17 → Mon 10/18 (provisional).
    assert p["LHK-2025-011"]["self_evaluation"] == "open 2027-10-18"


@pytest.mark.parametrize("name", ["shangrao-2020-portfolio.csv", "laohekou-2024-portfolio.csv"])
def test_headers_are_the_bureaus_chinese_ones(name: str) -> None:
    header = (EXAMPLES / name).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("项目编号,项目名称,适用办法,业主单位")
