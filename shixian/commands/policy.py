"""`shixian policy`: the rule sets shixian knows, and checking a new one."""

from __future__ import annotations

import argparse
from pathlib import Path

from policies import fidelity
from policies.loader import available, load_pack, load_pack_file
from policies.model import Obligation, PolicyPack
from shixian import fact_values
from shixian.render import dump_json, table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = sub.add_parser(
        "policy", help="list, show and check policy packs (one per jurisdiction)",
        description="A policy pack is one jurisdiction's regulation as data: obligations, "
                    "time limits, conditions, pauses and the escalation ladder, each rule "
                    "citing its article. See policies/README.md for the format.",
        formatter_class=fmt,
    )
    psub = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)
    lst = psub.add_parser("list", help="the shipped packs")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=run_list)
    show = psub.add_parser("show", help="one pack's document types, obligations and ladder")
    show.add_argument("policy_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="the whole validated pack")
    show.set_defaults(handler=run_show)
    check = psub.add_parser("check", help="validate a pack file; names file, rule and field")
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(handler=run_check)
    fid = psub.add_parser(
        "fidelity", help="each article of the regulation → the rules citing it → their tests",
        formatter_class=fmt,
        description="How faithfully a pack transcribes its regulation. Every article of the "
                    "shipped text (policies/regulations/ID.txt), in order, with the rules that "
                    "cite it or the reason it is not modelled (policies/ID.fidelity.yaml); "
                    "then every rule with the tests marked @pytest.mark.covers(\"ID:rule\"), "
                    "read from tests/ without running them.",
        epilog="examples:\n"
               "  shixian policy fidelity jiujiang-2024\n"
               "  shixian policy fidelity jiujiang-2024 --json | jq '.problems'\n"
               "  shixian policy fidelity jiujiang-2024 --markdown > "
               "docs/fidelity/jiujiang-2024.md\n\n"
               "Exit status 2 when a citation does not resolve in the text, an article is "
               "neither cited nor listed as not modelled, or a rule has no covering test.",
    )
    fid.add_argument("policy_id", metavar="ID")
    out = fid.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="the table and problems as JSON")
    out.add_argument("--markdown", action="store_true",
                     help="the generated docs/fidelity/ID.md")
    fid.add_argument("--tests", type=Path, metavar="DIR", default=fidelity.TESTS_DIR,
                     help="where to look for covers markers (default: the repository's tests/)")
    fid.set_defaults(handler=run_fidelity)


def run_list(args: argparse.Namespace) -> int:
    packs = [load_pack(pid) for pid in available()]
    if args.json:
        print(dump_json([{"id": p.id, "title": p.title, "jurisdiction": p.jurisdiction,
                          "issued_on": p.issued_on.isoformat(), "status": p.status,
                          "obligations": len(p.obligations)} for p in packs]))
        return 0
    print(table(["id", "jurisdiction", "issued", "status", "rules", "title"],
                [[p.id, p.jurisdiction, p.issued_on.isoformat(), p.status,
                  str(len(p.obligations) + len(p.recurring)), p.title] for p in packs]))
    return 0


def _limit_text(value: object) -> str:
    if isinstance(value, str):
        return value
    assert isinstance(value, list)
    return " / ".join(v.value + ("?" if v.when else "") for v in value)


def _due_text(o: Obligation) -> str:
    """The limit as the text gives it: counted, calendar-anchored, none, or open from."""
    if o.due_by is not None:
        if o.due_by.before_event is not None:
            return f"before {o.due_by.before_event}"
        return f"by {o.due_by.month}-{o.due_by.day}"
    if o.no_limit is not None:
        return f"no due day ({o.no_limit})"
    if o.opens_only:
        return f"open from +{o.opens}"
    return _limit_text(o.limit)


def describe(pack: PolicyPack) -> str:
    lines = [f"{pack.id}: {pack.title} ({pack.jurisdiction}, {pack.issued_on}, {pack.status})",
             f"source: {pack.source}", "", "documents:"]
    lines += [f"  {k:<30} {v.title}" for k, v in pack.documents.items()]
    if pack.facts:
        lines += ["", "project facts (projects file / CSV columns, by label or id):"]
        lines += [f"  {s.label} ({k}): {fact_values.describe_type(s)}"
                  + (", required" if s.required else "")
                  + (f", default {s.default}" if s.default is not None else "")
                  for k, s in pack.facts.items()]
    lines += ["", "obligations (limit variants marked ? depend on the project):"]
    lines.append(table(
        ["id", "actor", "starts", "limit", "fulfilled by", "citation"],
        [[o.id, _limit_text(o.actor), _limit_text(o.starts), _due_text(o),
          o.fulfilled_by, o.citation] for o in pack.obligations]))
    if pack.recurring:
        lines += ["", "recurring duties:"]
        lines += [f"  {r.id}: every {r.every}, due {r.due_after_period_end} after the period "
                  f"({r.citation})" for r in pack.recurring]
    if pack.minimums or pack.gates or pack.checks:
        lines += ["", "minimums, gates and checks (a breach is recorded and notified):"]
    lines += [f"  minimum {m.id}: {m.document} not before {_limit_text(m.length)} after {m.after}"
              f" ({m.citation})" for m in pack.minimums]
    lines += [f"  gate {g.id}: {g.document} after {', '.join(g.requires or g.requires_any)}"
              f" ({g.citation})" for g in pack.gates]
    lines += [f"  check {c.id}: {c.fact} ({c.citation})" for c in pack.checks]
    lines += ["", "escalation ladder:"]
    lines += [f"  {r.level}. {r.name:<10} at {r.offset:>5} → {', '.join(r.notify)}  "
              f"({r.citation})" for r in pack.escalation.ladder]
    lines += [f"  consequence {c.id}: "
              f"{c.threshold if c.kind == 'delay_total' else f'{c.obligation} overdue'} → "
              f"{', '.join(c.notify)} ({c.citation})"
              for c in pack.escalation.consequences]
    return "\n".join(lines)


def run_show(args: argparse.Namespace) -> int:
    pack = load_pack(args.policy_id)
    print(dump_json(pack) if args.json else describe(pack))
    return 0


def run_check(args: argparse.Namespace) -> int:
    pack = load_pack_file(args.file)
    print(f"{args.file}: OK — {pack.id}, {len(pack.obligations)} obligations, "
          f"{len(pack.recurring)} recurring duties, {len(pack.documents)} document types")
    return 0


def run_fidelity(args: argparse.Namespace) -> int:
    load_pack(args.policy_id)  # an unknown or broken pack is an error, not a report
    rep = fidelity.report(args.policy_id, args.tests)
    if args.json:
        print(fidelity.dumps(rep))
    elif args.markdown:
        print(fidelity.markdown(rep), end="")
    else:
        print(fidelity.text(rep))
    return 2 if rep.problems else 0
