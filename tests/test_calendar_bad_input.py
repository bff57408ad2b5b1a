"""Bad input gets a one-line CalendarError saying what is wrong and where."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calendars import CalendarError, DayInfo, DayKind, Period, Provenance, WorkCalendar, parse_date
from calendars.published import load_published

D = dt.date
FIXTURE_2027 = Path(__file__).parent / "fixtures" / "calendars" / "fixture-2027.yaml"
GOOD = FIXTURE_2027.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.default(use_env=False)


def one_line(exc: pytest.ExceptionInfo[CalendarError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            GOOD.replace("{date: 2027-02-20, for: 春节}", "{date: 2027-02-12, for: 春节}"),
            "makeup_workdays[1]",
            "2027-02-12 is a Friday",
        ),
        (
            GOOD.replace("{date: 2027-02-20, for: 春节}", "{date: 2027-02-13, for: 春节}"),
            "makeup_workdays[1]",
            "2027-02-13 is also a holiday in holidays[1] (春节)",
        ),
        (GOOD.replace("year: 2027", "year: 2028"), "year", "year mismatch"),
        (GOOD.replace("to: 2027-02-13", "to: 2027-02-30"), "holidays[1].to", "not a valid date"),
        (GOOD.replace("to: 2027-01-03", "to: 2028-01-03"), "holidays[0].to", "is not in 2027"),
        (GOOD.replace("from: 2027-01-01", "from: 2026-11-30"), "holidays[0].from", "not in 2027"),
        (GOOD.replace("to: 2027-04-05", "to: 2027-04-01"), "holidays[2].to", "is before from"),
        (
            GOOD.replace("{name: 端午节, from: 2027-06-09}", "{name: 端午节, from: 2027-05-05}"),
            "holidays[4]",
            "2027-05-05 (端午节) is already in holidays[3] (劳动节)",
        ),
        (
            GOOD.replace("{date: 2027-05-08, for: 劳动节}", "{date: 2027-02-14, for: 春节}"),
            "makeup_workdays[2]",
            "listed twice",
        ),
        (GOOD.replace("  number:", "  numbr:"), "notice", "unknown key 'numbr'"),
        (GOOD.replace("year: 2027\n", ""), "year", "missing"),
        (GOOD.replace("holidays:", "holiday:"), "", "unknown key 'holiday'"),
        (GOOD.replace("{name: 元旦, ", "{"), "holidays[0].name", "missing"),
        (GOOD.replace("date: 2026-11-01", "date: 1 Nov 2026"), "notice.date", "not a valid date"),
        (GOOD + "  - {date: [2027-03-06}\n", "", "not valid YAML: line"),
        ("- just\n- a list\n", "", "expected a mapping, got list"),
    ],
)
def test_bad_published_files(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as exc:
        load_published(path)
    message = one_line(exc)
    assert message.startswith(f"{path}: {where}: " if where else f"{path}: "), message
    assert what in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot read"):
        load_published(tmp_path / "2027.yaml")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("2026-02-30", "day is out of range"),
        ("2026-13-01", "month must be in 1..12"),
        ("26-1-1", "expected YYYY-MM-DD"),
        ("tomorrow", "not a valid date"),
    ],
)
def test_impossible_dates(text: str, what: str) -> None:
    with pytest.raises(CalendarError) as exc:
        parse_date(text, "DATE")
    assert one_line(exc).startswith(f"DATE: {text!r}") and what in str(exc.value)


@pytest.mark.parametrize(
    ("period", "what"),
    [
        ("0wd", "at least 1"),
        ("-3d", "at least 1"),
        ("5w", "unknown unit 'w'"),
        ("3 weeks", "unknown unit 'weeks'"),
        ("wd", "expected a count and a unit"),
        ("", "expected a count and a unit"),
        ("1.5m", "expected a count and a unit"),
    ],
)
def test_bad_periods(cal: WorkCalendar, period: str, what: str) -> None:
    with pytest.raises(CalendarError) as exc:
        cal.deadline(D(2026, 3, 2), period)
    assert what in one_line(exc) and repr(period) in str(exc.value)


def test_period_parsing_is_forgiving_about_case_and_spaces() -> None:
    assert Period.parse(" 10WD ") == Period.parse("10wd")
    assert str(Period.parse("3M")) == "3m"


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "3"])
def test_bad_counts(cal: WorkCalendar, n: object) -> None:
    with pytest.raises(CalendarError, match="whole number ≥ 1"):
        cal.add_working_days(D(2026, 3, 2), n)  # type: ignore[arg-type]


def test_dates_outside_the_covered_range(cal: WorkCalendar) -> None:
    for call in (
        lambda: cal.is_workday(D(2003, 12, 31)),
        lambda: cal.day_info(D(2036, 1, 1)),
        lambda: cal.add_working_days(D(2003, 12, 31), 1),
        lambda: cal.working_days_between(D(2026, 1, 1), D(2040, 1, 1)),
    ):
        with pytest.raises(CalendarError, match=r"2004-01-01\.\.2035-12-31") as exc:
            call()
        one_line(exc)
    with pytest.raises(CalendarError, match="ends after the calendar's range"):
        cal.add_working_days(D(2035, 12, 1), 30)
    with pytest.raises(CalendarError, match=r"2035-06-01 \+ 1y ends after"):
        cal.deadline(D(2035, 6, 1), "1y")
    with pytest.raises(CalendarError, match="ends after"):
        cal.deadline(D(2030, 6, 1), "99999999d")
    with pytest.raises(CalendarError, match="year 2040 is outside"):
        cal.year_provenance(2040)


def test_datetimes_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarError, match="Asia/Shanghai"):
        cal.is_workday(dt.datetime(2026, 3, 2, 23, 30))
    with pytest.raises(CalendarError, match="expected a date"):
        cal.is_workday("2026-03-02")  # type: ignore[arg-type]


def test_self_contradictory_engine_data() -> None:
    with pytest.raises(CalendarError, match="contiguous"):
        WorkCalendar({2026: "official", 2028: "provisional"})
    with pytest.raises(CalendarError, match="unknown provenance"):
        WorkCalendar({2026: "guessed"})
    with pytest.raises(CalendarError, match="no years"):
        WorkCalendar({})
    makeup_on_monday = DayInfo(D(2026, 3, 2), DayKind.MAKEUP_WORKDAY, None, Provenance.OFFICIAL)
    with pytest.raises(CalendarError, match="2026-03-02: a makeup workday must be a Sat"):
        WorkCalendar({2026: "official"}, [makeup_on_monday])
    holiday = DayInfo(D(2026, 3, 7), DayKind.HOLIDAY, "x", Provenance.OFFICIAL)
    makeup = DayInfo(D(2026, 3, 7), DayKind.MAKEUP_WORKDAY, None, Provenance.OFFICIAL)
    with pytest.raises(CalendarError, match="2026-03-07 is listed twice"):
        WorkCalendar({2026: "official"}, [holiday, makeup])
