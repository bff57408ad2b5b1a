"""A read-only front for the dev server's embedded Web UI.

The Web UI inside `temporal server start-dev` has write actions on (terminate, reset, signal,
start, delete …) and no login, and the dev server has no flag to turn them off. shixian runs
the UI on an internal loopback port and serves this proxy on the public UI port instead: it
answers `/api/v1/settings` with `DisableWriteActions: true` (so the UI hides its buttons)
and refuses every request that could change something — anything but GET/HEAD/OPTIONS,
except workflow queries, which only read. `shixian server --ui-write` skips the proxy.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

# A query (the UI's "Queries" and stack-trace tabs) is a POST that changes nothing.
READ_ONLY_POSTS = (
    re.compile(r"^/api/v1/namespaces/[^/]+/workflows/[^/]+/query/[^/?]+(\?.*)?$"),
)
SETTINGS = "/api/v1/settings"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length"}
REFUSAL = ("the Temporal Web UI is read-only: use the shixian CLI, or restart the server "
           "with --ui-write to allow write actions from the browser")


def allowed(method: str, path: str) -> bool:
    """True for requests that only read."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    return method == "POST" and any(p.match(path) for p in READ_ONLY_POSTS)


def read_only_settings(body: bytes) -> bytes:
    """The UI's settings with every write action switched off."""
    settings = json.loads(body)
    settings["DisableWriteActions"] = True
    for key in list(settings):
        if key.endswith("Disabled") and isinstance(settings[key], bool):
            settings[key] = True
    return json.dumps(settings).encode()


class _Handler(BaseHTTPRequestHandler):
    upstream: ClassVar[tuple[str, int]] = ("127.0.0.1", 0)
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def _forward(self) -> None:
        method = self.command
        if not allowed(method, self.path):
            body = json.dumps({"code": 7, "message": REFUSAL}).encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        settings = self.path.split("?")[0] == SETTINGS
        if settings:
            headers.pop("Accept-Encoding", None)
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(method, self.path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if settings and response.status == 200:
                data = read_only_settings(data)
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(data)
        except OSError as exc:
            body = f"Temporal Web UI not reachable: {exc}".encode()
            self.send_response(502)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            conn.close()

    do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_PATCH = do_DELETE = _forward


class ReadOnlyUI:
    """The proxy on (ip, port) in a daemon thread, forwarding reads to the real UI."""

    def __init__(self, ip: str, port: int, upstream_port: int) -> None:
        handler = type("Handler", (_Handler,), {"upstream": ("127.0.0.1", upstream_port)})
        self._server = ThreadingHTTPServer((ip, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="ui-proxy",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
