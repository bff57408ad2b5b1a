"""`shixian dashboard`: the pages and JSON over HTTP, and what headless Chromium shows.

The read model is filled directly with `record_status` (no Temporal), from ledgers of
projects like the 九江 examples, on the session's database (SQLite, or PostgreSQL under
SHIXIAN_TEST_DATABASE=postgresql). Other tests share that database, so every check looks
at the DASH-* projects only.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from activities.notices import NoticeInput, write_outbox
from activities.read_model import ReadModelUpdate, record_status
from calendars import WorkCalendar
from policies.loader import load_pack
from shixian.cli import main
from shixian.dashboard import DashboardServer
from shixian.dashboard.browser import dump_dom, find_chromium, screenshot
from shixian.readmodel import Filters, portfolio
from tests.dashboard_server import serving
from tests.jiujiang_cases import doc, project
from workflows.ledger import Ledger
from workflows.models import DocumentArrival, LedgerState, StatusView

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)  # 12:00 in Beijing
XSS_NAME = "<script>alert(\"x\")</script> & 'q'"
XSS_OWNER = "市<b>测试</b>局"

CASES: dict[str, tuple[dict[str, Any], list[DocumentArrival]]] = {
    # 32 working days late on the technical review: escalated (level 3) → red.
    "DASH-RED": ({"name": "一网通办事项梳理系统", "owner": "市行政审批局",
                  "investment_wan": 820, "started_on": date(2026, 7, 1)},
                 [doc("fsr_submitted", "2026-07-27"), doc("revision_requested", "2026-08-10"),
                  doc("revision_resubmitted", "2026-09-25")]),
    # 2 working days late on the FSR: overdue notice (level 2), not escalated → amber.
    "DASH-AMBER": ({"name": "市级政务数据共享平台扩容", "owner": "市数据管理局",
                    "category": "infrastructure", "investment_wan": 6800,
                    "started_on": date(2026, 9, 30)},
                   [doc("proposal_submitted", "2026-10-15"),
                    doc("proposal_approved", "2026-10-22")]),
    # In operation; the self-evaluation is due in 2027, a year not yet announced → 暂定.
    "DASH-GREEN": ({"name": "长江岸线生态环境监测感知网", "owner": "市生态环境局",
                    "category": "infrastructure", "investment_wan": 1650,
                    "started_on": date(2025, 5, 6)},
                   [doc("fsr_submitted", "2025-05-30"),
                    doc("fsr_tech_review_issued", "2025-06-20"),
                    # budget 15 wd from 6/27 → due 7/18; submitted 7/22: 2 wd late (7/21, 22).
                    doc("fsr_approved", "2025-06-27"), doc("budget_submitted", "2025-07-22"),
                    doc("budget_approved", "2025-08-12"), doc("contract_signed", "2025-09-10"),
                    doc("trial_run_started", "2026-03-02"),
                    doc("final_acceptance_passed", "2026-09-28"),
                    doc("completion_acceptance_applied", "2026-10-12"),
                    doc("completion_acceptance_passed", "2026-11-10")]),
    # Due today, warned 3 working days before (level 1) → amber; a hostile name and owner.
    # (v2: the < 200万 review counts from the 技术方案报审, here the day of the notice.)
    "DASH-XSS": ({"name": XSS_NAME, "owner": XSS_OWNER, "investment_wan": 150,
                  "started_on": date(2026, 11, 2)}, [doc("tech_plan_submitted", "2026-11-02")]),
}
EXPECTED_RAG = {"DASH-RED": "red", "DASH-AMBER": "amber", "DASH-GREEN": "green",
                "DASH-XSS": "amber"}


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.default(use_env=False)


@pytest.fixture(scope="module")
def statuses(calendar: WorkCalendar) -> dict[str, StatusView]:
    """What workers would have written by noon on TODAY, notices in the outbox included."""
    out = {}
    snapshot = WorkCalendar.from_snapshot(calendar.snapshot(2025, 2030))
    for pid, (fields, documents) in CASES.items():
        led = Ledger(project(pid, **fields), load_pack("jiujiang-2024"), snapshot,
                     LedgerState())
        for d in documents:
            led.add_document(d, NOW)
        for notice in led.escalate(NOW):
            write_outbox(NoticeInput(workflow_id=f"project-{pid}", project_id=pid,
                                    jurisdiction="九江市", notice=notice))
        status = led.status(NOW)
        record_status(ReadModelUpdate(workflow_id=f"project-{pid}", seq=1,
                                      investment_wan=float(fields["investment_wan"]),
                                      status=status, new_events=status.events))
        out[pid] = status
    return out


@pytest.fixture(scope="module")
def server(statuses: dict[str, StatusView], calendar: WorkCalendar
           ) -> Iterator[DashboardServer]:
    with serving(TODAY, calendar) as srv:
        yield srv


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        assert self.headers["content-type"].startswith("application/json")
        return json.loads(self.body)


def fetch(srv: DashboardServer, path: str, method: str = "GET",
          body: bytes | None = None) -> Reply:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=60)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


class Rows(HTMLParser):
    """Portfolio rows as a person reads them: project id → (colour, text of the row)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, tuple[str, str]] = {}
        self._current: str | None = None
        self._colour = ""
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("data-project"):
            self._current, self._colour, self._text = a["data-project"], a["data-rag"] or "", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._current:
            self.rows[self._current] = (self._colour, " ".join(self._text))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current:
            self._text.append(data.strip())


def dash_rows(html: str) -> dict[str, tuple[str, str]]:
    parser = Rows()
    parser.feed(html)
    return {k: v for k, v in parser.rows.items() if k.startswith("DASH-")}


def test_portfolio_colours_each_project_by_overdue_and_escalation(
        server: DashboardServer) -> None:
    reply = fetch(server, "/")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in reply.text
    rows = dash_rows(reply.text)
    assert {pid: colour for pid, (colour, _) in rows.items()} == EXPECTED_RAG
    assert "32 个工作日" in rows["DASH-RED"][1]
    assert "出具可研技术评审意见 +32wd 市数据管理部门" in rows["DASH-RED"][1]
    assert "fsr_tech_review" not in rows["DASH-RED"][1]
    assert "暂定" in rows["DASH-GREEN"][1] and "暂定" not in rows["DASH-RED"][1]
    assert 'href="/project/DASH-RED"' in reply.text
    assert "今天 2026-11-23" in reply.text


@pytest.mark.parametrize(("query", "expected"), [
    ("overdue=1", {"DASH-RED", "DASH-AMBER"}),
    ("level=3", {"DASH-RED"}),
    ("level=1&overdue=0", {"DASH-RED", "DASH-AMBER", "DASH-XSS"}),
    ("stage=operation", {"DASH-GREEN"}),
    ("owner=行政审批", {"DASH-RED"}),
    ("jurisdiction=九江市", set(EXPECTED_RAG)),
    ("jurisdiction=jiujiang-2024&rag=amber", {"DASH-AMBER", "DASH-XSS"}),
    ("rag=red", {"DASH-RED"}),
    ("jurisdiction=九江", set(EXPECTED_RAG)),
    # DASH-AMBER's 项目建议书 is approved: the FSR is the step now open.
    ("stage=可行性研究报告审批", {"DASH-RED", "DASH-AMBER"}),
    ("actor=市数据管理部门", {"DASH-RED", "DASH-XSS"}),  # XSS: 150万, small_tech_review
    ("actor=data_bureau&overdue=1", {"DASH-RED"}),
])
def test_filters_in_page_and_json_agree(server: DashboardServer, query: str,
                                        expected: set[str]) -> None:
    params = dict(p.split("=", 1) for p in query.split("&"))
    q = urlencode(params)
    page = fetch(server, "/?" + q)
    data = fetch(server, "/api/portfolio.json?" + q).json()
    assert page.status == 200
    assert set(dash_rows(page.text)) == expected
    assert {r["project_id"] for r in data["projects"]
            if r["project_id"].startswith("DASH-")} == expected
    if "rag" in params:  # the colour cards still count the other colours
        others = urlencode({k: v for k, v in params.items() if k != "rag"})
        assert data["counts"] == fetch(server, "/api/portfolio.json?" + others
                                       ).json()["counts"]


def test_json_is_what_shixian_list_reads(server: DashboardServer, calendar: WorkCalendar,
                                         statuses: dict[str, StatusView]) -> None:
    data = fetch(server, "/api/portfolio.json").json()
    assert data["today"] == "2026-11-23"
    listed = {r.project_id: r.as_dict() for r in portfolio(TODAY, calendar, Filters())}
    for row in data["projects"]:
        assert {k: v for k, v in row.items() if k != "rag"} == listed[row["project_id"]]
    one = fetch(server, "/api/project/DASH-RED.json").json()
    assert one["rag"] == "red" and one["project"]["name"] == "一网通办事项梳理系统"
    stored = {o.id: o for o in statuses["DASH-RED"].obligations}
    assert [o["obligation_id"] for o in one["obligations"]] == list(stored)
    review = next(o for o in one["obligations"] if o["obligation_id"] == "fsr_tech_review")
    assert review["state"] == "overdue" and review["due_on"] == "2026-10-09"
    assert review["overdue_working_days"] == stored["fsr_tech_review"].overdue_working_days
    assert review["overdue_working_days"] == 32
    assert review["citation"] == "九江 第二十五条(二)"
    assert [n["rung"] for n in one["notices"]] == ["escalated"]
    assert one["events"]


def test_timeline_shows_bars_today_and_provisional_deadlines(server: DashboardServer) -> None:
    red = fetch(server, "/project/DASH-RED")
    assert red.status == 200
    svg = red.text[red.text.index("<svg"):red.text.index("</svg>")]
    assert 'class="today-line"' in svg and "今天 2026-11-23" in svg
    assert 'class="bar overdue"' in svg and 'class="overrun"' in svg
    assert "逾期 32 个工作日" in svg
    assert "依据:九江 第二十五条(二)" in svg  # the tooltip of the late review
    assert 'class="bar done"' in svg  # the FSR, submitted on time
    assert "provisional" not in svg
    green = fetch(server, "/project/DASH-GREEN")
    svg = green.text[green.text.index("<svg"):green.text.index("</svg>")]
    assert '<g class="provisional">' in svg and "暂定" in svg
    assert "截止 2027-" in svg  # a due day in another year shows its year


def test_steps_done_late_show_how_late(server: DashboardServer,
                                       statuses: dict[str, StatusView]) -> None:
    """DASH-GREEN's budget went in 2 working days late: the obligations table says by how
    many, as `shixian status` does, instead of "—" (v1 used DASH-RED's FSR revision, which
    has no due day under v2: 九江 25(三)'s cap bounds 初步设计 revisions only)."""
    [late] = [o for o in statuses["DASH-GREEN"].obligations
              if o.done_on and o.due_on and o.done_on > o.due_on]
    assert late.overdue_working_days > 0
    page = fetch(server, "/project/DASH-GREEN").text
    table = page[page.index("<h2>义务"):]
    row = table[table.index(f'data-obligation="{late.id}"'):]
    row = row[:row.index("</tr>")]
    assert f"{late.overdue_working_days}(完成时)" in row
    data = fetch(server, "/api/project/DASH-GREEN.json").json()
    [line] = [o for o in data["obligations"] if o["obligation_id"] == late.id]
    assert line["done_late"] == late.overdue_working_days and line["state"] == "done"


def test_everything_from_projects_is_escaped(server: DashboardServer) -> None:
    for path in ("/", "/project/DASH-XSS", "/?owner=" + "%3Cb%3E"):
        text = fetch(server, path).text
        assert "<script>alert" not in text and "<b>测试" not in text
    listed = fetch(server, "/").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;" in listed
    assert "市&lt;b&gt;测试&lt;/b&gt;局" in listed
    filtered = fetch(server, "/?owner=%3Cb%3E")
    assert set(dash_rows(filtered.text)) == {"DASH-XSS"}
    assert 'value="&lt;b&gt;"' in filtered.text
    data = fetch(server, "/api/project/DASH-XSS.json").json()
    assert data["project"]["name"] == XSS_NAME


def test_unknown_project_is_a_404_that_says_where_ids_are(server: DashboardServer) -> None:
    page = fetch(server, "/project/NO-SUCH-1")
    assert page.status == 404
    assert "NO-SUCH-1" in page.text and "shixian list" in page.text
    assert 'href="/"' in page.text
    api = fetch(server, "/api/project/NO-SUCH-1.json")
    assert api.status == 404 and "shixian list" in api.json()["error"]
    assert fetch(server, "/no/such/page").status == 404
    hostile = fetch(server, "/project/%3Cscript%3Ex")
    assert hostile.status == 404 and "<script>x" not in hostile.text


def test_read_only(server: DashboardServer) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        reply = fetch(server, "/", method, body=b"stage=closed")
        assert reply.status == 405, method
        assert reply.headers["allow"] == "GET, HEAD"
    head = fetch(server, "/", "HEAD")
    assert head.status == 200 and head.body == b""
    assert "script-src 'sha256-" in fetch(server, "/").headers["content-security-policy"]


def test_bad_filters_say_what_is_wrong(server: DashboardServer) -> None:
    page = fetch(server, "/?level=high")
    assert page.status == 400 and "level=&#39;high&#39;" in page.text
    api = fetch(server, "/api/portfolio.json?rag=purple")
    assert api.status == 400 and "red, amber or green" in api.json()["error"]
    stage = fetch(server, "/api/portfolio.json?stage=feasability")
    assert stage.status == 400
    assert "unknown stage 'feasability'" in stage.json()["error"]
    assert "feasibility (可行性研究报告审批)" in stage.json()["error"]
    place = fetch(server, "/?" + urlencode({"jurisdiction": "南昌市"}))
    assert place.status == 400 and "jiujiang-2024 (九江市)" in place.text


def test_rows_say_who_must_act_on_what(server: DashboardServer) -> None:
    rows = dash_rows(fetch(server, "/").text)
    assert "出具可研技术评审意见 +32wd 市数据管理部门" in rows["DASH-RED"][1]
    data = fetch(server, "/api/portfolio.json?" + urlencode({"actor": "市数据管理部门"})).json()
    [red] = [r for r in data["projects"] if r["project_id"] == "DASH-RED"]
    assert red["actor_name"] == "市数据管理部门" and red["duty_title"] == "出具可研技术评审意见"


def test_colours_and_legend_come_from_the_ladder(server: DashboardServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Colours and labels are the pack's rung data, not numbers in the view: a ladder whose
    level-2 rung is red and labelled 督办 makes level-2 projects red under that label."""
    from shixian import ladder

    page = fetch(server, "/").text
    assert "≥ 3 升级督办" in page and "红:逾期且已升级督办(级别 ≥ 3)" in page
    full = ladder.ladder("jiujiang-2024")
    two = (full[0], full[1].model_copy(update={"colour": "red", "label": "督办"}))
    monkeypatch.setattr(ladder, "ladder", lambda policy: two)
    data = fetch(server, "/api/portfolio.json").json()
    colours = {r["project_id"]: r["rag"] for r in data["projects"]}
    assert colours["DASH-AMBER"] == "red"  # overdue at level 2, red in this ladder
    page = fetch(server, "/").text
    assert "≥ 3" not in page and "督办" in page


def test_other_host_names_are_refused(server: DashboardServer) -> None:
    host, port = server.server_address[:2]
    for name, status in (("evil.example", 400), (f"evil.example:{port}", 400),
                         (f"localhost:{port}", 200), (f"127.0.0.1:{port}", 200)):
        conn = http.client.HTTPConnection(str(host), port, timeout=60)
        try:
            conn.putrequest("GET", "/api/portfolio.json", skip_host=True)
            conn.putheader("Host", name)
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == status, name
            if status == 400:
                assert b"--allow-host" in body
                assert "content-security-policy" in {k.lower() for k, _ in resp.getheaders()}
        finally:
            conn.close()


def test_healthz(server: DashboardServer) -> None:
    reply = fetch(server, "/healthz")
    assert (reply.status, reply.text) == (200, "ok\n")


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "examples:" in out and "--host" in out and "--port" in out
    assert "shixian dashboard --port 0" in out


def test_command_prints_the_url_and_serves_until_ctrl_c(
        statuses: dict[str, StatusView]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "shixian", "dashboard", "--port", "0", "--today",
         TODAY.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        cwd=Path(__file__).parents[1])
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("shixian dashboard: http://127.0.0.1:"), line
        url = urlsplit(line.split()[2])
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=60)
        conn.request("GET", "/api/project/DASH-RED.json")
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["rag"] == "red"
        conn.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- what a person sees: headless Chromium ----------------------------------------------


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit, non-interlaced PNG (what Chromium
    writes): enough to tell a rendered page from a blank one without an imaging library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, chunk = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def pixels(rows: list[bytes], bpp: int) -> list[tuple[int, int, int]]:
    return [(r[i], r[i + 1], r[i + 2]) for r in rows for i in range(0, len(r), bpp)]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip("Chromium not installed: ./dev test installs it (apt-get install "
                    "chromium fonts-noto-cjk)")
    return found


def test_browser_shows_colours_timeline_and_chinese(server: DashboardServer, chromium: str,
                                                   tmp_path: Path) -> None:
    base = server.url.rstrip("/")
    rows = dash_rows(dump_dom(base + "/"))
    assert {pid: colour for pid, (colour, _) in rows.items()} == EXPECTED_RAG
    assert "一网通办事项梳理系统" in rows["DASH-RED"][1]
    assert XSS_NAME in rows["DASH-XSS"][1]  # shown as text, not run
    red = dump_dom(base + "/project/DASH-RED")
    assert 'class="today-line"' in red and 'class="overrun"' in red
    green = dump_dom(base + "/project/DASH-GREEN")
    assert '<g class="provisional">' in green and "暂定" in green

    # Chinese needs a CJK font, or every name renders as boxes.
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                           text=True, check=False).stdout if shutil.which("fc-list") else ""
    assert fonts.strip(), "no CJK font for Chromium: apt-get install fonts-noto-cjk"

    png = screenshot(base + "/project/DASH-RED", tmp_path / "red.png", 1000, 700)
    width, height, lines = decode_png(png.read_bytes())
    assert (width, height) == (1000, 700)
    bpp = len(lines[0]) // width
    seen = pixels(lines, bpp)
    assert len(set(seen)) > 50  # text, bars, lines: not a blank page
    overdue_bar = sum(1 for p in seen if p == (0xC9, 0x2A, 0x2A))  # var(--red)
    today_line = sum(1 for r, g, b in seen if r > 200 and 60 < g < 120 and b < 60)  # #e8590c
    assert overdue_bar > 500 and today_line > 100
