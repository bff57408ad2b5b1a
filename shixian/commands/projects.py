"""`shixian start`, `shixian doc`, `shixian status`: the project-facing commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from calendars.engine import WorkCalendar
from shixian import operations
from shixian.client import connect, workflow_id
from shixian.errors import UserError
from shixian.projects_file import load_projects
from shixian.render import dump_json, status_text
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import (
    ClockChange,
    DocumentArrival,
    ExtensionRequest,
    RecordOutcome,
    Termination,
)

START_EPILOG = """\
file format (YAML or JSON; see README):
  projects:
    - id: JJ-2026-001
      name: 市级政务数据共享平台扩容
      policy: jiujiang-2024
      owner: 市数据管理局
      owner_type: administrative      # administrative | state_owned
      category: infrastructure        # infrastructure | cross_department | other
      kind: build                     # build | service | procurement
      investment_wan: 6800            # 万元
      major: false
      started_on: 2026-09-30          # date of the launch notice
      documents:                      # already received (import half-way)
        - {type: proposal_submitted, on: 2026-10-15, ref: JJ-FGW-2026-88}

Every project and document is checked first; if any is wrong nothing starts. Starting a
project that already exists changes nothing and says so (safe to re-run).
"""

DOC_EPILOG = """\
examples:
  shixian doc JJ-2026-001 proposal_submitted --on 2026-10-15 --ref JJ-FGW-2026-88
  shixian doc JJ-2026-001 extension_granted --on 2027-05-06 --until 2027-06-30
  shixian policy show jiujiang-2024     lists the document types of a policy

exit status: 0 accepted or duplicate, 2 refused (the reason is printed).
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    start = sub.add_parser(
        "start", help="start one workflow per approved project in a file",
        description="Start one lifecycle workflow per project (id project-<id>).",
        epilog=START_EPILOG, formatter_class=fmt,
    )
    start.add_argument("files", nargs="+", type=Path, metavar="FILE")
    start.add_argument("--json", action="store_true", help="one JSON result per project")
    start.set_defaults(handler=run_start)

    doc = sub.add_parser(
        "doc", help="record a document that arrived for a project",
        description="Record a document (by its policy's type id) on the project's workflow. "
                    "The workflow checks it: unknown type, not expected now, dated in the "
                    "future or before the launch notice, or too early → refused with reason.",
        epilog=DOC_EPILOG, formatter_class=fmt,
    )
    doc.add_argument("project_id", metavar="PROJECT_ID")
    doc.add_argument("doc_type", metavar="DOC_TYPE")
    doc.add_argument("--on", required=True, type=_date, help="business date (YYYY-MM-DD)")
    doc.add_argument("--ref", default=None, help="document number, e.g. 九发改字〔2026〕88号")
    doc.add_argument("--by", default=None, help="who recorded or sent it")
    doc.add_argument("--until", type=_date, default=None,
                     help="new due day, for an extension document")
    doc.add_argument("--json", action="store_true", help="print the result as JSON")
    doc.set_defaults(handler=run_doc)

    status = sub.add_parser(
        "status", help="where a project is, what is due when, what is overdue",
        description="Query a project's workflow: stage, every obligation with due day, state, "
                    "overdue working days, escalation rung and the article it comes from; "
                    "the notices sent.",
        formatter_class=fmt,
    )
    status.add_argument("project_id", metavar="PROJECT_ID")
    status.add_argument("--json", action="store_true", help="the full status as JSON")
    status.add_argument("--all", action="store_true",
                        help="also list obligations waived for this project's path")
    status.set_defaults(handler=run_status)


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
    clock.add_argument("--on", required=True, type=_date, help="business date")
    clock.add_argument("--reason", default="", help="what the excluded time is")
    clock.set_defaults(handler=run_clock)

    extend = sub.add_parser(
        "extend", help="grant an extension: move an open obligation's due day later",
        description="Record an approved extension (延期) for one obligation.",
        formatter_class=fmt,
    )
    extend.add_argument("project_id", metavar="PROJECT_ID")
    extend.add_argument("obligation", metavar="OBLIGATION")
    extend.add_argument("--until", required=True, type=_date, help="the new due day")
    extend.add_argument("--on", required=True, type=_date, help="date the extension was granted")
    extend.add_argument("--reason", default="", help="why, with the approval's reference")
    extend.set_defaults(handler=run_extend)

    terminate = sub.add_parser(
        "terminate", help="end a project (撤销/终止): open obligations are cancelled",
        description="Terminate a project's lifecycle; its history and status remain readable.",
        formatter_class=fmt,
    )
    terminate.add_argument("project_id", metavar="PROJECT_ID")
    terminate.add_argument("--on", required=True, type=_date, help="business date")
    terminate.add_argument("--reason", required=True, help="why the project ends")
    terminate.set_defaults(handler=run_terminate)


def _update(project_id: str, update: Any, arg: Any) -> int:
    async def main() -> int:
        client = await connect()
        ok, message = await operations.run_update(client, project_id, update, arg)
        if ok:
            print(message)
            return 0
        print(f"refused: {message}", file=sys.stderr)
        return 2

    return asyncio.run(main())


def run_clock(args: argparse.Namespace) -> int:
    update = (ProjectLifecycleWorkflow.stop_clock if args.action == "stop"
              else ProjectLifecycleWorkflow.restart_clock)
    return _update(args.project_id, update,
                   ClockChange(obligation=args.obligation, on=args.on, reason=args.reason))


def run_extend(args: argparse.Namespace) -> int:
    return _update(args.project_id, ProjectLifecycleWorkflow.grant_extension,
                   ExtensionRequest(obligation=args.obligation, until=args.until, on=args.on,
                                    reason=args.reason))


def run_terminate(args: argparse.Namespace) -> int:
    return _update(args.project_id, ProjectLifecycleWorkflow.terminate,
                   Termination(on=args.on, reason=args.reason))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run_start(args: argparse.Namespace) -> int:
    projects = [p for f in args.files for p in load_projects(f)]
    calendar = WorkCalendar.default()
    today = operations.today()
    inputs, problems = [], []
    for project in projects:
        try:
            inputs.append(operations.prepare(project, calendar, today))
        except UserError as exc:
            problems.append(str(exc))
    if problems:
        raise UserError("nothing started:\n" + "\n".join(problems))

    async def main() -> int:
        client = await connect()
        for i, inp in enumerate(inputs, start=1):
            started = await operations.start_project(client, inp)
            wid = workflow_id(inp.project.id)
            if args.json:
                print(json.dumps({"project_id": inp.project.id, "workflow_id": wid,
                                  "result": "started" if started else "exists"},
                                 ensure_ascii=False))
            elif started:
                print(f"[{i}/{len(inputs)}] started {wid}")
            else:
                print(f"[{i}/{len(inputs)}] exists  {wid}: already started, nothing changed")
        return 0

    return asyncio.run(main())


def run_doc(args: argparse.Namespace) -> int:
    doc = DocumentArrival(type=args.doc_type, on=args.on, ref=args.ref, by=args.by,
                          until=args.until)

    async def main() -> int:
        client = await connect()
        result = await operations.record_document(client, args.project_id, doc)
        if args.json:
            print(dump_json(result))
        elif result.outcome is RecordOutcome.REFUSED:
            print(f"refused: {result.reason}", file=sys.stderr)
        else:
            print(f"{result.outcome.value}: {args.project_id} {doc.type} on {doc.on}"
                  f" (stage {result.stage})")
        return 2 if result.outcome is RecordOutcome.REFUSED else 0

    return asyncio.run(main())


def run_status(args: argparse.Namespace) -> int:
    async def main() -> int:
        client = await connect()
        status = await operations.project_status(client, args.project_id)
        print(dump_json(status) if args.json else status_text(status, args.all))
        return 0

    return asyncio.run(main())
