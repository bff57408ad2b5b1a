"""Sending one rendered message on one channel: SMTP, DingTalk, WeCom, Feishu, a webhook.

Each sender raises `TransientError` (network, 5xx, 429, a robot's "too fast" code: Temporal
retries) or `PermanentError` (bad address, other 4xx, wrong signature, missing secret: the
delivery is `failed` with the reason). No retry loops here: retrying is Temporal's job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from delivery.contacts import DEFAULT_URLS, Contacts, EmailChannel, RobotChannel
from delivery.render import Message


class DeliveryError(Exception):
    """A send that did not succeed; the message is the reason shown in `shixian notices`."""


class TransientError(DeliveryError):
    """Worth retrying: the server was busy, down, or asked us to slow down."""


class PermanentError(DeliveryError):
    """Retrying cannot help until someone fixes an address, a secret or the contacts file."""


@dataclass(frozen=True)
class Outgoing:
    """One message for one recipient on one channel, with its idempotency key."""

    recipient: str
    address: str  # e-mail address, or the robot's name
    message: Message
    idempotency_key: str
    payload: dict[str, Any]  # the notice as data, for webhooks


# ---- e-mail ---------------------------------------------------------------------------------
def email_message(sender: str, out: Outgoing) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((out.recipient, out.address))
    msg["Subject"] = out.message.subject
    msg["Date"] = formatdate(localtime=False)
    # The same Message-ID on every attempt: a retried send is recognisable as the same mail.
    msg["Message-ID"] = f"<{out.idempotency_key}@shixian.invalid>"
    msg["X-Shixian-Idempotency-Key"] = out.idempotency_key
    msg.set_content(out.message.text)
    msg.add_alternative(out.message.html, subtype="html")
    return msg


def send_email(channel: EmailChannel, contacts: Contacts, out: Outgoing) -> str:
    password = contacts.secret(channel.password_env)
    if channel.username and password is None:
        raise PermanentError(f"environment variable {channel.password_env or 'password_env'} "
                             "with the SMTP password is not set on the worker")
    msg = email_message(channel.sender, out)
    try:
        smtp: smtplib.SMTP
        # Verify the server's certificate and name, against the bureau's CA if it has one.
        tls = ssl.create_default_context(cafile=channel.ca_file)
        if channel.security == "ssl":
            smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout_seconds,
                                    context=tls)
        else:
            smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_seconds)
        with smtp:
            if channel.security == "starttls":
                smtp.starttls(context=tls)
            if channel.username:
                smtp.login(channel.username, password or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentError(f"SMTP login refused ({exc.smtp_code}): check username and "
                             f"${channel.password_env}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{a}: {c} {m.decode(errors='replace')}"
                         for a, (c, m) in exc.recipients.items())
        cls = PermanentError if all(c >= 500 for c in codes) else TransientError
        raise cls(f"SMTP refused recipient {text}") from None
    except smtplib.SMTPResponseException as exc:
        cls = PermanentError if exc.smtp_code >= 500 else TransientError
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        raise cls(f"SMTP {exc.smtp_code} {text}") from None
    except ssl.SSLCertVerificationError as exc:
        raise PermanentError(f"SMTP {channel.host}:{channel.port}: the server's certificate "
                             f"is not trusted ({exc.verify_message}); set channels.email.ca_file "
                             "to the CA that signed it") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"SMTP {channel.host}:{channel.port}: {exc}") from None
    if refused:
        raise PermanentError(f"SMTP refused {refused}")
    return f"250 accepted by {channel.host}"


# ---- robots and webhooks --------------------------------------------------------------------
def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """加签: Base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """签名校验: Base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@dataclass(frozen=True)
class HttpRequest:
    url: str
    body: bytes
    headers: dict[str, str]
    redacted_url: str  # for logs and the mailbox: no token, no signature


def robot_request(name: str, robot: RobotChannel, contacts: Contacts, out: Outgoing,
                  now: float | None = None, dry: bool = False) -> HttpRequest:
    """The exact HTTP request a robot expects; secrets come from the environment.

    `dry` (the mailbox): a missing secret shows as `$NAME` instead of failing."""
    now = time.time() if now is None else now
    token = contacts.secret(robot.token_env)
    if dry and robot.token_env and not token:
        token = f"${robot.token_env}"
    if robot.token_env and not token:
        raise PermanentError(f"environment variable {robot.token_env} (token of robot {name!r}) "
                             "is not set on the worker")
    secret = contacts.secret(robot.secret_env)
    if dry and robot.secret_env and not secret:
        secret = f"${robot.secret_env}"
    if robot.secret_env and not secret:
        raise PermanentError(f"environment variable {robot.secret_env} (signing secret of robot "
                             f"{name!r}) is not set on the worker")
    base = robot.url or DEFAULT_URLS[robot.kind]
    headers = {"Content-Type": "application/json; charset=utf-8"}
    msg = out.message
    url = redacted = base
    body: dict[str, Any]
    if robot.kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": msg.subject, "text": msg.markdown}}
        params: dict[str, str] = {}
        if token:
            params["access_token"] = token
        if secret:
            ts = int(now * 1000)
            params |= {"timestamp": str(ts), "sign": dingtalk_sign(secret, ts)}
        url = _with_query(base, **params)
    elif robot.kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": msg.markdown}}
        url = _with_query(base, key=token) if token else base
    elif robot.kind == "feishu":
        body = {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": msg.title},
                       "template": "red"},
            "elements": [{"tag": "markdown", "content": msg.markdown}]}}
        if secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts)} | body
        url = f"{base.rstrip('/')}/{token}" if token else base
    else:
        body = {"idempotency_key": out.idempotency_key, "recipient": out.recipient,
                "subject": msg.subject, "text": msg.text, "markdown": msg.markdown,
                "notice": out.payload}
    raw = json.dumps(body, ensure_ascii=False).encode()
    if robot.kind == "webhook":
        headers["Idempotency-Key"] = out.idempotency_key
        if secret:
            headers["X-Shixian-Signature"] = webhook_signature(secret, raw)
    return HttpRequest(url=url, body=raw, headers=headers, redacted_url=redacted)


# Robot answers with HTTP 200 and an error code in the body; these codes mean "slow down".
RATE_LIMIT_CODES = {"dingtalk": {130101, -1}, "wecom": {45009, -1}, "feishu": {9499, 11232}}


def send_robot(name: str, robot: RobotChannel, contacts: Contacts, out: Outgoing) -> str:
    req = robot_request(name, robot, contacts, out)
    request = urllib.request.Request(req.url, data=req.body, headers=req.headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=robot.timeout_seconds) as resp:
            status, text = resp.status, resp.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", errors="replace")[:200]
        where = f"{robot.kind} {name} ({req.redacted_url}): HTTP {exc.code} {detail}".strip()
        if exc.code in (408, 425, 429) or exc.code >= 500:
            raise TransientError(where) from None
        raise PermanentError(where) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransientError(f"{robot.kind} {name} ({req.redacted_url}): {reason}") from None
    if robot.kind == "webhook":
        return f"HTTP {status}"
    try:
        answer = json.loads(text)
    except ValueError:
        raise TransientError(f"{robot.kind} {name}: answer is not JSON: {text[:200]}") from None
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, None):
        return f"HTTP {status} errcode 0"
    detail = answer.get("errmsg", answer.get("msg", ""))
    if code in RATE_LIMIT_CODES.get(robot.kind, set()):
        raise TransientError(f"{robot.kind} {name}: rate limited ({code} {detail})")
    raise PermanentError(f"{robot.kind} {name} refused the message: {code} {detail}")
