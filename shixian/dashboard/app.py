"""The dashboard as a Starlette (ASGI) application: routes, read-only methods, headers.

Each request reads the read model afresh (it is small, and a page must never show a stale
cache after a workflow moved); `today` is asked per request so a server left running over
midnight moves with the calendar. The read model is read in a worker thread (SQLAlchemy is
synchronous), never on the event loop.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from datetime import date
from urllib.parse import quote

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from calendars.engine import WorkCalendar
from shixian import export
from shixian.dashboard import render
from shixian.dashboard.data import (
    BadRequest,
    parse_query,
    portfolio_view,
    project_view,
    stats_view,
    to_json,
)
from shixian.statistics import FIELDS

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
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class JSON(JSONResponse):
    """Compact JSON: `indent` makes Python's encoder the pure-Python one (3× slower for the
    portfolio); a browser's viewer or `jq` indents it for people."""

    def render(self, content: object) -> bytes:
        return (json.dumps(content, ensure_ascii=False, default=to_json) + "\n"
                ).encode("utf-8")


PAGE_LIMIT = 500  # /api/portfolio.json rows per page unless ?limit= says (0 = every row)


def page_limit(params: dict[str, list[str]]) -> int:
    text = (params.get("limit") or [""])[-1].strip()
    if not text:
        return PAGE_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = -1
    if limit < 0:
        raise BadRequest(f"limit={text!r}: rows per page, a whole number (0 = every row)")
    return limit


class ReadOnly:
    """Anything but GET and HEAD is refused with 405 and the Allow header, on every path,
    before routing: the dashboard changes nothing."""

    def __init__(self, app: ASGIApp, today: Callable[[], date]) -> None:
        self.app, self.today = app, today

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
            page = render.error_page(
                self.today(), 405, "只读", f"{scope['method']} is not allowed: the dashboard "
                "only reads (GET, HEAD). Change projects with the shixian commands.")
            response = HTMLResponse(page, 405, headers={"Allow": ALLOWED,
                                                        "Connection": "close"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """CSP and friends on every response, errors and refusals included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                present = {bytes(k).lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)  # type: ignore[arg-type]


def host_name(header: str) -> str:
    """`example.org:8080` → `example.org`; `[::1]:8080` → `::1`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostCheck:
    """Only the configured Host names are answered (400 otherwise): a page on another site
    cannot read the dashboard by pointing its own name at this machine (DNS rebinding)."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str], today: Callable[[], date]) -> None:
        self.app, self.today = app, today
        self.hosts = {host_name(h) for h in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if host_name(header) not in self.hosts:
                page = render.error_page(
                    self.today(), 400, "主机名不符", f"Host {header!r} is not served here; "
                    "start the dashboard with --allow-host NAME to answer to that name.")
                await HTMLResponse(page, 400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def allowed_hosts(bound_host: str, extra: Sequence[str] = ()) -> list[str]:
    """Host headers the dashboard answers: this machine's names, the address it is bound to
    (unless a wildcard), and what the operator adds (--allow-host). Anything else is refused
    (400), so a hostile page cannot read the dashboard through DNS rebinding."""
    hosts = [*LOCAL_HOSTS, *extra]
    if bound_host not in ("0.0.0.0", "::", ""):
        hosts.append(bound_host)
    return list(dict.fromkeys(hosts))


def make_app(*, calendar: WorkCalendar, today: Callable[[], date],
             hosts: Sequence[str] = LOCAL_HOSTS) -> Starlette:
    def api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def fail(request: Request, status: int, title: str, message: str) -> Response:
        if api(request):
            return JSON({"error": message}, status)
        return HTMLResponse(render.error_page(today(), status, title, message), status)

    async def guarded(request: Request, build: Callable[[], Response]) -> Response:
        try:
            return await run_in_threadpool(build)
        except BadRequest as exc:
            return fail(request, 400, "筛选条件有误", str(exc))
        except Exception as exc:  # the page says so; the log has the traceback
            log.exception("dashboard_error", path=request.url.path)
            message = f"{type(exc).__name__}: {exc}"
            if not api(request):
                message += (". Check SHIXIAN_DATABASE_URL and that the database is reachable "
                            "(shixian db where, shixian db upgrade).")
            return fail(request, 500, "读取读模型失败", message)

    async def portfolio(request: Request) -> Response:
        def build() -> Response:
            params: dict[str, list[str]] = {}
            for key, value in request.query_params.multi_items():
                params.setdefault(key, []).append(value)
            query = parse_query(params)
            if request.url.path.endswith(".json"):
                limit = page_limit(params)
                cursor = (params.get("cursor") or [""])[-1].strip() or None
                return JSON(portfolio_view(today(), calendar, query).page(limit, cursor))
            view = portfolio_view(today(), calendar, query)
            return HTMLResponse(render.portfolio_page(view))
        return await guarded(request, build)

    async def project(request: Request) -> Response:
        project_id = str(request.path_params["project_id"]).rstrip("/")
        as_json = request.url.path.startswith("/api/")

        def build() -> Response:
            view = project_view(project_id, today(), calendar) if project_id else None
            if view is None:
                what = (f"No project {project_id!r} in the read model." if project_id
                        else "No project id given.")
                if as_json:
                    return JSON({"error": what + " `shixian list --all` or "
                                 "/api/portfolio.json?all=1 lists the ids."}, 404)
                return HTMLResponse(render.not_found_page(today(), what), 404)
            if as_json:
                return JSON(view.as_dict())
            return HTMLResponse(render.project_page(view))
        return await guarded(request, build)

    async def stats(request: Request) -> Response:
        def build() -> Response:
            params: dict[str, list[str]] = {}
            for key, value in request.query_params.multi_items():
                params.setdefault(key, []).append(value)
            report = stats_view(today(), calendar, params)
            if request.url.path.endswith(".json"):
                return JSON(report.as_dict())
            if request.url.path.endswith(".csv"):
                out = io.StringIO()
                export.write_csv(out, FIELDS, ([g.as_dict()[f] for f in FIELDS]  # type: ignore[misc]
                                               for g in report.rows()))
                name = quote(f"统计分析-{report.period.label}.csv")
                return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                                headers={"Content-Disposition":
                                         f"attachment; filename*=UTF-8''{name}"})
            return HTMLResponse(render.stats_page(report))
        return await guarded(request, build)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def not_found(request: Request, exc: Exception) -> Response:
        what = f"No page at {request.url.path}."
        if api(request):
            return JSON({"error": what + " Try /api/portfolio.json or "
                         "/api/project/<id>.json."}, 404)
        return HTMLResponse(render.not_found_page(today(), what), 404)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/", portfolio, methods=["GET"]),
        Route("/index.html", portfolio, methods=["GET"]),
        Route("/api/portfolio.json", portfolio, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/api/stats.json", stats, methods=["GET"]),
        Route("/api/stats.csv", stats, methods=["GET"]),
        Route("/api/project/{project_id:path}.json", project, methods=["GET"]),
        Route("/project/{project_id:path}", project, methods=["GET"]),
    ]
    return Starlette(
        routes=routes, exception_handlers={404: not_found},
        middleware=[Middleware(SecurityHeaders),
                    Middleware(HostCheck, hosts=hosts, today=today),
                    Middleware(ReadOnly, today=today)])
