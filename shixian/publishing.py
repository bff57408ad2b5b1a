"""Publishing a year the State Council has announced: install the file, re-time projects.

`shixian calendar publish FILE` validates the file, installs it where every shixian
process reads published years ($SHIXIAN_HOME/calendars), then sends the year's day data
with the `apply_calendar` update, which re-times open deadlines and records each one that
moved, to the running projects that need it: those whose ShixianProvisionalYears search
attribute lists the year (or that have none yet). Re-running it changes nothing and says
so; after an interruption it finishes the rest.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from calendars.engine import WorkCalendar
from calendars.loader import installed_dir
from calendars.model import CalendarError, Provenance
from calendars.published import PublishedYear, load_published
from calendars.signing import load_private_key, public_key_text, sign
from shixian.errors import UserError
from shixian.operations import update_workflow
from workflows import search_attributes as sa
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import CalendarApplied, CalendarUpdate

# A project that has not answered by then (no worker polling its task queue, a workflow
# task that keeps failing) is reported `failed` and left for a re-run.
PUBLISH_WAIT_S = 30.0
# Updates in flight at once: each is a round trip and a workflow task, and the server and
# worker take many at a time (bench/scale.py measures the rate).
PUBLISH_CONCURRENCY = 16
RUNNING = ('WorkflowType IN ("ProjectLifecycleWorkflowV2", "ProjectLifecycleWorkflow") '
           'AND ExecutionStatus = "Running"')


@dataclass
class Installed:
    year: PublishedYear
    path: Path
    changed: bool


@dataclass
class ProjectResult:
    project_id: str
    outcome: str  # applied | unchanged | refused | failed
    moved: list[dict[str, str]] = field(default_factory=list)
    reason: str = ""


def install(source: Path, directory: Path | None = None) -> Installed:
    """Validate `source` and copy it to the installed directory as <year>.yaml."""
    try:
        published = load_published(source)
    except CalendarError as exc:
        raise UserError(str(exc)) from None
    target_dir = directory or installed_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{published.year}.yaml"
    new = source.read_bytes()
    changed = not target.is_file() or target.read_bytes() != new
    if changed and target.resolve() != source.resolve():
        shutil.copyfile(source, target)
    return Installed(published, target, changed)


def year_update(year: int, note: str, signing_key: Path | None = None) -> CalendarUpdate:
    """The published year and the one before it (a notice's 元旦 may start in December),
    signed with the Ed25519 key in `signing_key` (PEM) when one is given."""
    calendar = WorkCalendar.default()
    first = max(calendar.covered_years[0], year - 1)
    snapshot = dict(calendar.snapshot(first, year))
    if signing_key is None:
        return CalendarUpdate(snapshot=snapshot, note=note)
    try:
        key = load_private_key(signing_key.read_bytes())
    except OSError as exc:
        raise UserError(f"signing key {signing_key}: {exc.strerror}") from None
    except CalendarError as exc:
        raise UserError(f"signing key {signing_key}: {exc}") from None
    signature, key_id = sign(snapshot, note, key)
    return CalendarUpdate(snapshot=snapshot, note=note, signature=signature, key_id=key_id)


def keygen(directory: Path, name: str = "calendar-signing") -> tuple[Path, Path, str]:
    """A new Ed25519 key pair: <name>.pem (private, mode 600) and <name>.pub; never overwrites."""
    private, public = directory / f"{name}.pem", directory / f"{name}.pub"
    for path in (private, public):
        if path.exists():
            raise UserError(f"{path} exists; move it away or pick another --out directory "
                            "(a key in use must not be replaced by accident)")
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    text = public_key_text(key)
    public.write_text(text + "\n", encoding="utf-8")
    return private, public, text


def published_years(update: CalendarUpdate) -> list[int]:
    """The years `update` carries announced data for (not its provisional ones)."""
    years = update.snapshot.get("years", {})
    return sorted(int(y) for y, prov in years.items() if prov != Provenance.PROVISIONAL)


def affected_query(years: list[int] | None) -> str:
    """Running projects that count a deadline over a provisional day of `years`, and those
    that do not say (started before ShixianProvisionalYears, or not yet at their first
    task); every running project when `years` is None."""
    if years is None:
        return RUNNING
    listed = ", ".join(f'"{y}"' for y in years)
    return (f"{RUNNING} AND ({sa.PROVISIONAL_YEARS.name} IN ({listed}) "
            f"OR {sa.PROVISIONAL_YEARS.name} IS NULL)")


async def affected_projects(client: Client, years: list[int] | None) -> list[str]:
    """The workflow ids `calendar publish` sends the data to, listed before sending: an
    applied project stops listing the year, and that must not shift the list being read."""
    return [wf.id async for wf in client.list_workflows(affected_query(years), page_size=1000)]


async def apply_to_running(client: Client, update: CalendarUpdate,
                           concurrency: int = PUBLISH_CONCURRENCY, *,
                           every: bool = False,
                           ids: list[str] | None = None,
                           wait: float = PUBLISH_WAIT_S,
                           on_result: Callable[[ProjectResult], None] | None = None,
                           ) -> list[ProjectResult]:
    """Send `update` to the running projects the published years change (`every`: to all),
    `concurrency` at a time, calling `on_result` as each answers.

    Resumable: a project that has the data answers `unchanged` and changes nothing, and an
    applied one no longer lists the year, so a re-run after an interruption finds the rest.
    One project failing (a server error, no answer within `wait` seconds) does not stop
    the others: it is `failed`."""
    if ids is None:
        ids = await affected_projects(client, None if every else published_years(update))
    pending = iter(ids)
    results: list[ProjectResult] = []

    async def one(wid: str) -> ProjectResult:
        project_id = wid.removeprefix("project-")
        silent = (f"no answer within {wait:g} s: is a worker polling its task queue? "
                  "(run the command again once it is)")
        try:
            ok, value = await asyncio.wait_for(update_workflow(
                client, wid, ProjectLifecycleWorkflow.apply_calendar, update), wait)
        except TimeoutError:
            return ProjectResult(project_id, "failed", reason=silent)
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # Ctrl-C: stop, do not go on
                raise asyncio.CancelledError from exc
            if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError):  # `wait` ran out
                return ProjectResult(project_id, "failed", reason=silent)
            return ProjectResult(project_id, "failed", reason=str(exc) or type(exc).__name__)
        if not ok:
            return ProjectResult(project_id, "refused", reason=str(value))
        assert isinstance(value, CalendarApplied)
        if value.unchanged:
            return ProjectResult(project_id, "unchanged")
        return ProjectResult(project_id, "applied", moved=value.moved)

    async def sender() -> None:
        for wid in pending:  # one shared iterator: each id goes to exactly one sender
            result = await one(wid)
            results.append(result)
            if on_result is not None:
                on_result(result)

    await asyncio.gather(*(sender() for _ in range(max(1, min(concurrency, len(ids))))))
    return sorted(results, key=lambda r: r.project_id)
