"""Where a replay's time goes (issue #12), by hand:

    .venv/bin/python bench/replay_profile.py HISTORY.json [--copies 20] [--top 25]
        [--sort tottime] [--all]

HISTORY.json is a workflow history as `temporal workflow show --output json` writes it, as
`bench/scale.py` leaves the five-year 九江 life (it prints the path), or a first wake's as
`bench/memprobe.py --save-history` writes it (`--bare` for a bare workflow's). The history is
replayed `--copies` times through one replayer with the production sandbox, after a
warm-up; the wall and CPU time per replay are printed, then a cProfile of the
workflow-task thread over the same number of replays: shixian's own code (the lines under
workflows/, calendars/, policies/, activities/, shixian/) by cumulative time, and the
share of the thread it accounts for.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("history", type=Path)
    ap.add_argument("--copies", type=int, default=20, help="replays measured (default 20)")
    ap.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    ap.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative",
                    help="list by time under a function, or in it (default cumulative)")
    ap.add_argument("--all", action="store_true",
                    help="first list every function of the thread (SDK, pydantic, sandbox)")
    args = ap.parse_args()

    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer

    from bench.bare import BareTimerWorkflow
    from bench.profiling import ProfilingExecutor
    from shixian.converter import DATA_CONVERTER
    from shixian.worker_runtime import WORKFLOWS, workflow_runner

    history = WorkflowHistory.from_json("replayed", args.history.read_text(encoding="utf-8"))
    profiler, on = cProfile.Profile(), threading.Event()
    replayer = Replayer(workflows=[*WORKFLOWS, BareTimerWorkflow], data_converter=DATA_CONVERTER,
                        workflow_runner=workflow_runner(),
                        workflow_task_executor=ProfilingExecutor(profiler, on))

    async def copies(n: int) -> AsyncIterator[WorkflowHistory]:
        for k in range(n):
            yield WorkflowHistory(f"replayed-{k}", history.events)

    await replayer.replay_workflows(copies(3), raise_on_replay_failure=True)  # imports
    wall, cpu = time.perf_counter(), time.process_time()
    await replayer.replay_workflows(copies(args.copies), raise_on_replay_failure=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(history.events)} events: {wall / args.copies * 1000:.2f} ms wall, "
          f"{cpu / args.copies * 1000:.2f} ms CPU per replay (the process, all threads)")
    on.set()
    await replayer.replay_workflows(copies(args.copies), raise_on_replay_failure=True)
    on.clear()
    stats = pstats.Stats(profiler)
    thread = stats.total_tt  # type: ignore[attr-defined]
    ours = ("/workflows/", "/calendars/", "/policies/", "/activities/", "/shixian/")
    if args.all:
        stats.sort_stats(args.sort).print_stats(args.top)
    entries = [(f, s) for f, s in stats.stats.items()  # type: ignore[attr-defined]
               if any(str(ROOT) + o in f[0] for o in ours)]
    run = max((s[3] for f, s in entries if f[2] == "run"), default=0.0)
    print(f"workflow-task thread (profiled): {thread / args.copies * 1000:.2f} ms per replay; "
          f"the workflow's run method and what it calls: {run / thread:.0%} of it")
    stats.sort_stats(args.sort).print_stats("|".join(o.strip("/") + "/" for o in ours),
                                            args.top)


if __name__ == "__main__":
    asyncio.run(main())
