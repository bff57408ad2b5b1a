"""A Temporal remote codec server: lets the Web UI and `temporal` CLI read compressed and
encrypted payloads.

The protocol is Temporal's: POST {endpoint}/decode (or /encode) with the JSON form of
`temporal.api.common.v1.Payloads` ({"payloads": [{"metadata": {...}, "data": "…"}]}); the
answer has the same form. Browsers send a CORS preflight first: only the listed origins
(the Web UI's) are allowed. Whoever reaches this server can read every payload, so it binds
to loopback by default and, with a token, requires `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from shixian.errors import UserError


class _Handler(BaseHTTPRequestHandler):
    codec: ClassVar[PayloadCodec]
    origins: ClassVar[frozenset[str]] = frozenset()
    token: ClassVar[str | None] = None

    def log_message(self, format: str, *args: object) -> None:
        return

    def _cors(self) -> None:
        origin = self.headers.get("Origin")
        if origin and origin in self.origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers",
                             "Content-Type, X-Namespace, Authorization")
            self.send_header("Vary", "Origin")

    def _reply(self, code: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(code)
        self._cors()
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:
        self._reply(200, b"", "text/plain")

    def do_POST(self) -> None:
        origin = self.headers.get("Origin")
        if origin and origin not in self.origins:
            self._reply(403, b'{"message": "origin not allowed"}')
            return
        if self.token is not None:
            given = self.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                self._reply(401, b'{"message": "Authorization: Bearer <token> required"}')
                return
        action = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if action not in ("encode", "decode"):
            self._reply(404, b'{"message": "POST /encode or /decode"}')
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            payloads = json_format.Parse(self.rfile.read(length), Payloads())
            method = self.codec.encode if action == "encode" else self.codec.decode
            result = Payloads(payloads=asyncio.run(method(list(payloads.payloads))))
        except (json_format.ParseError, ValueError, UserError) as exc:
            self._reply(400, json.dumps({"message": str(exc)}).encode())
            return
        except Exception:  # wrong key, tampered data: say so without a traceback
            self._reply(400, b'{"message": "payload could not be decoded (decrypted)"}')
            return
        self._reply(200, json_format.MessageToJson(result).encode())


class CodecServer:
    """The codec server on (host, port) in a daemon thread."""

    def __init__(self, codec: PayloadCodec, host: str, port: int,
                 origins: Sequence[str] = (), token: str | None = None) -> None:
        handler = type("Handler", (_Handler,), {
            "codec": codec, "origins": frozenset(o.rstrip("/") for o in origins),
            "token": token})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, name="codec-server", daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
