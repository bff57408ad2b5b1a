"""How faithfully a pack transcribes its regulation: article by article, rule by rule, test by test.

For each article of the shipped text (in order, from `articles.parse_regulation`): the rules
that cite it, or why shixian does not model it (`policies/<id>.fidelity.yaml`,
`not_modelled:` article → reason); for each rule, the tests marked
`@pytest.mark.covers("<pack>:<rule>")`, found by reading tests/ (AST), never by running them.

Rules are read from the pack's raw YAML, not the validated model, so a construct added to the
format later is picked up without touching this module: every mapping with a `citation` and an
`id` (or a `name`, as ladder rungs have) is a rule; a mapping with a `citation` but neither
belongs to the nearest enclosing mapping that has one, or else is a rule named by its path
(`limits`). Pure: no `shixian` import.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policies import yamlio
from policies.articles import (
    Article,
    ArticleRef,
    Chapter,
    CitationError,
    Regulation,
    check_reference,
    load_regulation,
    parse_citation,
)
from policies.errors import PolicyError
from policies.loader import PACK_DIR, available, source_path

TESTS_DIR = PACK_DIR.parent / "tests"
DOCS_DIR = PACK_DIR.parent / "docs" / "fidelity"
MARKER = "covers"
# A not_modelled reason starts with one of these, so the tables read alike across packs.
REASONS = (
    "no duty",  # purpose, scope, definitions, principles, who is responsible for what
    "before the workflow's first document",  # application, review, approval before the start
    "outside a project's life",  # a jurisdiction's yearly cycles, other bodies' systems
    "nothing to track",  # a duty with no time limit, no document and no event shixian sees
    "not yet modelled",  # a duty shixian should track and does not yet
)


@dataclass
class Rule:
    """Something in the pack that cites the regulation: an obligation, a period, a rung…"""

    key: str
    kind: str  # where it sits: obligations, periods, escalation.ladder, limits, …
    citations: list[str] = field(default_factory=list)
    refs: list[ArticleRef] = field(default_factory=list)
    operational: bool = False  # cites `shixian 运营默认`
    tests: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ArticleRow:
    article: Article
    chapter: Chapter | None
    cited_by: tuple[tuple[str, ArticleRef], ...]
    not_modelled: tuple[tuple[ArticleRef, str], ...]


@dataclass
class Report:
    policy: str
    title: str
    source: str
    regulation: Regulation
    rows: list[ArticleRow]
    rules: list[Rule]
    tests_scanned: bool
    problems: list[str]
    not_modelled_in: str = ""  # the sidecar, or the pack once its model allows the key


# ---- the pack's raw YAML ----------------------------------------------------------------------
def pack_ids(pack_dir: Path = PACK_DIR) -> list[str]:
    """The packs in a directory (the shipped ones by default); sidecars are not packs."""
    if pack_dir == PACK_DIR:
        return available()
    return sorted(p.stem for p in pack_dir.glob("*.yaml") if "." not in p.stem)


def raw_pack(policy_id: str, pack_dir: Path = PACK_DIR) -> dict[str, Any]:
    path = pack_dir / f"{policy_id}.yaml"
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy pack is a mapping")
    return data


def _read_yaml(path: Path) -> Any:
    try:
        return yamlio.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None


def rules_in(raw: Mapping[str, Any]) -> tuple[list[Rule], list[str]]:
    """Every rule with its citation strings, in file order; and what is wrong with them."""
    rules: dict[str, Rule] = {}
    owners: dict[str, int] = {}  # rule key → the mapping that named it
    problems: list[str] = []

    def walk(node: Any, path: tuple[str, ...], anchor: tuple[str, str, int] | None) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path, anchor)
            return
        if not isinstance(node, dict):
            return
        name = node.get("id", node.get("name"))
        named = isinstance(name, str) and bool(path)  # the pack's own id is not a rule
        here = (str(name), ".".join(path), id(node)) if named else anchor
        if "citation" in node:
            key, kind, owner = here if here else (".".join(path), ".".join(path), 0)
            if owners.setdefault(key, owner) != owner:
                problems.append(f"two rules are called {key!r} ({rules[key].kind} and {kind}); "
                                f"`covers` markers could not tell them apart: rename one")
            rule = rules.setdefault(key, Rule(key, kind))
            if isinstance(node["citation"], str):
                rule.citations.append(node["citation"])
            else:
                problems.append(f"{kind} {key}: citation must be a string, "
                                f"not {node['citation']!r}")
        for k, v in node.items():
            if k != "citation":
                walk(v, (*path, str(k)), here)

    walk(raw, (), None)
    return list(rules.values()), problems


def citations_in(raw: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every field named `citation` anywhere in the raw YAML, with where it is."""
    if isinstance(raw, dict):
        for k, v in raw.items():
            label = raw.get("id", raw.get("name"))
            here = f"{path}[{label}]" if isinstance(label, str) and path else path
            if k == "citation":
                yield here or "top level", v
            else:
                yield from citations_in(v, f"{here}.{k}" if here else str(k))
    elif isinstance(raw, list):
        for i, v in enumerate(raw):
            yield from citations_in(v, f"{path}[{i}]" if not isinstance(v, dict) or
                                    not isinstance(v.get("id", v.get("name")), str) else path)


# ---- which regulation a prefix names ----------------------------------------------------------
def prefixes(pack_dir: Path = PACK_DIR) -> dict[str, str]:
    """Jurisdiction (九江市) → pack id, for every shipped pack."""
    out: dict[str, str] = {}
    for pid in pack_ids(pack_dir):
        try:
            raw = raw_pack(pid, pack_dir)
        except PolicyError:
            continue
        jurisdiction = raw.get("jurisdiction")
        if isinstance(jurisdiction, str):
            out[jurisdiction] = pid
    return out


def pack_for_prefix(prefix: str, known: Mapping[str, str]) -> str | None:
    """`九江` → jiujiang-2024: the pack whose short name is the prefix, else the one pack
    whose jurisdiction contains it (上饶 in 上饶市, not in 上饶市玉山县 when 上饶市 exists)."""
    exact = sorted({pid for j, pid in known.items() if short_name(j) == prefix})
    if exact:
        return exact[0] if len(exact) == 1 else None
    hits = sorted({pid for j, pid in known.items() if prefix and prefix in j})
    return hits[0] if len(hits) == 1 else None


def short_name(jurisdiction: str) -> str:
    """九江市 → 九江, 苏州市相城区 → 相城: the prefix a pack's citations use."""
    name = jurisdiction
    for sep in ("市", "省"):
        _, _, tail = name.partition(sep)
        if tail and tail.rstrip("市县区"):
            name = tail
    return name.rstrip("市县区") or jurisdiction


def regulation_of(policy_id: str, pack_dir: Path = PACK_DIR) -> tuple[Path, Regulation]:
    raw = raw_pack(policy_id, pack_dir)
    source = raw.get("source")
    if not isinstance(source, str):
        raise PolicyError(f"{pack_dir / (policy_id + '.yaml')}: no `source:` naming the "
                          f"regulation text (regulations/{policy_id}.txt)")
    path = source_path(source, pack_dir / f"{policy_id}.yaml")
    return path, load_regulation(path)


def check_citations(policy_id: str, pack_dir: Path = PACK_DIR) -> list[str]:
    """Every `citation` string in the pack, read by the grammar and checked against the text
    it names; one line per problem (empty: all resolve)."""
    raw = raw_pack(policy_id, pack_dir)
    known = prefixes(pack_dir)
    own = short_name(str(raw.get("jurisdiction", "")))
    problems: list[str] = []
    for where, value in citations_in(raw):
        if not isinstance(value, str):
            problems.append(f"{policy_id} {where}: citation must be a string, not {value!r}")
            continue
        try:
            citation = parse_citation(value, own)
        except CitationError as exc:
            problems.append(f"{policy_id} {where}: {exc}")
            continue
        for ref in citation.refs:
            target = pack_for_prefix(ref.prefix, known)
            if target is None:
                problems.append(f"{policy_id} {where}: {ref}: {ref.prefix!r} names no single "
                                f"shipped pack's jurisdiction (known: "
                                f"{', '.join(short_name(j) for j in known) or 'none'})")
                continue
            problem = check_reference(ref, regulation_of(target, pack_dir)[1])
            if problem:
                problems.append(f"{policy_id} {where}: {problem}")
    return problems


# ---- the sidecar: what is not modelled, and why -----------------------------------------------
def sidecar_path(policy_id: str, pack_dir: Path = PACK_DIR) -> Path:
    return pack_dir / f"{policy_id}.fidelity.yaml"


def not_modelled(policy_id: str, regulation: Regulation, prefix: str, problems: list[str],
                 pack_dir: Path = PACK_DIR) -> list[tuple[ArticleRef, str]]:
    """The pack's own `not_modelled:` once the model allows it, else the sidecar's."""
    path = sidecar_path(policy_id, pack_dir)
    in_pack = raw_pack(policy_id, pack_dir).get("not_modelled")
    if in_pack is not None:
        if path.is_file():
            problems.append(f"{path.name}: not_modelled is in the pack now; delete the sidecar")
        where, entries = f"{policy_id}.yaml", in_pack
    elif not path.is_file():
        problems.append(f"{path.name}: missing; list every article the pack does not cite "
                        f"under `not_modelled:` (第N条: reason)")
        return []
    else:
        data = _read_yaml(path)
        if not isinstance(data, dict) or set(data) - {"not_modelled"}:
            problems.append(f"{path.name}: expected one key, `not_modelled:` (第N条: reason)")
            return []
        where, entries = path.name, data.get("not_modelled") or {}
    if not isinstance(entries, dict):
        problems.append(f"{where}: not_modelled is a mapping 第N条: reason")
        return []
    out: list[tuple[ArticleRef, str]] = []
    for key, reason in entries.items():
        try:
            citation = parse_citation(str(key), prefix)
        except CitationError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if len(citation.refs) != 1 or citation.operational:
            problems.append(f"{where}: {key!r}: one article per entry (第N条, 第N条第N款…)")
            continue
        ref = citation.refs[0]
        if problem := check_reference(ref, regulation):
            problems.append(f"{where}: {problem}")
            continue
        if not isinstance(reason, str) or not reason.startswith(tuple(f"{r}:" for r in REASONS)):
            problems.append(f"{where}: {key}: the reason starts with one of "
                            + ", ".join(f"'{r}:'" for r in REASONS))
            continue
        out.append((ref, " ".join(reason.split())))
    return out


# ---- the tests that cover each rule -----------------------------------------------------------
def _is_covers(node: ast.expr) -> bool:
    """`pytest.mark.covers(...)` or `mark.covers(...)`."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == MARKER and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "mark")


def _marked(node: ast.expr) -> Iterator[ast.Call]:
    """The covers calls in a decorator or a `pytestmark` value (a mark or a list of marks)."""
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    for item in items:
        if _is_covers(item):
            assert isinstance(item, ast.Call)
            yield item


def scan_covers(tests_dir: Path) -> tuple[dict[str, list[str]], list[str]]:
    """`pack:rule` → test ids (`tests/test_x.py::test_y`), read statically from tests_dir."""
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    base = tests_dir.parent
    for path in sorted(tests_dir.rglob("*.py")):
        rel = path.relative_to(base).as_posix()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        except (SyntaxError, UnicodeDecodeError) as exc:
            problems.append(f"{rel}: cannot read it for covers markers: {exc}")
            continue

        def record(calls: Iterator[ast.Call], test_id: str, line: int, rel: str = rel) -> None:
            for call in calls:
                for arg in call.args:
                    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                            and arg.value.count(":") == 1 and all(arg.value.split(":"))):
                        problems.append(f"{rel}:{line}: covers takes string literals "
                                        f"'<pack>:<rule>' (read without running the tests)")
                        continue
                    found.setdefault(arg.value, []).append(test_id)

        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
                record(_marked(node.value), rel, node.lineno)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                for deco in node.decorator_list:
                    record(_marked(deco), f"{rel}::{node.name}", deco.lineno)
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                        for deco in sub.decorator_list:
                            record(_marked(deco), f"{rel}::{node.name}::{sub.name}",
                                   deco.lineno)
    return {k: sorted(set(v)) for k, v in sorted(found.items())}, problems


def stray_markers(tests_dir: Path = TESTS_DIR, pack_dir: Path = PACK_DIR) -> list[str]:
    """Markers naming a pack that does not exist (a rule's pack was renamed or removed)."""
    covers, problems = scan_covers(tests_dir)
    packs = set(pack_ids(pack_dir))
    return problems + [f"{', '.join(tests)} marks {key!r}: there is no pack "
                       f"{key.split(':')[0]!r}" for key, tests in covers.items()
                       if key.split(":")[0] not in packs]


# ---- the report -------------------------------------------------------------------------------
def report(policy_id: str, tests_dir: Path | None = TESTS_DIR,
           pack_dir: Path = PACK_DIR) -> Report:
    """The whole table; `problems` lists what CI refuses (empty: the pack is accounted for)."""
    raw = raw_pack(policy_id, pack_dir)
    path, regulation = regulation_of(policy_id, pack_dir)
    prefix = short_name(str(raw.get("jurisdiction", "")))
    known = prefixes(pack_dir)
    rules, problems = rules_in(raw)
    problems += check_citations(policy_id, pack_dir)
    cites: dict[int, list[tuple[str, ArticleRef]]] = {}
    for r in rules:
        for text in r.citations:
            try:
                citation = parse_citation(text, prefix)
            except CitationError:
                continue  # reported by check_citations
            r.operational = r.operational or bool(citation.operational)
            for ref in citation.refs:
                if pack_for_prefix(ref.prefix, known) != policy_id:
                    continue  # another regulation: not an article of this one
                r.refs.append(ref)
                if regulation.article(ref.article):
                    cites.setdefault(ref.article, []).append((r.key, ref))
    gaps = not_modelled(policy_id, regulation, prefix, problems, pack_dir)
    listed: dict[int, list[tuple[ArticleRef, str]]] = {}
    for ref, reason in gaps:
        listed.setdefault(ref.article, []).append((ref, reason))
    rows = [ArticleRow(a, regulation.chapter_of(a), tuple(cites.get(a.number, ())),
                       tuple(listed.get(a.number, ()))) for a in regulation.articles]
    problems += [f"{prefix} {row.article.label}: neither cited by a rule nor listed under "
                 f"not_modelled in {sidecar_path(policy_id, pack_dir).name}"
                 for row in rows if not row.cited_by and not row.not_modelled]
    scanned = tests_dir is not None and tests_dir.is_dir()
    if scanned:
        assert tests_dir is not None
        covers, marker_problems = scan_covers(tests_dir)
        problems += marker_problems
        keys = {r.key for r in rules}
        for key, tests in covers.items():
            pack, _, rule_key = key.partition(":")
            if pack == policy_id and rule_key not in keys:
                problems.append(f"{', '.join(tests)} marks {key!r}, which is not a rule of "
                                f"{policy_id} (rules: {', '.join(sorted(keys))})")
        for r in rules:
            r.tests = covers.get(f"{policy_id}:{r.key}", [])
            if not r.tests:
                problems.append(f"rule {r.key} ({r.kind}) has no covering test: mark one with "
                                f"@pytest.mark.covers(\"{policy_id}:{r.key}\")")
    title = str(raw.get("title", policy_id))
    source = path.relative_to(pack_dir.parent).as_posix() if path.is_relative_to(
        pack_dir.parent) else str(path)
    where = f"policies/{policy_id}.yaml" if "not_modelled" in raw \
        else f"policies/{sidecar_path(policy_id, pack_dir).name}"
    return Report(policy_id, title, source, regulation, rows, rules, scanned, problems, where)


def _detail(ref: ArticleRef) -> str:
    """What a reference adds to its article: `(一)`, `末段`, `第二款(一)`, or nothing."""
    return ref.label.removeprefix(ref.label.split("条", 1)[0] + "条").strip()


def as_json(rep: Report) -> dict[str, Any]:
    return {
        "policy": rep.policy, "title": rep.title, "source": rep.source,
        "articles": [{
            "number": row.article.number, "label": row.article.label,
            "chapter": row.chapter.label if row.chapter else None,
            "excerpt": row.article.excerpt(),
            "rules": [{"rule": key, "reference": ref.label} for key, ref in row.cited_by],
            "not_modelled": [{"reference": ref.label, "reason": reason}
                             for ref, reason in row.not_modelled],
        } for row in rep.rows],
        "rules": [{"rule": r.key, "kind": r.kind, "citation": "; ".join(r.citations),
                   "articles": sorted({ref.label for ref in r.refs}),
                   "operational_default": r.operational, "tests": r.tests}
                  for r in rep.rules],
        "tests_scanned": rep.tests_scanned,
        "problems": rep.problems,
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _what(row: ArticleRow) -> str:
    """`rule` (一), `rule` 末段, (二) · 第二款: not yet modelled: …"""
    details: dict[str, list[str]] = {}
    for key, ref in row.cited_by:
        details.setdefault(key, [])
        if (d := _detail(ref)) and d not in details[key]:
            details[key].append(d)
    parts = [f"`{key}` {', '.join(d)}".rstrip() for key, d in details.items()]
    for ref, reason in row.not_modelled:
        scope = _detail(ref)
        parts.append(f"{scope + ': ' if scope else ''}{reason}")
    return " · ".join(parts) or "**nothing: neither cited nor listed**"


def _by_reason(rep: Report) -> str:
    counts = {r: sum(1 for row in rep.rows if not row.cited_by and row.not_modelled
                     and row.not_modelled[0][1].startswith(f"{r}:")) for r in REASONS}
    return ", ".join(f"{r} {n}" for r, n in counts.items() if n) or "none"


def markdown(rep: Report) -> str:
    cited = sum(1 for r in rep.rows if r.cited_by)
    lines = [
        f"# Fidelity: {rep.title} (`{rep.policy}`)",
        "",
        f"<!-- Generated by `shixian policy fidelity {rep.policy} --markdown`; do not edit. "
        "tests/test_fidelity.py fails when this file is not current. -->",
        "",
        f"Every article of `{rep.source}` in order, and what shixian does with it: the rules "
        f"of `policies/{rep.policy}.yaml` that cite it, or why it is not modelled "
        f"(`{rep.not_modelled_in}`). Then each rule with the tests marked "
        f"`@pytest.mark.covers(\"{rep.policy}:<rule>\")`.",
        "",
        f"{len(rep.rows)} articles: {cited} cited by {len(rep.rules)} rules, "
        f"{len(rep.rows) - cited} not modelled ({_by_reason(rep)}); "
        f"{len(rep.problems)} problem(s).",
    ]
    chapter: Chapter | None = None
    for row in rep.rows:
        if row.chapter != chapter or row is rep.rows[0]:
            chapter = row.chapter
            lines += ["", f"## {chapter.label if chapter else '(no chapter)'}", "",
                      "| 条 | text | shixian |", "| --- | --- | --- |"]
        lines.append(f"| {row.article.label} | {_cell(row.article.excerpt())} | "
                     f"{_cell(_what(row))} |")
    lines += ["", "## Rules and their tests", "", "| rule | kind | citation | tests |",
              "| --- | --- | --- | --- |"]
    for r in rep.rules:
        tests = "<br>".join(f"`{t}`" for t in r.tests) if rep.tests_scanned else "(not scanned)"
        lines.append(f"| `{r.key}` | {r.kind} | {_cell('; '.join(r.citations))} | "
                     f"{tests or '**none**'} |")
    lines += ["", "## Problems", ""]
    lines += [f"- {_cell(p)}" for p in rep.problems] or ["None."]
    return "\n".join(lines) + "\n"


def text(rep: Report) -> str:
    """The terminal view: one line per article, then the rules, then the problems."""
    lines = [f"{rep.policy}: {rep.title} — {rep.source}"]
    chapter: Chapter | None = None
    for row in rep.rows:
        if row.chapter != chapter:
            chapter = row.chapter
            lines.append(f"\n{chapter.label if chapter else ''}")
        lines.append(f"  {row.article.label:<6} {_what(row)}")
    lines.append("\nrules → tests:")
    for r in rep.rules:
        tests = ", ".join(r.tests) if rep.tests_scanned else "(tests/ not found: --tests DIR)"
        lines.append(f"  {r.key} [{r.kind}] {'; '.join(r.citations)}\n      {tests or 'NONE'}")
    lines.append(f"\n{len(rep.problems)} problem(s)" + (":" if rep.problems else ""))
    lines += [f"  {p}" for p in rep.problems]
    return "\n".join(lines)


def dumps(rep: Report) -> str:
    return json.dumps(as_json(rep), ensure_ascii=False, indent=2)
