"""Each pack's declared facts (FactSpec) in the projects file, CSV and Excel: by id or by the
Chinese label a bureau's spreadsheet uses, every wrong value reported at once with its row
and what to write instead."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from policies.loader import load_pack
from shixian import fact_values
from shixian.errors import UserError
from shixian.projects_file import load_all, load_projects

HEAD = "项目编号,项目名称,适用办法,业主单位,业主类型,项目类别,项目类型,投资额（万元）,启动日期"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_fact_columns_by_chinese_label_for_a_mixed_portfolio(tmp_path: Path) -> None:
    """One file, three packs: each row reads the fact columns its own pack declares and
    leaves the others empty. 计划开工日期 finds 相城's 计划开工时间 (a date fact: 日期/时间
    both said); a choice is given by its Chinese label; 是/否 are booleans; "1,260" a number."""
    csv = write(tmp_path / "mixed.csv", (
        f"{HEAD},计划开工日期,超过政府采购目录起点金额或限额标准,服务期限（年）,项目内容,平台类项目\n"
        "XC-1,区平台,相城区,区大数据管理中心,行政机关,其他,建设类,380,2026-01-12,"
        "2026年3月2日,是,,,\n"
        "SR-1,市平台,上饶,市行政审批局,行政机关,其他,服务类,90,2026-03-16,,,\"2\",,\n"
        "LHK-1,市测评,老河口,市城市运行管理中心,行政机关,其他,服务类,40,2026-04-01,,,,"
        "测评服务,否\n"
    ))
    entries, problems = load_all([csv])
    assert problems == []
    facts = {e.project.id: e.project.facts for e in entries}
    assert facts["XC-1"] == {"planned_start_on": date(2026, 3, 2),
                             "above_procurement_threshold": True}
    assert facts["SR-1"] == {"service_term_years": 2.0}
    assert facts["LHK-1"] == {"work_type": "assessment", "platform": False}


def test_wrong_fact_values_are_all_reported_with_row_and_fix(tmp_path: Path) -> None:
    csv = write(tmp_path / "bad.csv", (
        f"{HEAD},计划开工时间,涉密信息系统,服务期限（年）,项目内容\n"
        "XC-1,甲,相城,区档案馆,行政机关,其他,建设类,95,2026-01-12,2026-13-01,也许,,\n"
        "XC-2,乙,相城,区档案馆,行政机关,其他,建设类,95,2026-01-12,,否,,\n"
        "SR-1,丙,上饶,市民政局,行政机关,其他,服务类,90,2026-03-16,,,三年,\n"
        "LHK-1,丁,老河口,市城市运行管理中心,行政机关,其他,服务类,40,2026-04-01,,,,运维\n"
        "XC-3,戊,相城,区档案馆,行政机关,其他,建设类,95,2026-01-12,2026-06-01,,4,\n"
    ))
    with pytest.raises(UserError) as caught:
        load_projects(csv)
    lines = str(caught.value).splitlines()
    assert len(lines) == 6, lines
    assert lines[0].startswith(f"{csv}: row 2 (XC-1): 计划开工时间 (planned_start_on): "
                               "'2026-13-01' is not a date in the calendar; write YYYY-MM-DD")
    assert lines[1] == (f"{csv}: row 2 (XC-1): 涉密信息系统 (classified): '也许' is not 是/否 "
                        "(yes/no)")
    # A required fact (相城 第十条 counts from 计划开工时间) left empty.
    assert lines[2].startswith(f"{csv}: row 3 (XC-2): 计划开工时间 (planned_start_on): missing; "
                               "xiangcheng-2018 requires it (date YYYY-MM-DD)")
    assert lines[3] == (f"{csv}: row 4 (SR-1): 服务期限（年） (service_term_years): '三年' is not "
                        "a number; write digits, e.g. 3 or 1,260")
    assert lines[4] == (f"{csv}: row 5 (LHK-1): 项目内容 (work_type): unknown value '运维'; write "
                        "one of 硬件和软件建设 (build); 设计咨询服务 (design_consulting); 测评服务 "
                        "(assessment)")
    # 服务期限 is 上饶's: a 相城 row must leave it empty, and the message says whose facts fit.
    assert lines[5].startswith(f"{csv}: row 6 (XC-3): 服务期限（年）: not a fact of "
                               "xiangcheng-2018 (the column is for another jurisdiction's "
                               "projects: leave it empty on this row); its facts: 计划开工时间 "
                               "(planned_start_on, date YYYY-MM-DD)")


def test_an_unknown_column_names_the_fact_way_too(tmp_path: Path) -> None:
    csv = write(tmp_path / "typo.csv", f"{HEAD},计划开宫时间\n")
    with pytest.raises(UserError, match=r"unknown column '计划开宫时间'.*or a fact a pack "
                                        r"declares, by its id or 中文名"):
        load_projects(csv)


def test_a_facts_cell_of_name_value_pairs(tmp_path: Path) -> None:
    """One 项目信息项 column carries any pack's facts: 名称=值, separated by ；."""
    csv = write(tmp_path / "cell.csv", (
        f"{HEAD},项目信息项\n"
        "YS-1,县平台,玉山县,县教育体育局,行政机关,其他,建设类,120,2026-04-01,"
        "需定制开发=是；运维采购合同履行期限（年）：3\n"
        "YS-2,县平台二,玉山县,县教育体育局,行政机关,其他,建设类,120,2026-04-01,需定制开发\n"
    ))
    entries, problems = load_all([csv])
    assert [e.project.facts for e in entries] == [
        {"custom_development": True, "om_contract_years": 3.0}]
    assert [p.text for p in problems] == [
        f"{csv}: row 3 (YS-2): 项目信息项: '需定制开发' is not 名称=值 (e.g. "
        "计划开工时间=2026-03-02)"]


def test_yaml_facts_by_id_label_or_top_level_label(tmp_path: Path) -> None:
    yaml = write(tmp_path / "projects.yaml", """\
projects:
  - id: XC-Y-1
    name: 区平台
    policy: 相城                 # the jurisdiction, as people say it
    owner: 区大数据管理中心
    owner_type: administrative
    category: other
    kind: build
    investment_wan: 380
    started_on: 2026-01-12
    计划开工时间: 2026-03-02       # a fact of the pack, by its label, at the top level
    facts: {涉密信息系统: 否, above_procurement_threshold: true}
  - id: SR-Y-1
    name: 市平台
    policy: shangrao-2020
    owner: 市民政局
    owner_type: administrative
    category: other
    kind: service
    investment_wan: 90
    started_on: 2026-03-16
    facts: {服务期限: 5, no_such_fact: 1}
""")
    entries, problems = load_all([yaml])
    assert [e.project.id for e in entries] == ["XC-Y-1"]
    assert entries[0].project.policy == "xiangcheng-2018"
    assert entries[0].project.facts == {"planned_start_on": date(2026, 3, 2),
                                        "classified": False,
                                        "above_procurement_threshold": True}
    assert [p.text.split(": ", 2)[2] for p in problems] == [
        "no_such_fact: not a fact of shangrao-2020; its facts: " +
        fact_values.shown(load_pack("shangrao-2020"))]


def test_xlsx_date_and_number_cells_carry_facts(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*HEAD.split(","), "计划开工时间", "超过政府采购目录起点金额或限额标准"])
    sheet.append(["XC-X-1", "区平台", "苏州市相城区", "区档案馆", "行政机关", "其他", "建设类",
                  95, datetime(2026, 1, 12), datetime(2026, 6, 1), True])
    path = tmp_path / "projects.xlsx"
    book.save(path)
    (project,) = load_projects(path)
    assert project.facts == {"planned_start_on": date(2026, 6, 1),
                             "above_procurement_threshold": True}


@pytest.mark.parametrize(("label", "fact"), [
    ("计划开工时间", "planned_start_on"), ("计划开工日期", "planned_start_on"),
    ("planned_start_on", "planned_start_on"), ("facts.planned_start_on", "planned_start_on"),
    ("涉密信息系统", "classified"), ("计划开宫时间", None),
])
def test_fact_names(label: str, fact: str | None) -> None:
    assert fact_values.find(load_pack("xiangcheng-2018"), label) == fact


def test_policy_show_lists_the_facts_a_file_may_carry(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    from shixian.cli import main

    assert main(["policy", "show", "xiangcheng-2018"]) in (0, None)
    out = capsys.readouterr().out
    assert "project facts (projects file / CSV columns, by label or id):" in out
    assert "  计划开工时间 (planned_start_on): date YYYY-MM-DD, required" in out


def test_status_shows_the_facts_with_the_packs_labels() -> None:
    """`shixian status` says what the path was chosen on: each declared fact with its
    Chinese label, and the document that stated it when one did."""
    from datetime import UTC

    from calendars import WorkCalendar
    from shixian.render import status_text
    from workflows.ledger import Ledger
    from workflows.models import DocumentArrival, LedgerState, Project

    proj = Project(id="SR-F", name="市平台", policy="shangrao-2020", owner="市行政审批局",
                   owner_type="administrative", category="other", kind="service",
                   investment_wan=90, started_on=date(2026, 3, 16))
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2026, 2028))
    ledger = Ledger(proj, load_pack("shangrao-2020"), cal, LedgerState())
    contract = next(t for t, d in ledger.pack.documents.items() if "合同" in d.title)
    ledger.add_document(DocumentArrival(type=contract, on=date(2026, 4, 1),
                                        facts={"service_term_years": 5}),
                        datetime(2026, 4, 1, 4, tzinfo=UTC))
    status = ledger.status(datetime(2026, 4, 2, 4, tzinfo=UTC))
    [term] = [f for f in status.facts if f.id == "service_term_years"]
    assert (term.label, term.value) == ("服务期限（年）", "5")
    text = status_text(status)
    assert f"服务期限（年） 5 (据{ledger.pack.documents[contract].title})" in text
    assert "事项" in text.splitlines()[text.splitlines().index("") + 1]
