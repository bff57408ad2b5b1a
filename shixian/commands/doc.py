"""`shixian doc`: record documents that arrived for a project, one or a batch.

A fresh process imports Temporal's client and this module; the pydantic models, the data
converter and `shixian.updates` (which names the workflow's update and signal, so the
workflow itself is never imported) only once the project is found: an unknown id is
answered without them (issue #12). `shixian start`'s machinery is never imported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.client import WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from shixian import liveness
from shixian.client import connect, project_handle, workflow_id
from shixian.errors import UserError
from workflows.outcomes import RecordOutcome

if TYPE_CHECKING:
    from workflows.models import DocumentArrival

DOC_EPILOG = """\
examples:
  shixian doc JJ-2026-001 proposal_submitted --on 2026-10-15 --ref JJ-FGW-2026-88
  shixian doc JJ-2026-001 extension_granted --on 2027-05-06 --until 2027-06-30
  shixian doc --file inbox-2026-11-23.csv          a batch, one result line per entry
  tail -n 5 arrivals.jsonl | shixian doc --file - --json
  shixian policy show jiujiang-2024     lists the document types of a policy

batch file (--file): CSV with a header (project_id,type,on,ref,by,until,period or
项目编号,文件类型,日期,文号,报送单位,延期至,所属期), JSON lines (.jsonl/.json, `-` = stdin), or a
YAML list (.yaml/.yml) of {project_id, type, on, ref?, by?, until?, period?}. Entries are
recorded in file order; each prints `line N: accepted|duplicate|refused|malformed: …` (CSV: the
spreadsheet row). A malformed entry, an unknown project, or a project that does not answer
does not stop the others; a summary line goes to stderr.

Outcomes: accepted, duplicate, refused (the workflow said no, with the reason), malformed
(the entry could not be read), queued (no worker polls the project's task queue, the
project did not answer within --wait, or Ctrl-C: the document was sent as a durable
`document_arrived` signal, kept in the project's history and applied when a worker runs
it — a refusal then shows in `shixian status`), failed (not sent: Temporal unreachable —
send it again; a second copy is reported as a duplicate).

exit status: 0 accepted, duplicate or queued (every entry, with --file); 3 if any failed;
otherwise 2 if any was refused or malformed.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    doc = sub.add_parser(
        "doc", help="record a document that arrived for a project",
        description="Record a document (by its policy's type id) on the project's workflow. "
                    "The workflow checks it: unknown type, not expected now, dated in the "
                    "future or before the launch notice → refused with reason. A document "
                    "that breaks an order, a minimum or a window is recorded and flagged as "
                    "a breach (违规). --file records each project's lines as one batch.",
        epilog=DOC_EPILOG, formatter_class=fmt,
    )
    doc.add_argument("project_id", metavar="PROJECT_ID", nargs="?")
    doc.add_argument("doc_type", metavar="DOC_TYPE", nargs="?")
    doc.add_argument("--on", type=parse_day, help="business date (YYYY-MM-DD); required "
                     "unless --file")
    doc.add_argument("--ref", default=None, help="document number, e.g. 九发改字〔2026〕88号")
    doc.add_argument("--by", default=None, help="who recorded or sent it")
    doc.add_argument("--until", type=parse_day, default=None,
                     help="new due day, for an extension document")
    doc.add_argument("--period", default=None, metavar="PERIOD",
                     help="for a periodic report (季度/月度/年度报告): the period it reports "
                          "on, e.g. 2026Q3, 2026-07 or 2026; without it a report settles the "
                          "oldest period still open")
    doc.add_argument("--file", type=Path, metavar="FILE",
                     help="record a batch of documents from a CSV, JSON-lines or YAML file "
                          "(`-` = JSON lines on stdin) instead of one")
    doc.add_argument("--json", action="store_true",
                     help="print the result as JSON (with --file: one object per line)")
    doc.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                     help="how long to wait for the project's workflow to answer (default "
                          "30); past it the document is queued as a durable signal")
    doc.set_defaults(handler=run_doc, doc_parser=doc)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run_doc(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.doc_parser
    if args.wait <= 0:
        parser.error("--wait takes a number of seconds > 0")
    if args.file is not None:
        if args.project_id or args.doc_type or args.on or args.ref or args.by or args.until \
                or args.period:
            parser.error("--file takes no PROJECT_ID, DOC_TYPE, --on, --ref, --by, --until or "
                         "--period: "
                         "each entry in the file carries its own")
        return run_doc_file(args.file, args.json, args.wait)
    if not (args.project_id and args.doc_type and args.on):
        parser.error("give PROJECT_ID DOC_TYPE --on DATE (one document) or --file FILE "
                     "(a batch)")

    async def main() -> int:
        client = await connect(converter_on_first_use=True)
        try:  # the project first: an unknown id is answered without the models
            handle = await project_handle(client, args.project_id)
        except UserError as exc:
            if args.json:
                print(json.dumps({"project_id": args.project_id, "type": args.doc_type,
                                  "on": args.on.isoformat(), "outcome": "refused",
                                  "reason": str(exc), "stage": ""}, ensure_ascii=False))
            else:
                print(f"refused: {exc}", file=sys.stderr)
            return EXIT[RecordOutcome.REFUSED.value]
        doc = document_from_args(args)
        sender = Sender(client, args.wait)
        outcome, reason, stage = await sender.send(args.project_id, doc, handle)
        if args.json:
            print(json.dumps({"project_id": args.project_id, "type": doc.type,
                              "on": doc.on.isoformat(), "outcome": outcome, "reason": reason,
                              "stage": stage}, ensure_ascii=False))
        elif outcome in (RecordOutcome.REFUSED.value, FAILED):
            print(f"{outcome}: {reason}", file=sys.stderr)
        elif outcome == QUEUED:
            print(f"{outcome}: {reason}")
        else:
            print(f"{outcome}: {args.project_id} {doc.type} on {doc.on} (stage {stage})")
        return EXIT[outcome]

    return asyncio.run(main())


def document_from_args(args: argparse.Namespace) -> DocumentArrival:
    """The document, or the parser's usage error naming the flag that is wrong."""
    from pydantic import ValidationError

    from workflows.models import DocumentArrival

    parser: argparse.ArgumentParser = args.doc_parser
    try:
        return DocumentArrival(type=args.doc_type, on=args.on, ref=args.ref, by=args.by,
                               until=args.until, period=args.period)
    except ValidationError as exc:  # a 700 KB --ref, a period written wrong: one line
        if any(e["loc"][:1] == ("period",) for e in exc.errors()):
            parser.error(f"--period {args.period!r}: write the period as 2026Q3, 2026-07 or "
                         "2026")
        parser.error("; ".join(f"--{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                               for e in exc.errors()))


SAY_WAITING = 2.0  # seconds before `doc` says it is still waiting for the project
FAILED = "failed"  # not sent: Temporal errors; send again
QUEUED = "queued"  # durable in the project's history, applied when a worker runs it
EXIT = {RecordOutcome.ACCEPTED.value: 0, RecordOutcome.DUPLICATE.value: 0, QUEUED: 0,
        RecordOutcome.REFUSED.value: 2, "malformed": 2, FAILED: 3}


class Sender:
    """Records documents with a bounded wait, and never loses one it was given.

    Temporal holds an update until a worker runs it; without a worker it would wait forever,
    and an update the server merely holds is lost with the caller (Ctrl-C) or a server
    restart. So when no worker polls the project's task queue, when the answer does not come
    within `wait` seconds, or when the caller interrupts, the documents are sent as
    `document_arrived` signals instead: durable in the workflow's history once the server
    takes them, applied in date order when a worker runs the project (a copy that the update
    also recorded is a duplicate there, which changes nothing). They are reported as queued.
    """

    def __init__(self, client: Any, wait: float) -> None:
        self.client = client
        self.wait = wait
        self.announced: set[str] = set()

    def handle(self, project_id: str) -> Any:
        return self.client.get_workflow_handle(workflow_id(project_id))

    async def send(self, project_id: str, doc: DocumentArrival,
                   found: WorkflowHandle[Any, Any] | None = None) -> tuple[str, str, str]:
        """(outcome, reason, stage); outcome accepted|duplicate|refused|queued|failed.
        `found`: the project's handle when the caller has already checked it exists."""
        from shixian import updates

        async def one() -> list[tuple[str, str, str]]:
            result = await updates.record_document(self.handle(project_id), doc)
            return [(result.outcome.value, result.reason, result.stage)]

        return (await self._deliver(project_id, [doc], one, found))[0]

    async def send_batch(self, project_id: str,
                         docs: list[DocumentArrival]) -> list[tuple[str, str, str]]:
        """One update for a project's documents (judged after the whole batch), in order."""
        from shixian import updates

        async def batch() -> list[tuple[str, str, str]]:
            outcomes, stage = await updates.record_documents(self.handle(project_id), docs)
            return [(o.outcome.value, o.reason, stage) for o in outcomes]

        return await self._deliver(project_id, docs, batch)

    async def _deliver(self, project_id: str, docs: list[DocumentArrival],
                       call: Callable[[], Awaitable[list[tuple[str, str, str]]]],
                       found: WorkflowHandle[Any, Any] | None = None,
                       ) -> list[tuple[str, str, str]]:
        from shixian.updates import one_line

        def every(outcome: str, reason: str) -> list[tuple[str, str, str]]:
            return [(outcome, reason, "")] * len(docs)

        try:
            handle = found or await project_handle(self.client, project_id)
            wf = await liveness.describe(handle)
        except UserError as exc:  # unknown project
            return every(RecordOutcome.REFUSED.value, str(exc))
        except Exception as exc:
            return every(FAILED, f"{project_id}: {one_line(exc)}")
        try:
            polling = await liveness.live_pollers(self.client, wf.task_queue)
        except Exception:
            polling = -1  # unknown: send and let the bounded wait decide
        if polling == 0:
            return await self._queue(handle, docs, liveness.no_worker(wf.task_queue),
                                     "it will apply when one does")
        pending = asyncio.ensure_future(call())
        try:
            done, _ = await asyncio.wait({pending}, timeout=min(SAY_WAITING, self.wait))
            if not done:
                print(f"waiting: {project_id} has not answered yet; up to {self.wait:g}s "
                      "(--wait), then — or on Ctrl-C — the document is queued durably",
                      file=sys.stderr, flush=True)
            return await asyncio.wait_for(pending, max(self.wait - SAY_WAITING, 0.1))
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            reason = await liveness.why_silent(self.client, handle)
            return await self._queue(handle, docs, f"not confirmed within {self.wait:g}s: "
                                     f"{reason}", "it will apply when the project runs again")
        except asyncio.CancelledError:  # Ctrl-C while the update was in flight
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
            await asyncio.shield(self._queue(handle, docs, "interrupted before the project "
                                             "answered", "it will apply if the update did not"))
            raise
        except UserError as exc:
            return every(RecordOutcome.REFUSED.value, str(exc))
        except Exception as exc:  # one project's failure never stops the batch
            return every(FAILED, f"{project_id}: {one_line(exc)}")

    async def _queue(self, handle: Any, docs: list[DocumentArrival], why: str,
                     when: str) -> list[tuple[str, str, str]]:
        """Send each document as a durable signal, in date order; (queued, reason, "")."""
        from shixian.updates import DOCUMENT_SIGNAL, one_line

        out: list[tuple[str, str, str]] = []
        project_id = handle.id.removeprefix("project-")
        for doc in docs:
            try:
                await handle.signal(DOCUMENT_SIGNAL, doc, rpc_timeout=liveness.RPC_TIMEOUT)
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:
                    out.append((RecordOutcome.REFUSED.value,
                                f"project {project_id}'s lifecycle has ended (finished or "
                                f"terminated); see `shixian status {project_id}`", ""))
                else:
                    out.append((FAILED, f"{project_id} {doc.type} on {doc.on}: not sent: "
                                f"{one_line(exc)}; send it again", ""))
                continue
            out.append((QUEUED, f"{project_id} {doc.type} on {doc.on} is in {handle.id}'s "
                        f"history: {when} (then `shixian status {project_id}` shows it, or a "
                        "refusal)", ""))
        if any(o == QUEUED for o, _, _ in out) and why not in self.announced:
            self.announced.add(why)
            print(f"queued: {why}; {when}", file=sys.stderr, flush=True)
        return out


def run_doc_file(path: Path, as_json: bool, wait: float = 30.0) -> int:
    """Record each project's entries as one batch (escalation is judged after the whole
    batch, so a history back-filled in date order sends no notice for an on-time step);
    every entry gets a result line, in file order, whatever the others did.

    Exit 0 when every entry was accepted or a duplicate, 3 when any failed (not confirmed:
    send those again), else 2 when any was refused or malformed.
    """
    from shixian.documents_file import DocLine, load_document_lines  # yaml, CSV: --file only

    entries = load_document_lines(path)
    by_project: dict[str, list[DocLine]] = {}
    for entry in entries:
        if entry.doc is not None and entry.project_id is not None:
            by_project.setdefault(entry.project_id, []).append(entry)

    async def main() -> int:
        client = await connect()
        sender = Sender(client, wait)
        results: dict[int, tuple[str, str, str]] = {}
        for project_id, lines in by_project.items():
            ordered = sorted(lines, key=lambda e: e.doc.on if e.doc else date.min)
            docs = [e.doc for e in ordered if e.doc is not None]
            for entry, res in zip(ordered, await sender.send_batch(project_id, docs),
                                  strict=True):
                results[entry.line] = res
        counts: dict[str, int] = {}
        for entry in entries:
            outcome, reason, stage = results.get(entry.line,
                                                 ("malformed", entry.problem or "", ""))
            counts[outcome] = counts.get(outcome, 0) + 1
            if as_json:
                doc = entry.doc
                print(json.dumps({
                    "line": entry.line, "project_id": entry.project_id,
                    "type": doc.type if doc else None,
                    "on": doc.on.isoformat() if doc else None,
                    "outcome": outcome, "reason": reason, "stage": stage,
                }, ensure_ascii=False), flush=True)
            elif entry.doc is not None and outcome not in ("refused", FAILED, QUEUED):
                print(f"line {entry.line}: {outcome}: {entry.project_id} {entry.doc.type} on "
                      f"{entry.doc.on} (stage {stage})", flush=True)
            else:
                print(f"line {entry.line}: {outcome}: {reason}", flush=True)
        print(f"{len(entries)} entries: " + ", ".join(
            f"{counts.get(k, 0)} {k}" for k in ("accepted", "duplicate", QUEUED, "refused",
                                                 "malformed", FAILED)),
              file=sys.stderr, flush=True)
        return max((EXIT[k] for k in counts), default=0)

    return asyncio.run(main())
