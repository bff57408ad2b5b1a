"""`shixian worker` as ops run it: a process that logs JSON and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from temporalio.testing import WorkflowEnvironment


def test_worker_stops_gracefully_on_sigterm(dev_env: WorkflowEnvironment) -> None:
    env = dict(os.environ, TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host)
    proc = subprocess.Popen(
        [sys.executable, "worker.py", "--task-queue", "tq-sigterm", "--identity", "w-test",
         "--log-format", "json"],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        started = json.loads(proc.stderr.readline())  # blocks until the worker polls
        assert started["event"] == "worker started"
        assert (started["task_queue"], started["identity"]) == ("tq-sigterm", "w-test")
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[-2:] == ["worker stopping: finishing in-flight tasks", "worker stopped"]
