"""A pack's declared project facts (项目信息项) as people write them in a file or a spreadsheet.

Each pack declares the facts its rules test (`facts:` in the pack, `FactSpec`): an id, a type
and a Chinese label. A projects file names a fact by either (`planned_start_on` or
计划开工时间), and writes its value the way a spreadsheet does (是/否, 2026年3月2日, "1,260",
a choice's Chinese label). Every value is converted to the declared type here, or refused
with a message that says what to write instead, so a typo never silently changes a path.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from policies.model import FactSpec, FactValue, PolicyPack

YES = {"是", "y", "yes", "true", "1", "有", "√"}
NO = {"否", "n", "no", "false", "0", "无", "×"}


def _norm(text: str) -> str:
    """Names compare without case, spaces, `_`/`-`, full-width brackets or a `facts.` prefix."""
    text = text.replace("\ufeff", "").replace("（", "(").replace("）", ")")
    text = re.sub(r"[\s_\-]+", "", text).lower()
    return text.removeprefix("facts.").removeprefix("fact:")


def spellings(fact_id: str, spec: FactSpec) -> set[str]:
    """The id, the label, the label without a trailing (…) note, and for a date
    时间 ↔ 日期 (计划开工时间 / 计划开工日期: spreadsheets say either)."""
    label = _norm(spec.label)
    bare = re.sub(r"\([^()]*\)$", "", label)
    out = {_norm(fact_id), label, bare}
    if spec.type == "date":
        for word in list(out):
            for a, b in (("时间", "日期"), ("日期", "时间")):
                if word.endswith(a):
                    out.add(word[: -len(a)] + b)
    return {w for w in out if w}


def find(pack: PolicyPack, name: str) -> str | None:
    """The pack's fact id that `name` (an id or a Chinese label) names, or None."""
    key = _norm(name)
    for fact_id, spec in pack.facts.items():
        if key in spellings(fact_id, spec):
            return fact_id
    return None


def shown(pack: PolicyPack) -> str:
    """The pack's facts as a reader needs them: `计划开工时间 (planned_start_on, date)`."""
    if not pack.facts:
        return f"{pack.id} declares no facts"
    return ", ".join(f"{s.label} ({fid}, {describe_type(s)})" for fid, s in pack.facts.items())


def describe_type(spec: FactSpec) -> str:
    if spec.type == "choice":
        return " | ".join(f"{k}={v}" for k, v in (spec.choices or {}).items())
    return {"date": "date YYYY-MM-DD", "number": "number", "bool": "是/否",
            "text": "text"}[spec.type]


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:\s+0{1,2}:00(?::00)?)?$")


def parse_date(text: str) -> date:
    """2026-09-30, 2026/9/30, 2026.9.30, 2026年9月30日 or 20260930 (what spreadsheets write)."""
    text = text.strip()
    m = _DATE.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    if m is None:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the calendar") from None


_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    month = _MONTH.match(text)
    if month:  # 申报表's 启动年月: a month only is its first day
        try:
            return date(int(month[1]), int(month[2]), 1)
        except ValueError:
            raise ValueError(f"{text!r} is not a month in the calendar") from None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValueError(f"{exc}; write YYYY-MM-DD (2026-03-02), 2026年3月2日 or a month "
                         "2026-03 (its first day)") from None


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    text = re.sub(r"[,，\s]|万元$|万$|年$|人$", "", str(value).strip())
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{str(value).strip()!r} is not a number; write digits, e.g. 3 or "
                         "1,260") from None
    if number != number or number in (float("inf"), -float("inf")):
        raise ValueError(f"{str(value).strip()!r} is not a finite number")
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"{str(value).strip()!r} is not 是/否 (yes/no)")


def _choice(spec: FactSpec, value: Any) -> str:
    choices = spec.choices or {}
    text = str(value).strip()
    for key, label in choices.items():
        if _norm(text) in (_norm(key), _norm(label)):
            return key
    expected = "; ".join(f"{label} ({key})" for key, label in choices.items())
    raise ValueError(f"unknown value {text!r}; write one of {expected}")


def convert(spec: FactSpec, value: Any) -> FactValue:
    """`value` as the fact's declared type, or ValueError saying what to write."""
    if spec.type == "date":
        return _date(value)
    if spec.type == "number":
        return _number(value)
    if spec.type == "bool":
        return _bool(value)
    if spec.type == "choice":
        return _choice(spec, value)
    return str(value).strip()


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read(pack: PolicyPack, given: dict[str, Any]) -> tuple[dict[str, FactValue], list[str]]:
    """The pack's facts from `given` (names: ids or labels), and one message per problem:
    an unknown name, a wrong value, a fact given twice, a required fact missing."""
    out: dict[str, FactValue] = {}
    problems: list[str] = []
    wrong: set[str] = set()
    for name, value in given.items():
        fact_id = find(pack, str(name))
        if fact_id is None:
            problems.append(f"{name}: not a fact of {pack.id}; its facts: {shown(pack)}")
            continue
        spec = pack.facts[fact_id]
        if blank(value):
            continue
        if fact_id in out:
            problems.append(f"{spec.label} ({fact_id}) is given twice")
            continue
        try:
            out[fact_id] = convert(spec, value)
        except ValueError as exc:
            wrong.add(fact_id)
            problems.append(f"{spec.label} ({fact_id}): {exc}")
    problems += [m for fid, m in missing(pack, out) if fid not in wrong]
    return out, problems


def missing(pack: PolicyPack, facts: dict[str, FactValue]) -> list[tuple[str, str]]:
    """(fact id, message) per required fact the project does not state."""
    return [(fid, f"{s.label} ({fid}): missing; {pack.id} requires it ({describe_type(s)})"
             + (f" — {s.help}" if s.help else ""))
            for fid, s in pack.facts.items() if s.required and fid not in facts]


def parse_cell(text: str) -> dict[str, str]:
    """A `项目信息项` cell: `计划开工时间=2026-03-02; 涉密信息系统=否` (`；`, `:`/`：` too)."""
    out: dict[str, str] = {}
    for item in re.split(r"[;；\n]", text):
        item = item.strip()
        if not item:
            continue
        parts = re.split(r"[=:：]", item, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip():
            raise ValueError(f"{item!r} is not 名称=值 (e.g. 计划开工时间=2026-03-02)")
        out[parts[0].strip()] = parts[1].strip()
    return out
