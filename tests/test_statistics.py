"""统计分析: `shixian stats` and the dashboard's statistics page, on numbers worked by hand.

Two 九江 state-owned infrastructure projects (the JJT-C path: approvals by 市国资委) are lived
day by day through 2025 H1 as a worker would (documents on their day, the ladder judged each
noon, notices into the outbox), on a read model of their own: an SQLite file, or a database
of its own on the session's PostgreSQL server under SHIXIAN_TEST_DATABASE=postgresql.

Counted on paper (2025: 清明 4/4, 劳动节 5/1–5/5 with Sun 4/27 worked, 端午 5/31–6/2):
- ST-LATE: 可研技术评审 (市数据管理部门) from 3/28, 15 wd → due 4/21, issued 4/24: took 18, 3
  late. 可研批复 (市国资委) from 4/24, 6 wd → due 5/6, approved 5/8: took 8, 2 late.
  初步设计报审 (the owner) from 5/8, 30 wd → due 6/20, not in by 6/30: 6 wd late then.
- ST-ONTIME: 技术评审 from 3/28, issued 4/17: took 13 of 15. 批复 from 4/17 (due 4/25),
  4/24: 5 of 6. 初步设计报审 from 4/24 (due 6/10), 6/5: 27 of 30. 初步设计批复 from 6/5
  (due 6/26), 6/25: 14 of 15.
2025-Q2: 6 done, 4 on time, 2 late (5 wd late in all); taken 5, 8, 13, 14, 18, 27 → median
(nearest rank 3 of 6) 13, p90 (rank 6) 27; limits 6, 6, 15, 15, 15, 30 → median 15.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from activities.db import engine, notice_outbox
from activities.notices import NoticeInput, write_outbox
from activities.read_model import ReadModelUpdate, record_status
from calendars import WorkCalendar
from policies.loader import load_pack
from shixian.cli import main
from shixian.dashboard import DashboardServer
from shixian.dashboard.browser import dump_dom, find_chromium, screenshot
from shixian.statistics import DutyOutcome, parse_period, percentile, report
from tests.dashboard_server import serving
from tests.jiujiang_cases import MERGED_OTHER, doc, project
from tests.own_read_model import own_read_model
from workflows.ledger import Ledger
from workflows.models import LedgerState

TODAY = date(2026, 11, 23)
ENDED = datetime(2025, 7, 1, 4, tzinfo=UTC)  # noon in Beijing: the last day lived
OWNER_LATE = "九江市城市发展集团有限公司"
OWNER_ON_TIME = "九江城投数字科技有限公司"
FACTS: dict[str, Any] = {"owner_type": "state_owned", "category": "infrastructure",
                         "investment_wan": 5200, "started_on": date(2025, 3, 3)}
LIVES = {
    "ST-LATE": (OWNER_LATE, [doc("fsr_submitted", "2025-03-28"),
                             doc("fsr_tech_review_issued", "2025-04-24"),
                             doc("fsr_approved", "2025-05-08")]),
    "ST-ONTIME": (OWNER_ON_TIME, [doc("fsr_submitted", "2025-03-28"),
                                 doc("fsr_tech_review_issued", "2025-04-17"),
                                 doc("fsr_approved", "2025-04-24"),
                                 doc("design_submitted", "2025-06-05"),
                                 doc("design_approved", "2025-06-25")]),
}


def live(pid: str, owner: str, documents: list[Any], calendar: WorkCalendar) -> None:
    """Day by day as a worker: documents on their day, then the ladder judged at noon."""
    led = Ledger(project(pid, owner=owner, **FACTS), load_pack("jiujiang-2024"), calendar,
                 LedgerState())
    day = FACTS["started_on"]
    while True:
        noon = datetime(day.year, day.month, day.day, 4, tzinfo=UTC)
        for d in documents:
            if d.on == day:
                led.add_document(d, noon)
        for notice in led.escalate(noon):
            write_outbox(NoticeInput(workflow_id=f"project-{pid}", project_id=pid,
                                     jurisdiction="九江市", notice=notice))
        if noon >= ENDED:
            break
        day += timedelta(days=1)
    status = led.status(ENDED)
    record_status(ReadModelUpdate(workflow_id=f"project-{pid}", seq=1, investment_wan=5200,
                                  status=status, new_events=status.events))


@pytest.fixture(scope="module")
def read_model() -> Iterator[str]:
    with own_read_model("stats") as url:
        cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
        for pid, (owner, documents) in LIVES.items():
            live(pid, owner, documents, cal)
        yield url


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch, read_model: str) -> None:
    monkeypatch.setattr("shixian.operations.today", lambda: TODAY)
    monkeypatch.setenv("SHIXIAN_DATABASE_URL", read_model)


def stats(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["stats", *args, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows}


def test_quarter_totals_are_the_hand_counted_ones(capsys: pytest.CaptureFixture[str]) -> None:
    report = stats(capsys, "--period", "2025-Q2")
    assert (report["first"], report["last"], report["as_of"]) == (
        "2025-04-01", "2025-06-30", "2025-06-30")
    total = report["total"]
    assert {k: total[k] for k in ("done", "on_time", "late", "late_wd_total",
                                  "median_taken_wd", "p90_taken_wd", "median_limit_wd",
                                  "overdue_now", "overdue_max_wd")} == {
        "done": 6, "on_time": 4, "late": 2, "late_wd_total": 5, "median_taken_wd": 13,
        "p90_taken_wd": 27, "median_limit_wd": 15, "overdue_now": 1, "overdue_max_wd": 6}
    assert total["on_time_rate"] == pytest.approx(4 / 6, abs=1e-4)
    assert by_key(report["by_jurisdiction"])["九江市"]["done"] == 6


def test_per_body_says_who_is_late(capsys: pytest.CaptureFixture[str]) -> None:
    actors = by_key(stats(capsys, "--period", "2025-Q2")["by_actor"])
    assert {k: (v["done"], v["on_time"], v["late"], v["overdue_now"])
            for k, v in actors.items()} == {
        "市数据管理部门": (2, 1, 1, 0), "市国资委": (3, 2, 1, 0),
        OWNER_ON_TIME: (1, 1, 0, 0), OWNER_LATE: (0, 0, 0, 1)}
    assert actors["市数据管理部门"]["median_taken_wd"] == 13  # 13 and 18: rank 1 of 2
    assert actors["市数据管理部门"]["p90_taken_wd"] == 18
    assert actors[OWNER_LATE]["overdue_max_wd"] == 6
    # The body with a duty overdue comes first: what to chase.
    assert next(iter(actors)) == OWNER_LATE


def test_escalations_are_the_notices_sent_in_the_period(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Counted from the outbox: 逾期通报 and 升级督办 (offset ≥ 0) apart from 预警."""
    with engine().connect() as conn:
        sent = conn.execute(select(notice_outbox.c.rung, notice_outbox.c.fired_at)).all()
    q2 = [rung for rung, at in sent if date(2025, 4, 1) <= (at + timedelta(hours=8)).date()
          <= date(2025, 6, 30)]
    assert q2.count("escalated") >= 1  # ST-LATE's 初步设计报审, 5 wd after 6/20
    total = stats(capsys, "--period", "2025-Q2")["total"]
    assert total["warnings"] == q2.count("warning")
    assert total["escalations"] == q2.count("overdue") + q2.count("escalated")
    assert total["escalations"] >= 3  # 技术评审 and 批复 late, 初步设计报审 late


def test_month_and_filters(capsys: pytest.CaptureFixture[str]) -> None:
    april = stats(capsys, "--period", "2025年4月")["total"]
    assert (april["done"], april["on_time"], april["late"]) == (3, 2, 1)
    sasac = stats(capsys, "--period", "2025-Q2", "--actor", "市国资委")
    assert [r["key"] for r in sasac["by_actor"]] == ["市国资委"]
    assert sasac["total"]["done"] == 3
    assert stats(capsys, "--period", "2025-Q2", "--jurisdiction", "九江")["total"]["done"] == 6
    assert stats(capsys, "--period", "2025-Q2", "--jurisdiction", "上饶")["total"]["done"] == 0
    year = stats(capsys, "--period", "2025")["total"]
    assert year["done"] == 8  # the two FSRs of 3/28 as well


def test_text_csv_and_excel(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["stats", "--period", "2025-Q2"]) == 0
    out = capsys.readouterr().out
    assert "按辖区" in out and "按责任单位" in out and "市国资委" in out
    assert main(["stats", "--period", "2025-Q2", "--csv"]) == 0
    raw = capsys.readouterr().out
    assert raw.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw.removeprefix("\ufeff"))))
    total = next(r for r in rows if r["group"] == "total")
    assert (total["done"], total["late"], total["median_taken_wd"]) == ("6", "2", "13")
    book = tmp_path / "统计.xlsx"
    assert main(["stats", "--period", "2025-Q2", "--xlsx", str(book)]) == 0
    ws = load_workbook(book).active
    assert ws is not None
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0][:3] == ["分组", "名称", "办结"]
    last = cells[-1]
    assert last[:5] == ["合计", "合计", 6, 4, 2]


@pytest.mark.parametrize("bad", ["2025-13", "2025-Q5", "Q2", "last month", "25-04"])
def test_a_period_shixian_cannot_read_is_an_error_naming_the_forms(
        bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--period", bad]) == 2
    err = capsys.readouterr().err
    assert "2026-Q3" in err and bad in err and "Traceback" not in err


def test_periods_and_percentiles() -> None:
    assert (parse_period("2026-Q3").first, parse_period("2026-Q3").last) == (
        date(2026, 7, 1), date(2026, 9, 30))
    assert parse_period("2024-02").last == date(2024, 2, 29)
    assert parse_period("2026q4").label == "2026-Q4"
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile(list(range(1, 11)), 0.5) == 5



# --- the dashboard's statistics page ----------------------------------------------------


@pytest.fixture(scope="module")
def server(read_model: str) -> Iterator[DashboardServer]:
    with serving(TODAY) as srv:
        yield srv


def get(srv: DashboardServer, path: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(srv.url.rstrip("/") + path) as reply:
        return reply.status, reply.headers["Content-Type"], reply.read().decode("utf-8-sig")


def test_page_json_and_csv_agree_with_the_command(server: DashboardServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    query = "?" + urlencode({"period": "2025-Q2", "actor": "市国资委"})
    _, _, body = get(server, "/api/stats.json" + query)
    assert json.loads(body) == stats(capsys, "--period", "2025-Q2", "--actor", "市国资委")
    status, kind, page = get(server, "/stats?period=2025-Q2")
    assert status == 200 and kind.startswith("text/html")
    assert "按责任单位" in page and 'data-key="市国资委"' in page and "13 个工作日" in page
    _, kind, sheet = get(server, "/api/stats.csv?period=2025-Q2")
    assert kind.startswith("text/csv")
    total = next(r for r in csv.DictReader(io.StringIO(sheet)) if r["group"] == "total")
    assert (total["done"], total["p90_taken_wd"]) == ("6", "27")


def test_bad_period_on_the_page_is_a_400_naming_the_forms(server: DashboardServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        get(server, "/stats?period=2025-13")
    assert err.value.code == 400
    assert "2026-Q3" in err.value.read().decode()


def test_browser_shows_the_statistics(server: DashboardServer, tmp_path: Path) -> None:
    if find_chromium() is None:
        pytest.skip("Chromium not installed: ./dev test installs it")
    url = server.url.rstrip("/") + "/stats?period=2025-Q2"
    dom = dump_dom(url)
    assert 'data-key="市数据管理部门"' in dom and "统计分析" in dom
    assert f'class="rag-red" data-key="{OWNER_LATE}"' in dom  # overdue now: red
    png = screenshot(url, tmp_path / "stats.png", 1200, 700)
    assert png.stat().st_size > 10_000  # text and table, not a blank page


def test_an_extension_granted_in_time_counts_as_on_time() -> None:
    """JJT-B applied for completion acceptance on 2025-11-20, after the 30 wd from 9/26
    (2025-11-13) but within the extension to 11/28 granted on 11/10: on time."""
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2024, 2030))
    led = Ledger(MERGED_OTHER.project, load_pack("jiujiang-2024"), cal, LedgerState())
    for d in MERGED_OTHER.documents:
        led.add_document(d, datetime(2026, 11, 23, 4, tzinfo=UTC))
    status = led.status(datetime(2026, 11, 23, 4, tzinfo=UTC))
    duties = [DutyOutcome(
        project_id="JJT-B", policy="jiujiang-2024", jurisdiction="九江市", obligation_id=o.id,
        title=o.title, actor=o.actor, actor_name=o.actor_name, state=o.state.value,
        starts_on=o.starts_on, due_on=o.due_on, done_on=o.done_on, on_time=o.on_time,
        late_when_done=o.overdue_working_days, limit_text=o.limit)
        for o in status.obligations]
    november = report(parse_period("2025-11"), TODAY, cal, duties, [])
    [applied] = [d for d in duties if d.done_on and d.done_on.month == 11
                 and d.done_on.year == 2025]
    assert applied.obligation_id == "completion_application"
    assert applied.done_on == date(2025, 11, 20) and applied.due_on == date(2025, 11, 28)
    assert (november.total.done, november.total.on_time, november.total.late) == (1, 1, 0)
