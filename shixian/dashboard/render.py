"""Server-rendered HTML: the portfolio, a project's timeline, and error pages.

Everything that came from a projects file or a document (names, owners, titles, citations,
references) is escaped on the way out: the page must show `<script>` in a project name as
text, never run it. The Gantt chart is inline SVG, so it needs no script and prints.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterable
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from shixian.dashboard.data import ObligationLine, PortfolioQuery, PortfolioView, ProjectView

RAG_TEXT = {"red": "红 · 已升级", "amber": "黄 · 逾期或预警", "green": "绿 · 正常"}
STATE_TEXT = {"pending": "未开始", "open": "进行中", "paused": "暂停计时", "done": "已完成",
              "overdue": "逾期", "waived": "不适用", "cancelled": "已取消"}
RUNG_TEXT = {"warning": "预警", "overdue": "逾期通报", "escalated": "升级"}
HIDDEN_STATES = ("waived", "cancelled")


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
.badge.provisional { border-color:#b7791f; color:#8a5a00; background:#fff8e1; }
.badge.red { background:var(--red); color:#fff; border-color:var(--red); }
.badge.amber { background:var(--amber); color:#fff; border-color:var(--amber); }
.badge.green { background:var(--green); color:#fff; border-color:var(--green); }
.late { color:var(--red); font-weight:600; }
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


def page(title: str, body: str, today: date, *, script: bool = False) -> str:
    js = f"<script>{SCRIPT}</script>" if script else ""
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · 时限 shixian</title>
<style>{CSS}</style>
</head>
<body>
<header><a class="brand" href="/">时限 shixian</a><span>政务信息化项目时限看板</span>
<span class="today">今天 {today.isoformat()} · 只读</span></header>
<main>
{body}
</main>
<footer>数据来自读模型(由工作流实时更新);逾期工作日按今天和官方工作日历重新计算。
只读视图:本页不改变任何项目。</footer>
{js}
</body>
</html>
"""


# --- the portfolio ---------------------------------------------------------------------


def _options(values: Iterable[tuple[str, str]], selected: str, everything: str) -> str:
    out = [f'<option value="">{e(everything)}</option>']
    for value, label in values:
        sel = " selected" if value == selected else ""
        out.append(f'<option value="{e(value)}"{sel}>{e(label)}</option>')
    return "".join(out)


def _with(query: PortfolioQuery, **change: str) -> str:
    params = {**query.as_params(), **change}
    text = urlencode({k: v for k, v in params.items() if v})
    return "/" + ("?" + text if text else "")


def _filters(view: PortfolioView) -> str:
    q = view.query
    jurisdictions = list(dict.fromkeys([*view.jurisdictions, *([q.jurisdiction]
                                                               if q.jurisdiction else [])]))
    stages = list(view.stages)
    if q.stage and q.stage not in {s for s, _ in stages}:
        stages.append((q.stage, q.stage))
    levels = [("1", "≥ 1 预警"), ("2", "≥ 2 逾期通报"), ("3", "≥ 3 已升级")]
    level = "" if q.level is None else str(q.level)
    if level and level not in {v for v, _ in levels}:
        levels.append((level, f"≥ {level}"))
    owners = "".join(f'<option value="{e(o)}">' for o in view.owners)
    return f"""<form class="filters" method="get" action="/">
<label>辖区 <select name="jurisdiction">{_options(((j, j) for j in jurisdictions),
                                               q.jurisdiction, "全部")}</select></label>
<label>阶段 <select name="stage">{_options(((s, f"{t} ({s})") for s, t in stages),
                                         q.stage, "全部")}</select></label>
<label>业主单位 <input name="owner" value="{e(q.owner)}" list="owners" size="14"
 placeholder="名称中的字"></label><datalist id="owners">{owners}</datalist>
<label>升级级别 <select name="level">{_options(levels, level, "不限")}</select></label>
<label>状态 <select name="rag">{_options(((k, v) for k, v in RAG_TEXT.items()), q.rag,
                                       "全部")}</select></label>
<label><input type="checkbox" name="overdue" value="1"{" checked" if q.overdue else ""}>
 只看逾期</label>
<label><input type="checkbox" name="all" value="1"{" checked" if q.include_finished else ""}>
 含已结束</label>
<button type="submit">筛选</button> <a href="/">清除</a>
<label style="margin-left:auto">快速查找 <input id="quick" type="search" size="16"
 placeholder="编号、名称、单位"></label>
</form>"""


def portfolio_page(view: PortfolioView) -> str:
    counts = view.counts
    cards = "".join(
        f'<a class="card {c}{" active" if view.query.rag == c else ""}" '
        f'href="{e(_with(view.query, rag="" if view.query.rag == c else c))}">'
        f'<b>{counts[c]}</b><span class="dot {c}"></span>{e(RAG_TEXT[c])}</a>'
        for c in ("red", "amber", "green"))
    rows = []
    for entry in view.entries:
        r = entry.row
        search = " ".join([r.project_id, r.name, r.owner, r.stage_title, r.stage,
                           r.jurisdiction]).lower()
        due = _day(r.next_due_on)
        if r.provisional:
            due += (' <span class="badge provisional" title="截止日计算用到尚未公布的'
                    '放假安排,公布后会重新计算">暂定</span>')
        late = (f'<span class="late">{r.overdue_working_days} 个工作日</span>'
                f'<br><small>{e(", ".join(r.late))}</small>' if r.overdue else "—")
        finished = " muted" if r.finished else ""
        rows.append(
            f'<tr class="rag-{entry.rag}{finished}" data-rag="{entry.rag}" '
            f'data-project="{e(r.project_id)}" data-search="{e(search)}">'
            f'<td><span class="dot {entry.rag}" title="{e(RAG_TEXT[entry.rag])}"></span>'
            f'{e(RAG_TEXT[entry.rag].split(" ")[0])}</td>'
            f'<td><a href="{e(project_href(r.project_id))}">{e(r.project_id)}</a></td>'
            f'<td>{e(r.name)}</td><td>{e(r.stage_title)}</td><td class="date">{due}</td>'
            f'<td>{late}</td><td class="num">{r.escalation_level}</td>'
            f"<td>{e(r.owner)}</td><td>{e(r.jurisdiction)}</td></tr>")
    if rows:
        table = ("<table><thead><tr><th>状态</th><th>编号</th><th>项目名称</th><th>阶段</th>"
                 "<th>下一截止日</th><th>逾期</th><th>级别</th><th>业主单位</th><th>辖区</th>"
                 f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    else:
        table = ('<p class="err">没有符合条件的项目。<a href="/">清除筛选</a>;'
                 "项目由 <code>shixian start FILE</code> 启动后出现在这里。</p>")
    body = f"""<h1>项目总览 <span class="en">portfolio</span></h1>
<div class="cards">{cards}</div>
{_filters(view)}
<p>显示 <b id="shown">{len(view.entries)}</b> / {len(view.entries)} 个项目,按下一截止日排序。
<a href="{e("/api/portfolio.json" + _with(view.query)[1:])}">JSON</a></p>
{table}
<div class="legend">
<span><span class="dot red"></span>红:逾期且已升级至领导小组办公室(级别 ≥ 3)</span>
<span><span class="dot amber"></span>黄:逾期,或临近截止已预警</span>
<span><span class="dot green"></span>绿:无需关注</span>
<span><span class="badge provisional">暂定</span> 截止日用到尚未公布的放假安排</span></div>"""
    return page("项目总览", body, view.today, script=True)


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


def _rung(rung: str | None) -> str:
    return RUNG_TEXT.get(rung or "", rung or "—")


DELIVERY_TEXT = {"sent": "已送达", "pending": "发送中", "delayed": "免打扰延后",
                 "failed": "发送失败", "undeliverable": "无法送达", "rerouted": "已改投"}
CHANNEL_TEXT = {"email": "邮件", "dingtalk": "钉钉", "wecom": "企业微信", "feishu": "飞书",
                "webhook": "接口", "none": "无联系人"}


def _deliveries(items: list[dict[str, Any]]) -> str:
    """Each (recipient, channel) of a notice with its state; the reason on hover."""
    if not items:
        return "—"
    return "<br>".join(
        f'<span class="delivery {e(d["state"])}" title="{e(d["reason"])}">'
        f'{e(d["recipient"])}·{e(CHANNEL_TEXT.get(d["channel_kind"], d["channel_kind"]))} '
        f'{e(DELIVERY_TEXT.get(d["state"], d["state"]))}</span>' for d in items)


def project_page(view: ProjectView) -> str:
    p = view.project
    pid = str(p["project_id"])
    rag_ = view.rag
    investment = p.get("investment_wan")
    meta = [f'<span class="badge {rag_}">{e(RAG_TEXT[rag_])}</span>',
            f"<span>阶段:<b>{e(p['stage_title'])}</b> ({e(p['stage'])})</span>",
            f"<span>业主单位:{e(p['owner'])}</span>",
            f"<span>辖区:{e(p['jurisdiction'])} · 规则 {e(p['policy'])}</span>"]
    if investment is not None:
        meta.append(f"<span>投资:{float(investment):,.0f} 万元</span>")
    provisional = (' <span class="badge provisional">暂定</span>' if p.get("provisional")
                   else "")
    meta.append(f"<span>下一截止日:{_day(p['next_due_on'])}{provisional}</span>")
    if view.overdue_working_days:
        meta.append(f'<span class="late">最长逾期 {view.overdue_working_days} 个工作日</span>')
    meta.append(f"<span>升级级别:{e(p['escalation_level'])}</span>")
    if p.get("finished"):
        meta.append('<span class="badge">已结束</span>')
    rows, hidden = [], []
    for o in view.obligations:
        state = o.shown_state
        if state in HIDDEN_STATES:
            hidden.append(f"<li>{e(o.title)} <small>{e(o.obligation_id)} · "
                          f"{e(STATE_TEXT.get(state, state))} · {e(o.citation)}</small></li>")
            continue
        due = _day(o.due_on)
        if o.provisional and o.due_on:
            due += ' <span class="badge provisional">暂定</span>'
        muted = " muted" if state in ("done", "pending") else ""
        late = f'<span class="late">{o.late}</span>' if o.late else "—"
        rows.append(
            f'<tr class="state-{e(state)}{muted}" data-obligation="{e(o.obligation_id)}">'
            f'<td class="num">{o.position + 1}</td><td>{e(o.title)}<br>'
            f"<small>{e(o.obligation_id)}</small></td><td>{e(o.actor_name)}</td>"
            f'<td>{e(STATE_TEXT.get(state, state))}</td><td class="date">{_day(o.starts_on)}'
            f'</td><td class="date">{due}</td><td class="date">{_day(o.done_on)}</td>'
            f'<td class="num">{late}</td>'
            f"<td>{e(_rung(o.escalation_rung))}</td>"
            f'<td title="{e(o.citation)}">{e(o.citation)}</td></tr>')
    notices = "".join(
        f"<tr><td>{e(str(n['fired_at'])[:16])}</td><td>{e(_rung(n['rung']))} "
        f"(级别 {e(n['level'])})</td><td>{e(n['obligation'])}</td>"
        f"<td>{e('、'.join(str(r) for r in n['recipients'] or []))}</td>"
        f"<td>{_deliveries(n.get('deliveries') or [])}</td>"
        f"<td>{e(n['message'])}</td><td>{e(n['citation'])}</td></tr>"
        for n in view.notices)
    events = "".join(f"<li><b>{_day(ev['business_date'])}</b> {e(ev['text'])}</li>"
                     for ev in view.events)
    body = f"""<p><a href="/">← 项目总览</a></p>
<h1>{e(p['name'])} <span class="en">{e(pid)}</span></h1>
<div class="meta">{''.join(meta)}</div>
<h2>时间线 <span class="en">timeline</span></h2>
<div class="legend"><span><i style="background:#1c7ed6"></i>进行中</span>
<span><i style="background:#c92a2a"></i>逾期</span>
<span><i style="background:repeating-linear-gradient(45deg,#e03131 0 3px,#ffc9c9 3px 6px)">
</i>逾期至今</span><span><i style="background:#c3cad3"></i>已完成(● 完成日)</span>
<span><i style="border:1px dashed #9aa5b1"></i>未开始</span>
<span><i style="background:repeating-linear-gradient(45deg,#d69e2e 0 3px,#fff8e1 3px 6px)">
</i>暂定截止日</span><span><i style="border-left:2px dashed #e8590c;width:2px"></i>今天</span>
<span>悬停查看依据条款</span></div>
<div class="chart">{gantt(view)}</div>
<h2>义务 <span class="en">obligations</span></h2>
<table><thead><tr><th>#</th><th>义务</th><th>责任方</th><th>状态</th><th>起算</th>
<th>截止</th><th>完成</th><th>逾期工作日</th><th>升级</th><th>依据</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
{f'<details><summary>不适用或已取消的义务 {len(hidden)} 项</summary><ul>{"".join(hidden)}'
 '</ul></details>' if hidden else ''}
<h2>已发通知 <span class="en">notices</span></h2>
{f'<table><thead><tr><th>时间</th><th>级别</th><th>义务</th><th>接收方</th><th>送达</th>'
 f'<th>内容</th><th>依据</th></tr></thead><tbody>{notices}</tbody></table>'
 if notices else '<p>尚无。</p>'}
<h2>最近事件 <span class="en">events</span></h2>
{f'<ul>{events}</ul>' if events else '<p>尚无。</p>'}
<p><a href="{e('/api/project/' + quote(pid, safe='') + '.json')}">JSON</a> ·
命令行:<code>shixian status {e(pid)}</code></p>"""
    return page(f"{p['name']} {pid}", body, view.today)


# --- errors ----------------------------------------------------------------------------


def not_found_page(today: date, what: str) -> str:
    body = f"""<div class="err"><h1>找不到 <span class="en">not found</span></h1>
<p>{e(what)}</p>
<p>项目编号见 <a href="/">项目总览</a>,或在命令行运行 <code>shixian list</code>
(<code>shixian list --all</code> 含已结束的项目)。项目页的地址是
<code>/project/项目编号</code>,例如 <code>/project/JJ-2026-001</code>。</p></div>"""
    return page("找不到", body, today)


def error_page(today: date, status: int, title: str, message: str) -> str:
    body = f"""<div class="err"><h1>{e(title)} <span class="en">{status}</span></h1>
<p>{e(message)}</p><p><a href="/">项目总览</a></p></div>"""
    return page(title, body, today)
