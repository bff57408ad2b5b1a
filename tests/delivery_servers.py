"""Real servers for delivery tests: an SMTP server (aiosmtpd) and an HTTP receiver that
checks DingTalk, WeCom, Feishu and webhook requests the way those services do.

The receiver rejects a wrong signature or token with each vendor's own answer, records
every accepted message, answers 500/429 when told to, and can hold a request (body read,
answer not yet sent) so a test can kill the worker in the middle of a delivery. Webhook
messages are deduplicated on their Idempotency-Key, as a careful receiver does.
"""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


# ---- SMTP ----------------------------------------------------------------------------------
@dataclass
class Mail:
    sender: str
    rcpt: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return str(email.header.make_header(email.header.decode_header(self.message["Subject"])))

    def part(self, subtype: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == f"text/{subtype}":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode(part.get_content_charset() or "utf-8")
        raise AssertionError(f"no text/{subtype} part")


class _Handler:
    def __init__(self, box: SmtpServer) -> None:
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.endswith("@bounce.test"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.box.lock:
            self.box.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made with the openssl command line."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class SmtpServer:
    """aiosmtpd on a free local port; login required (user `shixian`, the given password).

    `tls="ssl"`: implicit TLS (port 465 style); `tls="starttls"`: STARTTLS required before
    login; either with the certificate and key given."""

    def __init__(self, password: str, tls: str | None = None,
                 cert: tuple[Path, Path] | None = None) -> None:
        self.password = password
        self.mails: list[Mail] = []
        self.lock = threading.Lock()

        def auth(server: Any, session: Any, envelope: Any, mechanism: str,
                 data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.login == b"shixian" and \
                data.password == self.password.encode()
            return AuthResult(success=ok, handled=False)

        with socket.socket() as probe:  # aiosmtpd cannot bind port 0 and report it
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        extra: dict[str, Any] = {}
        if tls and cert:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            extra = ({"ssl_context": context} if tls == "ssl" else
                     {"tls_context": context, "require_starttls": True})
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     authenticator=auth, auth_required=True,
                                     auth_require_tls=tls == "starttls", **extra)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.rcpt]


# ---- HTTP robots -----------------------------------------------------------------------------
@dataclass
class Received:
    kind: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    """The vendors' side: tokens and secrets it accepts, what it received, faults to inject."""

    tokens: dict[str, str]
    secrets: dict[str, str]
    messages: list[Received] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (kind, status) per request
    faults: dict[str, list[int]] = field(default_factory=dict)  # HTTP statuses to answer
    codes: dict[str, list[int]] = field(default_factory=dict)  # errcodes, at HTTP 200
    hold: dict[str, threading.Event] = field(default_factory=dict)
    held: threading.Event = field(default_factory=threading.Event)
    seen_keys: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    def url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}"

    def of(self, kind: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if m.kind == kind]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = receiver.handle(self.path, raw, dict(self.headers))
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sender died while we held its request

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        for event in self.hold.values():
            event.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- each vendor's checks, as its documentation describes them --
    def handle(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        parts = urllib.parse.urlsplit(path)
        kind = parts.path.strip("/").split("/")[0]
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        with self.lock:
            fault = self.faults.get(kind, [])
            status = fault.pop(0) if fault else 200
            self.requests.append((kind, status))
        if status != 200:
            return status, {"error": "injected"}
        body = json.loads(raw)
        verdict = getattr(self, f"_check_{kind}")(parts.path, query, body, raw, headers)
        if verdict is not None:
            return verdict
        with self.lock:
            queued = self.codes.get(kind, [])
            code = queued.pop(0) if queued else 0
        if code:
            return 200, {"errcode": code, "errmsg": "send too fast, exceed 20 times per minute"}
        gate = self.hold.get(kind)
        if gate is not None and not gate.is_set():
            self.held.set()
            gate.wait(60)
        with self.lock:
            key = headers.get("Idempotency-Key")
            if key is None or key not in self.seen_keys:
                self.messages.append(Received(kind, body, headers))
            if key:
                self.seen_keys.add(key)
        return 200, ({"code": 0, "msg": "success"} if kind == "feishu"
                     else {"errcode": 0, "errmsg": "ok"})

    def _check_dingtalk(self, path: str, q: dict[str, str], body: Any, raw: bytes,
                        headers: dict[str, str]) -> tuple[int, Any] | None:
        if q.get("access_token") != self.tokens["dingtalk"]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        ts, secret = q.get("timestamp", ""), self.secrets["dingtalk"]
        want = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
        if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600_000 or \
                q.get("sign") != want:
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if body.get("msgtype") != "markdown" or not body["markdown"].get("text"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        return None

    def _check_wecom(self, path: str, q: dict[str, str], body: Any, raw: bytes,
                     headers: dict[str, str]) -> tuple[int, Any] | None:
        if q.get("key") != self.tokens["wecom"]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        if body.get("msgtype") != "markdown" or not body["markdown"].get("content"):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        return None

    def _check_feishu(self, path: str, q: dict[str, str], body: Any, raw: bytes,
                      headers: dict[str, str]) -> tuple[int, Any] | None:
        if path.rstrip("/").split("/")[-1] != self.tokens["feishu"]:
            return 404, {"code": 19001, "msg": "param invalid: incoming webhook access token"}
        ts, secret = str(body.get("timestamp", "")), self.secrets["feishu"]
        want = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"",
                                         hashlib.sha256).digest()).decode()
        if not ts.isdigit() or abs(int(ts) - time.time()) > 3600 or body.get("sign") != want:
            return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one "
                         "hour from current time"}
        if body.get("msg_type") != "interactive":
            return 200, {"code": 9499, "msg": "Bad Request"}
        return None

    def _check_webhook(self, path: str, q: dict[str, str], body: Any, raw: bytes,
                       headers: dict[str, str]) -> tuple[int, Any] | None:
        want = "sha256=" + hmac.new(self.secrets["webhook"].encode(), raw,
                                    hashlib.sha256).hexdigest()
        if headers.get("X-Shixian-Signature") != want:
            return 401, {"error": "bad signature"}
        if not headers.get("Idempotency-Key"):
            return 400, {"error": "Idempotency-Key missing"}
        return None
