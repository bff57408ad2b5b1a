"""The README's "A manager's day", run: each `$ shixian …` output shown there is what the
command prints on the example portfolio (the 九江 examples `shixian up` starts and four
more, played day by day to 2026-11-23 as workers would, `docs/make_screenshot.py`), and
each export command there writes a file Excel opens. On a read model of this module's own.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from openpyxl import load_workbook

from shixian import logs
from shixian.cli import main
from tests.own_read_model import own_read_model

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### A manager's day")
    return text[start:text.index("\n## ", start)]


def shown_outputs() -> list[tuple[str, list[str]]]:
    """(command, the lines shown under it) for each ```text block that starts with `$ `."""
    out = []
    for block in re.findall(r"```text\n(.*?)```", section(), flags=re.S):
        lines = block.rstrip("\n").split("\n")
        if lines[0].startswith("$ shixian "):
            out.append((lines[0][2:], lines[1:]))
    return out


def export_commands() -> list[str]:
    out = []
    for block in re.findall(r"```bash\n(.*?)```", section(), flags=re.S):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith("shixian "):
                out.append(command)
    return out


def screenshot_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_screenshot",
                                                  ROOT / "docs" / "make_screenshot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def portfolio() -> Iterator[ModuleType]:
    shot = screenshot_module()
    with own_read_model("manager") as _:
        logs.configure(json_lines=True)
        shot.fill_read_model(shot.TODAY)
        yield shot


@pytest.fixture(autouse=True)
def fixed_today(portfolio: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shixian.operations.today", lambda: portfolio.TODAY)


def test_the_readme_shows_outputs_to_check() -> None:
    commands = [c for c, _ in shown_outputs()]
    assert {"shixian list --overdue", "shixian list --actor 市数据管理部门 --overdue",
            "shixian stats --period 2026"} <= set(commands)
    assert any("--xlsx" in c for c in export_commands())


@pytest.mark.parametrize(("command", "shown"), shown_outputs(), ids=lambda v: str(v)[:40])
def test_each_output_is_what_the_command_prints(command: str, shown: list[str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    main(shlex.split(command)[1:])
    captured = capsys.readouterr()
    printed = (captured.out + captured.err).split("\n")
    assert len(printed) >= len(shown)
    for want, got in zip(shown, printed, strict=False):
        if want.endswith("…"):  # the README cuts a long line
            assert got.startswith(want[:-1]), (want, got)
        else:
            assert got == want


@pytest.mark.parametrize("command", export_commands(), ids=lambda v: v[:40])
def test_each_export_command_works(command: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    words = shlex.split(command)
    target = None
    if ">" in words:
        target = tmp_path / words[words.index(">") + 1]
        words = words[:words.index(">")]
    assert main(words[1:]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if target is not None:
        target.write_text(out, encoding="utf-8")
    if "--xlsx" in words:
        book = load_workbook(tmp_path / words[words.index("--xlsx") + 1])
        assert book.active is not None and book.active.max_row > 1
    if "--csv" in words:
        assert out.startswith("\ufeff") and out.count("\n") > 1
    if "--json" in words:
        json.loads(out)
    if "-o" in words:
        assert (tmp_path / words[words.index("-o") + 1]).read_text().startswith(
            "BEGIN:VCALENDAR")
