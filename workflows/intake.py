"""Intake: what a document, a clock change or an extension may be — and the breaches facts show.

Refusal is for input that cannot be true (an unknown type, a future date, a second copy of a
once-only document, a decision with nothing to decide on). A breach — a document before its
gate, before a minimum duration is over, before its window opens, a fact over its bound —
is a fact: recorded, flagged, notified (DESIGN §8). Pure: runs in the sandbox.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from policies.model import FactValue, Obligation
from workflows.base import Refused, business_date
from workflows.models import (
    MAX_DOCUMENT_BYTES,
    DocumentArrival,
    Extension,
    ManualPause,
    NoticeKind,
    RecordOutcome,
)
from workflows.schedule import Instance, period_of

if TYPE_CHECKING:
    from workflows.ledger import Ledger


@dataclass(frozen=True)
class Breach:
    """A rule the facts show was broken (违规): gate, minimum, window or fact check."""

    id: str
    rule: str
    title: str
    citation: str
    document: str | None
    on: date | None
    detail: str


def canonical(ledger: Ledger, doc: DocumentArrival) -> DocumentArrival:
    """A document named by its Chinese title (项目执行情况报送) as the pack's id."""
    if doc.type in ledger.pack.documents:
        return doc
    ids = [t for t, spec in ledger.pack.documents.items() if spec.title == doc.type.strip()]
    return doc.model_copy(update={"type": ids[0]}) if len(ids) == 1 else doc


def check_document(ledger: Ledger, doc: DocumentArrival, today: date) -> RecordOutcome:
    """Accept, recognise a duplicate, or raise `Refused` with the reason. Changes nothing."""
    pack = ledger.pack
    doc = canonical(ledger, doc)
    if doc.type not in pack.documents:
        names = {**{t: t for t in pack.documents},
                 **{spec.title: t for t, spec in pack.documents.items()}}
        close = difflib.get_close_matches(doc.type, list(names), n=1, cutoff=0.6)
        hint = (f"; did you mean {names[close[0]]} ({pack.documents[names[close[0]]].title})?"
                if close else "")
        known = ", ".join(pack.documents)
        raise Refused(f"unknown document type {doc.type!r} for {pack.id}{hint} "
                      f"(`shixian policy show {pack.id}` lists them); known types: {known}")
    spec = pack.documents[doc.type]
    if doc.on > today:
        raise Refused(f"{doc.type} is dated {doc.on}, after today ({today}, Beijing time); "
                      "record a document on or after the day it arrives")
    if doc.on < ledger.project.started_on:
        start = pack.documents[pack.starts_with].title
        raise Refused(f"{doc.type} is dated {doc.on}, before the {pack.starts_with} "
                      f"({start}, {ledger.project.started_on})")
    if ledger.state.terminated is not None:
        raise Refused(f"the project was terminated: {ledger.state.terminated}")
    same = [d for d in ledger.all_docs() if d.type == doc.type]
    if any(d.on == doc.on and (doc.ref is None or d.ref in (None, doc.ref)) for d in same):
        return RecordOutcome.DUPLICATE
    if same and not spec.repeatable:
        first = same[0]
        ref = f" (ref {first.ref})" if first.ref else ""
        raise Refused(f"{doc.type} was already recorded on {first.on}{ref}; "
                      "it can be recorded once")
    if spec.needs_until and doc.until is None:
        raise Refused(f"{doc.type} needs the new due day (--until YYYY-MM-DD)")
    if doc.until is not None:
        _check_until(ledger, doc)
    size = document_size(doc)
    if ledger.state.document_bytes + size > MAX_DOCUMENT_BYTES:
        held, limit = ledger.state.document_bytes // 1000, MAX_DOCUMENT_BYTES // 1000
        raise Refused(f"{doc.type}: this project's documents already take {held} KB of the "
                      f"{limit} KB a project may hold; shorten the refs and facts, or ask an "
                      "operator to archive the project")
    for name in doc.facts:
        if name not in pack.facts:
            known = ", ".join(pack.facts) or "none"
            raise Refused(f"{doc.type}: unknown fact {name!r} for {pack.id}; known: {known}")
    if doc.period is not None:
        _check_period(ledger, doc, today)
    _check_expected(ledger, doc, today)
    return RecordOutcome.ACCEPTED


def _check_until(ledger: Ledger, doc: DocumentArrival) -> None:
    """A new due day must be after the document and on the project's calendar: past its last
    year no working day can be counted, and the due day would be lost."""
    assert doc.until is not None
    if doc.until <= doc.on:
        raise Refused(f"{doc.type} on {doc.on}: the new due day {doc.until} must be after it")
    last = ledger.calendar.covered_range[1]
    if doc.until > last:
        raise Refused(f"{doc.type}: the new due day {doc.until} is after the last day this "
                      f"project's calendar covers ({last}); give one within it")


def document_size(doc: DocumentArrival) -> int:
    """What a document weighs in the state (its JSON, UTF-8)."""
    return len(doc.model_dump_json(exclude_defaults=True).encode())


def _check_period(ledger: Ledger, doc: DocumentArrival, today: date) -> None:
    """A filing that names its period must name one that is open for it on its date."""
    periods = [i for i in ledger.instances(today)  # a rule off the path has no periods
               if period_of(i) is not None and i.rule.fulfilled_by == doc.type
               and not i.waived]
    if not periods:
        raise Refused(f"{doc.type} is not a periodic report; leave out its period "
                      f"({doc.period})")
    named = next((i for i in periods if period_of(i) == doc.period), None)
    listed = ", ".join(str(period_of(i)) for i in periods if i.done_on is None) or "none"
    if named is None:
        raise Refused(f"{doc.type}: no period {doc.period} is due on this project; "
                      f"open periods: {listed}")
    if named.done_on is not None:
        raise Refused(f"{doc.type}: {named.title} was already filed on {named.done_on}; "
                      f"open periods: {listed}")
    if named.opens_on is not None and doc.on < named.opens_on:
        raise Refused(f"{doc.type}: {named.title} can be filed from {named.opens_on}, "
                      f"not on {doc.on}")


def _check_expected(ledger: Ledger, doc: DocumentArrival, today: date) -> None:
    pack = ledger.pack
    plan = ledger.plan
    if ledger.is_election(doc.type) and not plan.is_trigger(doc.type, stages=False) and \
            ledger.with_election(doc.type).is_trigger(doc.type, stages=False):
        return  # an owner's election (九江 25 末段 可合并): the document chooses the path
    title = pack.documents[doc.type].title
    insts = ledger.instances(today)
    fulfils = [i for i in insts if not i.waived and i.rule.fulfilled_by == doc.type]
    for inst in fulfils:
        if inst.done_on is None and inst.starts_on is not None:
            if isinstance(inst.rule, Obligation):
                return  # under way, or an early filing: a fact (a window or minimum flags it)
            if inst.opens_on is not None and doc.on >= inst.opens_on:
                return  # a periodic report counts only for a period it can be filed for
    if fulfils:
        pending = [i for i in fulfils if i.done_on is None]
        if not pending:
            if plan.is_trigger(doc.type):
                return
            raise Refused(f"{doc.type} ({title}) is not expected: {fulfils[0].title} is done")
        inst = pending[0]
        if any(g.document == doc.type for g in plan.gates):
            return  # out of order: recorded, and the gate flags the breach (DESIGN §8)
        if not isinstance(inst.rule, Obligation):
            raise Refused(f"{doc.type} ({title}) on {doc.on} is not expected: no period it "
                          f"reports on is open then ({inst.title} can be filed from "
                          f"{inst.opens_on})")
        if isinstance(inst.rule, Obligation):
            trigger = plan.obligation(inst.rule.id)
            counted = trigger.trigger if trigger is not None else "?"
        else:
            counted = inst.rule.from_event
        counted_title = pack.documents[counted].title if counted in pack.documents else counted
        raise Refused(f"{doc.type} ({title}) is not expected in this state: {inst.title} "
                      f"counts from {counted} ({counted_title}), which has not been recorded; "
                      "record that first")
    skipped = [i for i in insts if i.waived and i.rule.fulfilled_by == doc.type]
    if skipped and not plan.is_trigger(doc.type, stages=False):
        raise Refused(f"{doc.type} ({title}) is not on this project's path under {pack.id}: "
                      f"{skipped[0].title} does not apply ({skipped[0].citation})")
    duties = [(i, i.rule) for i in insts if type(i.rule) is Obligation and not i.waived]
    for pause in pack.pauses:
        users = [i for i, rule in duties if pause.id in rule.pauses]
        if doc.type == pause.starts and users:
            if any(i.starts_on is not None and i.starts_on <= doc.on
                   and (i.done_on is None or i.done_on >= doc.on) for i in users):
                return
            raise Refused(f"{doc.type} ({title}) is not expected: nothing that "
                          f"{pause.title} can pause is under way on {doc.on}")
        if doc.type == pause.ends and users:
            if any(b <= doc.on and e is None for i in users for b, e in i.pauses):
                return
            raise Refused(f"{doc.type} ({title}) is not expected: no {pause.starts} "
                          "is waiting for it")
    for res in plan.obligations:
        if res.rule.extended_by == doc.type and res.applies:
            target = [i for i in insts if i.rule is res.rule and i.done_on is None
                      and i.starts_on is not None and i.starts_on <= doc.on]
            if target:
                return
            raise Refused(f"{doc.type} ({title}) is not expected: {res.rule.title} "
                          "is not under way")
    if plan.is_trigger(doc.type):
        return
    raise Refused(f"{doc.type} ({title}) is not on this project's path under {pack.id}")


def add_document(ledger: Ledger, doc: DocumentArrival, now: datetime) -> None:
    doc = canonical(ledger, doc)
    ledger.state.documents.append(doc)
    ledger.state.document_bytes += document_size(doc)
    ledger.invalidate()
    title = ledger.pack.documents[doc.type].title
    ref = f" ({doc.ref})" if doc.ref else ""
    ledger.log(now, "document", f"{doc.type} {title} on {doc.on}{ref}",
               doc.model_dump(mode="json", exclude_defaults=True), on=doc.on)


# ---- clocks and extensions ---------------------------------------------------------------
def check_stop_clock(ledger: Ledger, obligation: str, on: date, today: date) -> ManualPause:
    inst = ledger.instance(obligation, today)
    if not isinstance(inst.rule, Obligation) or inst.rule.manual_pause is None:
        raise Refused(f"{obligation}: {inst.title} ({inst.citation}) has no excluded time that "
                      "a clock stop could mark (only documents pause it)")
    if on > today:
        raise Refused(f"the clock stop is dated {on}, after today ({today})")
    if inst.starts_on is None or on < inst.starts_on or inst.done_on is not None:
        raise Refused(f"{obligation} is not under way on {on}")
    if inst.paused_since is not None:
        raise Refused(f"{obligation}'s clock is already stopped since {inst.paused_since}")
    return ManualPause(obligation=obligation, since=on, reason=inst.rule.manual_pause)


def check_restart_clock(ledger: Ledger, obligation: str, on: date, today: date) -> ManualPause:
    pause = next((p for p in ledger.state.manual_pauses
                  if p.obligation == obligation and p.until is None), None)
    if pause is None:
        raise Refused(f"{obligation}'s clock is not stopped by hand")
    if on > today or on < pause.since:
        raise Refused(f"restart on {on} must be between the stop ({pause.since}) and today")
    return pause


def check_extension(ledger: Ledger, obligation: str, until: date, on: date,
                    today: date) -> Instance:
    inst = ledger.instance(obligation, today)
    if inst.done_on is not None or inst.waived:
        raise Refused(f"{obligation} is not open")
    if on > today:
        raise Refused(f"the extension is dated {on}, after today ({today}); record it on or "
                      "after the day it was granted")
    if inst.due_on is not None and until <= inst.due_on:
        raise Refused(f"an extension must move the due day later than {inst.due_on}")
    last = ledger.calendar.covered_range[1]
    if until > last:
        raise Refused(f"the new due day {until} is after the last day this project's calendar "
                      f"covers ({last}); grant an extension within it")
    return inst


def apply_extension(ledger: Ledger, ext: Extension, now: datetime) -> None:
    ledger.state.extensions.append(ext)
    ledger.invalidate()
    ledger.log(now, "extension", f"{ext.obligation} extended to {ext.until}: {ext.reason}",
               ext.model_dump(mode="json"))


# ---- breaches ----------------------------------------------------------------------------
def fact(ledger: Ledger, name: str) -> tuple[FactValue | None, DocumentArrival | None]:
    """A fact's value: the latest document that states it, else the project record."""
    for doc in sorted(ledger.state.documents, key=lambda d: d.on, reverse=True):
        if name in doc.facts:
            return doc.facts[name], doc
    if name == "investment_wan":
        return ledger.project.investment_wan, None
    return ledger.project.fact_value(name), None


def breaches(ledger: Ledger, today: date) -> list[Breach]:
    """Every rule the facts show broken, in a stable order."""
    return [*_broken_rules(ledger, today), *_blocked(ledger)]


def _broken_rules(ledger: Ledger, today: date) -> list[Breach]:
    """The gates, minimums, windows and checks the documents break. A wake asks up to five
    times (escalation, corrections, three views); the answer is kept with the instances
    and plan it was derived from, and a change to the documents, pauses, extensions, the
    day or the calendar gives new ones (`Ledger.instances`), so it is derived again."""
    insts = ledger.instances(today)
    plan = ledger.plan
    kept = ledger.broken_rules
    if kept is not None and kept[0] is insts and kept[1] is plan:
        return kept[2]
    pack = ledger.pack
    sched = ledger.schedule()
    out: list[Breach] = []
    dates: dict[str, list[date]] = {}
    for d in ledger.all_docs():
        dates.setdefault(d.type, []).append(d.on)
    title = {k: v.title for k, v in pack.documents.items()}
    for gate in plan.gates:
        for doc in ledger.docs(gate.document):
            missing = [r for r in gate.requires if not any(x <= doc.on for x in dates.get(r, []))]
            if gate.requires_any and not any(x <= doc.on for r in gate.requires_any
                                             for x in dates.get(r, [])):
                missing.append(" / ".join(gate.requires_any))
            if missing:
                names = "、".join(title.get(m, m) for m in missing)
                out.append(Breach(f"{gate.id}@{doc.on}", gate.id, gate.title, gate.citation,
                                  doc.type, doc.on,
                                  f"{title[doc.type]}于 {doc.on} 记录，此前未见{names}"))
    for mini in plan.minimums:
        starts = sched.event_dates(mini.rule.after)[:1]
        for start in starts:
            end = sched.period_end(start, mini.length, moves_to_workday=False)
            for doc in ledger.docs(mini.rule.document):
                if start <= doc.on < end:
                    out.append(Breach(
                        f"{mini.rule.id}@{doc.on}", mini.rule.id, mini.rule.title,
                        mini.rule.citation, doc.type, doc.on,
                        f"{title[doc.type]}于 {doc.on}，早于 {end}（自 {start} 起不少于 "
                        f"{mini.length}）"))
    for inst in insts:
        if inst.opens_on is not None and inst.done_on is not None and \
                inst.done_on < inst.opens_on:
            out.append(Breach(
                f"{inst.id}:window@{inst.done_on}", inst.rule.id, f"{inst.title}（期限窗口）",
                inst.citation, inst.rule.fulfilled_by, inst.done_on,
                f"于 {inst.done_on} 完成，早于窗口开始日 {inst.opens_on}"))
    for chk in plan.checks:
        value, source = fact(ledger, chk.fact)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        label = pack.facts[chk.fact].label if chk.fact in pack.facts else chk.fact
        bound: str | None = None
        if chk.max is not None and value > chk.max:
            bound = f"{label} {value:g} 超过上限 {chk.max:g}"
        elif chk.min is not None and value < chk.min:
            bound = f"{label} {value:g} 低于下限 {chk.min:g}"
        elif chk.max_ratio_of is not None and chk.ratio is not None:
            base, _ = fact(ledger, chk.max_ratio_of)
            if isinstance(base, int | float) and not isinstance(base, bool) and \
                    value > base * chk.ratio:
                bound = f"{label} {value:g} 超过 {chk.max_ratio_of} {base:g} 的 {chk.ratio:g} 倍"
        if bound is not None:
            on = source.on if source is not None else ledger.project.started_on
            out.append(Breach(f"{chk.id}", chk.id, chk.title, chk.citation,
                              source.type if source else None, on, bound))
    ledger.broken_rules = (insts, plan, out)
    return out


def _blocked(ledger: Ledger) -> list[Breach]:
    """Documents a standing consequence forbids (不组织竣工验收, 不安排运维经费)."""
    out: list[Breach] = []
    standing = [n for n in ledger.state.notices if n.kind is NoticeKind.CONSEQUENCE
                and n.key not in ledger.state.withdrawn]
    for notice in standing:
        cons = next((c for c in ledger.pack.escalation.consequences
                     if c.id == notice.obligation), None)
        if cons is None:
            continue
        since = business_date(notice.fired_at)
        for blocked in cons.blocks:
            for doc in ledger.docs(blocked):
                if doc.on >= since:
                    out.append(Breach(
                        f"{cons.id}:{blocked}@{doc.on}", cons.id, cons.title, cons.citation,
                        blocked, doc.on,
                        f"{ledger.pack.documents[blocked].title}于 {doc.on}，"
                        f"而 {since} 起{cons.title}"))
    return out
