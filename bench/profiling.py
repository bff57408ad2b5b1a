"""A workflow-task executor that profiles the tasks it runs, for the hand-run benches
(`bench/memprobe.py --profile`, `bench/replay_profile.py`)."""

from __future__ import annotations

import cProfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class ProfilingExecutor(ThreadPoolExecutor):
    """One thread; the tasks it runs while `on` is set are profiled into `profiler`."""

    def __init__(self, profiler: cProfile.Profile, on: threading.Event) -> None:
        super().__init__(max_workers=1)
        self.profiler, self.on = profiler, on

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            if not self.on.is_set():
                return fn(*args, **kwargs)
            self.profiler.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                self.profiler.disable()

        return super().submit(run)
