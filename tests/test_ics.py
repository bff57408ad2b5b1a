"""`shixian ics`: the feed is parsed back by `icalendar` and checked against the read model.

The read model is filled through `record_status` as the workflows fill it (no Temporal);
runs on SQLite and, under SHIXIAN_TEST_DATABASE=postgresql, on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from icalendar import Calendar

from activities.read_model import ReadModelUpdate, record_status
from calendars import WorkCalendar
from calendars.periods import SHANGHAI
from policies.loader import load_pack
from shixian import ics
from shixian.cli import main
from shixian.ics import feed
from shixian.readmodel import deadlines
from tests.jiujiang_cases import SMALL_BUILD, doc, project
from workflows.ledger import Ledger
from workflows.models import DocumentArrival, LedgerState, StatusView

NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)  # 2026-11-23 (Mon) in Beijing
CAL = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
LONG_TITLE = ("编制项目建议书, 可行性研究报告; 初步设计方案\\及项目预算, 报市发改委、市数据管理局"
              "和市财政局审查;\n逐项说明建设内容, 投资估算与资金来源, 并附专家论证意见")


def status_of(pid: str, started_on: date, investment_wan: float, owner: str,
              documents: list[DocumentArrival]) -> StatusView:
    led = Ledger(project(pid, investment_wan=investment_wan, started_on=started_on, owner=owner),
                 load_pack("jiujiang-2024"), CAL, LedgerState())
    for d in documents:
        led.add_document(d, NOW)
    led.escalate(NOW)
    return led.status(NOW)


def record(status: StatusView) -> None:
    record_status(ReadModelUpdate(workflow_id=f"project-{status.project_id}", seq=1,
                                  investment_wan=0, status=status, new_events=status.events))


@pytest.fixture(scope="module", autouse=True)
def read_model() -> dict[str, StatusView]:
    """ICS-A: a small build project done up to its self-evaluation, due on a provisional
    day in 2027. ICS-B: a technical review due 2025-10-10, right after 国庆, long overdue.
    ICS-C: ICS-B again with a title and owner full of `,`, `;`, `\\` and a line break."""
    a = status_of("ICS-A", date(2025, 3, 3), 150, "ICS甲局", SMALL_BUILD.documents[:-1])
    b = status_of("ICS-B", date(2025, 9, 1), 800, "ICS乙局", [doc("fsr_submitted", "2025-09-12")])
    c = status_of("ICS-C", date(2025, 9, 1), 800, "ICS丙局, 信息中心; 分部\\二处",
                  [doc("fsr_submitted", "2025-09-12")])
    for o in c.obligations:
        if o.id == "fsr_tech_review":
            o.title = LONG_TITLE
    c.name = "名称, 含逗号; 分号"
    for s in (a, b, c):
        record(s)
    return {s.project_id: s for s in (a, b, c)}


def run(tmp_path: Path, *args: str) -> tuple[Calendar, bytes]:
    out = tmp_path / "feed.ics"
    assert main(["ics", *args, "-o", str(out)]) == 0
    raw = out.read_bytes()
    return Calendar.from_ical(raw), raw


def events(cal: Calendar) -> dict[str, Any]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def uid(pid: str, oid: str) -> str:
    return f"{pid}/{oid}@shixian"


def test_one_all_day_event_per_live_deadline(
    tmp_path: Path, read_model: dict[str, StatusView],
) -> None:
    cal, _ = run(tmp_path, "--project", "ICS-A", "--project", "ICS-B")
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == ics.PRODID
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["X-WR-CALNAME"]) == "时限 ICS-A · ICS-B"
    evs = events(cal)
    # Done and waived duties, and pending ones with no due day yet, are left out.
    assert set(evs) == {uid("ICS-A", "self_evaluation"), uid("ICS-B", "fsr_tech_review")}
    b = evs[uid("ICS-B", "fsr_tech_review")]
    # A DATE, not a DATE-TIME: an all-day event on the due day, DTEND exclusive.
    assert type(b.decoded("DTSTART")) is date and b.decoded("DTSTART") == date(2025, 10, 10)
    assert b.decoded("DTEND") == date(2025, 10, 11)
    assert b["DTSTART"].params["VALUE"] == "DATE"
    assert b.decoded("DTSTAMP").tzinfo is not None
    assert str(b["SUMMARY"]).startswith("ICS-B 出具可研技术评审意见 · 市数据管理部门 · 逾期")
    text = str(b["DESCRIPTION"])
    for part in ("市数据管理部门", "state: overdue", "九江 第二十五条(二)",
                 "level 3 (escalated)", "ICS乙局"):
        assert part in text
    assert ics.PROVISIONAL_NOTE not in text
    assert str(b["STATUS"]) == "CONFIRMED"
    assert [str(c) for c in b["CATEGORIES"].cats] == ["时限", "overdue", "九江市"]
    a = evs[uid("ICS-A", "self_evaluation")]
    assert a.decoded("DTSTART") == date(2027, 2, 11)
    assert ics.PROVISIONAL_NOTE in str(a["DESCRIPTION"])
    assert str(a["STATUS"]) == "TENTATIVE"
    assert str(a["SUMMARY"]).endswith(" · 暂定")
    for component in cal.walk():
        assert not component.errors, component.errors  # nothing icalendar had to skip


def test_alarms_ring_on_the_warning_working_day(tmp_path: Path) -> None:
    """The ladder's warning (-3wd) on the official calendar, 09:00 Beijing time."""
    evs = events(run(tmp_path, "--project", "ICS-A", "--project", "ICS-B")[0])
    [alarm] = evs[uid("ICS-B", "fsr_tech_review")].walk("VALARM")
    # Due Fri 2025-10-10: 10/9 is the 1st working day before, 10/1–10/8 国庆中秋 are off,
    # 9/30 the 2nd, 9/29 the 3rd (counted by hand, not with shixian's calendar).
    assert alarm.decoded("TRIGGER") == datetime(2025, 9, 29, 1, 0, tzinfo=UTC)
    assert alarm["TRIGGER"].params["VALUE"] == "DATE-TIME"
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert str(alarm["DESCRIPTION"]).startswith(
        "warning: ICS-B 出具可研技术评审意见 将于 2025-10-10")
    [alarm] = evs[uid("ICS-A", "self_evaluation")].walk("VALARM")
    warn = WorkCalendar.default().subtract_working_days(date(2027, 2, 11), 3)
    assert alarm.decoded("TRIGGER") == datetime(warn.year, warn.month, warn.day, 9,
                                                tzinfo=SHANGHAI)


def test_include_done_adds_finished_duties_without_alarms(tmp_path: Path) -> None:
    evs = events(run(tmp_path, "--project", "ICS-A", "--include-done")[0])
    assert set(evs) == {uid("ICS-A", o) for o in (
        "small_tech_review", "budget_submission", "budget_approval", "feedback_return#1",
        "final_acceptance", "completion_application", "self_evaluation")}
    done = evs[uid("ICS-A", "completion_application")]
    assert done.decoded("DTSTART") == date(2026, 1, 5)
    assert "state: done" in str(done["DESCRIPTION"])
    assert done.walk("VALARM") == []
    assert len(evs[uid("ICS-A", "self_evaluation")].walk("VALARM")) == 1


def test_filters(tmp_path: Path) -> None:
    by_owner = events(run(tmp_path, "--owner", "ICS甲")[0])
    assert set(by_owner) == {uid("ICS-A", "self_evaluation")}
    both = events(run(tmp_path, "--owner", "ICS", "--jurisdiction", "九江市")[0])
    assert {uid("ICS-A", "self_evaluation"), uid("ICS-B", "fsr_tech_review"),
            uid("ICS-C", "fsr_tech_review")} == set(both)
    by_policy = events(run(tmp_path, "--project", "ICS-B", "--jurisdiction", "jiujiang-2024")[0])
    assert set(by_policy) == {uid("ICS-B", "fsr_tech_review")}
    cal, raw = run(tmp_path, "--project", "ICS-B", "--actor", "市财政局", "--name", "空")
    assert events(cal) == {} and str(cal["X-WR-CALNAME"]) == "空"
    assert b"BEGIN:VTIMEZONE" in raw  # still one component: a valid, empty feed


def test_actor_filter_is_the_responsible_body_not_the_owner(tmp_path: Path) -> None:
    """The data bureau's own calendar: the reviews it must issue, whoever owns the project."""
    for spelling in ("市数据管理部门", "data_bureau", "数据管理部门"):
        evs = events(run(tmp_path, "--actor", spelling)[0])
        mine = {u for u in evs if u.startswith("ICS-")}
        assert mine == {uid("ICS-B", "fsr_tech_review"), uid("ICS-C", "fsr_tech_review")}
        assert all("市数据管理部门" in str(evs[u]["SUMMARY"]) for u in mine)
    owners = events(run(tmp_path, "--actor", "项目业主单位", "--owner", "ICS")[0])
    assert set(owners) == {uid("ICS-A", "self_evaluation")}


@pytest.mark.parametrize(("flag", "value", "known"), [
    ("--jurisdiction", "南昌市", "jiujiang-2024 (九江市)"),
    ("--actor", "市教育局", "data_bureau (市数据管理部门)"),
])
def test_unknown_filter_values_list_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, known: str,
) -> None:
    out = tmp_path / "feed.ics"
    assert main(["ics", flag, value, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"unknown {flag.lstrip('-')} {value!r}" in err and known in err
    assert not out.exists()


def test_escaping_and_folding_round_trip(tmp_path: Path) -> None:
    cal, raw = run(tmp_path, "--project", "ICS-C")
    ev = events(cal)[uid("ICS-C", "fsr_tech_review")]
    assert str(ev["SUMMARY"]).startswith(f"ICS-C {LONG_TITLE} · 市数据管理部门 · 逾期")
    assert "ICS丙局, 信息中心; 分部\\二处" in str(ev["DESCRIPTION"])
    assert "名称, 含逗号; 分号 (ICS-C)" in str(ev["DESCRIPTION"])
    assert "编制项目建议书\\, 可行性研究报告\\; 初步设计方案\\\\及".encode() in raw.replace(
        b"\r\n ", b"")
    assert any(ln.startswith(b" ") for ln in raw.split(b"\r\n")), "nothing was folded"
    assert_wire_format(raw)


def assert_wire_format(raw: bytes) -> None:
    """CRLF only, ≤ 75 octets a line, and no UTF-8 character split across a fold."""
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for ln in raw.split(b"\r\n")[:-1]:
        assert len(ln) <= 75, ln
        ln.decode("utf-8")  # raises if a fold split a character


_ESCAPED = re.compile(r"\\([\\;,nN])")


def text_property(wire: bytes, name: str) -> str:
    """A TEXT property of the first event, unfolded and unescaped in one left-to-right pass
    (RFC 5545 §3.1, §3.3.11). icalendar 6.3 reads `\\\\\\,` (an escaped backslash, then an
    escaped comma) as "," — its unescaping is a chain of replacements — so the feed's text is
    checked against this reading, and icalendar only for the structure."""
    unfolded = wire.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    event = unfolded.split("BEGIN:VEVENT\r\n", 1)[1]
    [line] = [ln for ln in event.split("\r\n") if ln.split(":", 1)[0].split(";")[0] == name]
    return _ESCAPED.sub(lambda m: "\n" if m[1] in "nN" else m[1], line.split(":", 1)[1])


@given(st.text(st.characters(codec="utf-8"), max_size=300))
@example("\\,")  # found by hypothesis: icalendar's own reading loses the backslash
@example("C:\\next; a, b\\\\")
def test_fold_and_escape_properties(value: str) -> None:
    """Whatever a name holds, the feed stays valid and reads back the same (control
    characters, which TEXT does not allow, dropped)."""
    d = ics.Deadline(project_id="P", project_name=value, owner=value, jurisdiction="九江市",
                     obligation_id="o", title=value, actor_name="市数据管理部门",
                     state="open", due_on=date(2026, 12, 1), provisional=False,
                     overdue_working_days=0, escalation_level=0, escalation_rung=None,
                     citation="c")
    wire = ics.feed([d], name=value, calendar=CAL, today=date(2026, 11, 23), now=NOW)
    assert_wire_format(wire)
    assert len(Calendar.from_ical(wire).walk("VEVENT")) == 1
    expected = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value.replace("\r\n", "\n")
                      .replace("\r", "\n"))
    assert text_property(wire, "SUMMARY") == f"P {expected} · 市数据管理部门"
    assert f"项目 project: {expected} (P)" in text_property(wire, "DESCRIPTION")


def test_overdue_days_are_recounted_for_today(read_model: dict[str, StatusView]) -> None:
    """Rows are as of the last wake-up; the feed says how late a duty is today."""
    stored = next(o for o in read_model["ICS-B"].obligations if o.id == "fsr_tech_review")
    [d] = [d for d in deadlines(["ICS-B"]) if d.obligation_id == "fsr_tech_review"]
    for today, late in ((date(2026, 11, 23), stored.overdue_working_days),
                        (date(2026, 11, 24), stored.overdue_working_days + 1)):
        raw = feed([d], name="x", calendar=CAL, today=today, now=NOW)
        [ev] = Calendar.from_ical(raw).walk("VEVENT")
        assert f"逾期 overdue: {late} 个工作日" in str(ev["DESCRIPTION"])
        assert ev.decoded("DTSTAMP") == NOW


def test_stdout_is_the_same_feed_as_the_file(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    out = tmp_path / "sub" / "feed.ics"
    assert main(["ics", "--project", "ICS-B", "-o", str(out)]) == 0
    assert b"1 deadline(s) of 1 project(s) written to" in capsysbinary.readouterr().out
    assert main(["ics", "--project", "ICS-B"]) == 0
    printed = capsysbinary.readouterr().out

    def unstamped(raw: bytes) -> bytes:
        return re.sub(rb"DTSTAMP:\d{8}T\d{6}Z\r\n", b"", raw)

    assert unstamped(printed) == unstamped(out.read_bytes())
    assert printed.startswith(b"BEGIN:VCALENDAR\r\n")
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)


def test_unknown_project_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "feed.ics"
    assert main(["ics", "--project", "ICS-B", "--project", "ICS-NOPE", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("shixian: error: no project ICS-NOPE in the read model")
    assert "shixian list --all" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_help_explains_subscribing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["ics", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "shixian ics --project JJ-2026-001 -o jj-001.ics" in text
    assert "subscribe" in text and "import" in text


def test_dtstart_and_dtend_are_one_day_apart_everywhere(tmp_path: Path) -> None:
    for ev in events(run(tmp_path, "--include-done")[0]).values():
        assert ev.decoded("DTEND") - ev.decoded("DTSTART") == timedelta(days=1)
