"""What the commands do, as async functions the CLI, `shixian up` and tests share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from calendars.engine import WorkCalendar
from calendars.model import CalendarError
from policies.loader import PolicyError, load_pack
from policies.model import OWNER_TYPE_TITLES, PolicyPack
from shixian import config, updates
from shixian.client import project_handle, workflow_id
from shixian.errors import UserError
from workflows import search_attributes as sa
from workflows.ledger import Ledger, Refused, business_date
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import (
    DocumentArrival,
    DocumentOutcome,
    LedgerState,
    LifecycleInput,
    Project,
    RecordOutcome,
    RecordResult,
    StatusView,
)

# Years of day data a project carries: its start year and the next eight, enough for the
# approval chain, a trial run, acceptance and a 12-month self-evaluation window.
CALENDAR_YEARS_AHEAD = 8


def today() -> date:
    return business_date(datetime.now(UTC))


def calendar_snapshot(calendar: WorkCalendar, started_on: date) -> dict[str, object]:
    first, last = calendar.covered_years
    if not first <= started_on.year <= last:
        raise UserError(f"start date {started_on} is outside the calendar ({first}–{last})")
    return dict(calendar.snapshot(started_on.year, min(last, started_on.year +
                                                       CALENDAR_YEARS_AHEAD)))


class StartCalendars:
    """For one calendar, the snapshot a project started in a given year carries and the
    calendar rebuilt from it, taken once per start year: a projects file of 10,000 has a
    few start years, and taking them per project was a quarter of `shixian start`'s
    check phase."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._by_year: dict[int, tuple[dict[str, object], WorkCalendar]] = {}

    def for_start(self, started_on: date) -> tuple[dict[str, object], WorkCalendar]:
        found = self._by_year.get(started_on.year)
        if found is None:
            snapshot = calendar_snapshot(self.calendar, started_on)
            found = self._by_year[started_on.year] = (snapshot,
                                                      WorkCalendar.from_snapshot(snapshot))
        return found


POLICY_FLAGS = {"draft": "--allow-draft-policy", "expired": "--allow-expired-policy"}


def policy_caution(pack: PolicyPack, started_on: date) -> tuple[str, str] | None:
    """(draft|expired|not_yet, why) when starting under this pack needs an explicit choice."""
    note = pack.validity_on(started_on)
    if note is None:
        return None
    if pack.status == "draft":
        return "draft", note
    if pack.effective_from is not None and started_on < pack.effective_from:
        return "not_yet", note
    return "expired", note


def prepare(project: Project, calendar: WorkCalendar | StartCalendars, on: date | None = None,
            allow: frozenset[str] = frozenset()) -> LifecycleInput:
    """The workflow input, after checking the policy and every listed document like the
    workflow will (so a bad projects file is refused before anything starts). Many
    projects on one calendar: pass one `StartCalendars` for them all.

    A draft pack, or one that expired before the project started, needs `allow` to hold
    "draft" / "expired" (the CLI's --allow-draft-policy / --allow-expired-policy)."""
    try:
        pack = load_pack(project.policy)
    except PolicyError as exc:
        raise UserError(f"project {project.id}: {exc}") from None
    current = on or today()
    if project.owner_type not in pack.owner_types:
        covered = "、".join(OWNER_TYPE_TITLES[t] for t in pack.owner_types)
        where = f" ({pack.owner_types_citation})" if pack.owner_types_citation else ""
        raise UserError(f"project {project.id}: {pack.id} covers {covered}{where}, not "
                        f"{OWNER_TYPE_TITLES[project.owner_type]} ({project.owner_type}); "
                        "check the 业主类型 or the 适用办法")
    caution = policy_caution(pack, project.started_on)
    if caution is not None and caution[0] not in allow:
        kind, why = caution
        fix = (f"; start it anyway with {POLICY_FLAGS[kind]}" if kind in POLICY_FLAGS
               else "; use the pack in force on that day")
        raise UserError(f"project {project.id}: {why.rstrip('.。;；')}{fix}")
    if project.started_on > current:
        raise UserError(f"project {project.id}: started_on {project.started_on} is in the "
                        f"future (today is {current}); start it on or after its launch notice")
    try:
        snapshot, own = (calendar if isinstance(calendar, StartCalendars)
                         else StartCalendars(calendar)).for_start(project.started_on)
        ledger = Ledger(project, pack, own, LedgerState())
    except CalendarError as exc:
        raise UserError(f"project {project.id}: {exc}") from None
    now = datetime.now(UTC)
    problems: list[str] = []
    for _i, doc in enumerate(sorted(project.documents, key=lambda d: d.on), start=1):
        try:
            if ledger.check_document(doc, current) is RecordOutcome.ACCEPTED:
                ledger.add_document(doc, now)
        except Refused as exc:
            problems.append(f"project {project.id}: document {doc.type} on {doc.on}: "
                            f"{exc.message}")
    if problems:
        raise UserError("\n".join(problems))
    return LifecycleInput(project=project, pack=pack, calendar=snapshot,
                          calendar_keys=config.trusted_calendar_keys(), one_task_wake=True,
                          wake_in_one_task=True, provisional_years=True,
                          search_attribute_changes=True)


def start_details(inp: LifecycleInput) -> str:
    """Markdown the Web UI shows under the workflow: whose project, under which rules."""
    p = inp.project
    lines = [f"**{p.name}** ({p.id})",
             f"- 业主单位 owner: {p.owner} ({p.owner_type})",
             f"- 辖区 jurisdiction: {inp.pack.jurisdiction} · 规则 policy: {inp.pack.id} "
             f"({inp.pack.title})",
             f"- 投资 investment: {p.investment_wan:,.0f} 万元 · {p.category} · "
             f"{p.kind}",
             f"- 启动 started on: {p.started_on} · 已收文件 documents at start: "
             f"{len(p.documents)}",
             "- `shixian status " + p.id + "` tells the rest"]
    return "\n".join(lines)


async def start_project(client: Client, inp: LifecycleInput) -> bool:
    """Start the project's workflow; False (and nothing changed) when it already exists."""
    project = inp.project
    attributes: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.JURISDICTION, inp.pack.jurisdiction),
        SearchAttributePair(sa.OWNER, project.owner),
        SearchAttributePair(sa.STAGE, inp.pack.stages[0].id),
    ]
    if inp.provisional_years:  # what `calendar publish` finds it by, before its first wake
        attributes.append(SearchAttributePair(sa.PROVISIONAL_YEARS,
                                              sa.provisional_in(inp.calendar)))
    try:
        await client.start_workflow(
            ProjectLifecycleWorkflow.run,
            inp,
            id=workflow_id(project.id),
            task_queue=config.task_queue(),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=f"{project.id} {project.name}",
            static_details=start_details(inp),
        )
    except WorkflowAlreadyStartedError:
        return False
    except RPCError as exc:
        if exc.status is RPCStatusCode.INVALID_ARGUMENT and "search attribute" in str(exc):
            raise UserError(f"{exc}: register shixian's search attributes on this Temporal "
                            "namespace (README, 'Beyond one machine': temporal operator "
                            "search-attribute create …)") from None
        raise
    return True


async def record_document(client: Client, project_id: str, doc: DocumentArrival) -> RecordResult:
    return await updates.record_document(await project_handle(client, project_id), doc)


async def record_documents(client: Client, project_id: str,
                           docs: list[DocumentArrival]) -> tuple[list[DocumentOutcome], str]:
    """One batch update per project (`updates.MAX_BATCH` documents each): each document's
    outcome (in date order) and the stage."""
    return await updates.record_documents(await project_handle(client, project_id), docs)


async def update_workflow(client: Client, wid: str, update: Any, arg: Any) -> tuple[bool, Any]:
    """`update_project` for a workflow just listed: no describe round trip first."""
    return await updates.execute(client.get_workflow_handle(wid), update, arg)


async def run_update(client: Client, project_id: str, update: Any, arg: Any) -> tuple[bool, str]:
    """Run one of the workflow's updates; (False, reason) when its validator refused it."""
    ok, result = await update_project(client, project_id, update, arg)
    return ok, str(result)


async def update_project(client: Client, project_id: str, update: Any,
                         arg: Any) -> tuple[bool, Any]:
    """(True, the update's result), or (False, the reason it was refused)."""
    return await updates.execute(await project_handle(client, project_id), update, arg)


async def project_status(client: Client, project_id: str) -> StatusView:
    handle = await project_handle(client, project_id)
    status: StatusView = await handle.query(ProjectLifecycleWorkflow.status, today())
    return status
