"""A batch of document arrivals for `shixian doc --file`: what a script watching an inbox sends.

CSV (English or Chinese headers), JSON lines, or a YAML list; each entry has project_id, type,
on, and optionally ref, by, until, period. A malformed entry becomes a `DocLine` carrying its
problem instead of an error, so one bad line never stops the others from being recorded.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies import yamlio
from shixian.errors import UserError
from shixian.projects_file import csv_rows, map_headers, parse_date, read_text
from workflows.models import DocumentArrival

FIELDS = ("project_id", "type", "on", "ref", "by", "until", "period")
DOC_COLUMNS: dict[str, tuple[str, ...]] = {
    "project_id": ("项目编号", "project", "id"),
    "type": ("文件类型", "doc_type", "document"),
    "on": ("日期", "收文日期", "文件日期", "date"),
    "ref": ("文号", "reference"),
    "by": ("报送单位", "报送人", "sender"),
    "until": ("延期至",),
    "period": ("所属期", "报告期", "期别"),
}


@dataclass(frozen=True)
class DocLine:
    """One entry: the document to record, or why it could not be read (`problem`)."""

    line: int
    project_id: str | None = None
    doc: DocumentArrival | None = None
    problem: str | None = None


def _entry(line: int, raw: Any) -> DocLine:
    if not isinstance(raw, dict):
        return DocLine(line, problem="expected an object with project_id, type, on")
    data = {str(k): v for k, v in raw.items()}
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        return DocLine(line, problem=f"unknown field(s) {', '.join(unknown)}; "
                                     f"expected {', '.join(FIELDS)}")
    pid = data.pop("project_id", None)
    pid = str(pid).strip() if pid is not None else ""
    if not pid:
        return DocLine(line, problem="project_id is missing")
    for key in ("ref", "by", "until", "period"):
        if data.get(key) in ("", None):
            data.pop(key, None)
    for key in ("on", "until"):
        value = data.get(key)
        if isinstance(value, str):
            try:
                data[key] = parse_date(value)
            except ValueError as exc:
                return DocLine(line, pid, problem=f"{key}: {exc}")
        elif value is not None and not isinstance(value, date):
            return DocLine(line, pid, problem=f"{key}: {value!r} is not a date (YYYY-MM-DD)")
    for key in ("ref", "by", "type", "period"):
        if key in data and not isinstance(data[key], str):
            data[key] = str(data[key])
    try:
        return DocLine(line, pid, DocumentArrival.model_validate(data))
    except ValidationError as exc:
        msg = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}"
                        for e in exc.errors())
        return DocLine(line, pid, problem=msg)


def _csv(path: Path) -> list[DocLine]:
    rows = csv_rows(path)
    if not rows:
        raise UserError(f"{path}: empty; expected a header row and one row per document")
    columns = map_headers(path, rows[0][1], DOC_COLUMNS, ("project_id", "type", "on"))
    out: list[DocLine] = []
    for number, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue
        if any(c.strip() for c in cells[len(rows[0][1]):]):
            out.append(DocLine(number, problem="more cells than the header has columns"))
            continue
        raw = {f: (cells[i].strip() if i < len(cells) else "") for i, f in columns.items()}
        out.append(_entry(number, raw))
    return out


def _json_lines(text: str, name: str) -> list[DocLine]:
    if text.lstrip().startswith("["):
        raise UserError(f"{name}: expected JSON lines (one object per line), not a JSON array")
    out: list[DocLine] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(DocLine(number, problem=f"not valid JSON: {exc.msg}"))
            continue
        out.append(_entry(number, raw))
    return out


def _yaml_list(text: str, name: str) -> list[DocLine]:
    """Each item is numbered by the line it starts on, so a person can find it."""
    loader = yamlio.Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise UserError(f"{name}: expected a YAML list of documents (- project_id: …)")
        out: list[DocLine] = []
        for item in node.value:
            number = item.start_mark.line + 1
            try:
                raw = loader.construct_object(item, deep=True)
            except yaml.YAMLError as exc:
                out.append(DocLine(number, problem=f"not valid YAML: {exc}"))
                continue
            out.append(_entry(number, raw))
        return out
    except yaml.YAMLError as exc:
        raise UserError(f"{name}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def load_document_lines(path: Path) -> list[DocLine]:
    """The entries of a batch file (`-` reads JSON lines from stdin), by suffix: .csv/.tsv,
    .yaml/.yml, anything else JSON lines. Whole-file problems are a UserError."""
    if str(path) == "-":
        return _json_lines(sys.stdin.read(), "stdin")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _csv(path)
    text = read_text(path)
    if suffix in (".yaml", ".yml"):
        return _yaml_list(text, str(path))
    return _json_lines(text, str(path))
