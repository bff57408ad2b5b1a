"""Serving the dashboard with uvicorn on a socket bound up front.

The socket is bound when the server is made, so a busy port is an error before anything
starts and `--port 0` knows its port at once (the URL is printed, tests connect to it).
`serve_forever()` blocks (in the main thread uvicorn turns Ctrl-C into a graceful stop);
`shutdown()` from another thread stops it and waits.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Sequence
from datetime import date

import uvicorn

from calendars.engine import WorkCalendar
from shixian.dashboard.app import allowed_hosts, make_app


class DashboardServer:
    def __init__(self, host: str, port: int, *, calendar: WorkCalendar,
                 today: Callable[[], date], extra_hosts: Sequence[str] = ()) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
            self.socket.listen(128)
        except OSError:
            self.socket.close()
            raise
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self.hosts = allowed_hosts(host, extra_hosts)
        app = make_app(calendar=calendar, today=today, hosts=self.hosts)
        self._server = uvicorn.Server(uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", server_header=False,
            timeout_graceful_shutdown=5))
        self._done = threading.Event()
        self._done.set()

    @property
    def url(self) -> str:
        host, port = self.server_address
        shown = str(host)
        if shown in ("0.0.0.0", "::"):
            shown = "127.0.0.1" if shown == "0.0.0.0" else "::1"
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{port}/"

    def serve_forever(self) -> None:
        self._done.clear()
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._done.set()

    def shutdown(self, timeout: float = 30) -> None:
        self._server.should_exit = True
        self._done.wait(timeout)

    def server_close(self) -> None:
        self.socket.close()


def make_server(host: str = "127.0.0.1", port: int = 8080, *,
                calendar: WorkCalendar | None = None,
                today: Callable[[], date] | None = None,
                allow_hosts: Sequence[str] = ()) -> DashboardServer:
    """Bind (port 0 picks a free one); call `serve_forever()` to serve."""
    if today is None:
        from shixian.operations import today as business_today

        today = business_today
    return DashboardServer(host, port, calendar=calendar or WorkCalendar.default(),
                           today=today, extra_hosts=allow_hosts)
