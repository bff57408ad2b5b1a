"""Pages of the portfolio (`shixian list --limit/--page`, the dashboard's cursor) and the
directly written ICS feed against the `icalendar` object model it replaced (issue #12).

A read model of its own (SQLite, or PostgreSQL under SHIXIAN_TEST_DATABASE=postgresql) with
projects whose due days tie, are missing, or lie in the past, so the order has every case.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

import shixian.operations  # noqa: F401  (the clock seam `fixed_today` pins)
from activities.db import engine, obligations, projects
from calendars import WorkCalendar
from calendars.periods import SHANGHAI
from shixian import ics, pack_facts
from shixian.cli import main
from shixian.dashboard.app import make_app
from shixian.readmodel import deadlines
from tests.own_read_model import own_read_model

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)
CAL = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
PROJECTS = 23


def project_rows(i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Project PG-nn: due days 2026-10-01 + (i mod 7) weeks (ties), none for every 5th."""
    pid = f"PG-{i:02d}"
    due = None if i % 5 == 0 else date(2026, 10, 1) + timedelta(weeks=i % 7)
    project = {"project_id": pid, "workflow_id": f"project-{pid}", "name": f"项目{i}, 第{i}期",
               "policy": "jiujiang-2024" if i % 3 else "yushan-draft",
               "jurisdiction": "九江市" if i % 3 else "江西省上饶市玉山县",
               "owner": "市数据管理局", "investment_wan": 100.0, "stage": "feasibility",
               "stage_title": "可行性研究报告审批", "next_due_on": due, "overdue": False,
               "escalation_level": i % 4, "provisional": False, "finished": False,
               "business_date": TODAY, "seq": 1, "as_of": NOW - timedelta(hours=i),
               "terminated": None}
    obs = [{"project_id": pid, "obligation_id": f"duty_{k}", "position": k, "rule": f"r{k}",
            "title": f"义务{k}; 含逗号, 与反斜杠\\", "actor": "data_bureau" if k else "owner",
            "actor_name": "市数据管理部门" if k else "市数据管理局",
            "state": ("open", "pending", "done")[k], "starts_on": None, "opens_on": None,
            "due_on": due + timedelta(days=k) if due else None, "due_at": None,
            "provisional": i % 4 == 1, "overdue_working_days": 0, "escalation_level": i % 4,
            "escalation_rung": "overdue" if i % 4 else None, "citation": "九江 第二十五条(二)",
            "done_on": None, "limit_text": None, "on_time": None} for k in range(3)]
    return project, obs


@pytest.fixture(scope="module", autouse=True)
def read_model() -> Iterator[str]:
    with own_read_model("paging") as url:
        rows = [project_rows(i) for i in range(PROJECTS)]
        with engine(url).begin() as conn:
            conn.execute(insert(projects), [p for p, _ in rows])
            conn.execute(insert(obligations), [o for _, obs in rows for o in obs])
        yield url


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shixian.operations.today", lambda: TODAY)


def list_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["list", "--json", *args]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def test_pages_hold_every_project_once_in_the_lists_order(
        capsys: pytest.CaptureFixture[str]) -> None:
    every = list_json(capsys)
    ids = [r["project_id"] for r in every]
    assert sorted(ids) == [f"PG-{i:02d}" for i in range(PROJECTS)]
    keys = [(r["next_due_on"] is None, r["next_due_on"] or "", r["project_id"]) for r in every]
    assert keys == sorted(keys)  # soonest due first, none last, ties by id
    paged: list[str] = []
    for page in range(1, 10):
        rows = list_json(capsys, "--limit", "5", "--page", str(page))
        if not rows:
            break
        paged += [r["project_id"] for r in rows]
    assert paged == ids
    assert main(["list", "--jsonl", "--limit", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == every


def test_the_table_shows_a_page_and_says_how_to_see_more(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--limit", "5", "--page", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len([ln for ln in out if ln.startswith("PG-")]) == 5
    assert out[-1] == (f"rows 6–10 of {PROJECTS} project(s), soonest due first; * "
                       "provisional due day; next page: --page 3; every row: --limit 0")
    assert main(["list"]) == 0  # fewer than a page: all of them, as before
    assert capsys.readouterr().out.splitlines()[-1] == (f"{PROJECTS} project(s); * "
                                                        "provisional due day")
    assert list_json(capsys, "--page", "2") == []  # a page is 50 rows unless --limit says
    assert main(["list", "--json", "--limit", "0", "--page", "2"]) == 2
    assert "--page needs --limit" in capsys.readouterr().err


def test_the_dashboard_json_pages_with_a_cursor(capsys: pytest.CaptureFixture[str]) -> None:
    ids = [r["project_id"] for r in list_json(capsys)]

    async def pages() -> tuple[list[str], int, dict[str, Any], int]:
        app = make_app(calendar=WorkCalendar.default(), today=lambda: TODAY)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            seen: list[str] = []
            cursor: str | None = None
            count = 0
            while True:
                params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
                page = (await http.get("/api/portfolio.json", params=params)).json()
                assert page["total"] == PROJECTS and len(page["projects"]) <= 4
                seen += [p["project_id"] for p in page["projects"]]
                count += 1
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            bad = (await http.get("/api/portfolio.json?cursor=not-a-cursor")).status_code
            whole = (await http.get("/api/portfolio.json?limit=0")).json()
            return seen, count, whole, bad

    seen, count, whole, bad = asyncio.run(pages())
    assert seen == ids and count == 6
    assert [p["project_id"] for p in whole["projects"]] == ids
    assert whole["next_cursor"] is None
    assert bad == 400


# --- the feed -----------------------------------------------------------------------------


def object_model_event(d: ics.Deadline, today: date, now: datetime) -> icalendar.Event:
    """The event as `shixian.ics` built it through icalendar's object model before it wrote
    RFC 5545 text itself: the oracle the direct writer must match."""
    late = d.overdue_working_days
    if d.state in ("open", "overdue") and today > d.due_on:
        late = CAL.working_days_between(d.due_on, today)
    summary = f"{d.project_id} {d.title} · {d.actor_name}"
    if late:
        summary += f" · 逾期{late}个工作日"
    if d.provisional:
        summary += " · 暂定"
    info = [f"项目 project: {d.project_name} ({d.project_id})", f"责任单位 actor: {d.actor_name}",
            f"状态 state: {d.state}", f"到期 due: {d.due_on.isoformat()} 24:00 北京时间"]
    if late:
        info.append(f"逾期 overdue: {late} 个工作日 working days")
    if d.escalation_level:
        named = f" ({d.escalation_rung})" if d.escalation_rung else ""
        info.append(f"升级 escalation: level {d.escalation_level}{named}")
    if d.provisional:
        info.append(ics.PROVISIONAL_NOTE)
    info += [f"依据 citation: {d.citation}", f"业主 owner: {d.owner}"]
    event = icalendar.Event()
    event.add("uid", d.uid)
    event.add("dtstart", d.due_on)
    event.add("dtend", d.due_on + timedelta(days=1))
    event.add("summary", ics.clean_text(summary))
    event.add("description", ics.clean_text("\n".join(info)))
    event.add("status", "CANCELLED" if d.state == "cancelled"
              else "TENTATIVE" if d.provisional else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("categories", [ics.clean_text(c) for c in ("时限", d.state, d.jurisdiction)])
    if d.as_of is not None:
        event.add("last-modified", d.as_of.astimezone(UTC))
    event.add("dtstamp", now)
    if d.state in ics.LIVE_STATES:
        for rung in d.warnings:
            day = CAL.subtract_working_days(d.due_on, -int(rung.offset[:-2]))
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", ics.clean_text(
                f"{rung.name}: {d.project_id} {d.title} 将于 {d.due_on.isoformat()} 到期 "
                f"({d.actor_name}; {rung.offset})"))
            alarm.add("trigger", dt.datetime.combine(day, ics.WARNING_TIME, tzinfo=SHANGHAI)
                      .astimezone(UTC), parameters={"VALUE": "DATE-TIME"})
            event.add_component(alarm)
    return event


def decoded(component: icalendar.cal.Component) -> list[tuple[str, Any]]:
    """A component's properties as values (not wire text), sub-components after them.
    CATEGORIES is compared on its own (`wire_categories`): icalendar's parser splits an
    escaped comma inside a category (`\\,`) as if it separated two."""
    props = sorted((k, component.decoded(k)) for k in component if k != "CATEGORIES")
    return [*props, *((s.name, decoded(s)) for s in component.subcomponents)]


def wire_categories(wire: bytes) -> list[list[str]]:
    """Each CATEGORIES line of the feed, unfolded and split on its unescaped commas, each
    value unescaped (RFC 5545 §3.1, §3.3.11), read without icalendar."""
    text = wire.decode("utf-8").replace("\r\n ", "")
    out = []
    for line in text.split("\r\n"):
        if not line.startswith("CATEGORIES:"):
            continue
        values, current, chars = [], "", iter(line.removeprefix("CATEGORIES:"))
        for ch in chars:
            if ch == "\\":
                nxt = next(chars)
                current += "\n" if nxt in "nN" else nxt
            elif ch == ",":
                values.append(current)
                current = ""
            else:
                current += ch
        out.append([*values, current])
    return out


def assert_same_events(selected: list[ics.Deadline]) -> None:
    wire = ics.feed(selected, name="时限, 测试; 名称", calendar=CAL, today=TODAY, now=NOW)
    parsed = icalendar.Calendar.from_ical(wire)
    assert not any(c.errors for c in parsed.walk())
    events = parsed.walk("VEVENT")
    assert len(events) == len(selected)
    for d, event, cats in zip(selected, events, wire_categories(wire), strict=True):
        expected = object_model_event(d, TODAY, NOW)
        assert decoded(event) == decoded(expected), d.uid
        assert cats == [str(c) for c in expected["CATEGORIES"].cats], d.uid
    assert str(parsed["X-WR-CALNAME"]) == "时限, 测试; 名称"
    # icalendar wrote the duration as `1:00:00`; RFC 7986 wants a DURATION
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in wire


def test_the_written_feed_has_the_object_models_events() -> None:
    selected = deadlines(include_done=True)
    assert {d.project_id for d in selected} == {f"PG-{i:02d}" for i in range(PROJECTS)
                                                if i % 5}
    assert any(d.warnings for d in selected) and any(d.provisional for d in selected)
    assert_same_events(selected)


@settings(max_examples=60, deadline=None)
@example(",", "open", 0).via("a comma inside a category (icalendar's parser splits it)")
@example("a\\,b", "open", 1)
@given(st.text(st.characters(codec="utf-8"), max_size=200),
       st.sampled_from(["open", "pending", "done", "cancelled"]), st.integers(0, 60))
def test_any_text_gives_the_object_models_event(text: str, state: str, ago: int) -> None:
    d = ics.Deadline(project_id="P-1", project_name=text, owner=text, jurisdiction=text,
                     obligation_id="o", title=text, actor_name=text, state=state,
                     due_on=TODAY - timedelta(days=ago), provisional=ago % 2 == 0,
                     overdue_working_days=3, escalation_level=ago % 3,
                     escalation_rung=text or None, citation=text,
                     as_of=NOW - timedelta(days=ago),
                     warnings=pack_facts.warnings("jiujiang-2024"))
    assert_same_events([d])
