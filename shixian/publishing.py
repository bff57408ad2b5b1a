"""Publishing a year the State Council has announced: install the file, re-time projects.

`shixian calendar publish FILE` validates the file, installs it where every shixian
process reads published years ($SHIXIAN_HOME/calendars), then sends the year's day data to
every running project workflow (found through visibility) with the `apply_calendar`
update, which re-times open deadlines and records each one that moved. Re-running it
changes nothing and says so.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client

from calendars.engine import WorkCalendar
from calendars.loader import installed_dir
from calendars.model import CalendarError
from calendars.published import PublishedYear, load_published
from calendars.signing import load_private_key, public_key_text, sign
from shixian.errors import UserError
from shixian.operations import update_workflow
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import CalendarApplied, CalendarUpdate

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
    outcome: str  # applied | unchanged | refused
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


async def apply_to_running(client: Client, update: CalendarUpdate,
                           concurrency: int = PUBLISH_CONCURRENCY) -> list[ProjectResult]:
    """Send `update` to every running project, `concurrency` at a time; re-running it after
    an interruption changes nothing where the data is already in (`unchanged`)."""
    slots = asyncio.Semaphore(concurrency)

    async def one(wid: str) -> ProjectResult:
        project_id = wid.removeprefix("project-")
        async with slots:
            ok, value = await update_workflow(
                client, wid, ProjectLifecycleWorkflow.apply_calendar, update)
        if not ok:
            return ProjectResult(project_id, "refused", reason=str(value))
        assert isinstance(value, CalendarApplied)
        if value.unchanged:
            return ProjectResult(project_id, "unchanged")
        return ProjectResult(project_id, "applied", moved=value.moved)

    tasks = [asyncio.create_task(one(wf.id))
             async for wf in client.list_workflows(RUNNING)]
    results = await asyncio.gather(*tasks)
    return sorted(results, key=lambda r: r.project_id)
