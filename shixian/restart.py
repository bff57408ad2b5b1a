"""Starting a project that already runs: say what the file says differently, field by field,
and which of its documents the workflow has not recorded (they are never dropped silently).

A running project keeps the fields it started with (its deadlines were counted from them);
documents can still be recorded, with `shixian start FILE --record-new-documents` or one
`shixian doc` line each, which this module writes out.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import Client

from shixian import liveness
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, LifecycleInput, Project, StatusView

QUERY_WAIT = timedelta(seconds=10)
FIELDS = tuple(f for f in Project.model_fields if f not in ("id", "documents"))


@dataclass
class Restart:
    """What differs between a running project and the file that starts it again."""

    project_id: str
    differences: list[str] = field(default_factory=list)  # "owner: 'A' → 'B'"
    new_documents: list[DocumentArrival] = field(default_factory=list)
    # Where the recorded documents were read: the workflow's status, or only its start
    # input when no worker answered (documents recorded since then are not known).
    source: str = "status"

    @property
    def same(self) -> bool:
        return not self.differences and not self.new_documents

    def doc_commands(self) -> list[str]:
        out = []
        for d in self.new_documents:
            cmd = ["shixian", "doc", self.project_id, d.type, "--on", d.on.isoformat()]
            for flag, value in (("--ref", d.ref), ("--by", d.by),
                                ("--until", d.until.isoformat() if d.until else None)):
                if value:
                    cmd += [flag, value]
            out.append(shlex.join(cmd))
        return out

    def as_dict(self) -> dict[str, object]:
        return {"differences": self.differences,
                "new_documents": [d.model_dump(mode="json", exclude_none=True)
                                  for d in self.new_documents],
                "documents_read_from": self.source}


def _shown(value: object) -> str:
    return repr(value.value if hasattr(value, "value") else value)


def differences(old: Project, new: Project) -> list[str]:
    """Field by field (facts key by key), in the projects file's terms."""
    out = []
    for name in FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if name == "facts":
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    out.append(f"facts.{key}: {_shown(a.get(key))} → {_shown(b.get(key))}")
        elif a != b:
            out.append(f"{name}: {_shown(a)} → {_shown(b)}")
    return out


def _key(d: DocumentArrival) -> tuple[str, str]:
    return d.type, d.on.isoformat()


def compare(old: Project, recorded: list[DocumentArrival], new: Project,
            source: str = "status") -> Restart:
    seen = {_key(d) for d in recorded}
    return Restart(project_id=new.id, differences=differences(old, new),
                   new_documents=[d for d in sorted(new.documents, key=lambda d: d.on)
                                  if _key(d) not in seen],
                   source=source)


async def started_input(client: Client, workflow_id: str) -> LifecycleInput | None:
    """The latest run's input (after continue-as-new the project is carried unchanged);
    None when it cannot be read as today's input (a v1 project, say)."""
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        attrs = event.workflow_execution_started_event_attributes
        try:
            values = await client.data_converter.decode(attrs.input.payloads, [LifecycleInput])
        except Exception:
            return None
        inp = values[0]
        return inp if isinstance(inp, LifecycleInput) else None
    return None


async def check(client: Client, workflow_id: str, new: Project) -> Restart | None:
    """Compare the file's project with the running one; None when it cannot be read."""
    inp = await started_input(client, workflow_id)
    if inp is None:
        return None
    handle = client.get_workflow_handle(workflow_id)
    try:
        wf = await liveness.describe(handle)
        if await liveness.live_pollers(client, wf.task_queue) > 0:
            status: StatusView = await handle.query(ProjectLifecycleWorkflow.status,
                                                    rpc_timeout=QUERY_WAIT)
            return compare(inp.project, status.documents, new)
    except Exception:
        pass
    carried = inp.carried.documents if inp.carried else []
    return compare(inp.project, [*inp.project.documents, *carried], new, source="start input")
