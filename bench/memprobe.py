"""Where a cached project's memory goes (issue #12), by hand:

    .venv/bin/python bench/memprobe.py [--projects N] [--runner sandboxed|unsandboxed]
        [--bare [--bare-input-kb K]] [--trace] [--referrers TYPE] [--profile FILE]
        [--save-history FILE]

The workflows' worker runs in this process (activities and delivery in a child, as in
`bench/scale.py`). After a warm-up, N projects (or bare workflows) start and settle; then
the growth per workflow of RSS, of the C heap (glibc `mallinfo2`: Python objects past
pymalloc's arenas, and the Rust core's allocations), of Python's traced allocations, and
of live objects by type is printed, with one history's size. `--trace` adds tracemalloc
by allocation site (slow), `--referrers` what holds an object of a type, `--profile` a
cProfile of the workflow-task thread (the CPU figure also counts this process's client).
Session 5 found with it that a workflow's input is kept several times over by the SDK's
core (`--bare --bare-input-kb 40`) and that the run loop held its wake's views.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import cProfile
import ctypes
import gc
import os
import sys
import threading
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def c_heap_kb() -> float:
    """Bytes in use from malloc (small blocks + mmapped blocks), in KB."""
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return float(info.uordblks + info.hblkhd) / 1024


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def type_counts() -> collections.Counter[str]:
    gc.collect()
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def snapshot() -> dict[str, Any]:
    gc.collect()
    return {"rss": rss_kb(), "c": c_heap_kb(), "traced": tracemalloc.get_traced_memory()[0] / 1024,
            "types": type_counts(),
            "trace": tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None}


def _describe(o: object) -> str:
    if isinstance(o, dict):
        return f"dict keys={list(o)[:6]}"
    if isinstance(o, list | tuple):
        return f"{type(o).__name__} len={len(o)}"
    return type(o).__qualname__


def show_referrers(name: str) -> None:
    gc.collect()
    found = [o for o in gc.get_objects() if type(o).__qualname__ == name][-1:]
    for obj in found:
        for r1 in gc.get_referrers(obj):
            if r1 is found or isinstance(r1, type(sys._getframe())):
                continue
            print(f"  {name} <- {_describe(r1)}")
            for r2 in gc.get_referrers(r1)[:6]:
                if isinstance(r2, type(sys._getframe())) or r2 is found:
                    continue
                print(f"      <- {_describe(r2)}")
                for r3 in gc.get_referrers(r2)[:4]:
                    if not isinstance(r3, type(sys._getframe())) and r3 is not found:
                        print(f"          <- {_describe(r3)}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--projects", type=int, default=200)
    ap.add_argument("--runner", choices=("sandboxed", "unsandboxed"), default="sandboxed")
    ap.add_argument("--bare", action="store_true", help="bare timer workflows instead")
    ap.add_argument("--bare-input-kb", type=int, default=0,
                    help="give each bare workflow an input of this many KB")
    ap.add_argument("--referrers", metavar="TYPE",
                    help="print what holds one live object of this type (two levels)")
    ap.add_argument("--profile", metavar="FILE",
                    help="cProfile the workflow-task thread over the measured starts "
                         "(pstats file)")
    ap.add_argument("--trace", action="store_true", help="tracemalloc (slow) by file:line")
    ap.add_argument("--save-history", metavar="FILE", type=Path,
                    help="write one project's history until it rests (JSON, as `temporal "
                         "workflow show` writes it): `bench/replay_profile.py FILE` then "
                         "times a first wake replayed")
    args = ap.parse_args()

    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from bench.bare import BareTimerWorkflow
    from bench.profiling import ProfilingExecutor
    from bench.scale import (
        BARE_SLEEP,
        WorkerProc,
        bench_home,
        local_env,
        prepared,
        settle,
    )
    from calendars.engine import WorkCalendar
    from shixian import operations
    from shixian.client import workflow_id
    from shixian.worker_runtime import WORKFLOWS, workflow_runner

    tmp = bench_home("shixian-memprobe-", "probe")
    env = await local_env()
    address = env.client.service_client.config.target_host
    client = env.client
    activities = WorkerProc("shixian-activities", address, "probe")
    from shixian.worker_runtime import detached_start

    class DetachedUnsandboxed(UnsandboxedWorkflowRunner):
        def create_instance(self, det: Any) -> Any:
            return super().create_instance(detached_start(det))

    runner: Any = (workflow_runner() if args.runner == "sandboxed"
                   else DetachedUnsandboxed())
    profiler = cProfile.Profile()
    profiling = threading.Event()
    worker = Worker(client, task_queue="probe", max_cached_workflows=50_000,
                    workflow_task_executor=ProfilingExecutor(profiler, profiling),
                    workflows=[BareTimerWorkflow] if args.bare else WORKFLOWS,
                    workflow_runner=runner)

    class Self:  # `settle` asks the worker for its CPU: this process's
        kind = "probe"

        @staticmethod
        def cpu_s() -> float:
            t = os.times()
            return t.user + t.system

    calendar = WorkCalendar.default()
    today = operations.today()

    async def start(tag: str, count: int) -> list[str]:
        if args.bare:
            ids = [f"bare-{tag}{k}" for k in range(count)]
            # random text: the compression codec leaves it as it is
            ballast = base64.b64encode(os.urandom(768 * args.bare_input_kb)).decode()
            for w in ids:
                await client.start_workflow(
                    BareTimerWorkflow.run, args=[BARE_SLEEP, ballast],
                    id=w, task_queue="probe")
            return ids
        batch = prepared(tmp, tag, count, calendar, today)
        for i in batch:
            await operations.start_project(client, i)
        return [workflow_id(i.project.id) for i in batch]

    try:
        async with worker:
            await settle(client, Self, await start("W", 20))  # type: ignore[arg-type]
            if args.trace:
                tracemalloc.start(12)
            before = snapshot()
            cpu0 = Self.cpu_s()
            n = args.projects
            if args.profile:
                profiling.set()
            await settle(client, Self, await start("M", n))  # type: ignore[arg-type]
            profiling.clear()
            cpu = Self.cpu_s() - cpu0  # with settle's polls: a few ms in all
            if args.profile:
                profiler.dump_stats(args.profile)
            after = snapshot()
            if args.referrers:
                show_referrers(args.referrers)
            ids = await start("H", 1)
            await settle(client, Self, ids)  # type: ignore[arg-type]
            history = await client.get_workflow_handle(ids[0]).fetch_history()
            if args.save_history:
                args.save_history.write_text(history.to_json(), encoding="utf-8")
    finally:
        activities.stop()
        await env.shutdown()
    kind = "bare" if args.bare else f"shixian ({args.runner})"
    print(f"{kind}, {n} workflows, per workflow:")
    print(f"  CPU of this process (workflow tasks) {cpu * 1000 / n:6.2f} ms")
    print(f"  RSS {(after['rss'] - before['rss']) / n:8.1f} KB")
    print(f"  C heap in use (mallinfo2) {(after['c'] - before['c']) / n:8.1f} KB")
    if args.trace:
        print(f"  Python traced {(after['traced'] - before['traced']) / n:8.1f} KB")
    sizes = sorted(((e.ByteSize(), e.event_id, e.WhichOneof("attributes") or "?")
                    for e in history.events), reverse=True)
    print(f"  one history until it rests: {len(history.events)} events, "
          f"{sum(s for s, *_ in sizes) / 1024:.1f} KB; largest: "
          + ", ".join(f"#{i} {kind.removesuffix('_event_attributes')} {size / 1024:.1f} KB"
                      for size, i, kind in sizes[:4]))
    grown = after["types"] - before["types"]
    print("  live objects per workflow, by type (top 25):")
    for name, count in grown.most_common(25):
        print(f"    {count / n:8.1f}  {name}")
    if args.trace:
        stats = after["trace"].compare_to(before["trace"], "traceback")
        by_site: collections.Counter[str] = collections.Counter()
        by_file: collections.Counter[str] = collections.Counter()
        for stat in stats:
            inner = stat.traceback[-1]
            by_file[f"{Path(inner.filename).parent.name}/{Path(inner.filename).name}"] += \
                stat.size_diff
            ours = [f for f in stat.traceback
                    if str(ROOT) in f.filename and "/.venv/" not in f.filename]
            frame = ours[-1] if ours else stat.traceback[-1]
            site = f"{Path(frame.filename).name}:{frame.lineno}"
            by_site[site] += stat.size_diff
        print("  traced growth by the innermost site of ours (top 25):")
        for site, size in by_site.most_common(25):
            print(f"    {size / 1024 / n:7.1f} KB  {site}")
        print("  traced growth by the file that allocated (top 15):")
        for site, size in by_file.most_common(15):
            print(f"    {size / 1024 / n:7.1f} KB  {site}")


if __name__ == "__main__":
    asyncio.run(main())
