"""`shixian calendar …` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calendars.loader import ENV_VAR
from shixian.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "calendars"
FIXTURE_2027 = FIXTURES / "fixture-2027.yaml"


@pytest.fixture(autouse=True)
def no_env_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["calendar", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_one_iso_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "add", "2026-09-30", "10wd") == (0, "2026-10-20\n", "")


def test_add_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "add", "2026-09-30", "10wd", "--json")
    assert code == 0
    assert json.loads(out) == {
        "date": "2026-10-20",
        "due_at": "2026-10-21T00:00:00+08:00",
        "provisional": False,
    }


def test_add_provisional_is_noted_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "add", "2027-01-31", "1m")
    assert (code, out) == (0, "2027-03-01\n")
    assert "provisional" in err and "2027" in err
    code, out, _ = run(capsys, "add", "2027-01-31", "1m", "--json")
    assert json.loads(out)["provisional"] is True


def test_calendar_dir_option_and_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2026-11-10 + 3m = 2027-02-10: provisional → 2/11; fixture notice → Sun 2/14 (调休)
    assert run(capsys, "add", "2026-11-10", "3m")[1] == "2027-02-11\n"
    code, out, err = run(capsys, "add", "2026-11-10", "3m", "--calendar-dir", str(FIXTURES))
    assert (code, out, err) == (0, "2027-02-14\n", "")
    monkeypatch.setenv(ENV_VAR, str(FIXTURES))
    assert run(capsys, "add", "2026-11-10", "3m")[1] == "2027-02-14\n"


def test_is_workday(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "is-workday", "2026-10-10") == (0, "yes\n", "")  # 调休 Saturday
    assert run(capsys, "is-workday", "2026-10-05") == (0, "no\n", "")
    _, out, _ = run(capsys, "is-workday", "2026-10-01", "--json")
    assert json.loads(out) == {
        "date": "2026-10-01",
        "weekday": "Thu",
        "workday": False,
        "kind": "holiday",
        "holiday": "国庆节",
        "provenance": "official",
    }


def test_info(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", "2028-10-05")
    assert code == 0
    assert out.strip() == "2028-10-05 (Thu): holiday, 中秋节(补假) [provisional]"
    code, out, _ = run(capsys, "info", "2005-12-31", "--json")
    value = json.loads(out)
    assert value["kind"] == "makeup_workday" and "国办发明电〔2005〕35号" in value["erratum"]
    code, out, _ = run(capsys, "info", "2005-12-31")
    assert "erratum" in out


def test_year(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "year", "2028")
    assert code == 0
    assert out.startswith("2028: provisional")
    assert "  2028-10-01 – 2028-10-03   Sun–Tue  国庆节\n" in out
    assert "  2028-10-05                Thu      中秋节(补假)\n" in out
    assert "makeup workdays (调休上班):\n  none\n" in out
    code, out, _ = run(capsys, "year", "2027", "--json", "--calendar-dir", str(FIXTURES))
    value = json.loads(out)
    assert value["provenance"] == "published"
    assert value["notice"]["number"].endswith("(FIXTURE)")
    assert {"date": "2027-02-14", "for": "春节", "provenance": "published"} in value[
        "makeup_workdays"
    ]
    assert value["working_days"] == 248
    code, out, _ = run(capsys, "year", "2026", "--json")
    assert len(json.loads(out)["makeup_workdays"]) == 6


def test_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "check", str(FIXTURE_2027))
    assert (code, err) == (0, "")
    assert out.startswith(f"OK {FIXTURE_2027}: 2027") and "warning" not in out
    code, out, _ = run(capsys, "check", str(FIXTURE_2027), "--json")
    value = json.loads(out)
    assert value["ok"] and value["makeup_workdays"] == 5 and value["warnings"] == []
    bad = tmp_path / "2027.yaml"
    bad.write_text(FIXTURE_2027.read_text().replace("2027-02-20", "2027-02-22"), encoding="utf-8")
    code, out, err = run(capsys, "check", str(bad))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert f"{bad}: makeup_workdays[1]: 2027-02-22 is a Monday" in err


def test_check_compares_an_official_year_with_chinese_calendar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "2026.yaml"
    path.write_text(
        "year: 2026\nnotice: {number: TEST, date: 2025-11-04}\n"
        "holidays:\n  - {name: 元旦, from: 2026-01-01, to: 2026-01-03}\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "check", str(path))
    assert code == 0
    assert "warning: 2026-01-04: not listed here, makeup_workday in chinese-calendar" in out
    assert "warning: 2026-10-01: not listed here, holiday in chinese-calendar" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "2026-02-30", "5wd"], "DATE: '2026-02-30' is not a valid date"),
        (["add", "2026-02-03", "0wd"], "the count must be at least 1"),
        (["add", "2026-02-03", "5w"], "unknown unit 'w'"),
        (["is-workday", "2099-01-01"], "outside the calendar's range 2004-01-01..2035-12-31"),
        (["info", "yesterday"], "not a valid date"),
        (["year", "1999"], "year 1999 is outside"),
        (["add", "2026-02-03", "5wd", "--calendar-dir", "/nonexistent"], "not found"),
    ],
)
def test_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("shixian: error: ") and err.count("\n") == 1
    assert message in err


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for sub in ("add", "is-workday", "info", "year", "check"):
        with pytest.raises(SystemExit) as exc:
            main(["calendar", sub, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"shixian calendar {sub}" in out
    assert main(["calendar"]) == 2
    assert "SHIXIAN_CALENDAR_DIR" in capsys.readouterr().out
