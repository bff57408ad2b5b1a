"""`shixian cycle`: each jurisdiction's yearly duties (年度工作) — list, show, register."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import date, datetime
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.cycle import CycleDue, cycle_workflow_id, sent_reminders, year_plan
from calendars.engine import WorkCalendar
from calendars.periods import SHANGHAI
from policies.model import PolicyPack
from shixian import config, operations
from shixian.client import connect
from shixian.errors import UserError
from shixian.export import terminal_text
from shixian.render import table
from shixian.vocabulary import packs, resolve_jurisdiction
from workflows.cycle import CycleInput, JurisdictionCycleWorkflow

EPILOG = """\
The yearly calls and reviews of a jurisdiction are nobody's project: 九江 征集需求 by the end
of May (第十一条、第十二条), 组织项目申报 and 运维费用申请 by the end of August (第十七条、
第三十五条); 上饶 发文征集 in July (第五条), 集中评审 by 10月上旬 (第九条), year-end O&M
assessments (第二十三条); 玉山 (征求意见稿) demand plans by the end of September (第六条);
相城's yearly plan has no day in the text (第九条). One workflow per jurisdiction
(`cycle-<pack>`) reminds the bodies concerned on working days before each due day and keeps
the record in the notice outbox; `shixian up` registers them.

examples:
  shixian cycle list                              this year, every jurisdiction
  shixian cycle list --jurisdiction 上饶 --year 2027
  shixian cycle list --json                       for scripts
  shixian cycle show shangrao-2020:centralised_review
  shixian cycle show centralised_review --year 2027 --json
  shixian cycle register                          start the workflows (idempotent)

Due days are Beijing dates, moved to the next working day when the text's day is a rest day
(《民法典》第二百零三条) unless the text names a month (上饶 7月份); `*` = counted over days
the State Council has not announced yet (暂定). Reminder offsets are shixian 运营默认.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("cycle", help="each jurisdiction's yearly duties (年度工作) and reminders",
                       description="The yearly duties of each jurisdiction, not of one project: "
                       "what is due in a year, when, by whom, under which article, and whether "
                       "it was reminded.", epilog=EPILOG, formatter_class=fmt)
    csub = p.add_subparsers(dest="cycle_command", metavar="SUBCOMMAND")
    lst = csub.add_parser("list", help="what is due in a year", epilog=EPILOG,
                          description="Every yearly duty of the year, soonest due first.",
                          formatter_class=fmt)
    _common(lst)
    lst.add_argument("--jurisdiction", metavar="J",
                     help="九江, 九江市 or jiujiang-2024 (default: every jurisdiction)")
    lst.set_defaults(handler=run_list)
    show = csub.add_parser("show", help="one yearly duty in full", epilog=EPILOG,
                           description="One yearly duty: due day, reminders and whether each "
                           "went out, the article and how shixian reads it.",
                           formatter_class=fmt)
    show.add_argument("id", metavar="ID",
                      help="PACK:CYCLE (shangrao-2020:centralised_review, 上饶:centralised_review)"
                           " or CYCLE when only one pack has it")
    _common(show)
    show.set_defaults(handler=run_show)
    reg = csub.add_parser("register", help="start each jurisdiction's cycle workflow",
                          description="Start `cycle-<pack>` for every pack with yearly duties "
                          "(or one jurisdiction's); a running one is left as it is.",
                          formatter_class=fmt)
    reg.add_argument("--jurisdiction", metavar="J", help="only this jurisdiction")
    reg.set_defaults(handler=run_register)
    p.set_defaults(handler=lambda _args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=int, metavar="YYYY",
                   help="the year (default: this year in Beijing)")
    p.add_argument("--json", action="store_true", help="JSON for scripts")


def cycle_packs(jurisdiction: str | None = None) -> list[PolicyPack]:
    """The shipped packs with yearly duties, or those a jurisdiction word selects."""
    chosen = resolve_jurisdiction(jurisdiction) if jurisdiction else None
    return [p for p in packs() if p.cycles and (chosen is None or p.id in chosen)]


def _year(args: argparse.Namespace) -> int:
    year: int = args.year or operations.today().year
    if not 2004 <= year <= 2035:
        raise UserError(f"--year {year}: the calendar covers 2004–2035")
    return year


def rows(selected: list[PolicyPack], year: int, registered: dict[str, bool | None]
         ) -> list[dict[str, Any]]:
    """One dict per yearly duty: the plan, with each reminder's sending time from the outbox."""
    calendar = WorkCalendar.default()
    today = operations.today()
    out: list[dict[str, Any]] = []
    for pack in selected:
        sent = sent_reminders(pack.id, year)
        for due in year_plan(pack, year, calendar).dues:
            out.append(_row(due, sent, pack, registered.get(pack.id), today))
    out.sort(key=lambda r: (r["due_on"] is None, r["due_on"] or "", r["policy"], r["cycle"]))
    return out


def _row(due: CycleDue, sent: dict[str, datetime], pack: PolicyPack, registered: bool | None,
         today: date) -> dict[str, Any]:
    """`state` of a reminder: sent (the outbox has it), pending (its due day is still to
    come), or missed (the due day passed with no reminder: the workflow was not running)."""
    reminders = [{
        "key": r.key, "before": r.before, "on": r.on.isoformat(), "notify": r.notify,
        "recipients": r.recipients,
        "sent_at": _beijing(sent[r.key]) if r.key in sent else None,
        "state": "sent" if r.key in sent else "pending" if due.due_on and due.due_on >= today
        else "missed"} for r in due.reminders]
    return {
        "id": f"{due.policy}:{due.cycle}", "policy": due.policy, "cycle": due.cycle,
        "jurisdiction": due.jurisdiction, "year": due.year, "title": due.title,
        "actor": due.actor, "actor_name": due.actor_name,
        "opens_on": due.opens_on.isoformat() if due.opens_on else None,
        "nominal_on": due.nominal_on.isoformat() if due.nominal_on else None,
        "due_on": due.due_on.isoformat() if due.due_on else None,
        "no_limit": due.no_limit, "provisional": due.provisional,
        "citation": due.citation,
        "interpretation": next(c.interpretation for c in pack.cycles if c.id == due.cycle),
        "draft": pack.status == "draft", "validity": due.validity,
        "reminders": reminders, "reminded": any(r["sent_at"] for r in reminders),
        "workflow_id": cycle_workflow_id(due.policy), "registered": registered,
    }


def _beijing(at: datetime) -> str:
    return at.astimezone(SHANGHAI).isoformat(timespec="minutes")


async def registration(client: Client, ids: list[str]) -> dict[str, bool | None]:
    """Whether each pack's cycle workflow is running."""
    out: dict[str, bool | None] = {}
    for pid in ids:
        try:
            desc = await client.get_workflow_handle(cycle_workflow_id(pid)).describe()
            out[pid] = desc.status is not None and desc.status.name == "RUNNING"
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            out[pid] = False
    return out


def _registered(ids: list[str]) -> tuple[dict[str, bool | None], str | None]:
    """Asked of the server when one answers; otherwise unknown, with the reason."""
    async def ask() -> dict[str, bool | None]:
        return await registration(await connect(), ids)

    try:
        return asyncio.run(ask()), None
    except (UserError, RPCError) as exc:
        return dict.fromkeys(ids), " ".join(str(exc).split()).split(" (")[0]


def _reminders_text(row: dict[str, Any]) -> str:
    if row["due_on"] is None:
        return "-"
    mark = {"sent": "✓", "pending": "·", "missed": "✗"}
    return ", ".join(f"{r['on'][5:]} {mark[r['state']]}" for r in row["reminders"])


def run_list(args: argparse.Namespace) -> int:
    selected = cycle_packs(args.jurisdiction)
    year = _year(args)
    registered, why = _registered([p.id for p in selected])
    out = rows(selected, year, registered)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if why:
        print(f"(workflows not checked: {why})")
    print(table(["id", "duty", "responsible", "due (Beijing)", "reminders", "article", "note"], [
        [r["id"], terminal_text(r["title"]), terminal_text(r["actor_name"]),
         _due_text(r), _reminders_text(r), r["citation"], _note(r)] for r in out]))
    print(f"\n{year}: ✓ reminded, · not yet, ✗ not reminded before the due day; "
          "* 暂定 (provisional calendar). "
          "One duty in full: shixian cycle show ID")
    return 0


def _due_text(row: dict[str, Any]) -> str:
    if row["due_on"] is None:
        return f"no due day ({row['no_limit']})"
    return str(row["due_on"]) + ("*" if row["provisional"] else "")


def _note(row: dict[str, Any]) -> str:
    notes = []
    if row["validity"]:
        notes.append(row["validity"].split(" (")[0])
    if row["registered"] is False:
        notes.append("workflow not running: shixian cycle register")
    return "; ".join(notes)


UNSENT = {"pending": "not sent yet", "missed": "not sent (no cycle workflow ran then)"}


def find(ident: str) -> tuple[PolicyPack, str]:
    """PACK:CYCLE, JURISDICTION:CYCLE or a CYCLE only one pack has."""
    every = cycle_packs()
    if ":" in ident:
        where, cid = ident.split(":", 1)
        chosen = [p for p in every if p.id in resolve_jurisdiction(where)]
    else:
        where, cid, chosen = "", ident, every
    hits = [p for p in chosen if any(c.id == cid for c in p.cycles)]
    if len(hits) == 1:
        return hits[0], cid
    known = ", ".join(f"{p.id}:{c.id}" for p in chosen for c in p.cycles)
    if hits:
        raise UserError(f"cycle {cid!r} is in {len(hits)} packs; say which: "
                        + ", ".join(f"{p.id}:{cid}" for p in hits))
    raise UserError(f"unknown cycle {ident!r}; known cycles: {known}")


def run_show(args: argparse.Namespace) -> int:
    pack, cid = find(args.id)
    year = _year(args)
    registered, _why = _registered([pack.id])
    row = next(r for r in rows([pack], year, registered) if r["cycle"] == cid)
    if args.json:
        print(json.dumps(row, ensure_ascii=False, indent=2))
        return 0
    state = {True: "running", False: "not running (shixian cycle register)",
             None: "not checked (no Temporal server)"}[row["registered"]]
    lines = [
        ("cycle", f"{row['id']}  {terminal_text(row['title'])}"),
        ("jurisdiction", f"{row['jurisdiction']} ({row['policy']}"
                         f"{', 征求意见稿 — draft, not in force' if row['draft'] else ''})"),
        ("year", str(year)),
        ("responsible", f"{terminal_text(row['actor_name'])} ({row['actor']})"),
        ("opens", row["opens_on"] or "-"),
        ("due (Beijing)", _due_text(row) + (
            f"  (the text's day {row['nominal_on']}, moved: rest day)"
            if row["nominal_on"] and row["nominal_on"] != row["due_on"] else "")),
        ("article", row["citation"]),
        ("validity", row["validity"] or "in force"),
        ("workflow", f"{row['workflow_id']}: {state}"),
    ]
    for r in row["reminders"]:
        sent = f"sent {r['sent_at']}" if r["sent_at"] else UNSENT[r["state"]]
        lines.append((f"reminder {r['before']}",
                      f"{r['on']} 09:00 → {'、'.join(r['recipients'])}: {sent}"))
    if row["interpretation"]:
        lines.append(("interpretation", " ".join(row["interpretation"].split())))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key.ljust(width)}  {value}")
    return 0


async def register_cycles(client: Client, selected: list[PolicyPack] | None = None,
                          task_queue: str | None = None) -> list[tuple[str, bool]]:
    """Start `cycle-<pack>` for each pack with yearly duties; (workflow id, started now).
    A running one is left alone, so calling it at every `shixian up` changes nothing."""
    out: list[tuple[str, bool]] = []
    for pack in cycle_packs() if selected is None else selected:
        wid = cycle_workflow_id(pack.id)
        try:
            await client.start_workflow(
                JurisdictionCycleWorkflow.run, CycleInput(policy=pack.id), id=wid,
                task_queue=task_queue or config.task_queue(),
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
            out.append((wid, True))
        except WorkflowAlreadyStartedError:
            out.append((wid, False))
    return out


def run_register(args: argparse.Namespace) -> int:
    selected = cycle_packs(args.jurisdiction)

    async def go() -> list[tuple[str, bool]]:
        return await register_cycles(await connect(), selected)

    for wid, started in asyncio.run(go()):
        print(f"{'started' if started else 'running'} {wid}")
    return 0
