"""`shixian server` never orphans its Temporal process, and its Web UI is read-only by default."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shixian.temporal_env import DevServer, dev_server_path, free_port, pid_alive, port_is_free

ROOT = Path(__file__).resolve().parent.parent


def _gone(pid: int, patience: float = 60.0) -> bool:
    """Wait (a hang guard, not a speed target) until the process is gone."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.2)
    return False


@contextmanager
def shixian_server(home: Path, port: int, *extra: str) -> Iterator[tuple[subprocess.Popen[str],
                                                                       dict[str, object]]]:
    env = {**os.environ, "SHIXIAN_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shixian", "server", "--port", str(port), "--json", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"shixian server printed nothing; stderr: {proc.stderr and proc.stderr.read()}"
        yield proc, json.loads(line)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)


def test_kill_9_of_shixian_server_takes_the_temporal_process_with_it(tmp_path: Path) -> None:
    port = free_port()
    with shixian_server(tmp_path, port, "--headless") as (proc, info):
        child = int(str(info["pid"]))
        assert pid_alive(child)
        pid_file = json.loads((tmp_path / "temporal-server.pid").read_text())
        assert pid_file["pid"] == child and pid_file["owner"] == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert _gone(child), f"temporal dev server pid {child} outlived its shixian parent"
    # The next start on the same port and state works, and says nothing about a stale server.
    with shixian_server(tmp_path, port, "--headless") as (proc, info):
        assert info["address"] == f"127.0.0.1:{port}"
        assert pid_alive(int(str(info["pid"])))
    assert proc.returncode == 0
    assert "stale" not in (proc.stderr.read() if proc.stderr else "")


def test_a_stale_server_left_by_a_dead_shixian_is_reported_and_stopped(tmp_path: Path) -> None:
    """A server whose parent did not take it along (older shixian, another OS): cleaned up."""
    port = free_port()
    db = tmp_path / "temporal.db"
    orphan = subprocess.Popen(
        [str(dev_server_path()), "server", "start-dev", "--db-filename", str(db), "--ip",
         "127.0.0.1", "--port", str(port), "--headless", "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        deadline = time.monotonic() + 60
        while port_is_free("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.2)
        (tmp_path / "temporal-server.pid").write_text(json.dumps(
            {"pid": orphan.pid, "owner": dead.pid, "address": f"127.0.0.1:{port}"}))
        server = DevServer(db_file=db, port=port, headless=True,
                           pid_file=tmp_path / "temporal-server.pid")
        server.start()
        try:
            assert orphan.poll() is not None  # stopped (and reaped by us, its parent)
            assert any("stale Temporal dev server" in n and str(orphan.pid) in n
                       for n in server.notes)
        finally:
            server.stop()
        assert not (tmp_path / "temporal-server.pid").exists()
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()


def _request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _ready(url: str) -> tuple[int, bytes]:
    """GET until the UI server has reached the gRPC frontend (503 while it starts)."""
    deadline = time.monotonic() + 60
    while True:
        code, body = _request(url)
        if code != 503 or time.monotonic() > deadline:
            return code, body
        time.sleep(0.3)


def _terminate_url(ui: str) -> str:
    return f"{ui}/api/v1/namespaces/default/workflows/project-X/terminate"


def test_the_web_ui_is_read_only_unless_asked(tmp_path: Path) -> None:
    port = free_port()
    server = DevServer(db_file=tmp_path / "t.db", port=port, ui_port=free_port())
    server.start()
    try:
        assert server.ui_url is not None
        code, body = _request(f"{server.ui_url}/api/v1/settings")
        settings = json.loads(body)
        assert code == 200 and settings["DisableWriteActions"] is True
        assert settings["WorkflowTerminateDisabled"] is True
        code, body = _ready(f"{server.ui_url}/api/v1/namespaces/default/workflows")
        assert code == 200, body
        code, body = _request(_terminate_url(server.ui_url), "POST", b"{}")
        assert code == 403 and b"read-only" in body
        code, _ = _request(f"{server.ui_url}/api/v1/namespaces/default", "DELETE")
        assert code == 403
    finally:
        server.stop()
    server = DevServer(db_file=tmp_path / "t.db", port=port, ui_port=free_port(), ui_write=True)
    server.start()
    try:
        assert server.ui_url is not None
        code, body = _request(f"{server.ui_url}/api/v1/settings")
        assert json.loads(body)["DisableWriteActions"] is False
        # Passed to the UI server itself: refused there for its own reasons (no CSRF
        # token, no such workflow), never by shixian.
        code, body = _request(_terminate_url(server.ui_url), "POST", b"{}")
        assert b"read-only" not in body
    finally:
        server.stop()


def test_the_web_ui_reads_compressed_inputs_through_an_inflating_codec(
    tmp_path: Path,
) -> None:
    """A project's start input is stored compressed (shixian.compression); the embedded UI
    is given a codec endpoint in shixian's process that inflates it for the browser."""
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payload, Payloads

    from shixian.codec import ENCODING as ENCRYPTED
    from shixian.compression import compress

    server = DevServer(db_file=tmp_path / "t.db", port=free_port(), ui_port=free_port())
    server.start()
    try:
        assert server.ui_url is not None
        code, body = _request(f"{server.ui_url}/api/v1/settings")
        endpoint = json.loads(body)["Codec"]["Endpoint"]
        assert code == 200 and endpoint.startswith("http://127.0.0.1:")
        original = Payload(metadata={"encoding": b"json/plain"},
                           data=json.dumps({"project": {"name": "九江" * 2000}}).encode())
        sealed = Payload(metadata={"encoding": ENCRYPTED}, data=b"\x00" * 64)
        sent = Payloads(payloads=[compress(original), sealed])
        assert sent.payloads[0].metadata["encoding"] == b"binary/zlib"
        req = urllib.request.Request(
            f"{endpoint}/decode", data=json_format.MessageToJson(sent).encode(),
            method="POST", headers={"Content-Type": "application/json",
                                    "Origin": server.ui_url})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == server.ui_url
            got = json_format.Parse(resp.read(), Payloads()).payloads
        assert got[0] == original  # inflated, metadata and all
        assert got[1] == sealed  # encrypted: passed through, it has no key
    finally:
        server.stop()
    headless = DevServer(db_file=tmp_path / "t.db", port=free_port(), headless=True)
    assert "--ui-codec-endpoint" not in headless.argv()
