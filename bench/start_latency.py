"""What one start costs with no worker running (issue #12), by hand:

    .venv/bin/python bench/start_latency.py [--starts 140] [--rounds 2]

`bench/scale.py` measures start rates with the workflows' worker running, so the start
client, the server and the worker's first wakes share the machine's cores. This starts
the example 九江 projects (`shixian start`'s own `operations.start_project`, after the same
checks) and bare timer workflows one at a time on a dev server with no worker polling,
interleaved by round, and prints each kind's mean time per start and the client process's
CPU per start: the part of a start that does not depend on the worker.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--starts", type=int, default=140, help="starts per kind and round")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    from bench.bare import BareTimerWorkflow
    from bench.scale import BARE_SLEEP, bench_home, local_env, prepared
    from calendars.engine import WorkCalendar
    from shixian import operations

    tmp = bench_home("shixian-start-latency-", "no-worker")
    env = await local_env()
    client = env.client
    n = args.starts
    batch = prepared(tmp, "S", 20 + n * args.rounds, WorkCalendar.default(),
                     operations.today())
    for inp in batch[:20]:  # warm-up: imports, the connection, the converter's caches
        await operations.start_project(client, inp)
    for k in range(20):
        await client.start_workflow(BareTimerWorkflow.run, BARE_SLEEP, id=f"warm-{k}",
                                    task_queue="no-worker")
    try:
        for r in range(args.rounds):
            wall, cpu = time.perf_counter(), time.process_time()
            for inp in batch[20 + r * n:20 + (r + 1) * n]:
                await operations.start_project(client, inp)
            s_wall, s_cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            for k in range(n):
                await client.start_workflow(BareTimerWorkflow.run, BARE_SLEEP,
                                            id=f"bare-{r}-{k}", task_queue="no-worker")
            b_wall, b_cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"round {r + 1}: shixian {s_wall / n * 1000:.1f} ms per start "
                  f"({s_cpu / n * 1000:.1f} ms client CPU), bare {b_wall / n * 1000:.1f} ms "
                  f"({b_cpu / n * 1000:.1f} ms client CPU): {b_wall / s_wall:.2f}× the bare "
                  "rate", flush=True)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
