"""The approved-projects files ops hand to `shixian start`: YAML, JSON or a spreadsheet's CSV.

YAML and JSON keep their documented format (scripts depend on it). CSV is what a data bureau
exports from the spreadsheet it already keeps: one row per project, Chinese or English
headers, UTF-8 (with Excel's BOM) or GB18030 (Chinese Excel's "CSV"). Every row is checked
and every problem reported with the file and the spreadsheet row number, so a bad file is
fixed in one pass and nothing is half-read.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from policies import yamlio
from policies.loader import PolicyError, available, load_pack
from policies.model import PolicyPack
from shixian import fact_values, vocabulary
from shixian.errors import UserError
from shixian.fact_values import parse_date as parse_date  # re-exported: documents_file
from workflows.models import DocumentArrival, Project, bounded_facts


@dataclass(frozen=True)
class Entry:
    """A project and where it came from, so later checks can name the file and row."""

    where: str
    project: Project
    file: int = 0  # position of the file on the command line
    row: int = 0  # spreadsheet row, or entry number in YAML/JSON


class Problem(NamedTuple):
    """One bad row; (file, row) orders the report the way the files are read."""

    file: int
    row: int
    text: str


# ---- reading ---------------------------------------------------------------------------------
def read_text(path: Path) -> str:
    """The file's text: UTF-8 (a BOM is dropped) or, failing that, GB18030 (which covers GBK)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise UserError(f"{path}: neither UTF-8 nor GB18030 text; save it as "
                        "\"CSV UTF-8\" from the spreadsheet") from None


SPREADSHEET_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm")


def _xlsx_cell(value: object) -> str:
    """A cell as the text the spreadsheet shows: dates as YYYY-MM-DD, 6800.0 as 6800."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(row number, cells) of the workbook's first sheet, as Excel numbers its rows; formulas
    are read as the values Excel last computed."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (InvalidFileException, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: not an Excel .xlsx workbook ({exc}); save it from the "
                        "spreadsheet as .xlsx or as \"CSV UTF-8\"") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        rows = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            texts = [_xlsx_cell(c) for c in cells]
            while texts and not texts[-1].strip():
                texts.pop()  # a formatted but empty column is not a column
            rows.append((number, texts))
        return rows
    finally:
        book.close()


def csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) for each record; the header is row 1. Quoted cells may
    span lines, so the row number counts records, as the spreadsheet does. An .xlsx
    workbook's first sheet reads the same way."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return xlsx_rows(path)
    text = read_text(path)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if path.suffix.lower() == ".tsv" or ("\t" in first and "," not in first) \
        else ","
    try:
        return [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text, newline=""),
                                                            delimiter=delimiter), start=1)]
    except csv.Error as exc:
        raise UserError(f"{path}: not valid CSV: {exc}") from None


def normalise_header(text: str) -> str:
    """Headers compare without case, spaces, `_`/`-` and full-width brackets."""
    text = text.replace("\ufeff", "").replace("（", "(").replace("）", ")")
    return re.sub(r"[\s_\-]+", "", text).lower()


def map_headers(path: Path, header: Sequence[str], aliases: Mapping[str, Sequence[str]],
                required: Iterable[str], ignored: Iterable[str] = (),
                hint: str = "") -> dict[int, str]:
    """Column index → field, or one error naming every unknown, repeated or missing column."""
    lookup = {normalise_header(a): field for field, names in aliases.items()
              for a in (field, *names)}
    skip = {normalise_header(i) for i in ignored}
    columns: dict[int, str] = {}
    problems: list[str] = []
    for i, name in enumerate(header):
        key = normalise_header(name)
        if not key or key in skip:
            continue
        field = lookup.get(key)
        if field is None:
            known = ", ".join(f"{f} ({'/'.join(a[:2])})" if a else f
                              for f, a in aliases.items())
            problems.append(f"{path}: row 1: unknown column {name.strip()!r}; known columns: "
                            f"{known}{hint}")
        elif field in columns.values():
            problems.append(f"{path}: row 1: column {name.strip()!r} repeats {field}")
        else:
            columns[i] = field
    missing = [f for f in required if f not in columns.values()]
    if missing:
        problems.append(f"{path}: row 1: missing column(s) "
                        + ", ".join(f"{f} ({aliases[f][0]})" if aliases[f] else f
                                    for f in missing))
    if problems:
        raise UserError("\n".join(problems))
    return columns


# ---- YAML / JSON -----------------------------------------------------------------------------
def _read_structured(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yamlio.load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'YAML'}: "
                        f"{exc}") from None


def _structured_entries(path: Path) -> tuple[list[Entry], list[Problem]]:
    data = _read_structured(path)
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        raise UserError(f"{path}: expected a mapping with a `projects:` list")
    entries: list[Entry] = []
    problems: list[Problem] = []
    for i, raw in enumerate(data["projects"], start=1):
        label = raw.get("id", "?") if isinstance(raw, dict) else "?"
        where = f"{path}: project #{i} ({label})"
        raw, given, bad = _split_facts(raw)
        if isinstance(raw, dict):
            raw["facts"], wrong = read_facts(pack_of(str(raw.get("policy", ""))), given)
            bad += wrong
        problems += [Problem(0, i, f"{where}: {text}") for text in bad]
        try:
            project = Project.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "entry"
                problems.append(Problem(0, i, f"{where}: {loc}: {err['msg']}"))
            continue
        if not bad:
            entries.append(Entry(where, project, row=i))
    return entries, problems


def _split_facts(raw: object) -> tuple[object, dict[str, Any], list[str]]:
    """(the entry without its facts, the facts as written, problems): facts come from
    `facts:` and from top-level keys that name a fact of the project's pack
    (`计划开工时间: 2026-03-02` beside `policy: xiangcheng-2018`); `policy:` may be 九江 too."""
    if not isinstance(raw, dict):
        return raw, {}, []
    entry = dict(raw)
    problems: list[str] = []
    policy = entry.get("policy")
    if isinstance(policy, str) and policy.strip() and policy.strip() not in available():
        with suppress(ValueError):  # else `prepare` names the unknown policy
            entry["policy"] = resolve_policy(policy)
    given = entry.pop("facts", None) or {}
    if not isinstance(given, dict):
        return entry, {}, [*problems, "facts: expected a mapping of fact (id or 中文名) → value"]
    given = dict(given)
    pack = pack_of(str(entry.get("policy", "")))
    if pack is not None:
        for key in [k for k in entry if k not in Project.model_fields]:
            if fact_values.find(pack, str(key)) is not None:
                given[key] = entry.pop(key)
    return entry, given, problems


def read_facts(pack: PolicyPack | None, given: Mapping[str, Any],
               ) -> tuple[dict[str, Any], list[str]]:
    """The pack's facts read from `given` (ids or labels, as written), and one problem per
    unknown fact, wrong value or missing required fact. With no pack (an unknown policy,
    which `prepare` names with the known ones) the facts pass as written."""
    if pack is None:
        return dict(given), []
    facts, problems = fact_values.read(pack, dict(given))
    try:
        bounded_facts(facts)
    except ValueError as exc:
        problems.append(str(exc))
    return dict(facts), problems


# ---- CSV -------------------------------------------------------------------------------------
# English headers are the YAML keys; Chinese ones are what bureaus' spreadsheets say.
PROJECT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("项目编号", "项目代码", "编号"),
    "name": ("项目名称",),
    "policy": ("适用办法", "适用政策", "适用办法/政策", "管理办法", "政策"),
    "owner": ("业主单位", "建设单位", "项目业主"),
    "owner_type": ("业主类型", "业主单位类型", "单位性质"),
    "category": ("项目类别",),
    "kind": ("项目类型",),
    "investment_wan": ("投资额(万元)", "总投资", "总投资(万元)", "投资额", "投资(万元)"),
    "major": ("重大项目", "是否重大项目"),
    "planned_months": ("计划工期(月)", "计划工期", "工期(月)"),
    "started_on": ("启动通知日期", "启动日期", "启动通知"),
    "documents": ("已收文件",),
    "facts": ("项目信息项", "项目信息", "其他信息项"),
    "owner_contact_name": ("业主联系人", "联系人"),
    "owner_contact_email": ("联系人邮箱", "联系邮箱", "业主邮箱"),
    "owner_contact_robot": ("通知机器人", "工作群机器人"),
}
CONTACT_COLUMNS = {"owner_contact_name": "name", "owner_contact_email": "email",
                   "owner_contact_robot": "robot"}
REQUIRED = ("id", "name", "policy", "owner", "owner_type", "category", "kind",
            "investment_wan", "started_on")
IGNORED = ("序号", "备注", "说明", "note", "notes", "remark", "remarks")

OWNER_TYPES = {"administrative": "administrative", "行政机关": "administrative",
               "机关": "administrative",
               "state_owned": "state_owned", "国资监管企业": "state_owned",
               "国有企业": "state_owned", "国企": "state_owned",
               "public_institution": "public_institution", "事业单位": "public_institution",
               "social_organisation": "social_organisation", "人民团体": "social_organisation",
               "社会团体": "social_organisation", "社会团体组织": "social_organisation"}
CATEGORIES = {"infrastructure": "infrastructure", "基础设施类": "infrastructure",
              "基础设施": "infrastructure",
              "cross_department": "cross_department", "跨部门跨层级集成类": "cross_department",
              "跨部门跨层级": "cross_department", "跨部门": "cross_department",
              "other": "other", "其他": "other", "其他类": "other"}
KINDS = {"build": "build", "建设类": "build", "建设": "build",
         "service": "service", "服务类": "service", "购买服务": "service", "服务": "service",
         "procurement": "procurement", "设备采购类": "procurement",
         "设备采购": "procurement", "采购类": "procurement"}
YES = {"是", "y", "yes", "true", "1", "重大"}
NO = {"否", "n", "no", "false", "0", ""}


def _choice(table: dict[str, str]) -> Callable[[str], str]:
    def convert(text: str) -> str:
        value = table.get(text.strip()) or table.get(text.strip().lower())
        if value is None:
            options = sorted(set(table.values()))
            shown = "; ".join(
                f"{'/'.join(k for k, v in table.items() if v == o and k != o)} ({o})"
                for o in options)
            raise ValueError(f"unknown value {text.strip()!r}; expected {shown}")
        return value
    return convert


def _investment(text: str) -> float:
    cleaned = re.sub(r"[,，\s]|万元$|万$", "", text.strip())
    if not cleaned:
        raise ValueError("missing: the investment in 万元 is required")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not an amount in 万元 (e.g. 6800 or 6,800.00)") \
            from None


def _major(text: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(f"{text.strip()!r} is not 是/否 (yes/no)")


def _months(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of months") from None
    if not number.is_integer():
        raise ValueError(f"{value!r} is not a whole number of months")
    return int(number)


def parse_documents(text: str) -> list[DocumentArrival]:
    """`type@YYYY-MM-DD[#ref]; ...` (`；` and new lines separate too)."""
    docs: list[DocumentArrival] = []
    for item in re.split(r"[;；\n]", text):
        item = item.strip()
        if not item:
            continue
        head, _, ref = item.partition("#")
        doc_type, at, on = head.partition("@")
        if not at or not doc_type.strip():
            raise ValueError(f"{item!r} is not type@YYYY-MM-DD[#ref]")
        try:
            day = parse_date(on)
        except ValueError as exc:
            raise ValueError(f"{item!r}: {exc}") from None
        docs.append(DocumentArrival(type=doc_type.strip(), on=day, ref=ref.strip() or None))
    return docs


def resolve_policy(text: str) -> str:
    """A policy by id (jiujiang-2024), by its title, or by its jurisdiction as people say it
    (九江市, 九江, 苏州市相城区, 相城区, 相城): the words `shixian list --jurisdiction` takes."""
    value = text.strip()
    if value in available():
        return value
    if not value:
        raise ValueError(f"missing; known policies: {', '.join(available()) or 'none'}")
    try:
        ids = sorted(vocabulary.resolve_jurisdiction(value))
    except vocabulary.UnknownValue:
        known = ", ".join(c.shown() for c in vocabulary.known("jurisdiction")) or "none"
        raise ValueError(f"unknown jurisdiction or policy {value!r}; known policies: "
                         f"{known}") from None
    if len(ids) > 1:
        raise ValueError(f"{value!r} names several policies ({', '.join(ids)}); give the id")
    return ids[0]


@lru_cache(maxsize=16)
def pack_of(policy: str) -> PolicyPack | None:
    """The pack a project names, or None (then `prepare` reports the unknown policy)."""
    try:
        return load_pack(policy)
    except PolicyError:
        return None


def _text(text: str) -> str:
    return text.strip()


CONVERT: dict[str, Callable[[str], Any]] = {
    "id": _text, "name": _text, "policy": resolve_policy, "owner": _text,
    "owner_type": _choice(OWNER_TYPES), "category": _choice(CATEGORIES), "kind": _choice(KINDS),
    "investment_wan": _investment, "major": _major, "planned_months": _months,
    "started_on": parse_date, "documents": parse_documents, "facts": fact_values.parse_cell,
    "owner_contact_name": _text, "owner_contact_email": _text, "owner_contact_robot": _text,
}
FACT_HINT = ("; or a fact a pack declares, by its id or 中文名 (`shixian policy show ID` lists "
             "them), or one 项目信息项 column of 名称=值; …")


def _fact_columns(header: Sequence[str]) -> dict[int, str]:
    """Column index → header, for headers that name a fact of some shipped pack (the same
    header may name different packs' facts: each row reads it against its own pack)."""
    packs = [p for p in (pack_of(pid) for pid in available()) if p is not None]
    known = {normalise_header(c) for f, names in PROJECT_COLUMNS.items() for c in (f, *names)}
    return {i: name.strip() for i, name in enumerate(header)
            if normalise_header(name) not in known
            and any(fact_values.find(p, name) for p in packs)}



def _csv_entries(path: Path) -> tuple[list[Entry], list[Problem]]:
    rows = csv_rows(path)
    if not rows:
        raise UserError(f"{path}: empty; expected a header row and one row per project")
    _, header = rows[0]
    fact_columns = _fact_columns(header)
    columns = map_headers(path, header, PROJECT_COLUMNS, REQUIRED,
                          (*IGNORED, *fact_columns.values()), FACT_HINT)
    label = {f: header[i].strip() for i, f in columns.items()}
    entries: list[Entry] = []
    problems: list[Problem] = []
    for number, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue  # spreadsheets export trailing empty rows
        pid = next((cells[i].strip() for i, f in columns.items() if f == "id" and i < len(cells)),
                   "")
        where = f"{path}: row {number} ({pid or '?'})"
        if any(c.strip() for c in cells[len(header):]):
            problems.append(Problem(0, number, f"{where}: more cells than the header has "
                                              "columns"))
            continue
        raw: dict[str, Any] = {}
        bad = False
        for i, field in columns.items():
            cell = cells[i] if i < len(cells) else ""
            if field in REQUIRED and field != "investment_wan" and not cell.strip():
                problems.append(Problem(0, number, f"{where}: {label[field]}: missing"))
                bad = True
                continue
            try:
                raw[field] = CONVERT[field](cell)
            except (ValueError, ValidationError) as exc:
                problems.append(Problem(0, number, f"{where}: {label[field]}: {_message(exc)}"))
                bad = True
        contact = {CONTACT_COLUMNS[f]: raw.pop(f) for f in list(raw) if f in CONTACT_COLUMNS}
        if any(contact.values()):
            raw["owner_contact"] = contact
        given: dict[str, Any] = raw.pop("facts", None) or {}
        pack = pack_of(raw["policy"]) if isinstance(raw.get("policy"), str) else None
        for i, name in fact_columns.items():
            cell = cells[i].strip() if i < len(cells) else ""
            if not cell:
                continue
            if pack is not None and fact_values.find(pack, name) is None:
                problems.append(Problem(0, number, f"{where}: {name}: not a fact of {pack.id} "
                                        "(the column is for another jurisdiction's projects: "
                                        f"leave it empty on this row); its facts: "
                                        f"{fact_values.shown(pack)}"))
                bad = True
                continue
            if name in given:
                problems.append(Problem(0, number, f"{where}: {name}: given both as a column "
                                        f"and in {label.get('facts', 'facts')}"))
                bad = True
                continue
            given[name] = cell
        raw["facts"], wrong = read_facts(pack, given)
        problems += [Problem(0, number, f"{where}: {text}") for text in wrong]
        if bad or wrong:
            continue
        try:
            entries.append(Entry(where, Project.model_validate(raw), row=number))
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "row"
                if field == "owner_contact":
                    part = f"owner_contact_{err['loc'][1]}" if len(err["loc"]) > 1 else ""
                    field = part if part in label else next(
                        (f for f in CONTACT_COLUMNS if f in label), field)
                problems.append(Problem(0, number,
                                        f"{where}: {label.get(field, field)}: {err['msg']}"))
    return entries, problems


def _message(exc: ValueError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]) for e in exc.errors())
    return str(exc)


# ---- all files -------------------------------------------------------------------------------
def load_entries(path: Path) -> tuple[list[Entry], list[Problem]]:
    """The file's good projects and a problem for each bad one (CSV, TSV or Excel by its
    suffix, else YAML/JSON)."""
    if path.suffix.lower() in (".xls", ".et"):
        raise UserError(f"{path}: an old-format Excel/WPS workbook; save it as .xlsx (Excel "
                        "工作簿) or as \"CSV UTF-8\" and start that file")
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        return _csv_entries(path)
    return _structured_entries(path)


def load_all(paths: Sequence[Path]) -> tuple[list[Entry], list[Problem]]:
    """Every file's projects, and every problem across them, duplicate ids between files too.

    A file that cannot be read at all is one problem; the other files are still checked.
    """
    entries: list[Entry] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for index, path in enumerate(paths):
        try:
            found, bad = load_entries(path)
        except UserError as exc:
            problems.append(Problem(index, 0, str(exc)))
            continue
        problems += [p._replace(file=index) for p in bad]
        for entry in found:
            entry = replace(entry, file=index)
            pid = entry.project.id
            if pid in seen:
                problems.append(Problem(index, entry.row,
                                        f"{entry.where}: duplicate id, also {seen[pid]}"))
                continue
            seen[pid] = entry.where
            entries.append(entry)
    return entries, problems


def report(problems: Iterable[Problem]) -> str:
    """One line per problem, in file and row order."""
    return "\n".join(p.text for p in sorted(problems, key=lambda p: (p.file, p.row)))


def load_projects(path: Path) -> list[Project]:
    """Every project in the file, or one error listing every bad entry (nothing half-read)."""
    entries, problems = load_all([path])
    if problems:
        raise UserError(report(problems))
    return [e.project for e in entries]
