"""`shixian start`, `shixian doc`, `shixian status`: the project-facing commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from calendars.engine import WorkCalendar
from shixian import operations, restart
from shixian.client import connect, workflow_id
from shixian.commands.doc import Sender, parse_day
from shixian.errors import UserError
from shixian.projects_file import Entry, Problem, load_all, report
from shixian.render import dump_json, table
from workflows import views
from workflows.ledger import Ledger
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import (
    ClockChange,
    ExtensionRequest,
    LedgerState,
    LifecycleInput,
    ObligationState,
    RecordOutcome,
    Termination,
)

START_EPILOG = """\
examples:
  shixian start projects.yaml                      one workflow per project
  shixian start 2026-批复项目.csv more.yaml         several files, YAML and CSV mixed
  shixian start 2026-批复项目.xlsx                  an Excel workbook (its first sheet)
  shixian start projects.csv --dry-run             every rule that applies to each project:
                                                   due days (or why none), minimums, gates,
                                                   checks — nothing started, no Temporal
  shixian start projects.csv --dry-run --json      the same as one JSON array
  shixian start projects.yaml --json               one JSON object per project per line

YAML or JSON (see README):
  projects:
    - id: JJ-2026-001
      name: 市级政务数据共享平台扩容
      policy: jiujiang-2024
      owner: 市数据管理局
      owner_type: administrative      # administrative | state_owned | public_institution
                                      # | social_organisation, as the pack covers (第二条)
      category: infrastructure        # infrastructure | cross_department | other
      kind: build                     # build | service | procurement
      investment_wan: 6800            # 万元
      major: false
      started_on: 2026-09-30          # date of the launch notice
      documents:                      # already received (import half-way)
        - {type: proposal_submitted, on: 2026-10-15, ref: JJ-FGW-2026-88}

CSV (a spreadsheet export; UTF-8, UTF-8 with BOM, or GB18030/GBK) or an Excel .xlsx
workbook (first sheet; date cells and numbers as Excel stores them), one row per project,
English headers (the YAML keys) or Chinese ones:
  项目编号,项目名称,适用办法,业主单位,业主类型,项目类别,项目类型,投资额（万元）,重大项目,计划工期（月）,启动通知日期,已收文件
  JJ-2026-001,市级政务数据共享平台扩容,jiujiang-2024,市数据管理局,行政机关,基础设施类,建设类,"6,800",否,12,2026-09-30,proposal_submitted@2026-10-15#JJ-FGW-2026-88
  业主类型 行政机关|国资监管企业|国有企业|事业单位|人民团体|社会团体 (as the 办法 covers)
  项目类别 基础设施类|跨部门跨层级集成类|其他
  项目类型 建设类|服务类|购买服务|设备采购类   重大项目 是|否   适用办法 id, title or 九江市
  已收文件 type@YYYY-MM-DD[#ref]; type@YYYY-MM-DD...   (column `documents` in English)

Each pack's project facts (`shixian policy show ID` lists them) go in columns headed with
the fact's label or id, e.g. for 相城 计划开工时间 (2026-03-02, or a month 2026-03) and
涉密信息系统 (是/否), or in one column 项目信息项 of 名称=值 pairs; in YAML under `facts:`:
      facts: {计划开工时间: 2026-03-02, classified: false}

Every project, row and document is checked first; every problem is listed with its file
and row (CSV: the spreadsheet row, header = row 1), and if any is wrong nothing starts.
Starting a project that already exists changes nothing and says so (safe to re-run); if
the file says something else, each differing field is listed, and documents the workflow
has not recorded are named with the `shixian doc` line that records each — or re-run with
--record-new-documents. A running project keeps the fields it started with.
On a terminal a progress bar shows on stderr; otherwise one line per project.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    start = sub.add_parser(
        "start", help="start one workflow per approved project in a file",
        description="Start one lifecycle workflow per project (id project-<id>).",
        epilog=START_EPILOG, formatter_class=fmt,
    )
    start.add_argument("files", nargs="+", type=Path, metavar="FILE",
                       help="projects file(s): .yaml/.yml, .json, or .csv/.tsv")
    start.add_argument("--json", action="store_true",
                       help="one JSON result per project per line (with --dry-run: an array)")
    start.add_argument("--dry-run", action="store_true",
                       help="check, then print each project's obligations and due days; "
                            "start nothing")
    start.add_argument("--allow-expired-policy", action="store_true",
                       help="start projects under a pack whose text had lapsed on their start "
                            "day (e.g. 九江 2024 办法 after 2026-05-23, 第四十五条); they are "
                            "marked 已过有效期")
    start.add_argument("--allow-draft-policy", action="store_true",
                       help="start projects under a draft pack (征求意见稿); its rules are "
                            "marked draft everywhere")
    start.add_argument("--record-new-documents", action="store_true",
                       help="for a project already running, record the file's documents it "
                            "has not recorded yet (each is accepted, a duplicate or refused)")
    start.set_defaults(handler=run_start)

    clock = sub.add_parser(
        "clock", help="stop or restart an obligation's clock for time a regulation excludes",
        description="Some excluded time has no document that marks it (九江 25(二) "
                    "需求确认时间, 25(三) 设计单位遴选时间): stop the clock when it begins and "
                    "restart it when it ends; the working days before the stop are kept.",
        epilog="examples:\n  shixian clock stop JJ-2026-001 fsr_tech_review --on 2026-12-01 "
               "--reason 需求确认\n  shixian clock restart JJ-2026-001 fsr_tech_review "
               "--on 2026-12-08", formatter_class=fmt,
    )
    clock.add_argument("action", choices=["stop", "restart"])
    clock.add_argument("project_id", metavar="PROJECT_ID")
    clock.add_argument("obligation", metavar="OBLIGATION", help="obligation id from status")
    clock.add_argument("--on", required=True, type=parse_day, help="business date")
    clock.add_argument("--reason", default="", help="what the excluded time is")
    clock.add_argument("--json", action="store_true",
                       help="print {\"ok\": …, \"message\": …} as JSON")
    clock.set_defaults(handler=run_clock)

    extend = sub.add_parser(
        "extend", help="grant an extension: move an open obligation's due day later",
        description="Record an approved extension (延期) for one obligation.",
        formatter_class=fmt,
    )
    extend.add_argument("project_id", metavar="PROJECT_ID")
    extend.add_argument("obligation", metavar="OBLIGATION")
    extend.add_argument("--until", required=True, type=parse_day, help="the new due day")
    extend.add_argument("--on", required=True, type=parse_day,
                        help="date the extension was granted")
    extend.add_argument("--reason", default="", help="why, with the approval's reference")
    extend.add_argument("--json", action="store_true",
                       help="print {\"ok\": …, \"message\": …} as JSON")
    extend.set_defaults(handler=run_extend)

    terminate = sub.add_parser(
        "terminate", help="end a project (撤销/终止): open obligations are cancelled",
        description="Terminate a project's lifecycle; its history and status remain readable.",
        formatter_class=fmt,
    )
    terminate.add_argument("project_id", metavar="PROJECT_ID")
    terminate.add_argument("--on", required=True, type=parse_day, help="business date")
    terminate.add_argument("--reason", required=True, help="why the project ends")
    terminate.add_argument("--json", action="store_true",
                       help="print {\"ok\": …, \"message\": …} as JSON")
    terminate.set_defaults(handler=run_terminate)


def _update(project_id: str, update: Any, arg: Any, as_json: bool = False) -> int:
    async def main() -> int:
        client = await connect()
        ok, message = await operations.run_update(client, project_id, update, arg)
        if as_json:
            print(json.dumps({"project_id": project_id, "ok": ok, "message": message},
                             ensure_ascii=False))
        elif ok:
            print(message)
            return 0
        else:
            print(f"refused: {message}", file=sys.stderr)
        return 0 if ok else 2

    return asyncio.run(main())


def run_clock(args: argparse.Namespace) -> int:
    update = (ProjectLifecycleWorkflow.stop_clock if args.action == "stop"
              else ProjectLifecycleWorkflow.restart_clock)
    return _update(args.project_id, update,
                   ClockChange(obligation=args.obligation, on=args.on, reason=args.reason),
                   args.json)


def run_extend(args: argparse.Namespace) -> int:
    return _update(args.project_id, ProjectLifecycleWorkflow.grant_extension,
                   ExtensionRequest(obligation=args.obligation, until=args.until, on=args.on,
                                    reason=args.reason), args.json)


def run_terminate(args: argparse.Namespace) -> int:
    return _update(args.project_id, ProjectLifecycleWorkflow.terminate,
                   Termination(on=args.on, reason=args.reason), args.json)


@contextlib.contextmanager
def _inputs_kept_out_of_collections() -> Iterator[Callable[[], None]]:
    """No cyclic collection while the inputs are built; once they are (the callable
    yielded), one collection, then the survivors (the inputs, kept until the command ends)
    frozen out of later collections until the block is left. Each full collection walks
    every live object: with 10,000 inputs growing the heap they were 44 % of the check
    phase's CPU (14.1 → 7.9 s of CPU, peak RSS 507 → 521 MB), and they went on walking the
    inputs while the projects were started."""
    enabled, frozen = gc.isenabled(), False

    def built() -> None:
        nonlocal frozen
        if enabled and not frozen:
            gc.enable()
            gc.collect()
            gc.freeze()
            frozen = True

    gc.disable()
    try:
        yield built
    finally:
        if frozen:
            gc.unfreeze()
        elif enabled:
            gc.enable()


def _prepare_all(files: list[Path], allow: frozenset[str] = frozenset(),
                 ) -> tuple[list[tuple[Entry, LifecycleInput]], date]:
    """Check every file, row and document first; one error listing them all, or the inputs."""
    entries, problems = load_all(files)
    calendar = operations.StartCalendars(WorkCalendar.default())
    today = operations.today()
    inputs: list[tuple[Entry, LifecycleInput]] = []
    for entry in entries:
        try:
            inputs.append((entry, operations.prepare(entry.project, calendar, today, allow)))
        except UserError as exc:
            prefix = f"project {entry.project.id}: "
            problems += [Problem(entry.file, entry.row, f"{entry.where}: "
                                 f"{line.removeprefix(prefix)}")
                         for line in str(exc).splitlines()]
    if problems:
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise UserError(f"nothing started ({count}; fix them and run again):\n"
                        + report(problems))
    return inputs, today


def dry_run_plan(inp: LifecycleInput, today: date) -> dict[str, Any]:
    """What the workflow would start from: the project's documents on its pack and calendar,
    and every rule of the pack that applies to it — each duty with its due day (or why it has
    none), the recurring reports, minimums, gates and checks on facts, with their articles."""
    project = inp.project
    ledger = Ledger(project, inp.pack, WorkCalendar.from_snapshot(inp.calendar), LedgerState())
    now = datetime.now(UTC)
    for doc in sorted(project.documents, key=lambda d: d.on):
        if ledger.check_document(doc, today) is RecordOutcome.ACCEPTED:  # checked by prepare
            ledger.add_document(doc, now)
    status = ledger.status(now, today)
    instances = {i.id: i for i in ledger.instances(today)}
    obligations = []
    for v in status.obligations:
        if v.state is ObligationState.WAIVED:
            continue
        ob = v.model_dump(mode="json")
        ob["due"] = views.due_words(ledger, instances[v.id])
        obligations.append(ob)
    return {
        "project_id": project.id,
        "workflow_id": workflow_id(project.id),
        "name": project.name,
        "policy": inp.pack.id,
        "policy_title": inp.pack.title,
        "jurisdiction": inp.pack.jurisdiction,
        "policy_status": status.policy_status,
        "policy_note": status.policy_note,
        "today": today.isoformat(),
        "started_on": project.started_on.isoformat(),
        "started_by": inp.pack.documents[inp.pack.starts_with].title,
        "stage": status.stage,
        "stage_title": status.stage_title,
        "facts": _jsonable(views.fact_views(ledger)),
        "obligations": obligations,
        "when_arising": _jsonable(views.occasional_views(ledger, today)),
        "recurring": _jsonable(views.recurring_views(ledger)),
        "minimums": _jsonable(views.minimum_views(ledger, today)),
        "gates": _jsonable(views.gate_views(ledger, today)),
        "checks": _jsonable(views.check_views(ledger, today)),
        "breaches": [b.model_dump(mode="json") for b in status.breaches],
        "waived": [{"id": v.id, "title": v.title, "citation": v.citation, "note": v.note}
                   for v in status.obligations if v.state is ObligationState.WAIVED],
    }


def _jsonable(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
            for row in rows]


POLICY_STATUS = {"draft": "DRAFT", "expired": "EXPIRED (已过有效期)"}


def dry_run_text(plan: dict[str, Any]) -> str:
    """The plan for a person: duties in a table, then facts, reports, minimums, gates, checks."""
    rows = []
    for ob in plan["obligations"]:
        rows.append([ob["id"], ob["actor_name"], ob["starts_on"] or "-", ob["due"],
                     ob["state"], ob["citation"], ob["title"]])
    lines = [
        f"{plan['project_id']}  {plan['name']}  ({plan['policy']}, {plan['jurisdiction']})"
        f"  stage: {plan['stage']} {plan['stage_title']}",
    ]
    if plan["policy_status"] in POLICY_STATUS:
        note = str(plan["policy_note"] or "").split(";")[0]
        lines.append(f"  {POLICY_STATUS[plan['policy_status']]}: {note}")
    lines.append(f"  started {plan['started_on']} ({plan['started_by']})")
    if plan["facts"]:
        lines.append("  facts: " + "; ".join(
            f"{f['label']} = {'-' if f['shown'] is None else f['shown']}"
            + (f" ({f['source']})" if f["source"] not in (None, "project") else "")
            for f in plan["facts"]))
    lines += ["  " + line for line in table(
        ["duty", "actor", "starts", "due", "state", "citation", "title"],
        rows).splitlines()]
    for occ in plan["when_arising"]:
        due = occ["due"] if occ["due"].startswith("no due day") else f"due {occ['due']}"
        lines.append(f"  each time {occ['starts_with_title']}: {occ['id']} {occ['title']} "
                     f"({occ['actor_name']}), {due}  [{occ['citation']}]")
    for rec in plan["recurring"]:
        lines.append(f"  recurring {rec['id']}: {rec['title']} — {rec['every_title']}, due "
                     f"{rec['due']} (from {rec['from_event']} until {rec['until_event']})"
                     f"  [{rec['citation']}]")
    for m in plan["minimums"]:
        span = (f"from {m['starts_on']}, not before {m['ends_on']}" if m["ends_on"]
                else "not started")
        lines.append(f"  minimum {m['id']}: {m['document_title']} not before {m['length']} "
                     f"after {m['after_title']} ({span}) — {m['state']}  [{m['citation']}]")
    for g in plan["gates"]:
        needs = "、".join(g["requires"]) or ""
        if g["requires_any"]:
            needs += ("; " if needs else "") + "one of " + " / ".join(g["requires_any"])
        missing = f" (missing: {'、'.join(g['missing'])})" if g["missing"] and \
            g["state"] != "passed" else ""
        lines.append(f"  gate {g['id']}: {g['document_title']} only after {needs} — "
                     f"{g['state']}{missing}  [{g['citation']}]")
    for c in plan["checks"]:
        value = "not given yet" if c["value"] is None else (
            f"{c['value']:g}" if isinstance(c["value"], float) else f"{c['value']}")
        lines.append(f"  check {c['id']}: {c['fact_label']} {c['bound']} — {value}, "
                     f"{c['state']}  [{c['citation']}]")
    for b in plan["breaches"]:
        lines.append(f"  BREACH {b['rule']}: {b['detail']}  [{b['citation']}]")
    if plan["waived"]:
        lines.append("  waived (not on this path): " + ", ".join(w["id"] for w in plan["waived"]))
    if any(ob["provisional"] for ob in plan["obligations"]):
        lines.append("  * provisional: counted over days the State Council has not announced")
    return "\n".join(lines)


# Starts in flight at once from one `shixian start`: each start is one round trip, and the
# server takes many at a time (bench/scale.py: ~2.5× the one-at-a-time rate at 16).
START_CONCURRENCY = 16


class _StartFailed(Exception):
    """One start failed; carries the project so the error names its file and row."""

    def __init__(self, entry: Entry, wid: str, error: BaseException) -> None:
        super().__init__(str(error))
        self.entry, self.wid, self.error = entry, wid, error


class Progress:
    """A one-line progress bar on a terminal's stderr; redrawn in place, cleared at the end."""

    WIDTH = 28

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream

    def show(self, done: int, label: str) -> None:
        filled = self.WIDTH * done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r\033[K[{bar}] {done}/{self.total} {label}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


def run_start(args: argparse.Namespace) -> int:
    allow = frozenset(k for k, flag in (("expired", args.allow_expired_policy),
                                        ("draft", args.allow_draft_policy)) if flag)
    with _inputs_kept_out_of_collections() as built:
        inputs, today = _prepare_all(args.files, allow)
        built()
        return _start_all(args, inputs, today)


def _start_all(args: argparse.Namespace, inputs: list[tuple[Entry, LifecycleInput]],
               today: date) -> int:
    if args.dry_run:
        plans = [dry_run_plan(inp, today) for _, inp in inputs]
        if args.json:
            print(dump_json(plans))
        else:
            print(f"dry run: {len(plans)} project(s) checked, nothing started (today {today})\n")
            print("\n\n".join(dry_run_text(p) for p in plans))
        return 0

    bar = Progress(len(inputs), sys.stderr) if sys.stderr.isatty() else None
    # With the bar on the same terminal, per-project lines would tear it: a summary instead.
    lines = not (bar is not None and sys.stdout.isatty())

    async def main() -> int:
        client = await connect()
        n = len(inputs)
        started: list[str] = []
        existed: list[str] = []
        differing: list[str] = []  # shown after the progress bar
        # input position -> (started, what a re-run found, documents it recorded)
        results: dict[int, tuple[bool, Any, list[tuple[str, str, str]]]] = {}
        shown = 0  # results are printed in input order as soon as all before them are in
        slots = asyncio.Semaphore(START_CONCURRENCY)

        def show_ready() -> None:
            nonlocal shown
            while shown in results:
                inp, (is_new, again, recorded) = inputs[shown][1], results[shown]
                wid = workflow_id(inp.project.id)
                shown += 1
                (started if is_new else existed).append(wid)
                if args.json:
                    print(json.dumps({"project_id": inp.project.id, "workflow_id": wid,
                                      "result": "started" if is_new else "exists"}
                                     | (again.as_dict() if again is not None else {})
                                     | ({"recorded": [{"type": d.type, "on": d.on.isoformat(),
                                                       "outcome": o, "reason": r}
                                                      for d, (o, r, _) in zip(
                                                          again.new_documents, recorded,
                                                          strict=True)]}
                                        if recorded and again is not None else {}),
                                     ensure_ascii=False), flush=True)
                elif lines and is_new:
                    print(f"[{shown}/{n}] started {wid}", flush=True)
                elif lines:
                    print(f"[{shown}/{n}] exists  {wid}: " + _restart_text(again, recorded),
                          flush=True)
                elif again is not None and not again.same:
                    differing.append(f"{wid}: " + _restart_text(again, recorded))

        async def start_one(i: int, entry: Entry, inp: LifecycleInput) -> None:
            wid = workflow_id(inp.project.id)
            async with slots:
                try:
                    is_new = await operations.start_project(client, inp)
                except Exception as exc:
                    raise _StartFailed(entry, wid, exc) from exc
                again = None if is_new else await restart.check(client, wid, inp.project)
                recorded: list[tuple[str, str, str]] = []
                if again is not None and again.new_documents and args.record_new_documents:
                    recorded = await Sender(client, RESTART_WAIT).send_batch(
                        inp.project.id, again.new_documents)
            results[i] = (is_new, again, recorded)
            show_ready()
            if bar is not None:
                bar.show(len(results), wid)

        if bar is not None:
            bar.show(0, "")
        tasks = [asyncio.create_task(start_one(i, entry, inp))
                 for i, (entry, inp) in enumerate(inputs)]
        try:
            await asyncio.gather(*tasks)
        except _StartFailed as failed:  # the server went away part-way: say what is done
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if bar is not None:
                bar.close()
            raise UserError(
                f"{failed.entry.where}: could not start {failed.wid}: {failed.error}; "
                f"{len(results)} of {n} were handled — re-run the same command, started "
                "projects are left as they are") from None
        if bar is not None:
            bar.show(n, "done")
            bar.close()
        if not lines and not args.json:
            print(f"{len(started)} started, {len(existed)} already existed (nothing changed)"
                  + (f": {', '.join(existed)}" if existed else ""))
            for text in differing:
                print(text)
        return 0

    return asyncio.run(main())


RESTART_WAIT = 30.0  # seconds to wait for a worker when recording a re-start's documents


def _restart_text(again: restart.Restart | None, recorded: list[tuple[str, str, str]]) -> str:
    """The `exists` line: nothing changed, or what differs and what to do about it."""
    if again is None:
        return "already started, nothing changed (its start input could not be compared)"
    if again.same:
        return "already started, nothing changed (the file matches)"
    out = ["already started; the file differs from the running project:"]
    out += [f"    {d}" for d in again.differences]
    if again.differences:
        out.append("    (not applied: a running project keeps the fields it started with; "
                   "its deadlines were counted from them)")
    if recorded:
        out += [f"    {o}: {d.type} on {d.on}" + (f" ({r})" if r else "")
                for d, (o, r, _) in zip(again.new_documents, recorded, strict=True)]
    elif again.new_documents:
        where = ("" if again.source == "status" else
                 " (compared with its start input: no worker answered)")
        out.append(f"    {len(again.new_documents)} document(s) not recorded{where}; "
                   "record them with --record-new-documents, or:")
        out += [f"      {c}" for c in again.doc_commands()]
    return "\n".join(out)



