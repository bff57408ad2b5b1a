"""Workflow code decides only from its history: a static check of the workflow modules and
every first-party module they import (issue #12).

The workers pass all of these through the Temporal sandbox (`PASSED_THROUGH`: one import
per process instead of one per run), so the sandbox neither sees a clock, file or
environment read in `workflows/lifecycle.py` or `calendars/engine.py` nor gives a run
module globals of its own. The replay tests catch a nondeterministic read only on the
paths they replay; this check catches it anywhere in these modules, and state a run could
leave behind for the next in the workflow modules themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_layers import imported_modules

ROOT = Path(__file__).parents[1]
FIRST_PARTY = ("calendars", "policies", "workflows", "activities", "delivery", "shixian")
WORKFLOW_MODULES = ("workflows.lifecycle", "workflows.cycle", "workflows.delivery",
                    "workflows.v1.lifecycle")

# Reached from workflow modules but doing I/O by design, in functions workflow code never
# calls: activity bodies (their inputs and a few pure row builders are what workflows
# import), notice delivery, and the calendar data loaders (`WorkCalendar.default()`, "never
# inside a workflow"). Listed exactly: a new one fails here until someone decides.
IO_BY_DESIGN = {
    "activities", "activities.cycle", "activities.delivery", "activities.notices",
    "activities.read_model", "activities.wake", "delivery", "delivery.quiet",
    "calendars.loader",
}
FORBIDDEN_IMPORTS = ("os", "time", "random", "uuid", "secrets", "socket", "subprocess",
                     "threading", "pathlib", "glob", "shutil", "sqlite3", "sqlalchemy",
                     "urllib", "http", "requests", "smtplib", "tempfile", "io")
CLOCK_CALLS = {"now", "utcnow", "today", "fromtimestamp"}


def _path(module: str, root: Path = ROOT) -> Path | None:
    base = root / Path(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def reached(start: tuple[str, ...] = WORKFLOW_MODULES, root: Path = ROOT) -> set[str]:
    """First-party modules the workflow modules import, at module level or in a function,
    transitively (not through the I/O modules, whose imports serve their activities)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        path = _path(module, root)
        if module in seen or path is None:
            continue
        seen.add(module)
        if module in IO_BY_DESIGN:
            continue
        for _, name in imported_modules(path, root):
            parts = name.split(".")
            if parts[0] in FIRST_PARTY:
                todo += [".".join(parts[:k]) for k in range(1, len(parts) + 1)]
    return seen


def impurities(path: Path) -> list[str]:
    """Imports of I/O, clock or randomness modules (not those for type checking only), and
    calls that read the clock (`datetime.now()`, `date.today()` …) or open files."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test).endswith("TYPE_CHECKING")
                   for stmt in block.body for n in ast.walk(stmt)}
    clocks = {"datetime", "date"} | {  # and their aliases: from datetime import date as d
        a.asname for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
        and n.module == "datetime" for a in n.names if a.name in ("datetime", "date")
        and a.asname}
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        found += [f"{path.name}:{node.lineno}: imports {n}" for n in names
                  if n.split(".")[0] in FORBIDDEN_IMPORTS]
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                found.append(f"{path.name}:{node.lineno}: calls open()")
            if (isinstance(func, ast.Attribute) and func.attr in CLOCK_CALLS
                    and ast.unparse(func.value).split(".")[-1] in clocks):
                found.append(f"{path.name}:{node.lineno}: calls {ast.unparse(func)}()")
    return found


MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque"}


def shared_state(path: Path) -> list[str]:
    """`global` statements, and containers a run could fill for the next one: mutable
    values bound at module or class level (a class's attributes are shared by its runs)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = [f"{path.name}:{n.lineno}: global {', '.join(n.names)}"
             for n in ast.walk(tree) if isinstance(n, ast.Global)]
    scopes = [tree.body, *(c.body for c in ast.walk(tree) if isinstance(c, ast.ClassDef))]
    for stmt in (s for body in scopes for s in body):
        value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
        mutable = isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp
                             | ast.ListComp | ast.SetComp) or (
            isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1]
            in MUTABLE_CALLS)
        if mutable:
            found.append(f"{path.name}:{stmt.lineno}: shared {ast.unparse(value)[:40]}")
    return found


@pytest.mark.parametrize("module", WORKFLOW_MODULES)
def test_workflow_modules_keep_no_state_between_runs(module: str) -> None:
    path = _path(module)
    assert path is not None
    assert shared_state(path) == []


def test_the_io_modules_listed_are_exactly_those_reached() -> None:
    assert reached() & IO_BY_DESIGN == IO_BY_DESIGN, "strike off what is no longer reached"


@pytest.mark.parametrize("module", sorted(reached() - IO_BY_DESIGN))
def test_workflow_code_reads_no_clock_file_or_environment(module: str) -> None:
    path = _path(module)
    assert path is not None
    assert impurities(path) == []


def test_the_check_can_fail(tmp_path: Path) -> None:
    """Each kind of impurity is found; workflow.now() and an import for type checking are
    not; a module reached only through a pure one is reached."""
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "workflows" / "lifecycle.py").write_text(
        "from workflows import helper\n", encoding="utf-8")
    helper = tmp_path / "workflows" / "helper.py"
    helper.write_text(
        "import os\nimport time as t\nfrom datetime import date, datetime\n"
        "from temporalio import workflow\n"
        "def f():\n    a = datetime.now()\n    b = date.today()\n    c = workflow.now()\n"
        "    return open('x')\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pathlib import Path\n"
        "from datetime import date as day\nx = day.today()\n", encoding="utf-8")
    lifecycle = tmp_path / "workflows" / "lifecycle.py"
    lifecycle.write_text(
        "from workflows import helper\nSEEN = {}\nLIMIT = (1, 2)\n"
        "class W:\n    runs: list[int] = []\n    name = 'w'\n"
        "    def f(self):\n        global SEEN\n        seen = set()\n", encoding="utf-8")
    assert shared_state(lifecycle) == ["lifecycle.py:8: global SEEN",
                                       "lifecycle.py:2: shared {}",
                                       "lifecycle.py:5: shared []"]
    assert "workflows.helper" in reached(("workflows.lifecycle",), tmp_path)
    assert sorted(impurities(helper)) == sorted([
        "helper.py:1: imports os", "helper.py:2: imports time",
        "helper.py:6: calls datetime.now()", "helper.py:7: calls date.today()",
        "helper.py:9: calls open()", "helper.py:14: calls day.today()"])
