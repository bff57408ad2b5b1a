"""The contacts file: who receives a notice (per jurisdiction actor, per owner) and how.

One YAML file holds the whole routing: `channels` (the SMTP server and the group robots,
secrets named by environment variable, never written in the file), `jurisdictions`
(pack id or jurisdiction name → actor id → recipients), `owners` (业主单位 name →
recipients) and `delivery` (mailbox mode, rates, retry). Path: $SHIXIAN_CONTACTS, else
$SHIXIAN_HOME/contacts.yaml; with neither, the embedded default routes every actor to the
local mailbox (`.shixian/mailbox/`) so a newcomer sees what would be sent.
"""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from activities import settings
from policies import yamlio

CONTACTS_VAR = "SHIXIAN_CONTACTS"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmailChannel(Strict):
    """An SMTP server: SSL (port 465) or STARTTLS (587), login with a password from the env."""

    host: str
    port: int = Field(default=465, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = None
    password_env: str | None = Field(default=None, pattern=ENV_NAME)
    sender: str = Field(description="From: address, e.g. 时限 <shixian@example.gov.cn>")
    ca_file: str | None = Field(default=None, description="PEM file of the CA that signed the "
                                "server's certificate (a bureau's own CA); else the system's")
    timeout_seconds: float = Field(default=20, gt=0, le=300)


RobotKind = Literal["dingtalk", "wecom", "feishu", "webhook"]

DEFAULT_URLS: dict[str, str] = {
    "dingtalk": "https://oapi.dingtalk.com/robot/send",
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook",
}


class RobotChannel(Strict):
    """A group robot or webhook. `token_env` holds the secret part of the URL
    (DingTalk access_token, WeCom key, Feishu hook id); `secret_env` the signing secret
    (DingTalk 加签, Feishu 签名校验, the webhook's HMAC key)."""

    kind: RobotKind
    url: str | None = Field(default=None, description="base URL; the vendor's by default")
    token_env: str | None = Field(default=None, pattern=ENV_NAME)
    secret_env: str | None = Field(default=None, pattern=ENV_NAME)
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    @model_validator(mode="after")
    def _needs(self) -> RobotChannel:
        if self.kind == "webhook" and not self.url:
            raise ValueError("a webhook needs url:")
        if self.kind in ("dingtalk", "wecom", "feishu") and not self.token_env and (
                self.url is None or self.url == DEFAULT_URLS[self.kind]):
            raise ValueError(f"a {self.kind} robot needs token_env: (the environment variable "
                             "holding its access token / key)")
        if self.kind == "wecom" and self.secret_env:
            raise ValueError("a WeCom group robot has no signing secret; remove secret_env")
        return self


class Channels(Strict):
    email: EmailChannel | None = None
    robots: dict[str, RobotChannel] = Field(default_factory=dict)


class QuietHours(Strict):
    """Beijing time; IM messages wait until `end`, e-mail is never held back."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*", text)
        if not m:
            raise ValueError(f"quiet_hours {text!r}: write HH:MM-HH:MM, e.g. 22:00-08:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        try:
            return cls(start=time(h1, m1), end=time(h2, m2))
        except ValueError:
            raise ValueError(f"quiet_hours {text!r}: not a time of day") from None

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class Recipient(Strict):
    """A person or office: a name, an e-mail address and/or robots, optional quiet hours."""

    name: str = Field(min_length=1)
    email: str | None = Field(default=None, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
    robots: list[str] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, v: Any) -> Any:
        return QuietHours.parse(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _some_channel(self) -> Recipient:
        if not self.email and not self.robots:
            raise ValueError(f"recipient {self.name!r} has no email: and no robots:")
        return self


class DeliverySettings(Strict):
    mailbox: bool = Field(default=False, description="write messages to the mailbox directory "
                          "instead of sending them (a dry run of the real routing)")
    mailbox_dir: str | None = None
    rate_per_minute: dict[str, float] = Field(default_factory=dict)
    attempt_timeout_seconds: float = Field(default=60, gt=0, le=3600)
    retry_initial_seconds: float = Field(default=5, gt=0)
    retry_maximum_seconds: float = Field(default=600, gt=0)
    retry_maximum_attempts: int = Field(default=30, ge=1)


DEFAULT_RATES: dict[str, float] = {
    "dingtalk": 20.0, "wecom": 20.0, "feishu": 100.0, "email": 0.0, "webhook": 0.0}


class Contacts(Strict):
    channels: Channels = Field(default_factory=Channels)
    jurisdictions: dict[str, dict[str, list[Recipient]]] = Field(default_factory=dict)
    owners: dict[str, list[Recipient]] = Field(default_factory=dict)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    embedded: bool = Field(default=False, description="the built-in mailbox default")

    @model_validator(mode="after")
    def _robots_exist(self) -> Contacts:
        people = [r for actors in self.jurisdictions.values() for rs in actors.values()
                  for r in rs] + [r for rs in self.owners.values() for r in rs]
        for r in people:
            for robot in r.robots:
                if robot not in self.channels.robots:
                    known = ", ".join(sorted(self.channels.robots)) or "none configured"
                    raise ValueError(f"recipient {r.name!r}: robot {robot!r} is not under "
                                     f"channels.robots ({known})")
            if r.email and self.channels.email is None and not self.delivery.mailbox:
                raise ValueError(f"recipient {r.name!r} has an email but channels.email is "
                                 "not configured (or set delivery.mailbox: true)")
        limit = self.delivery.attempt_timeout_seconds
        timeouts = [("channels.email", self.channels.email.timeout_seconds)] if \
            self.channels.email else []
        timeouts += [(f"channels.robots.{k}", r.timeout_seconds)
                     for k, r in self.channels.robots.items()]
        for where, seconds in timeouts:
            if seconds >= limit:  # else a slow old attempt could still send after its retry
                raise ValueError(f"{where}.timeout_seconds ({seconds:g}) must be shorter than "
                                 f"delivery.attempt_timeout_seconds ({limit:g})")
        for kind in self.delivery.rate_per_minute:
            if kind not in DEFAULT_RATES:
                raise ValueError(f"delivery.rate_per_minute: unknown channel kind {kind!r} "
                                 f"(one of {', '.join(DEFAULT_RATES)})")
        return self

    def rate(self, kind: str) -> float:
        """Messages per minute for a channel kind; 0 = unlimited."""
        return self.delivery.rate_per_minute.get(kind, DEFAULT_RATES[kind])

    def jurisdiction(self, policy: str, jurisdiction: str) -> dict[str, list[Recipient]]:
        """The section for a pack: keyed by pack id, jurisdiction name, or it without 市/县."""
        for key in (policy, jurisdiction, jurisdiction.rstrip("市县区")):
            if key and key in self.jurisdictions:
                return self.jurisdictions[key]
        return self.jurisdictions.get("*", {})

    def route(self, actor: str, policy: str, jurisdiction: str, owner: str) -> list[Recipient]:
        """Recipients for one pack actor; `owner` is looked up by the project's owner name
        first, then as the jurisdiction's `owner` entry."""
        if actor == "owner" and owner in self.owners:
            return self.owners[owner]
        return self.jurisdiction(policy, jurisdiction).get(actor, [])

    def secret(self, env: str | None) -> str | None:
        return None if env is None else os.environ.get(env)


class ContactsError(Exception):
    """A contacts file that cannot be used, with the place and the reason."""


def contacts_path() -> Path:
    """$SHIXIAN_CONTACTS, else $SHIXIAN_HOME/contacts.yaml (may not exist)."""
    env = os.environ.get(CONTACTS_VAR)
    return Path(env) if env else settings.state_dir() / "contacts.yaml"


def mailbox_dir(contacts: Contacts) -> Path:
    if contacts.delivery.mailbox_dir:
        return Path(contacts.delivery.mailbox_dir)
    return settings.state_dir() / "mailbox"


def parse(data: Any, source: str) -> Contacts:
    if not isinstance(data, dict):
        raise ContactsError(f"{source}: a contacts file is a mapping with channels:, "
                            "jurisdictions:, owners:")
    try:
        return Contacts.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise ContactsError(f"{source}: {where}: {msg}{more}") from None


def load_file(path: Path) -> Contacts:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContactsError(f"cannot read contacts file {path}: {exc.strerror}") from None
    try:
        data = yamlio.load(text)
    except Exception as exc:
        raise ContactsError(f"{path}: not valid YAML: {exc}") from None
    return parse(data, str(path))


EMBEDDED_ROBOT = "工作群"


def embedded() -> Contacts:
    """No contacts file: every actor of every pack gets a placeholder recipient with an
    e-mail address (RFC 2606 `.invalid`) and a DingTalk robot, all written to the mailbox."""
    return Contacts(
        channels=Channels(robots={EMBEDDED_ROBOT: RobotChannel(
            kind="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=EXAMPLE")}),
        delivery=DeliverySettings(mailbox=True),
        embedded=True,
    )


def embedded_recipient(actor: str, label: str, policy: str) -> Recipient:
    return Recipient(name=label, email=f"{actor}@{policy or 'shixian'}.invalid",
                     robots=[EMBEDDED_ROBOT])


def load() -> Contacts:
    """The contacts in force: the configured file, or the embedded mailbox default."""
    path = contacts_path()
    if os.environ.get(CONTACTS_VAR) or path.exists():
        return load_file(path)
    return embedded()


def describe(contacts: Contacts) -> str:
    """One line for `shixian up`: where notices go."""
    if contacts.embedded:
        return (f"notices: written to {mailbox_dir(contacts)}/ (no contacts file; "
                f"see README › Notices to send them)")
    if contacts.delivery.mailbox:
        return f"notices: routed by {contacts_path()}, written to {mailbox_dir(contacts)}/"
    return f"notices: sent as {contacts_path()} says"
