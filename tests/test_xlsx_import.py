"""Projects files as bureaus send them: Excel workbooks (.xlsx), read like their CSV."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from shixian.errors import UserError
from shixian.projects_file import load_all, load_projects, read_text

FIXTURES = Path(__file__).parent / "fixtures" / "projects"


def workbook_from_csv(source: Path, target: Path, *, typed: bool) -> Path:
    """The CSV's cells in a workbook; `typed` stores dates, amounts and 序号 the way Excel
    does when a person types them (date cells, numbers), not as text."""
    rows = list(csv.reader(read_text(source).splitlines()))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "项目清单"
    header = rows[0]
    sheet.append(header)
    for row in rows[1:]:
        cells: list[object] = []
        for name, value in zip(header, row, strict=False):
            if typed and "日期" in name and value[:4].isdigit() and "-" in value:
                cells.append(datetime.fromisoformat(value))
            elif typed and value.replace(",", "").isdigit():
                cells.append(int(value.replace(",", "")))
            else:
                cells.append(value)
        sheet.append(cells)
    book.save(target)
    return target


@pytest.mark.parametrize("typed", [False, True])
def test_xlsx_reads_like_the_same_csv(tmp_path: Path, typed: bool) -> None:
    source = FIXTURES / "good-zh-bom.csv"
    xlsx = workbook_from_csv(source, tmp_path / "projects.xlsx", typed=typed)
    assert load_projects(xlsx) == load_projects(source)


def test_bad_rows_are_reported_with_the_excel_row_number(tmp_path: Path) -> None:
    source = FIXTURES / "bad-rows.csv"
    xlsx = workbook_from_csv(source, tmp_path / "bad.xlsx", typed=False)
    _, csv_problems = load_all([source])
    _, xlsx_problems = load_all([xlsx])
    assert [p.row for p in xlsx_problems] == [p.row for p in csv_problems]
    assert [p.text.replace(str(xlsx), "F") for p in xlsx_problems] == [
        p.text.replace(str(source), "F") for p in csv_problems]


def test_not_a_workbook_and_old_xls_say_what_to_do(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_text("项目编号,项目名称\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"not an Excel \.xlsx workbook .*CSV UTF-8"):
        load_projects(broken)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UserError, match=r"old-format Excel/WPS workbook; save it as \.xlsx"):
        load_projects(old)
