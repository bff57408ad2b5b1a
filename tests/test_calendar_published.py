"""Published-year files: a fixture for 2027 replaces the provisional layer; directories,
precedence, SHIXIAN_CALENDAR_DIR, December spill-over and the statute warnings."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from calendars import CalendarError, DayKind, Provenance, WorkCalendar
from calendars.loader import ENV_VAR, PACKAGE_DATA_DIR, dirs_from_env
from calendars.published import load_published, parse_published, statutory_warnings

D = dt.date
FIXTURES = Path(__file__).parent / "fixtures" / "calendars"
FIXTURE_2027 = FIXTURES / "fixture-2027.yaml"

SPILLOVER_2028 = """\
# FIXTURE — not official data: a 2028 notice whose 元旦 starts on 2027-12-31.
year: 2028
notice: {number: 测试发〔2027〕0号 (FIXTURE), date: 2027-11-01}
holidays:
  - {name: 元旦, from: 2027-12-31, to: 2028-01-02}
  - {name: 春节, from: 2028-01-25, to: 2028-01-28}
makeup_workdays:
  - {date: 2027-12-26, for: 元旦}
"""


@pytest.fixture(autouse=True)
def no_env_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_fixture_is_labelled_and_not_shipped() -> None:
    assert FIXTURE_2027.read_text(encoding="utf-8").startswith("# FIXTURE — not official data")
    assert not list(PACKAGE_DATA_DIR.glob("*.y*ml")), "ship no unverifiable official data"


def test_fixture_file_parses() -> None:
    py = load_published(FIXTURE_2027)
    assert py.year == 2027 and "FIXTURE" in py.notice_number
    assert py.notice_date == D(2026, 11, 1)
    assert [r.name for r in py.holidays][:2] == ["元旦", "春节"]
    assert len(py.makeup_workdays) == 5
    assert statutory_warnings(py) == []


def test_published_2027_replaces_the_provisional_layer() -> None:
    before = WorkCalendar.default(use_env=False)
    after = WorkCalendar.default([FIXTURES], use_env=False)
    assert before.year_provenance(2027) is Provenance.PROVISIONAL
    assert after.year_provenance(2027) is Provenance.PUBLISHED
    assert after.year_provenance(2028) is Provenance.PROVISIONAL
    assert after.year_provenance(2026) is Provenance.OFFICIAL
    # Sun 2/14: a rest day provisionally, a 调休 working day in the notice
    assert not before.is_workday(D(2027, 2, 14))
    info = after.day_info(D(2027, 2, 14))
    assert (info.kind, info.holiday, info.provenance) == (
        DayKind.MAKEUP_WORKDAY,
        "春节",
        Provenance.PUBLISHED,
    )
    # Wed 10/6: a working day provisionally, 国庆节 in the notice
    assert before.is_workday(D(2027, 10, 6)) and not after.is_workday(D(2027, 10, 6))
    # no provisional 补假 names survive in 2027
    assert not any("补假" in (i.holiday or "") for i in after.exceptions(2027))
    # exactly the file's days, nothing else
    assert {i.date for i in after.exceptions(2027)} == {
        i.date for i in load_published(FIXTURE_2027).days
    }
    assert not after.deadline(D(2027, 3, 1), "20wd").provisional
    # other years are untouched
    assert before.snapshot(2004, 2026) == after.snapshot(2004, 2026)
    assert before.snapshot(2028, 2035) == after.snapshot(2028, 2035)


def test_environment_variable_and_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    text = FIXTURE_2027.read_text(encoding="utf-8").replace(
        "  - {name: 中秋节, from: 2027-09-15}",
        "  - {name: 中秋节, from: 2027-09-15, to: 2027-09-17}",
    )
    (other / "2027.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(FIXTURES))
    assert dirs_from_env() == [FIXTURES]
    assert WorkCalendar.default().is_workday(D(2027, 9, 16))  # env dir: fixture
    assert WorkCalendar.default(use_env=False).year_provenance(2027) is Provenance.PROVISIONAL
    # a later directory (extra_dirs after env) wins
    assert not WorkCalendar.default([other]).is_workday(D(2027, 9, 16))
    monkeypatch.setenv(ENV_VAR, f"{other}{os.pathsep}{FIXTURES}")
    assert WorkCalendar.default().is_workday(D(2027, 9, 16))


def test_two_files_for_one_year_in_one_directory(tmp_path: Path) -> None:
    shutil.copy(FIXTURE_2027, tmp_path / "2027.yaml")
    shutil.copy(FIXTURE_2027, tmp_path / "copy-2027.yaml")
    with pytest.raises(CalendarError, match="year 2027 is already given by"):
        WorkCalendar.default([tmp_path], use_env=False)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="not found"):
        WorkCalendar.default([tmp_path / "nope"], use_env=False)


def test_december_spillover_overrides_the_previous_year(tmp_path: Path) -> None:
    (tmp_path / "2028.yaml").write_text(SPILLOVER_2028, encoding="utf-8")
    cal = WorkCalendar.default([tmp_path], use_env=False)
    assert cal.year_provenance(2027) is Provenance.PROVISIONAL
    eve = cal.day_info(D(2027, 12, 31))
    assert (eve.kind, eve.holiday, eve.provenance) == (
        DayKind.HOLIDAY,
        "元旦",
        Provenance.PUBLISHED,
    )
    assert cal.day_info(D(2027, 12, 26)).kind is DayKind.MAKEUP_WORKDAY
    assert cal.day_info(D(2027, 12, 30)).provenance is Provenance.PROVISIONAL
    # the snapshot marks the two spill-over days with their own provenance, and round-trips
    snap = cal.snapshot(2027, 2028)
    assert ["2027-12-26", "makeup_workday", "元旦", "published"] in snap["days"]
    assert ["2027-12-31", "holiday", "元旦", "published"] in snap["days"]
    again = WorkCalendar.from_snapshot(snap)
    for k in range(365 + 366):
        d = D(2027, 1, 1) + dt.timedelta(k)
        assert again.day_info(d) == cal.day_info(d)
    # a deadline counting only published days is not provisional, one touching 12/30 is
    assert not cal.deadline(D(2027, 12, 30), "1wd").provisional  # 12/31 off → 2028-01-03
    assert cal.deadline(D(2027, 12, 29), "1wd").provisional  # 12/30 counted


def test_statutory_warnings() -> None:
    text = FIXTURE_2027.read_text(encoding="utf-8").replace(
        "  - {name: 中秋节, from: 2027-09-15}\n", ""
    )
    warnings = statutory_warnings(parse_published(text, "2027.yaml"))
    assert any("2027-09-15 (中秋节) is a working day" in w for w in warnings)
    assert any("= 12" in w and "13" in w for w in warnings)
