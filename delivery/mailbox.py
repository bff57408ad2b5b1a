"""The embedded default channel: each message as a file under `.shixian/mailbox/`.

One `.eml` per e-mail (open it in any mail client) and one `.json` per robot message (the
exact request body the robot would get). File names are deterministic per delivery, so a
retried write replaces the same file: exactly one file per (notice, recipient, channel).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from delivery.channels import HttpRequest, Outgoing, email_message


def _name(delivery_id: int, kind: str, recipient: str, suffix: str) -> str:
    safe = re.sub(r"[^\w.-]+", "_", recipient).strip("_")[:40] or "recipient"
    return f"{delivery_id:06d}-{kind}-{safe}.{suffix}"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_email(directory: Path, delivery_id: int, sender: str, out: Outgoing) -> Path:
    path = directory / _name(delivery_id, "email", out.recipient, "eml")
    _write(path, bytes(email_message(sender, out)))
    return path


def write_robot(directory: Path, delivery_id: int, kind: str, robot: str, out: Outgoing,
                request: HttpRequest) -> Path:
    path = directory / _name(delivery_id, kind, out.recipient, "json")
    record = {"channel": kind, "robot": robot, "url": request.redacted_url,
              "recipient": out.recipient, "headers": request.headers,
              "body": json.loads(request.body)}
    _write(path, json.dumps(record, ensure_ascii=False, indent=2).encode())
    return path
