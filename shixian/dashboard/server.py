"""The HTTP side: routes, read-only methods, headers. `http.server` from the stdlib.

Each request reads the read model afresh (it is small, and a page must never show a stale
cache after a workflow moved); `today` is asked per request so a server left running over
midnight moves with the calendar.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import structlog

from calendars.engine import WorkCalendar
from shixian.dashboard import render
from shixian.dashboard.data import (
    BadRequest,
    parse_query,
    portfolio_view,
    project_view,
    to_json,
)

log = structlog.get_logger("shixian.dashboard")

ALLOWED = "GET, HEAD"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src '{render.SCRIPT_HASH}'; img-src data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Response:
    def __init__(self, status: int, body: str, content_type: str = "text/html; charset=utf-8",
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body.encode("utf-8")
        self.content_type = content_type
        self.headers = headers or {}


def _json(status: int, data: object) -> Response:
    return Response(status, json.dumps(data, ensure_ascii=False, indent=2, default=to_json)
                    + "\n", "application/json; charset=utf-8")


class DashboardServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the calendar and how to tell today's date."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, calendar: WorkCalendar,
                 today: Callable[[], date]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, DashboardHandler)
        self.calendar = calendar
        self.today = today

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = str(host)
        if shown in ("0.0.0.0", "::"):
            shown = "127.0.0.1" if shown == "0.0.0.0" else "::1"
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{port}/"


class DashboardHandler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "shixian-dashboard"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._send(self._route(), body=True)

    def do_HEAD(self) -> None:
        self._send(self._route(), body=False)

    def _refuse(self) -> None:
        """Read-only: anything but GET and HEAD is refused with 405 and the Allow header."""
        self.close_connection = True  # any request body is left unread
        today = self.server.today()
        self._send(Response(HTTPStatus.METHOD_NOT_ALLOWED, render.error_page(
            today, 405, "只读", f"{self.command} is not allowed: the dashboard only reads "
            "(GET, HEAD). Change projects with the shixian commands."),
            headers={"Allow": ALLOWED, "Connection": "close"}), body=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _route(self) -> Response:
        today = self.server.today()
        parts = urlsplit(self.path)
        path = parts.path
        try:
            if path == "/healthz":
                return Response(200, "ok\n", "text/plain; charset=utf-8")
            if path in ("/", "/index.html", "/api/portfolio.json"):
                view = portfolio_view(today, self.server.calendar,
                                      parse_query(parse_qs(parts.query)))
                if path.endswith(".json"):
                    return _json(200, view.as_dict())
                return Response(200, render.portfolio_page(view))
            if path.startswith("/api/project/") and path.endswith(".json"):
                return self._project(unquote(path[len("/api/project/"):-len(".json")]),
                                     today, as_json=True)
            if path.startswith("/project/"):
                return self._project(unquote(path[len("/project/"):]).rstrip("/"), today,
                                     as_json=False)
        except BadRequest as exc:
            if path.startswith("/api/"):
                return _json(400, {"error": str(exc)})
            return Response(400, render.error_page(today, 400, "筛选条件有误", str(exc)))
        except Exception as exc:  # the page says so; the log has the traceback
            log.exception("dashboard_error", path=path)
            message = f"{type(exc).__name__}: {exc}"
            if path.startswith("/api/"):
                return _json(500, {"error": message})
            return Response(500, render.error_page(
                today, 500, "读取读模型失败", f"{message}. Check SHIXIAN_DATABASE_URL and that "
                "the database is reachable (shixian db upgrade)."))
        what = f"No page at {path}."
        if path.startswith("/api/"):
            return _json(404, {"error": what + " Try /api/portfolio.json or "
                               "/api/project/<id>.json."})
        return Response(404, render.not_found_page(today, what))

    def _project(self, project_id: str, today: date, *, as_json: bool) -> Response:
        view = project_view(project_id, today, self.server.calendar) if project_id else None
        if view is None:
            what = (f"No project {project_id!r} in the read model." if project_id
                    else "No project id given.")
            if as_json:
                return _json(404, {"error": what + " `shixian list --all` or "
                                   "/api/portfolio.json?all=1 lists the ids."})
            return Response(404, render.not_found_page(today, what))
        if as_json:
            return _json(200, view.as_dict())
        return Response(200, render.project_page(view))

    def _send(self, response: Response, *, body: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in {**SECURITY_HEADERS, **response.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Access lines through structlog (stderr), like every other shixian log."""
        log.info("http", client=self.client_address[0], line=format % args)


def make_server(host: str = "127.0.0.1", port: int = 8080, *,
                calendar: WorkCalendar | None = None,
                today: Callable[[], date] | None = None) -> DashboardServer:
    """Bind (port 0 picks a free one); call `serve_forever()` to serve."""
    if today is None:
        from shixian.operations import today as business_today

        today = business_today
    return DashboardServer((host, port), calendar=calendar or WorkCalendar.default(),
                           today=today)
