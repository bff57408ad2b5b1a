"""One portfolio, five cities: `list`, `ics` and the dashboard select a jurisdiction by the
words people use (九江 / 九江市 / jiujiang-2024, 相城 / 相城区 / 苏州市相城区, 玉山县 …),
and a word no pack knows lists the known ones.

The read model is filled with `record_status` (no Temporal) from the example portfolios
`shixian up` starts, their ids prefixed FIVE- (the session's database is shared)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from activities.read_model import ReadModelUpdate, record_status
from calendars import WorkCalendar
from shixian import operations, vocabulary
from shixian.commands.up import EXAMPLES
from shixian.dashboard import DashboardServer, make_server
from shixian.projects_file import load_all, resolve_policy
from shixian.readmodel import Filters, deadlines, portfolio
from workflows.ledger import Ledger
from workflows.models import LedgerState

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 4, tzinfo=UTC)
PREFIX = {"jiujiang-2024": "FIVE-JJ-", "shangrao-2020": "FIVE-SR-",
          "laohekou-2024": "FIVE-LHK-", "xiangcheng-2018": "FIVE-XC-",
          "yushan-draft": "FIVE-YS-"}
WORDS = [("九江", "jiujiang-2024"), ("九江市", "jiujiang-2024"),
         ("jiujiang-2024", "jiujiang-2024"), ("jiujiang", "jiujiang-2024"),
         ("上饶", "shangrao-2020"), ("上饶市", "shangrao-2020"), ("老河口", "laohekou-2024"),
         ("老河口市", "laohekou-2024"), ("相城", "xiangcheng-2018"),
         ("相城区", "xiangcheng-2018"), ("苏州市相城区", "xiangcheng-2018"),
         ("xiangcheng-2018", "xiangcheng-2018"), ("玉山", "yushan-draft"),
         ("玉山县", "yushan-draft"), ("yushan-draft", "yushan-draft")]


@pytest.fixture(scope="module")
def five_cities() -> dict[str, str]:
    """project id → policy, as workers would have written the read model today."""
    entries, problems = load_all(EXAMPLES)
    assert problems == []
    calendar = WorkCalendar.default(use_env=False)
    out = {}
    for entry in entries:
        inp = operations.prepare(entry.project, calendar, TODAY, frozenset({"draft", "expired"}))
        project = inp.project.model_copy(update={"id": "FIVE-" + inp.project.id})
        led = Ledger(project, inp.pack, WorkCalendar.from_snapshot(inp.calendar), LedgerState())
        for d in sorted(project.documents, key=lambda d: d.on):
            led.add_document(d, NOW)
        status = led.status(NOW, TODAY)
        record_status(ReadModelUpdate(workflow_id=f"project-{project.id}", seq=1,
                                      investment_wan=project.investment_wan, status=status,
                                      new_events=status.events))
        out[project.id] = inp.pack.id
    assert set(out.values()) == set(PREFIX)
    return out


@pytest.mark.parametrize(("word", "policy"), WORDS)
def test_a_word_selects_its_jurisdiction_everywhere(word: str, policy: str) -> None:
    assert vocabulary.resolve_jurisdiction(word) == {policy}
    assert resolve_policy(word) == policy  # the projects file's 适用办法 column


def test_an_unknown_jurisdiction_lists_the_five() -> None:
    with pytest.raises(vocabulary.UnknownValue) as caught:
        vocabulary.resolve_jurisdiction("上海")
    for shown in ("jiujiang-2024 (九江市)", "shangrao-2020 (上饶市)", "laohekou-2024 (老河口市)",
                  "xiangcheng-2018 (苏州市相城区)", "yushan-draft (玉山县)"):
        assert shown in str(caught.value)


def test_place_marks_the_draft() -> None:
    assert vocabulary.place("xiangcheng-2018", "苏州市相城区") == "相城区"
    assert vocabulary.place("jiujiang-2024", "九江市") == "九江市"
    assert vocabulary.place("yushan-draft", "玉山县") == "玉山县 (征求意见稿)"


@pytest.mark.parametrize(("word", "policy"), WORDS[::2])
def test_list_and_ics_select_one_city(five_cities: dict[str, str], word: str,
                                      policy: str) -> None:
    calendar = WorkCalendar.default(use_env=False)
    rows = [r.project_id for r in portfolio(TODAY, calendar, Filters(jurisdiction=word,
                                                                     include_finished=True))
            if r.project_id.startswith("FIVE-")]
    assert sorted(rows) == sorted(p for p, pol in five_cities.items() if pol == policy)
    due = {d.project_id for d in deadlines((), jurisdiction=word, include_done=True)
           if d.project_id.startswith("FIVE-")}
    assert all(p.startswith(PREFIX[policy]) for p in due)
    # 玉山's draft sets no time limit: its projects have no deadline to put in a calendar.
    assert bool(due) is (policy != "yushan-draft")


@pytest.fixture(scope="module")
def server(five_cities: dict[str, str]) -> Iterator[DashboardServer]:
    import threading

    srv = make_server("127.0.0.1", 0, calendar=WorkCalendar.default(use_env=False),
                      today=lambda: TODAY)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def get(srv: DashboardServer, path: str) -> tuple[int, str]:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=60)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8")
    finally:
        conn.close()


@pytest.mark.parametrize(("word", "policy"), [("九江", "jiujiang-2024"),
                                              ("相城区", "xiangcheng-2018"),
                                              ("yushan-draft", "yushan-draft")])
def test_dashboard_selects_one_city(server: DashboardServer, word: str, policy: str) -> None:
    code, body = get(server, "/api/portfolio.json?" + urlencode({"jurisdiction": word,
                                                                 "all": "1"}))
    assert code == 200
    ids = {r["project_id"] for r in json.loads(body)["projects"]
           if r["project_id"].startswith("FIVE-")}
    assert ids and all(i.startswith(PREFIX[policy]) for i in ids)
    code, page = get(server, "/?" + urlencode({"jurisdiction": word, "all": "1"}))
    assert code == 200
    shown = {p for p in PREFIX.values() if p in page}
    assert shown == {PREFIX[policy]}  # the page lists that city's projects only


def test_dashboard_unknown_city_is_a_400_listing_the_known(server: DashboardServer) -> None:
    code, body = get(server, "/api/portfolio.json?" + urlencode({"jurisdiction": "上海"}))
    assert code == 400 and "xiangcheng-2018 (苏州市相城区)" in json.loads(body)["error"]


def test_examples_are_the_five_files() -> None:
    assert [Path(p).name for p in EXAMPLES] == [
        "jiujiang-portfolio.yaml", "shangrao-2020-portfolio.csv",
        "laohekou-2024-portfolio.csv", "xiangcheng-2018-portfolio.csv",
        "yushan-draft-portfolio.csv"]


def test_a_duty_with_no_due_day_is_still_someones(five_cities: dict[str, str]) -> None:
    """玉山 gives no time limits: the row still names the open duty and who must do it."""
    calendar = WorkCalendar.default(use_env=False)
    [row] = [r for r in portfolio(TODAY, calendar, Filters(jurisdiction="玉山"))
             if r.project_id == "FIVE-YS-2026-009"]
    assert row.next_due_on is None and not row.overdue
    assert row.duty is not None and row.duty.obligation_id == "tech_plan_submission"
    assert row.actor_name == "县城市管理局"
