"""Small synthetic policy packs for testing the v2 language itself (not any city's pack).

`base()` is a minimal valid pack as a plain dict — the shape a `policies/<id>.yaml` file
loads to — so each test adds the one construct it is about and validates it the way a
shipped pack is validated (`policies.loader.parse_pack`). Dates in the tests are counted by
hand against the State Council arrangements for 2025 (国庆中秋 10/1–10/8 with Sun 9/28 and
Sat 10/11 worked; 端午 5/31–6/2) and 2026 (春节 2/15–2/23 with Sat 2/14 and Sat 2/28 worked;
清明 4/4–4/6; 劳动节 5/1–5/5 with Sat 5/9 worked; 国庆 10/1–10/7 with Sun 9/20 and Sat 10/10
worked), not with shixian's calendar.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from calendars import WorkCalendar
from calendars.periods import SHANGHAI
from policies.loader import parse_pack
from policies.model import PolicyPack
from workflows.ledger import Ledger, business_date
from workflows.models import DocumentArrival, LedgerState, Project, RecordOutcome

D = date.fromisoformat

PLAN: dict[str, Any] = {
    "id": "plan_submission", "title": "报送实施方案", "actor": "owner",
    "fulfilled_by": "plan_submitted", "starts": "task_issued", "limit": "5wd",
    "citation": "测试 第五条",
}
APPROVAL: dict[str, Any] = {
    "id": "plan_approval", "title": "批复实施方案", "actor": "bureau",
    "fulfilled_by": "plan_approved", "starts": "plan_submitted", "limit": "10wd",
    "citation": "测试 第六条",
}


FACTS_FOR_LIFE: dict[str, Any] = {
    "contract_term_years": {"type": "number", "label": "服务期限（年）"},
}


def base() -> dict[str, Any]:
    """A minimal valid pack: one obligation (5 wd from the 任务书) and a three-rung ladder."""
    return copy.deepcopy({
        "id": "lang-test", "title": "语言测试办法", "jurisdiction": "测试市",
        "issued_on": "2024-01-01", "source": "regulations/lang-test.txt",
        "starts_with": "task_issued", "started_on_means": "接到任务书之日",
        "actors": {"owner": "项目业主单位", "bureau": "市数据局", "office": "市领导小组办公室",
                   "audit": "市审计局"},
        "documents": {
            "task_issued": {"title": "任务书"},
            "plan_submitted": {"title": "实施方案报送"},
            "plan_approved": {"title": "实施方案批复"},
            "contract_signed": {"title": "合同签订"},
            "construction_started": {"title": "开工"},
            "filing_done": {"title": "网信办备案"},
            "trial_run_started": {"title": "试运行开始"},
            "acceptance_passed": {"title": "竣工验收通过"},
            "evaluation_filed": {"title": "绩效评价报告"},
            "monthly_report": {"title": "月报", "repeatable": True},
            "quarterly_report": {"title": "季报", "repeatable": True},
            "annual_report": {"title": "年度报告", "repeatable": True},
            "extension_granted": {"title": "延期批复", "needs_until": True},
        },
        "stages": [
            {"id": "preparing", "title": "前期", "phase": "preparatory",
             "entered_by": ["task_issued"]},
            {"id": "building", "title": "建设", "phase": "implementation",
             "entered_by": ["contract_signed"]},
            {"id": "accepting", "title": "验收", "phase": "acceptance",
             "entered_by": ["trial_run_started"]},
            {"id": "operating", "title": "运行", "phase": "operation",
             "entered_by": ["acceptance_passed"]},
        ],
        "obligations": [PLAN],
        "escalation": {"ladder": [
            {"level": 1, "name": "warning", "label": "预警", "colour": "amber",
             "offset": "-3wd", "notify": ["actor"], "citation": "shixian 运营默认"},
            {"level": 2, "name": "overdue", "label": "逾期", "colour": "amber",
             "offset": "0wd", "notify": ["actor", "bureau"], "citation": "测试 第三十条"},
            {"level": 3, "name": "escalated", "label": "督办", "colour": "red",
             "offset": "5wd", "notify": ["office"], "citation": "shixian 运营默认"},
        ]},
    })


def pack(data: dict[str, Any]) -> PolicyPack:
    return parse_pack(data, "lang-test.yaml")


_CAL: WorkCalendar | None = None


def calendar() -> WorkCalendar:
    """Official + provisional 2024–2030, the snapshot a workflow would carry."""
    global _CAL
    if _CAL is None:
        _CAL = WorkCalendar.from_snapshot(
            WorkCalendar.default(use_env=False).snapshot(2024, 2030))
    return _CAL


def at(day: str, hour: int = 9) -> datetime:
    """A Beijing instant on a business day (09:00 unless told)."""
    d = D(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=SHANGHAI)


def doc(doc_type: str, on: str, ref: str | None = None, until: str | None = None,
        **facts: Any) -> DocumentArrival:
    return DocumentArrival(type=doc_type, on=D(on), ref=ref,
                           until=D(until) if until else None, facts=facts)


def project(started_on: str, facts: dict[str, Any] | None = None, **kw: Any) -> Project:
    data: dict[str, Any] = {
        "id": "LANG-1", "name": "语言测试项目", "policy": "lang-test", "owner": "市测试局",
        "owner_type": "administrative", "category": "other", "kind": "build",
        "investment_wan": 500, "started_on": started_on, "facts": facts or {},
    }
    data.update(kw)
    return Project.model_validate(data)


def ledger(data: dict[str, Any], started_on: str, docs: list[DocumentArrival] | None = None,
           now: str = "2026-11-23", facts: dict[str, Any] | None = None, **kw: Any) -> Ledger:
    """A ledger on a synthetic pack with `docs` recorded (each must be accepted) at `now`."""
    led = Ledger(project(started_on, facts, **kw), pack(data), calendar(), LedgerState())
    for d in docs or []:
        record(led, d, now)
    return led


def record(led: Ledger, d: DocumentArrival, now: str = "2026-11-23") -> None:
    instant = at(now)
    assert led.check_document(d, business_date(instant)) is RecordOutcome.ACCEPTED, d
    led.add_document(d, instant)
