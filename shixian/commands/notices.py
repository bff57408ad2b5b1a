"""`shixian notices` (where each notice's deliveries stand) and `shixian contacts`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from activities.delivery import STATES
from delivery import contacts as contacts_mod
from delivery.contacts import Contacts
from shixian import aio
from shixian.client import connect
from shixian.render import table

NOTICES_EPILOG = """\
examples:
  shixian notices                              every delivery: recipient, channel, state
  shixian notices --project JJ-2026-001
  shixian notices --state undeliverable        notices that reach nobody: add contacts
  shixian notices --state failed --json
  shixian notices resend 42                    send delivery 42 again (failed, sent, or
                                               undeliverable after its contact was added)

One row per (notice, recipient, channel). States: pending, delayed (quiet hours), sent,
failed (with the reason), undeliverable (no contact for the actor), rerouted (routed
again after its contact was added), withdrawn (held by quiet hours, then corrected).
"""

CONTACTS_EPILOG = """\
examples:
  shixian contacts check contacts.yaml         validate a file before installing it
  shixian contacts show                        the routing in force, and where it comes from
  shixian contacts show --json

The file is $SHIXIAN_CONTACTS, else $SHIXIAN_HOME/contacts.yaml (.shixian/contacts.yaml).
Without one, every message is written to .shixian/mailbox/ instead of being sent.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("notices", help="notice deliveries and their state; resend one",
                       description="List the deliveries of notices (e-mail, robots, webhooks).",
                       epilog=NOTICES_EPILOG, formatter_class=fmt)
    p.add_argument("--project", metavar="ID", help="one project's deliveries")
    p.add_argument("--state", choices=STATES, help="only deliveries in this state")
    p.add_argument("--json", action="store_true", help="a JSON array")
    p.set_defaults(handler=run_list)
    nsub = p.add_subparsers(dest="notices_command", metavar="SUBCOMMAND")
    r = nsub.add_parser("resend", help="send one delivery again",
                        description="Reset a failed or sent delivery and send it again, or "
                        "route an undeliverable one again through the current contacts file.")
    r.add_argument("delivery_id", type=int, metavar="ID")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=run_resend)

    c = sub.add_parser("contacts", help="who receives notices, on which channels",
                       description="The contacts file: recipients per jurisdiction actor and "
                       "per project owner, the channels (SMTP, DingTalk, WeCom, Feishu, "
                       "webhook) and delivery settings.", epilog=CONTACTS_EPILOG,
                       formatter_class=fmt)
    csub = c.add_subparsers(dest="contacts_command", metavar="SUBCOMMAND", required=True)
    check = csub.add_parser("check", help="validate a contacts file")
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(handler=run_check)
    show = csub.add_parser("show", help="the contacts in force")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)


def run_list(args: argparse.Namespace) -> int:
    from shixian.notices_view import deliveries

    rows = deliveries(args.project, args.state)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no deliveries" + (f" for {args.project}" if args.project else "")
              + (f" in state {args.state}" if args.state else ""))
        return 0
    print(table(["id", "project", "notice", "recipient", "channel", "state", "tries", "reason"],
                [[str(r.id), r.project_id, r.notice_key, r.recipient,
                  f"{r.channel}:{r.address}" if r.channel != "none" else "—", r.state,
                  str(r.attempts), r.reason[:80]] for r in rows]))
    return 0


def run_resend(args: argparse.Namespace) -> int:
    from shixian.notices_view import resend

    async def main(_: object) -> int:
        client = await connect()
        wid, ids = await resend(client, args.delivery_id)
        if args.json:
            print(json.dumps({"workflow_id": wid, "deliveries": ids}))
        else:
            print(f"resending delivery {args.delivery_id} as {', '.join(map(str, ids))} "
                  f"(workflow {wid}); see `shixian notices`")
        return 0

    return aio.run(main)


def _summary(c: Contacts) -> dict[str, object]:
    missing = sorted({env for env in _envs(c) if c.secret(env) is None})
    return {
        "embedded": c.embedded,
        "mailbox": c.delivery.mailbox,
        "mailbox_dir": str(contacts_mod.mailbox_dir(c)) if c.delivery.mailbox else None,
        "email": c.channels.email.model_dump(mode="json") if c.channels.email else None,
        "robots": {k: v.model_dump(mode="json") for k, v in c.channels.robots.items()},
        "jurisdictions": {j: {a: [r.model_dump(mode="json") for r in rs]
                              for a, rs in actors.items()}
                          for j, actors in c.jurisdictions.items()},
        "owners": {o: [r.model_dump(mode="json") for r in rs] for o, rs in c.owners.items()},
        "unset_environment_variables": missing,
    }


def _envs(c: Contacts) -> list[str]:
    out = [c.channels.email.password_env] if c.channels.email else []
    for robot in c.channels.robots.values():
        out += [robot.token_env, robot.secret_env]
    return [e for e in out if e]


def run_check(args: argparse.Namespace) -> int:
    c = contacts_mod.load_file(args.file)
    people = sum(len(rs) for a in c.jurisdictions.values() for rs in a.values()) + sum(
        len(rs) for rs in c.owners.values())
    print(f"{args.file}: ok — {len(c.jurisdictions)} jurisdiction(s), {len(c.owners)} "
          f"owner(s), {people} recipient entr{'y' if people == 1 else 'ies'}, robots: "
          f"{', '.join(f'{k} ({v.kind})' for k, v in c.channels.robots.items()) or 'none'}, "
          f"e-mail: {c.channels.email.host if c.channels.email else 'none'}"
          + (" (mailbox mode: nothing is sent)" if c.delivery.mailbox else ""))
    missing = sorted({env for env in _envs(c) if c.secret(env) is None})
    if missing:
        print(f"warning: not set here (the worker needs them): {', '.join(missing)}",
              file=sys.stderr)
    return 0


def run_show(args: argparse.Namespace) -> int:
    c = contacts_mod.load()
    source = "embedded default (no contacts file)" if c.embedded else str(
        contacts_mod.contacts_path())
    data = {"source": source} | _summary(c)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"contacts: {source}")
    if c.delivery.mailbox:
        print(f"mailbox mode: messages are written to {data['mailbox_dir']}, not sent")
    if c.embedded:
        print("every actor of every pack → a placeholder recipient (e-mail + DingTalk robot)")
    for j, actors in c.jurisdictions.items():
        for actor, rs in actors.items():
            for r in rs:
                print(f"  {j} / {actor}: {_who(r)}")
    for owner, rs in c.owners.items():
        for r in rs:
            print(f"  owner {owner}: {_who(r)}")
    return 0


def _who(r: contacts_mod.Recipient) -> str:
    ways = ([f"email {r.email}"] if r.email else []) + [f"robot {x}" for x in r.robots]
    quiet = f", quiet {r.quiet_hours}" if r.quiet_hours else ""
    return f"{r.name} ({', '.join(ways)}{quiet})"
