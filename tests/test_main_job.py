"""The README's main job, as a newcomer runs it: `shixian up` on embedded defaults."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from shixian.commands.up import _embedded_server, address_hint
from shixian.temporal_env import free_port


def up(tmp_path: Path, port: int, dashboard_port: int, *extra: str
       ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TEMPORAL_") and k != "SHIXIAN_CONTACTS"}
    env.update(SHIXIAN_HOME=str(tmp_path / ".shixian"),
               SHIXIAN_DATABASE_URL=f"sqlite:///{tmp_path / 'read.db'}")
    return subprocess.run(
        [sys.executable, "-m", "shixian", "up", "--once", "--port", str(port),
         "--dashboard-port", str(dashboard_port), *extra],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )


def test_up_starts_server_worker_and_example_portfolio(tmp_path: Path) -> None:
    port, dashboard_port, ui_port = free_port(), free_port(), free_port()
    first = up(tmp_path, port, dashboard_port, "--ui-port", str(ui_port))
    assert first.returncode == 0, first.stderr
    for pid in ("JJ-2026-001", "JJ-2026-014", "JJ-2025-009", "JJ-2026-023"):
        assert f"started project-{pid}" in first.stdout
    assert f"Temporal Web UI: http://127.0.0.1:{ui_port}" in first.stdout
    assert f"export TEMPORAL_ADDRESS=127.0.0.1:{port}" in first.stdout
    assert f"state: {tmp_path / '.shixian'} (set by SHIXIAN_HOME)" in first.stdout
    # JJ-2026-001 is overdue on its FSR: the duty in Chinese and who must act on it.
    line = next(ln for ln in first.stdout.splitlines() if ln.startswith("JJ-2026-001"))
    assert "完成可行性研究报告编制及报审" in line and "市数据管理局" in line
    assert (tmp_path / ".shixian" / "temporal.db").is_file()
    assert f"dashboard: http://127.0.0.1:{dashboard_port}/" in first.stdout
    assert (tmp_path / "read.db").is_file()  # the overview came from the read model
    for policy in ("jiujiang-2024", "shangrao-2020", "xiangcheng-2018", "yushan-draft"):
        assert f"started cycle-{policy}" in first.stdout  # each jurisdiction's year
    assert f"notices: written to {tmp_path / '.shixian' / 'mailbox'}/" in first.stdout
    # The worker's log goes to a file, not between the overview's lines.
    worker_log = tmp_path / ".shixian" / "worker.log"
    assert f"worker log: {worker_log}" in first.stdout
    assert "worker started" not in first.stdout + first.stderr
    logged = [json.loads(ln) for ln in worker_log.read_text("utf-8").splitlines()]
    assert any(e["event"] == "notice" and e["project_id"] == "JJ-2026-001" for e in logged)
    # One portfolio, five cities, each in its own file shape, some imported half-way.
    for pid in ("SR-2026-003", "LHK-2026-005", "XC-2026-011", "YS-2026-005"):
        assert f"started project-{pid}" in first.stdout
    assert "note: yushan-draft is draft (征求意见稿)" in first.stdout
    assert "note: jiujiang-2024 is 已过有效期 (expired)" in first.stdout
    rows = {ln.split()[0]: ln for ln in first.stdout.splitlines() if ln[:3] in (
        "JJ-", "SR-", "LHK", "XC-", "YS-")}
    # 19 examples; the overview shows running ones: SR-2025-021 is closed, and LHK-2026-009
    # (测评服务: no 统一监理 nor 统一验收, 老河口 第十七条/第二十一条) has no duty left.
    assert len(rows) == 17 and "SR-2025-021" not in rows and "LHK-2026-009" not in rows
    assert "相城区" in rows["XC-2026-011"] and "玉山县 (征求意见稿)" in rows["YS-2026-002"]
    # `list` filters the read model by jurisdiction in people's words.
    for word, prefix in (("九江", "JJ-"), ("九江市", "JJ-"), ("jiujiang-2024", "JJ-"),
                         ("相城", "XC-"), ("玉山县", "YS-"), ("上饶", "SR-")):
        listed = shixian(tmp_path, "list", "--jurisdiction", word, "--json")
        assert listed.returncode == 0, listed.stderr
        ids = [r["project_id"] for r in json.loads(listed.stdout)]
        assert ids and all(i.startswith(prefix) for i in ids), (word, ids)
    unknown = shixian(tmp_path, "list", "--jurisdiction", "上海")
    assert unknown.returncode != 0 and "xiangcheng-2018 (苏州市相城区)" in unknown.stderr
    # Run again: the server's state persisted, nothing is started twice.
    second = up(tmp_path, port, dashboard_port, "--headless")
    assert second.returncode == 0, second.stderr
    assert "exists  project-JJ-2026-001" in second.stdout
    assert "exists  cycle-shangrao-2020" in second.stdout
    assert "started" not in second.stdout
    assert "Temporal Web UI" not in second.stdout


def shixian(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A CLI command against the home and read model `up` left in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env.update(SHIXIAN_HOME=str(tmp_path / ".shixian"),
               SHIXIAN_DATABASE_URL=f"sqlite:///{tmp_path / 'read.db'}")
    return subprocess.run([sys.executable, "-m", "shixian", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def up_args(port: int, *extra: str) -> argparse.Namespace:
    from shixian.cli import build_parser

    return build_parser().parse_args(["up", "--port", str(port), *extra])


def test_up_passes_ui_port_and_headless_to_the_server(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    port = free_port()
    server = _embedded_server(up_args(port, "--ui-port", "9911", "--headless"))
    assert server is not None and server.ui_port == 9911 and server.headless
    assert "--headless" in server.argv() and os.environ["TEMPORAL_ADDRESS"] == (
        f"127.0.0.1:{port}")
    assert address_hint(f"127.0.0.1:{port}") == (
        f"in other terminals: export TEMPORAL_ADDRESS=127.0.0.1:{port}")
    assert address_hint("127.0.0.1:7233") is None and address_hint("localhost:7233") is None


def test_up_says_loudly_when_it_attaches_to_a_server_it_did_not_start(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert _embedded_server(up_args(port)) is None
    out = capsys.readouterr().out
    assert f"NOTE: attaching to a Temporal server already listening on 127.0.0.1:{port} " \
           "that this command did not start" in out
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
    assert _embedded_server(up_args(port)) is None
    assert "TEMPORAL_ADDRESS=temporal.example:7233 (not starting one" in capsys.readouterr().out
