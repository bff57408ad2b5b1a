"""The README's main job, as a newcomer runs it: `shixian up` on embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shixian.temporal_env import free_port


def up(tmp_path: Path, port: int, dashboard_port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TEMPORAL_") and k != "SHIXIAN_CONTACTS"}
    env.update(SHIXIAN_HOME=str(tmp_path / ".shixian"),
               SHIXIAN_DATABASE_URL=f"sqlite:///{tmp_path / 'read.db'}")
    return subprocess.run(
        [sys.executable, "-m", "shixian", "up", "--once", "--port", str(port),
         "--dashboard-port", str(dashboard_port)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )


def test_up_starts_server_worker_and_example_portfolio(tmp_path: Path) -> None:
    port, dashboard_port = free_port(), free_port()
    first = up(tmp_path, port, dashboard_port)
    assert first.returncode == 0, first.stderr
    for pid in ("JJ-2026-001", "JJ-2026-014", "JJ-2025-009", "JJ-2026-023"):
        assert f"started project-{pid}" in first.stdout
    assert f"Temporal Web UI: http://127.0.0.1:{port + 1000}" in first.stdout
    assert "fsr_submission +" in first.stdout  # JJ-2026-001 is overdue on its FSR
    assert (tmp_path / ".shixian" / "temporal.db").is_file()
    assert f"dashboard: http://127.0.0.1:{dashboard_port}/" in first.stdout
    assert (tmp_path / "read.db").is_file()  # the overview came from the read model
    assert f"notices: written to {tmp_path / '.shixian' / 'mailbox'}/" in first.stdout
    # Run again: the server's state persisted, nothing is started twice.
    second = up(tmp_path, port, dashboard_port)
    assert second.returncode == 0, second.stderr
    assert "exists  project-JJ-2026-001" in second.stdout
    assert "started" not in second.stdout
