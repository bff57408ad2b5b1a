"""Tables out of shixian: CSV that Chinese Excel opens, .xlsx, and safe terminal text.

Names and titles come from projects files other people wrote. In a spreadsheet a cell that
starts with `=`, `+`, `-` or `@` is a formula (CSV injection), so such text gets a leading
`'`; on a terminal escape sequences could move the cursor or retitle the window, so control
and format characters are dropped.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | bool | date | None


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_START) else value


def terminal_text(value: str) -> str:
    """Printable text only: ESC, other C0/C1 controls and bidi/format characters dropped."""
    return "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return spreadsheet_text(value)


def write_csv(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[Cell]], *,
              bom: bool = True) -> None:
    """CSV with a UTF-8 BOM, which Excel needs to read UTF-8 (else it guesses GBK)."""
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_text(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])


def write_xlsx(path: Path, sheet: str, header: Sequence[str],
               rows: Iterable[Sequence[Cell]]) -> int:
    """One sheet with a bold, frozen header row; dates as dates, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet[:31]
    ws.append([spreadsheet_text(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    count = 0
    widths = [len(h.encode("gbk", "replace")) for h in header]
    for row in rows:
        values: list[object] = []
        for i, v in enumerate(row):
            if isinstance(v, str):
                v = spreadsheet_text(terminal_text(v))
            values.append(v)
            shown = v.isoformat() if isinstance(v, date) else str("" if v is None else v)
            widths[i] = max(widths[i], min(60, len(shown.encode("gbk", "replace"))))
        ws.append(values)
        count += 1
    for row_cells in ws.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w + 2
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return count
