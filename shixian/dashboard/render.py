"""Server-rendered HTML: Jinja2 templates (`templates/`) for the portfolio, a project's
timeline and error pages; the Gantt chart is built here as inline SVG (no script, prints).

Everything that came from a projects file or a document (names, owners, titles, citations,
references) is escaped on the way out — the templates autoescape, the SVG builder escapes
each value — so a page shows `<script>` in a project name as text, never runs it.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterable
from datetime import date, timedelta
from html import escape
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from shixian import ladder, vocabulary
from shixian.dashboard.data import ObligationLine, PortfolioQuery, PortfolioView, ProjectView
from shixian.readmodel import PortfolioRow
from shixian.statistics import GroupStats, Report

RAG_TEXT = {"red": "红 · 已升级", "amber": "黄 · 逾期或预警", "green": "绿 · 正常"}
STATE_TEXT = {"pending": "未开始", "open": "进行中", "paused": "暂停计时", "done": "已完成",
              "overdue": "逾期", "waived": "不适用", "cancelled": "已取消"}
HIDDEN_STATES = ("waived", "cancelled")
TEMPLATES = Path(__file__).parent / "templates"


def e(value: object) -> str:
    """HTML-escape anything for text and double- or single-quoted attributes."""
    return escape("" if value is None else str(value), quote=True)


def _day(d: date | None) -> str:
    return d.isoformat() if d else "—"


def project_href(project_id: str) -> str:
    return "/project/" + quote(project_id, safe="")


CSS = """
:root { --red:#c92a2a; --amber:#d9930d; --green:#2b8a3e; --ink:#1f2933; --muted:#7b8794;
  --line:#e4e7eb; --bg:#f5f7fa; --blue:#1c7ed6; }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font-size:14px; line-height:1.5;
  font-family:"Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC",
  "Hiragino Sans GB","Microsoft YaHei","WenQuanYi Micro Hei",system-ui,sans-serif; }
header { background:#102a43; color:#fff; padding:10px 24px; display:flex; gap:16px;
  align-items:baseline; }
header a.brand { color:#fff; font-weight:700; font-size:18px; text-decoration:none; }
header .today { margin-left:auto; color:#bcccdc; }
header nav a { color:#d9e2ec; }
tr.total td { font-weight:600; background:#f8fafc; }
main { padding:16px 24px 32px; max-width:1400px; }
h1 { font-size:20px; margin:4px 0 12px; }
h2 { font-size:16px; margin:24px 0 8px; }
a { color:var(--blue); }
.en { color:var(--muted); font-weight:400; font-size:12px; }
.cards { display:flex; gap:12px; margin-bottom:12px; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 16px;
  min-width:150px; text-decoration:none; color:var(--ink); border-left-width:6px; }
.card b { font-size:22px; display:block; }
.card.red { border-left-color:var(--red); } .card.amber { border-left-color:var(--amber); }
.card.green { border-left-color:var(--green); }
.card.active { box-shadow:0 0 0 2px var(--blue); }
form.filters { background:#fff; border:1px solid var(--line); border-radius:6px;
  padding:8px 12px; display:flex; flex-wrap:wrap; gap:12px; align-items:center;
  margin-bottom:12px; }
form.filters label { display:flex; gap:4px; align-items:center; }
form.filters select, form.filters input { font:inherit; padding:2px 4px; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { background:#f0f4f8; font-weight:600; white-space:nowrap; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
tr.muted td { color:var(--muted); }
.dot { display:inline-block; width:12px; height:12px; border-radius:50%;
  vertical-align:-1px; margin-right:6px; }
.dot.red { background:var(--red); } .dot.amber { background:var(--amber); }
.dot.green { background:var(--green); }
tr.rag-red td:first-child { border-left:4px solid var(--red); }
tr.rag-amber td:first-child { border-left:4px solid var(--amber); }
tr.rag-green td:first-child { border-left:4px solid var(--green); }
.badge { display:inline-block; border-radius:3px; padding:0 5px; font-size:12px;
  border:1px solid var(--line); background:#fff; white-space:nowrap; }
.badge.terminated { background:#495057; color:#fff; border-color:#495057; }
.badge.provisional { border-color:#b7791f; color:#8a5a00; background:#fff8e1; }
.badge.red { background:var(--red); color:#fff; border-color:var(--red); }
.badge.amber { background:var(--amber); color:#fff; border-color:var(--amber); }
.badge.green { background:var(--green); color:#fff; border-color:var(--green); }
.late { color:var(--red); font-weight:600; }
.late-done { color:#a61e4d; }
.meta { display:flex; flex-wrap:wrap; gap:6px 18px; margin-bottom:8px; color:#52606d; }
.legend { display:flex; flex-wrap:wrap; gap:14px; margin:6px 0; color:#52606d;
  font-size:12px; }
.legend i { display:inline-block; width:22px; height:10px; margin-right:4px;
  vertical-align:0; }
.chart { background:#fff; border:1px solid var(--line); border-radius:6px; overflow-x:auto; }
.chart svg { display:block; font-family:inherit; height:auto; min-width:760px; }
td.date { white-space:nowrap; }
.delivery { white-space:nowrap; }
.delivery.failed, .delivery.undeliverable { color:#c92a2a; font-weight:600; }
.delivery.delayed, .delivery.pending { color:#b7791f; }
.bar { stroke-width:0; }
.bar.open { fill:var(--blue); } .bar.overdue { fill:var(--red); }
.bar.done { fill:#c3cad3; } .bar.paused { fill:#9aa5b1; }
.bar.pending { fill:#fff; stroke:#9aa5b1; stroke-width:1; stroke-dasharray:3 2; }
.overrun { fill:url(#overrun); }
.overrun-done { fill:#e4e7eb; }
.done-mark { fill:#52606d; }
.due-mark { stroke:#102a43; stroke-width:2; }
.provisional rect { fill:url(#hatch); stroke:#b7791f; stroke-width:1; }
.provisional text, .provisional-label { fill:#8a5a00; font-weight:700; }
.today-line { stroke:#e8590c; stroke-width:2; stroke-dasharray:5 3; }
.today-label { fill:#e8590c; font-weight:700; font-size:12px; }
.grid { stroke:#eef1f4; } .tick { fill:#7b8794; font-size:11px; }
.row-bg { fill:#fafbfc; }
.ob-label { fill:#1f2933; font-size:13px; } .ob-note { fill:#52606d; font-size:11px; }
.ob-note.late { fill:var(--red); font-weight:700; }
.err { background:#fff; border:1px solid var(--line); border-radius:6px; padding:16px 20px;
  max-width:760px; }
code { background:#f0f4f8; padding:0 3px; border-radius:3px; }
footer { color:var(--muted); font-size:12px; padding:0 24px 24px; }
[hidden] { display:none !important; }
"""

# Constant, so the Content-Security-Policy can allow exactly this script by its hash.
SCRIPT = """
document.querySelectorAll('form.filters select, form.filters input[type=checkbox]')
  .forEach(function (el) { el.addEventListener('change', function () { el.form.submit(); }); });
var quick = document.getElementById('quick');
if (quick) {
  quick.addEventListener('input', function () {
    var needle = quick.value.trim().toLowerCase(), shown = 0;
    document.querySelectorAll('tr[data-search]').forEach(function (tr) {
      var hit = !needle || tr.getAttribute('data-search').indexOf(needle) >= 0;
      tr.hidden = !hit;
      if (hit) { shown += 1; }
    });
    document.getElementById('shown').textContent = String(shown);
  });
}
"""
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  trim_blocks=False, keep_trailing_newline=True)
ENV.filters["day"] = lambda d: _day(d)
# Notice delivery (delivery): each (recipient, channel) with its state.
ENV.globals["delivery_text"] = {"sent": "已送达", "pending": "发送中", "delayed": "免打扰延后",
                                "failed": "发送失败", "undeliverable": "无法送达",
                                "rerouted": "已改投", "withdrawn": "已撤回"}
ENV.globals["channel_text"] = {"email": "邮件", "dingtalk": "钉钉", "wecom": "企业微信",
                               "feishu": "飞书", "webhook": "接口", "none": "无联系人"}
ENV.filters["rung"] = lambda name: ladder.rung_label(None, name)


def render(template: str, title: str, today: date, *, script: bool = False,
           **context: object) -> str:
    return ENV.get_template(template).render(
        title=title, today=today, css=Markup(CSS), script=Markup(SCRIPT) if script else "",
        rag_text=RAG_TEXT, state_text=STATE_TEXT, **context)


# --- the portfolio ---------------------------------------------------------------------


def _options(values: Iterable[tuple[str, str]], selected: str, everything: str) -> Markup:
    out = [f'<option value="">{e(everything)}</option>']
    for value, label in values:
        sel = " selected" if value == selected else ""
        out.append(f'<option value="{e(value)}"{sel}>{e(label)}</option>')
    return Markup("".join(out))


def _with(query: PortfolioQuery, **change: str) -> str:
    params = {**query.as_params(), **change}
    text = urlencode({k: v for k, v in params.items() if v})
    return "/" + ("?" + text if text else "")


def _search_text(r: PortfolioRow) -> str:
    return " ".join([r.project_id, r.name, r.owner, r.stage_title, r.stage, r.jurisdiction,
                     r.duty_title, r.actor_name]).lower()


def _rung_title(r: PortfolioRow) -> str:
    look = ladder.rung_look(r.policy, r.escalation_level)
    if look is None:
        return "尚未预警"
    return f"{look.label} ({look.name}, 第 {look.position}/{look.rungs} 级)"


def legend(view: PortfolioView) -> list[dict[str, str]]:
    """The colours as the ladders in view define them: red from the first red rung."""
    out = []
    reds = [look for look in view.rungs if look.colour == "red"]
    if reds:
        names = "、".join(f"{t.label}(级别 ≥ {t.level})" for t in reds)
        out.append({"colour": "red", "text": f"红:逾期且已{names}"})
    out.append({"colour": "amber", "text": "黄:逾期,或临近截止已预警"})
    return out


def portfolio_page(view: PortfolioView) -> str:
    q = view.query
    jurisdictions = list(dict.fromkeys([*view.jurisdictions, *([q.jurisdiction]
                                                               if q.jurisdiction else [])]))
    stages = list(view.stages)
    if q.stage and q.stage not in {s for s, _ in stages}:
        stages.append((q.stage, q.stage))
    levels = [(str(look.level), f"≥ {look.level} {look.label}") for look in view.rungs]
    level = "" if q.level is None else str(q.level)
    if level and level not in {v for v, _ in levels}:
        levels.append((level, f"≥ {level}"))
    actors = list(view.actors)
    if q.actor and q.actor not in {a for a, _ in actors}:
        actors.append((q.actor, q.actor))
    return render(
        "portfolio.html", "项目总览", view.today, script=True, view=view, q=q,
        options=_options, with_query=lambda **change: _with(q, **change),
        jurisdictions=[(j, j) for j in jurisdictions],
        stages=[(s, f"{t} ({s})") for s, t in stages], actors=actors, levels=levels,
        level=level, rag_options=list(RAG_TEXT.items()), search_text=_search_text,
        rung_title=_rung_title, project_href=project_href, legend=legend(view),
        json_href="/api/portfolio.json" + _with(q)[1:])


# --- one project -----------------------------------------------------------------------

# Label column, plotted days, room right of the last day for its note, row height, axis.
LABEL_W, PLOT_W, NOTE_W, ROW_H, TOP = 290, 760, 140, 30, 46


def _first_of_months(lo: date, hi: date) -> list[date]:
    out, d = [], date(lo.year, lo.month, 1)
    while d <= hi:
        if d >= lo:
            out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _short(text: str, limit: int = 19) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _charted(view: ProjectView) -> list[ObligationLine]:
    return [o for o in view.obligations if o.state not in HIDDEN_STATES
            and (o.due_on or o.starts_on or o.opens_on)]


def gantt(view: ProjectView) -> str:
    """Obligations as bars from the day their clock starts to their due day."""
    rows = _charted(view)
    today = view.today
    if not rows:
        return ('<p class="err">还没有排定日期的义务:项目启动或下一份文件到达后,'
                "截止日会出现在这里。</p>")
    days = [today]
    for o in rows:
        days += [d for d in (o.starts_on, o.opens_on, o.due_on, o.done_on) if d]
    lo = min(days) - timedelta(days=10)
    hi = max(days) + timedelta(days=10)
    if (hi - lo).days < 120:
        hi = lo + timedelta(days=120)
    scale = PLOT_W / (hi - lo).days
    width, height = LABEL_W + PLOT_W + NOTE_W, TOP + ROW_H * len(rows) + 12

    def day(d: date) -> str:
        return f"{d:%m-%d}" if d.year == today.year else d.isoformat()

    def x(d: date) -> float:
        return round(LABEL_W + (d - lo).days * scale, 1)

    one = timedelta(days=1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="义务时间线">',
             '<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff8e1"/>'
             '<rect width="2.5" height="6" fill="#d69e2e"/></pattern>'
             '<pattern id="overrun" patternUnits="userSpaceOnUse" width="6" height="6" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffc9c9"/>'
             '<rect width="3" height="6" fill="#e03131"/></pattern></defs>']
    months = _first_of_months(lo, hi)
    step = max(1, math.ceil(64 / (30.4 * scale)))
    for i, m in enumerate(months):
        parts.append(f'<line class="grid" x1="{x(m)}" y1="{TOP - 8}" x2="{x(m)}" '
                     f'y2="{height}"/>')
        if i % step == 0:
            parts.append(f'<text class="tick" x="{x(m) + 3}" y="{TOP - 12}">'
                         f"{m.year}-{m.month:02d}</text>")
    for i, o in enumerate(rows):
        y = TOP + i * ROW_H
        mid = y + ROW_H / 2
        state = o.shown_state
        tip = [f"{o.title}({o.obligation_id})", f"责任方:{o.actor_name}",
               f"状态:{STATE_TEXT.get(state, state)}"]
        if o.starts_on:
            tip.append(f"起算:{o.starts_on}")
        if o.opens_on:
            tip.append(f"最早:{o.opens_on}")
        if o.due_on:
            tip.append(f"截止:{o.due_on}" + ("(暂定:用到尚未公布的放假安排)"
                                             if o.provisional else ""))
        if o.done_on:
            tip.append(f"完成:{o.done_on}")
        if o.late:
            tip.append(f"逾期 {o.late} 个工作日")
        tip.append(f"依据:{o.citation}")
        parts.append(f'<g class="ob state-{e(state)}" data-obligation="{e(o.obligation_id)}">'
                     f"<title>{e(chr(10).join(tip))}</title>")
        if i % 2 == 0:
            parts.append(f'<rect class="row-bg" x="0" y="{y}" width="{width}" '
                         f'height="{ROW_H}"/>')
        parts.append(f'<text class="ob-label" x="10" y="{mid + 4}">'
                     f"{e(_short(o.title))}</text>")
        start = o.starts_on or o.opens_on or o.due_on or today
        end = o.due_on or (o.done_on if o.done_on and o.done_on > start else today)
        x0, x1 = x(start), max(x(end + one), x(start) + 3)
        parts.append(f'<rect class="bar {e(state)}" x="{x0}" y="{y + 8}" '
                     f'width="{round(x1 - x0, 1)}" height="{ROW_H - 16}" rx="2"/>')
        note_x, note, note_cls = x1, "", "ob-note"
        if o.late and o.due_on:
            xo = x(today + one)
            parts.append(f'<rect class="overrun" x="{x1}" y="{y + 8}" '
                         f'width="{round(max(xo - x1, 2), 1)}" height="{ROW_H - 16}"/>')
            note_x, note, note_cls = max(xo, x1), f"逾期 {o.late} 个工作日", "ob-note late"
        elif o.done_on:
            if o.due_on and o.done_on > o.due_on:
                xd = x(o.done_on + one)
                parts.append(f'<rect class="overrun-done" x="{x1}" y="{y + 8}" '
                             f'width="{round(xd - x1, 1)}" height="{ROW_H - 16}"/>')
                note_x = xd
            parts.append(f'<circle class="done-mark" cx="{x(o.done_on) + scale / 2}" '
                         f'cy="{mid}" r="3.5"/>')
            note = f"完成 {day(o.done_on)}"
        elif o.due_on:
            note = f"截止 {day(o.due_on)}"
        if o.due_on and o.provisional and state != "done":
            xp = x(o.due_on)
            parts.append(f'<g class="provisional"><rect x="{round(xp - 5, 1)}" y="{y + 4}" '
                         f'width="{round(x(o.due_on + one) - xp + 10, 1)}" '
                         f'height="{ROW_H - 8}"/></g>')
            note_x = max(note_x, x(o.due_on + one) + 5)
        label = e(note)
        if o.due_on and o.provisional and state != "done":
            label += ' <tspan class="provisional-label">暂定</tspan>'
        if label:
            if note_x + NOTE_W - 10 > width:
                parts.append(f'<text class="{note_cls}" x="{x0 - 6}" y="{mid + 4}" '
                             f'text-anchor="end">{label}</text>')
            else:
                parts.append(f'<text class="{note_cls}" x="{note_x + 6}" y="{mid + 4}">'
                             f"{label}</text>")
        parts.append("</g>")
    xt = round(x(today) + scale / 2)  # whole pixels: a crisp line
    parts.append(f'<line class="today-line" x1="{xt}" y1="{TOP - 30}" x2="{xt}" '
                 f'y2="{height}"/>')
    parts.append(f'<text class="today-label" x="{xt + 4}" y="{TOP - 26}">今天 '
                 f"{today.isoformat()}</text>")
    parts.append("</svg>")
    return "".join(parts)


def project_page(view: ProjectView) -> str:
    p = view.project
    pid = str(p["project_id"])
    shown = [o for o in view.obligations if o.shown_state not in HIDDEN_STATES]
    hidden = [o for o in view.obligations if o.shown_state in HIDDEN_STATES]
    return render(
        "project.html", f"{p['name']} {pid}", view.today, view=view, shown=shown,
        hidden=hidden, gantt=Markup(gantt(view)),
        rung=ladder.rung_look(str(p["policy"]), int(p["escalation_level"])),
        titles={o.obligation_id: o.title for o in view.obligations},
        json_href="/api/project/" + quote(pid, safe="") + ".json")


# --- statistics (统计分析) ------------------------------------------------------------------


def _rate(g: GroupStats) -> str:
    return "—" if g.on_time_rate is None else f"{g.on_time_rate * 100:.0f}%"


def _wd(value: int | None) -> str:
    return "—" if value is None else f"{value} 个工作日"


def stats_query(r: Report) -> str:
    params = {"period": r.period.label, "jurisdiction": r.jurisdiction_filter or "",
              "actor": r.actor_filter or ""}
    return urlencode({k: v for k, v in params.items() if v})


def stats_page(r: Report) -> str:
    jurisdictions = [(c.id, c.label) for c in vocabulary.known("jurisdiction")]
    actors = [(c.id, c.label) for c in vocabulary.known("actor")]
    for chosen, menu in ((r.jurisdiction_filter, jurisdictions), (r.actor_filter, actors)):
        if chosen and chosen not in {v for v, _ in menu}:
            menu.append((chosen, chosen))
    query = stats_query(r)
    return render("stats.html", f"统计分析 {r.period.label}", r.today, script=True, r=r,
                  options=_options, jurisdictions=jurisdictions, actors=actors, rate=_rate,
                  wd=_wd, json_href="/api/stats.json?" + query,
                  csv_href="/api/stats.csv?" + query)


# --- errors ----------------------------------------------------------------------------


def not_found_page(today: date, what: str) -> str:
    return render("error.html", "找不到", today, heading="找不到", status="not found",
                  message=what, not_found=True)


def error_page(today: date, status: int, title: str, message: str) -> str:
    return render("error.html", title, today, heading=title, status=status, message=message,
                  not_found=False)
