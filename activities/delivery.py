"""Delivery activities: plan the (recipient, channel) rows of a notice, send one, mark one.

Exactly one message per (notice, recipient, channel): `plan_notice` inserts one
`notice_deliveries` row per target (unique, so a retried plan adds nothing); `deliver`
counts the attempt in the row *before* sending and marks it `sent` after, and skips a row
already `sent`. A worker killed between sending and marking resends once: webhooks carry an
`Idempotency-Key`, e-mails a stable Message-ID, so receivers can drop the repeat.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.db import engine, notice_deliveries
from delivery import contacts as contacts_mod
from delivery import mailbox
from delivery.channels import (
    DeliveryError,
    Outgoing,
    PermanentError,
    robot_request,
    send_email,
    send_robot,
)
from delivery.contacts import Contacts, Recipient
from delivery.render import render
from policies.errors import PolicyError
from policies.loader import load_pack
from workflows.models import NoticeKind, NoticeRecord

log = structlog.get_logger("delivery")

PERMANENT = "PermanentDeliveryError"
# States a row can be in; all but pending and delayed are final until resent. `withdrawn`:
# held by quiet hours when a correction withdrew its notice; `rerouted`: undeliverable, then
# routed again by `shixian notices resend`.
STATES = ("pending", "delayed", "sent", "failed", "undeliverable", "rerouted", "withdrawn")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeliveryTarget(Model):
    delivery_id: int
    recipient: str
    channel_kind: str  # email | dingtalk | wecom | feishu | webhook
    address: str  # e-mail address, or the robot's name in the contacts file
    quiet_hours: str | None = None


class DeliveryPlan(Model):
    """The delivery workflow's input: everything it needs, resolved outside the workflow."""

    workflow_id: str
    project_id: str
    notice: NoticeRecord
    targets: list[DeliveryTarget]
    queue: str  # the delivery task queue; each channel kind polls `<queue>-<kind>`
    attempt_timeout_seconds: float = 60
    retry_initial_seconds: float = 5
    retry_maximum_seconds: float = 600
    retry_maximum_attempts: int = 30


class DeliverInput(Model):
    project_id: str
    notice: NoticeRecord
    target: DeliveryTarget


class DeliveryMark(Model):
    delivery_id: int
    state: str
    reason: str
    quiet_until: datetime | None = None


class DeliveryOutcome(Model):
    delivery_id: int
    state: str
    reason: str


def delivery_queue(lifecycle_queue: str) -> str:
    return f"{lifecycle_queue}-delivery"


def channel_queue(queue: str, kind: str) -> str:
    return f"{queue}-{kind}"


def idempotency_key(workflow_id: str, notice_key: str, recipient: str, kind: str,
                    address: str) -> str:
    raw = "\x1f".join((workflow_id, notice_key, recipient, kind, address))
    return "shixian-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


# ---- planning (called by send_notice) ---------------------------------------------------------
def _actor_label(notice: NoticeRecord, actor: str, index: int) -> str:
    """市发改委 for `ndrc`: the pack's name, else the notice's display names."""
    if actor == "owner":
        return notice.owner or "项目业主单位"
    if actor == notice.actor and notice.actor_name:
        return notice.actor_name
    try:
        names = load_pack(notice.policy).actors if notice.policy else {}
    except PolicyError:  # a pack this worker does not ship: fall back to the notice
        names = {}
    if actor in names:
        return names[actor]
    if len(notice.recipients) == len(notice.recipient_actors):
        return notice.recipients[index]
    return actor


def _routes(contacts: Contacts, notice: NoticeRecord, jurisdiction: str
            ) -> list[tuple[str, str, list[Recipient]]]:
    """(actor id, label, recipients) for each recipient actor of the notice."""
    out = []
    for i, actor in enumerate(notice.recipient_actors):
        label = _actor_label(notice, actor, i)
        if contacts.embedded:
            people = [contacts_mod.embedded_recipient(actor, label, notice.policy)]
        else:
            people = contacts.route(actor, notice.policy, jurisdiction, notice.owner)
        if actor == "owner" and notice.owner_contact is not None:
            people = [*people, *_project_contact(contacts, notice, label)]
        out.append((actor, label, people))
    return out


def _project_contact(contacts: Contacts, notice: NoticeRecord, label: str) -> list[Recipient]:
    """The projects file's 业主联系人, beside the contacts file's owners: its e-mail, and its
    robot when the contacts file configures one by that name (else the e-mail alone)."""
    contact = notice.owner_contact
    assert contact is not None
    robots = [contact.robot] if contact.robot in contacts.channels.robots else []
    if contacts.embedded and contact.robot is not None:
        robots = [contacts_mod.EMBEDDED_ROBOT]
    if contact.email is None and not robots:
        return []
    name = f"{label}（{contact.name}）" if contact.name else label
    return [Recipient(name=name, email=contact.email, robots=robots)]


def _rows_for(contacts: Contacts, notice: NoticeRecord, jurisdiction: str,
              withdrawn: list[Any] | None) -> list[dict[str, Any]]:
    """One row per (recipient, channel); a correction goes to the withdrawn notice's rows
    (`withdrawn` None: the wrong notice had no deliveries, so route the correction itself)."""
    rows: list[dict[str, Any]] = []
    if withdrawn is not None:
        for r in withdrawn:
            rows.append({"actor": r.actor, "recipient": r.recipient,
                         "channel_kind": r.channel_kind, "address": r.address,
                         "state": "pending", "reason": f"corrects {notice.withdraws}"})
        return rows
    for actor, label, people in _routes(contacts, notice, jurisdiction):
        if not people:
            rows.append({"actor": actor, "recipient": label, "channel_kind": "none",
                         "address": actor, "state": "undeliverable",
                         "reason": f"no contact for {label} ({jurisdiction}): add "
                                   f"{actor} to the contacts file"})
            continue
        for person in people:
            quiet = str(person.quiet_hours) if person.quiet_hours else None
            if person.email:
                rows.append({"actor": actor, "recipient": person.name, "channel_kind": "email",
                             "address": person.email, "state": "pending", "reason": "",
                             "quiet": None})
            for robot in person.robots:
                kind = contacts.channels.robots[robot].kind
                rows.append({"actor": actor, "recipient": person.name, "channel_kind": kind,
                             "address": robot, "state": "pending", "reason": "",
                             "quiet": quiet})
    return rows


def _insert_rows(conn: Connection, base: dict[str, Any], rows: list[dict[str, Any]],
                 one_post_per_group: bool = True
                 ) -> list[DeliveryTarget]:
    targets: list[DeliveryTarget] = []
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        # One person reached through two actors gets one message; a group robot posts to
        # its group once, however many of the group's people the notice names (the embedded
        # mailbox's one robot name stands for each actor's own group).
        group = one_post_per_group and row["channel_kind"] not in ("email", "none")
        ident = ("" if group else row["recipient"], row["channel_kind"], row["address"])
        if ident in seen:
            continue
        seen.add(ident)
        quiet = row.pop("quiet", None)
        where = (notice_deliveries.c.workflow_id == base["workflow_id"],
                 notice_deliveries.c.notice_key == base["notice_key"],
                 notice_deliveries.c.recipient == row["recipient"],
                 notice_deliveries.c.channel_kind == row["channel_kind"],
                 notice_deliveries.c.address == row["address"])
        query = select(notice_deliveries.c.id, notice_deliveries.c.state).where(*where)
        found = conn.execute(query).one_or_none()
        if found is None:  # a retried send_notice finds its rows (the unique key backs this)
            conn.execute(notice_deliveries.insert().values(**(base | row)))
            found = conn.execute(query).one()
        if found.state in ("pending", "delayed"):
            targets.append(DeliveryTarget(delivery_id=found.id, recipient=row["recipient"],
                                          channel_kind=row["channel_kind"],
                                          address=row["address"], quiet_hours=quiet))
    return targets


def plan_notice(workflow_id: str, project_id: str, jurisdiction: str, notice: NoticeRecord,
                queue: str, contacts: Contacts | None = None) -> DeliveryPlan:
    """Resolve recipients through the contacts file and write the delivery rows.

    A contacts file that does not load makes every route undeliverable with the error as
    the reason (fix it, then `shixian notices resend`), instead of failing the activity: a
    retried send_notice would hold up the project's workflow until someone fixed the file."""
    broken = ""
    if contacts is None:
        try:
            contacts = contacts_mod.load()
        except contacts_mod.ContactsError as exc:
            broken, contacts = str(exc), Contacts()
    now = datetime.now(UTC)
    base = {"workflow_id": workflow_id, "notice_key": notice.key, "project_id": project_id,
            "kind": str(notice.kind), "rung": notice.rung, "level": notice.level,
            "attempts": 0, "task_queue": queue, "notice": notice.model_dump(mode="json"),
            "created_at": now, "updated_at": now}
    with engine().begin() as conn:
        withdrawn: list[Any] | None = None
        if notice.kind == NoticeKind.CORRECTION and notice.withdraws:
            c = notice_deliveries.c
            of_wrong = (c.workflow_id == workflow_id, c.notice_key == notice.withdraws)
            # A wrong message still held by quiet hours is withdrawn, never sent, and so
            # needs no correction; every other route of the wrong notice gets one.
            conn.execute(update(notice_deliveries)
                         .where(*of_wrong, c.state == "delayed")
                         .values(state="withdrawn", updated_at=now,
                                 reason=f"withdrawn before sending by {notice.key}"))
            prior = list(conn.execute(select(notice_deliveries).where(*of_wrong)
                                      .order_by(c.id)).all())
            if prior:
                withdrawn = [r for r in prior
                             if r.channel_kind != "none" and r.state != "withdrawn"]
        planned = _rows_for(contacts, notice, jurisdiction, withdrawn)
        if broken:
            planned = [{"actor": r["actor"], "recipient": r["recipient"],
                        "channel_kind": "none", "address": r["actor"],
                        "state": "undeliverable", "reason": f"contacts file unusable: {broken}"}
                       for r in _rows_for(Contacts(), notice.model_copy(
                           update={"withdraws": None}), jurisdiction, None)]
        targets = _insert_rows(conn, base, planned, one_post_per_group=not contacts.embedded)
    d = contacts.delivery
    return DeliveryPlan(workflow_id=workflow_id, project_id=project_id, notice=notice,
                        targets=targets, queue=queue,
                        attempt_timeout_seconds=d.attempt_timeout_seconds,
                        retry_initial_seconds=d.retry_initial_seconds,
                        retry_maximum_seconds=d.retry_maximum_seconds,
                        retry_maximum_attempts=d.retry_maximum_attempts)


# ---- sending ----------------------------------------------------------------------------------
def utc(value: datetime | None) -> datetime | None:
    """Timestamps are stored in UTC; SQLite hands them back naive."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _set(conn: Connection, delivery_id: int, **values: Any) -> None:
    conn.execute(update(notice_deliveries).where(notice_deliveries.c.id == delivery_id)
                 .values(updated_at=datetime.now(UTC), **values))


def _send(contacts: Contacts, inp: DeliverInput, workflow_id: str) -> str:
    t = inp.target
    out = Outgoing(recipient=t.recipient, address=t.address,
                   message=render(inp.project_id, inp.notice, t.recipient),
                   idempotency_key=idempotency_key(workflow_id, inp.notice.key, t.recipient,
                                                   t.channel_kind, t.address),
                   payload={"project_id": inp.project_id, "workflow_id": workflow_id}
                   | inp.notice.model_dump(mode="json"))
    box = contacts_mod.mailbox_dir(contacts)
    if t.channel_kind == "email":
        channel = contacts.channels.email
        if contacts.delivery.mailbox:
            sender = channel.sender if channel else "时限 <shixian@localhost>"
            return f"written to {mailbox.write_email(box, t.delivery_id, sender, out)}"
        if channel is None:
            raise PermanentError("channels.email is not configured in the contacts file")
        return send_email(channel, contacts, out)
    robot = contacts.channels.robots.get(t.address)
    if robot is None:
        raise PermanentError(f"robot {t.address!r} is no longer under channels.robots")
    if contacts.delivery.mailbox:
        req = robot_request(t.address, robot, contacts, out, dry=True)
        path = mailbox.write_robot(box, t.delivery_id, robot.kind, t.address, out, req)
        return f"written to {path}"
    return send_robot(t.address, robot, contacts, out)


@activity.defn
def deliver(inp: DeliverInput) -> DeliveryOutcome:
    """Send one message unless its row says it was sent; count the attempt first."""
    t = inp.target
    c = notice_deliveries.c
    with engine().begin() as conn:
        # One conditional UPDATE claims the attempt: atomic on SQLite and PostgreSQL alike,
        # so a row a correction withdrew, or one already sent, is never sent (again).
        claimed = conn.execute(
            update(notice_deliveries)
            .where(c.id == t.delivery_id, c.state.in_(("pending", "delayed")))
            .values(state="pending", attempts=c.attempts + 1,
                    updated_at=datetime.now(UTC))).rowcount
        row = conn.execute(select(notice_deliveries).where(c.id == t.delivery_id)).one()
    if not claimed:
        return DeliveryOutcome(delivery_id=t.delivery_id, state=row.state,
                               reason=f"not sent again: already {row.state}")
    try:
        contacts = contacts_mod.load()
        result = _send(contacts, inp, row.workflow_id)
    except (DeliveryError, contacts_mod.ContactsError) as exc:
        permanent = not isinstance(exc, DeliveryError) or isinstance(exc, PermanentError)
        with engine().begin() as conn:
            _set(conn, t.delivery_id, reason=f"attempt {row.attempts}: {exc}")
        log.warning("delivery attempt failed", delivery_id=t.delivery_id, permanent=permanent,
                    channel=t.channel_kind, reason=str(exc))
        raise ApplicationError(str(exc), type=PERMANENT if permanent else "TransientDelivery",
                               non_retryable=permanent) from None
    with engine().begin() as conn:
        conn.execute(update(notice_deliveries).where(c.id == t.delivery_id).values(
            state="sent", reason=result, sent_at=datetime.now(UTC),
            updated_at=datetime.now(UTC)))
    log.info("delivered", delivery_id=t.delivery_id, project_id=inp.project_id,
             key=inp.notice.key, recipient=t.recipient, channel=t.channel_kind,
             address=t.address, result=result)
    return DeliveryOutcome(delivery_id=t.delivery_id, state="sent", reason=result)


@activity.defn
def mark_delivery(mark: DeliveryMark) -> None:
    """Record `delayed` (quiet hours) or `failed` (retries exhausted, permanent error)."""
    c = notice_deliveries.c
    until = mark.quiet_until.astimezone(UTC) if mark.quiet_until else None
    with engine().begin() as conn:  # never over a sent or withdrawn row
        conn.execute(update(notice_deliveries)
                     .where(c.id == mark.delivery_id, c.state.in_(("pending", "delayed")))
                     .values(state=mark.state, reason=mark.reason, quiet_until=until,
                             updated_at=datetime.now(UTC)))
