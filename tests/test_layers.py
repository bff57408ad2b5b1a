"""Layers point down: calendars/, policies/, delivery/, workflows/ and activities/ never
import the CLI package `shixian`, so a worker, a pack check or a replay needs nothing above them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LOWER = ("calendars", "policies", "workflows", "activities", "delivery")


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module an `import` or `from … import` names, with its line (relative imports
    are resolved against the file's package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).parent.parts)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(path: Path, root: Path = ROOT) -> list[str]:
    return [f"{path.relative_to(root)}:{line}: imports {name}"
            for line, name in imported_modules(path, root)
            if name == "shixian" or name.startswith("shixian.")]


# Known layering debt, listed exactly so that a new violation fails and a fixed one must be
# struck off. Empty since notice delivery (contacts, channels, quiet hours, the mailbox)
# moved from shixian/delivery to the delivery/ package below the CLI.
KNOWN_DEBT: set[str] = set()


@pytest.mark.parametrize("layer", LOWER)
def test_lower_layers_do_not_import_the_cli_package(layer: str) -> None:
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, layer
    problems = [v for f in files for v in violations(f)]
    debt = sorted(d for d in KNOWN_DEBT if d.startswith(f"{layer}/"))
    assert sorted(problems) == debt, "\n".join(sorted(set(problems) ^ set(debt)))


def test_the_scan_sees_every_form_of_import(tmp_path: Path) -> None:
    """The check can fail: each way of importing `shixian` is caught, lookalikes are not."""
    (tmp_path / "policies").mkdir()
    probe = tmp_path / "policies" / "probe.py"
    probe.write_text(
        "import shixian\nimport shixian.config as c\nfrom shixian import yamlio\n"
        "from shixian.errors import UserError\ndef f():\n    from shixian import cli\n"
        "import shixian_extra\nfrom policies import shixian_like\nfrom . import loader\n",
        encoding="utf-8")
    found = violations(probe, tmp_path)
    assert [v.split(": imports ")[1] for v in found] == [
        "shixian", "shixian.config", "shixian", "shixian.yamlio", "shixian.errors",
        "shixian.errors.UserError", "shixian", "shixian.cli"]
