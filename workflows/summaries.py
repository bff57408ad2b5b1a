"""One-line summaries for Temporal's own tools (`temporal workflow show`, the Web UI): which
duty a timer waits for and at which rung, what a notice activity sends, what the read model
is told, and the project's current details. Pure and deterministic (state in, text out):
summaries are metadata on commands, never inputs to a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from calendars.periods import SHANGHAI
from workflows.escalation import rung_instants
from workflows.ledger import Ledger, business_date, start_of_day
from workflows.models import NoticeRecord, ObligationState, StatusView

MAX = 200  # the Web UI shows one line; keep the summaries short


def _cut(text: str) -> str:
    return text if len(text) <= MAX else text[:MAX - 1] + "…"


def _beijing(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _rung_label(ledger: Ledger, name: str) -> str:
    for r in ledger.pack.escalation.ladder:
        if r.name == name:
            return r.label or r.name
    return name


def wake_summary(ledger: Ledger, now: datetime, wake: datetime | None) -> str:
    """Why the workflow sleeps until `wake`: the duty and rung due then, or a duty starting.
    A summary never fails the workflow: anything unexpected gives the bare time."""
    if wake is None:
        return "waiting for documents (no deadline runs by itself)"
    when = f"{_beijing(wake)} Beijing"
    try:
        return _wake_reason(ledger, now, wake, when)
    except Exception:  # metadata only: a day off the calendar, say
        return f"next check · at {when}"


def _wake_reason(ledger: Ledger, now: datetime, wake: datetime, when: str) -> str:
    today = business_date(now)  # the instances next_wake looked at (and cached)
    for inst in ledger.instances(today):
        if ledger.state_of(inst, today) in (ObligationState.DONE, ObligationState.WAIVED,
                                           ObligationState.CANCELLED):
            continue
        who = ledger.actor_name(inst.actor)
        for _, name, at in rung_instants(ledger, inst.due_on):
            if abs(at - wake) < timedelta(seconds=1):
                return _cut(f"{_rung_label(ledger, name)} · {inst.title}（{who}）due "
                            f"{inst.due_on} · at {when}")
        if inst.starts_on is not None and abs(start_of_day(inst.starts_on) - wake) < timedelta(
                seconds=1):
            return _cut(f"starts · {inst.title}（{who}）· at {when}")
    return _cut(f"next check (consequences, periodic duties) · at {when}")


def notice_summary(notice: NoticeRecord) -> str:
    late = f" +{notice.overdue_working_days}wd" if notice.overdue_working_days else ""
    return _cut(f"notice {notice.rung} L{notice.level} · {notice.obligation}{late} → "
                f"{'、'.join(notice.recipients)}")


def sync_summary(seq: int, status: StatusView) -> str:
    return _cut(f"read model #{seq} · {status.stage_title} · next due "
                f"{status.next_due_on or '-'}" + (" · overdue" if status.overdue else ""))


def wake_record_summary(notices: Sequence[NoticeRecord], seq: int | None,
                        status: StatusView) -> str:
    """One `record_wake`: its first notice (and how many more), then the read-model update
    it carries, if any — what the Web UI shows on the activity."""
    parts = []
    if notices:
        more = f" (+{len(notices) - 1} more)" if len(notices) > 1 else ""
        parts.append(notice_summary(notices[0]) + more)
    if seq is not None:
        parts.append(sync_summary(seq, status))
    return _cut(" + ".join(parts))


def current_details(status: StatusView) -> str:
    """Markdown for the Web UI's current details: where the project is, who must act."""
    late = [o for o in status.obligations if o.state is ObligationState.OVERDUE]
    open_ = [o for o in status.obligations if o.state is ObligationState.OPEN and o.due_on]
    lines = [f"**{status.name}** ({status.project_id}) · {status.jurisdiction} · "
             f"{status.policy}",
             f"阶段 stage: {status.stage_title} ({status.stage})"
             + (" · finished" if status.finished else ""),
             f"下一截止日 next due: {status.next_due_on or '-'}"]
    lines += [f"- 逾期 {o.title}（{o.actor_name}）due {o.due_on}, +{o.overdue_working_days}wd"
              + (f", {o.escalation_label}" if o.escalation_label else "") for o in late]
    lines += [f"- {o.title}（{o.actor_name}）due {o.due_on}"
              for o in sorted(open_, key=lambda o: o.due_on or date.max)[:5]]
    return "\n".join(lines)
