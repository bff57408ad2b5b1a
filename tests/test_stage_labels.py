"""The stage shown is the step now open, as the pack says: after an approval the next stage,
not the one just approved (#11: after 项目建议书批复 the owner writes the FSR)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from calendars import WorkCalendar
from policies.loader import load_pack
from tests.jiujiang_cases import doc, project
from workflows.ledger import Ledger
from workflows.models import LedgerState

NOW = datetime(2026, 11, 23, 4, tzinfo=UTC)


@pytest.mark.parametrize(("documents", "stage", "title"), [
    (["proposal_submitted"], "proposal", "项目建议书审批"),
    (["proposal_submitted", "proposal_approved"], "feasibility", "可行性研究报告审批"),
    (["proposal_submitted", "proposal_approved", "fsr_submitted", "fsr_tech_review_issued"],
     "feasibility", "可行性研究报告审批"),
    (["proposal_submitted", "proposal_approved", "fsr_submitted", "fsr_tech_review_issued",
      "fsr_approved"], "design", "初步设计审批"),
    (["proposal_submitted", "proposal_approved", "fsr_submitted", "fsr_tech_review_issued",
      "fsr_approved", "design_submitted", "design_approved"], "budget", "项目预算审批"),
])
def test_jiujiang_stage_after_each_step(documents: list[str], stage: str, title: str) -> None:
    cal = WorkCalendar.from_snapshot(WorkCalendar.default(use_env=False).snapshot(2025, 2030))
    led = Ledger(project("STAGE-1", investment_wan=6800, category="infrastructure",
                         started_on=date(2026, 3, 2)), load_pack("jiujiang-2024"), cal,
                 LedgerState())
    for i, kind in enumerate(documents):
        led.add_document(doc(kind, f"2026-04-{i + 1:02d}"), NOW)
    status = led.status(NOW)
    assert (status.stage, status.stage_title) == (stage, title)
