"""Fidelity, generated: every article accounted for, every rule tested, the docs current."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policies import fidelity
from policies.loader import PACK_DIR, available
from shixian.cli import main

DOCS = Path(__file__).parents[1] / "docs" / "fidelity"


@pytest.mark.parametrize("pid", available())
def test_every_article_is_accounted_for_and_every_rule_tested(pid: str) -> None:
    rep = fidelity.report(pid)
    assert rep.tests_scanned
    assert rep.problems == [], "\n".join(rep.problems)
    assert [row.article.number for row in rep.rows] == \
        list(range(1, len(rep.regulation.articles) + 1))


@pytest.mark.parametrize("pid", available())
def test_generated_doc_is_current(pid: str) -> None:
    doc = DOCS / f"{pid}.md"
    fix = (f"regenerate it: .venv/bin/shixian policy fidelity {pid} --markdown > "
           f"docs/fidelity/{pid}.md")
    assert doc.is_file(), fix
    assert doc.read_text(encoding="utf-8") == fidelity.markdown(fidelity.report(pid)), fix


def test_no_marker_names_a_pack_that_does_not_exist() -> None:
    assert fidelity.stray_markers() == []


def test_jiujiang_rules_are_the_constructs_of_the_pack() -> None:
    """Obligations, periods, pauses, the limit, ladder rungs and consequences are all rules."""
    rules = {r.key: r for r in fidelity.report("jiujiang-2024").rules}
    kinds = {r.kind for r in rules.values()}
    assert {"obligations", "periods", "pauses", "limits", "escalation.ladder",
            "escalation.consequences"} <= kinds
    assert rules["warning"].operational and not rules["warning"].refs
    # v2: the 15 wd are shixian 运营默认 (limit_basis), so only 25 末段 is cited.
    assert [ref.label for ref in rules["small_tech_review"].refs] == ["第二十五条 末段"]


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "fidelity", "jiujiang-2024", "--markdown"]) == 0
    assert capsys.readouterr().out == (DOCS / "jiujiang-2024.md").read_text(encoding="utf-8")
    assert main(["policy", "fidelity", "jiujiang-2024", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == [] and len(data["articles"]) == 45
    a25 = data["articles"][24]
    assert a25["label"] == "第二十五条"
    assert {"rule": "proposal_submission", "reference": "第二十五条(一)"} in a25["rules"]
    assert main(["policy", "fidelity", "jiujiang-2024"]) == 0
    out = capsys.readouterr().out
    assert "第一条" in out and "0 problem(s)" in out
    assert main(["policy", "fidelity", "chengdu-2099"]) == 2
    assert "unknown policy 'chengdu-2099'" in capsys.readouterr().err


# ---- each failure CI must catch, on a copy of the pack -----------------------------------------
@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    """policies/ with the 九江 pack, its text and sidecar; tests/ with one marked test."""
    packs = tmp_path / "policies"
    (packs / "regulations").mkdir(parents=True)
    for name in ("jiujiang-2024.yaml", "jiujiang-2024.fidelity.yaml",
                 "regulations/jiujiang-2024.txt"):
        shutil.copyfile(PACK_DIR / name, packs / name)
    tests = tmp_path / "tests"
    tests.mkdir()
    rules = [r.key for r in fidelity.report("jiujiang-2024", None).rules]
    marks = ", ".join(f'"jiujiang-2024:{r}"' for r in rules)
    (tests / "test_all.py").write_text(
        f"import pytest\n\n@pytest.mark.covers({marks})\ndef test_all():\n    pass\n",
        encoding="utf-8")
    return packs, tests


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(workspace: tuple[Path, Path]) -> list[str]:
    packs, tests = workspace
    return fidelity.report("jiujiang-2024", tests, packs).problems


def test_the_copy_is_clean(workspace: tuple[Path, Path]) -> None:
    assert problems(workspace) == []


def test_an_article_neither_cited_nor_listed_fails(workspace: tuple[Path, Path]) -> None:
    edit(workspace[0] / "jiujiang-2024.fidelity.yaml", "  第四十四条:", "  # 第四十四条:")
    assert problems(workspace) == [
        "九江 第四十四条: neither cited by a rule nor listed under not_modelled in "
        "jiujiang-2024.fidelity.yaml"]


def test_a_rule_without_a_covering_test_fails(workspace: tuple[Path, Path]) -> None:
    edit(workspace[1] / "test_all.py", '"jiujiang-2024:feedback_return", ', "")
    assert problems(workspace) == [
        'rule feedback_return (obligations) has no covering test: mark one with '
        '@pytest.mark.covers("jiujiang-2024:feedback_return")']


def test_a_cited_article_missing_from_the_text_fails(workspace: tuple[Path, Path]) -> None:
    edit(workspace[0] / "jiujiang-2024.yaml", "citation: 九江 第三十九条",
         "citation: 九江 第四十九条")
    found = problems(workspace)
    assert any("第四十九条: jiujiang-2024.txt has no 第四十九条" in p for p in found), found
    # …and 第三十九条, no longer cited, is now unaccounted for.
    assert any(p.startswith("九江 第三十九条: neither cited") for p in found), found


def test_stale_markers_and_bad_sidecar_entries_fail(workspace: tuple[Path, Path]) -> None:
    packs, tests = workspace
    (tests / "test_more.py").write_text(
        "import pytest\nRULES = ('jiujiang-2024:x',)\n\n"
        "@pytest.mark.covers('jiujiang-2024:no_such_rule')\ndef test_a():\n    pass\n\n"
        "@pytest.mark.covers(*RULES)\ndef test_b():\n    pass\n", encoding="utf-8")
    edit(packs / "jiujiang-2024.fidelity.yaml", "  第四十四条: \"no duty:",
         "  第九十九条: \"no duty: made up\"\n  第四十四条: \"because:")
    found = problems(workspace)
    assert any("marks 'jiujiang-2024:no_such_rule', which is not a rule" in p for p in found)
    assert any("test_more.py:8: covers takes string literals" in p for p in found), found
    assert any("has no 第九十九条" in p for p in found), found
    assert any("第四十四条: the reason starts with one of 'no duty:'" in p for p in found), found


def test_a_new_construct_in_the_pack_is_picked_up(workspace: tuple[Path, Path]) -> None:
    """Rules come from the raw YAML: a list the model does not know yet still counts."""
    packs, tests = workspace
    with (packs / "jiujiang-2024.yaml").open("a", encoding="utf-8") as f:
        f.write("\nfuture_rules:\n  - id: approved_before_build\n    citation: 九江 第十六条\n")
    rep = fidelity.report("jiujiang-2024", tests, packs)
    assert [r.kind for r in rep.rules if r.key == "approved_before_build"] == ["future_rules"]
    assert "approved_before_build" in [key for key, _ in rep.rows[15].cited_by]
    assert rep.problems == [
        'rule approved_before_build (future_rules) has no covering test: '
        'mark one with @pytest.mark.covers("jiujiang-2024:approved_before_build")']


def test_not_modelled_may_move_into_the_pack(workspace: tuple[Path, Path]) -> None:
    """When the model allows the key, the sidecar's mapping moves into the pack unchanged."""
    packs, tests = workspace
    sidecar = packs / "jiujiang-2024.fidelity.yaml"
    with (packs / "jiujiang-2024.yaml").open("a", encoding="utf-8") as f:
        f.write("\n" + sidecar.read_text(encoding="utf-8"))
    assert problems(workspace) == [
        "jiujiang-2024.fidelity.yaml: not_modelled is in the pack now; delete the sidecar"]
    sidecar.unlink()
    rep = fidelity.report("jiujiang-2024", tests, packs)
    assert rep.problems == [] and rep.not_modelled_in == "policies/jiujiang-2024.yaml"
