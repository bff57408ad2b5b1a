"""Notices reach people: real SMTP and a signature-checking HTTP receiver, on the dev server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from calendars.engine import WorkCalendar
from shixian.cli import main
from shixian.commands.status import delivery_summary
from shixian.dashboard.data import project_view
from shixian.dashboard.render import project_page
from shixian.operations import project_status
from shixian.render import status_text
from tests.conftest import new_queue, running_worker
from tests.delivery_helpers import (
    contacts_yaml,
    notice,
    rows,
    send,
    settled,
    started_for,
    until,
)
from tests.delivery_servers import Receiver, SmtpServer
from tests.lifecycle_helpers import business_today, start
from workflows.lifecycle import ProjectLifecycleWorkflow
from workflows.models import DocumentArrival, NoticeRecord, RecordOutcome, RecordResult

DUTY = "完成可行性研究报告编制及报审"  # the 九江 pack's fsr_submission duty


async def test_a_late_duty_reaches_every_channel_once(
        dev_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer, rx: Receiver,
        capsys: pytest.CaptureFixture[str]) -> None:
    client, queue = dev_env.client, new_queue()
    projects = {rung: started_for(rung, f"DLV-{rung[:4].upper()}")
                for rung in ("warning", "overdue", "escalated")}
    nobody = started_for("overdue", "DLV-NOBODY", owner="市无人局")
    async with running_worker(client, queue):
        for p in [*projects.values(), nobody]:
            await start(client, p, queue)
        for p in [*projects.values(), nobody]:
            await until(settled(project_id=p.id), f"deliveries of {p.id}")
        status = await project_status(client, "DLV-NOBODY")

    # E-mail: once per (notice, recipient), with project id and rung in the subject.
    subjects = {a: sorted(m.subject for m in smtp.to(a))
                for a in ("zhang@owner.test", "li@data.test", "wang@office.test")}
    assert subjects == {
        "zhang@owner.test": [f"[时限][DLV-OVER] 逾期 (第2级)：{DUTY}",
                             f"[时限][DLV-WARN] 预警 (第1级)：{DUTY}"],
        "li@data.test": [f"[时限][DLV-NOBODY] 逾期 (第2级)：{DUTY}",
                         f"[时限][DLV-OVER] 逾期 (第2级)：{DUTY}"],
        "wang@office.test": [f"[时限][DLV-ESCA] 升级督办 (第3级)：{DUTY}"],
    }
    mail = next(m for m in smtp.to("wang@office.test"))
    text, html = mail.part("plain"), mail.part("html")
    for needed in ("DLV-ESCA", DUTY, "市测试局", "逾期工作日", "到期日 (北京时间)",
                   "第二十五条", "登记文件「可行性研究报告报审」即可办结"):
        assert needed in text and needed in html
    assert mail.message["Message-ID"].startswith("<shixian-")

    # Robots: each vendor's signature checked by the receiver; one message per notice.
    assert len(rx.of("dingtalk")) == 2 and len(rx.of("wecom")) == 1
    assert len(rx.of("feishu")) == 2 and len(rx.of("webhook")) == 2
    assert "升级督办" in rx.of("wecom")[0].body["markdown"]["content"]
    hook = rx.of("webhook")[0]
    assert hook.body["notice"]["ends_with"] == "可行性研究报告报审"
    assert {r.state for r in rows(project_id="DLV-OVER")} == {"sent"}

    # The owner nobody listed is visible as undeliverable, with the fix in the reason.
    lost = rows(project_id="DLV-NOBODY", state="undeliverable")
    assert [r.recipient for r in lost] == ["市无人局"]
    assert lost[0].reason.startswith("no contact for 市无人局 (九江市)")
    capsys.readouterr()
    assert main(["notices", "--project", "DLV-NOBODY", "--state", "undeliverable",
                 "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["recipient"], d["state"]) for d in listed] == [("市无人局", "undeliverable")]
    assert main(["notices", "--project", "DLV-OVER"]) == 0
    out = capsys.readouterr().out
    assert "webhook:data-oa" in out and "sent" in out
    assert main(["list", "--json"]) == 0
    listed_rows = {r["project_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed_rows["DLV-NOBODY"]["undelivered"] == 1
    assert listed_rows["DLV-OVER"]["undelivered"] == 0
    assert main(["list"]) == 0
    assert "notices not delivered (failed or no contact): DLV-NOBODY (1)" in \
        capsys.readouterr().out
    # `shixian status` says how each notice went out.
    text = status_text(status, deliveries=delivery_summary("DLV-NOBODY"))
    assert "delivery: undeliverable 1 (市无人局), sent 3  — see `shixian notices`" in text
    # The dashboard shows each notice's delivery state, the reason on hover.
    view = project_view("DLV-NOBODY", business_today(await dev_env.get_current_time()),
                        WorkCalendar.default(use_env=False))
    assert view is not None
    html_page = project_page(view)
    assert '<span class="delivery undeliverable" title="no contact for 市无人局 (九江市)' in \
        html_page
    assert "市无人局·无联系人 无法送达" in html_page and "李四·飞书 已送达" in html_page


async def test_permanent_errors_fail_and_transient_ones_retry(
        dev_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer, rx: Receiver,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    people = {"九江市": {
        "ndrc": [{"name": "退信", "email": "nobody@bounce.test", "robots": ["wrong-ding"]}],
        "finance": [{"name": "OA", "robots": ["wrong-oa"]}],
        "data_bureau": [{"name": "李四", "robots": ["data-feishu", "data-oa", "owner-ding"]}],
    }}
    contacts_yaml(contacts, smtp.port, rx, jurisdictions=people)
    rx.faults = {"feishu": [500, 429]}
    rx.codes = {"dingtalk": [130101]}  # DingTalk's "too fast" answer, which 退信 never gets
    queue = new_queue()
    async with running_worker(dev_env.client, queue):
        await send(dev_env.client, queue, "DLV-FAIL", notice(
            "fsr_submission:overdue", ["ndrc", "finance", "data_bureau"]))
        await until(settled(project_id="DLV-FAIL"), "deliveries of DLV-FAIL")
    by = {(r.recipient, r.channel_kind): r for r in rows(project_id="DLV-FAIL")}
    assert by[("退信", "email")].state == "failed"
    assert "550" in by[("退信", "email")].reason
    assert by[("退信", "dingtalk")].state == "failed"
    assert "310000 sign not match" in by[("退信", "dingtalk")].reason
    assert by[("OA", "webhook")].state == "failed" and "HTTP 401" in by[("OA", "webhook")].reason
    assert by[("退信", "email")].attempts == 1  # permanent: never retried
    assert (by[("李四", "feishu")].state, by[("李四", "feishu")].attempts) == ("sent", 3)
    assert (by[("李四", "webhook")].state, by[("李四", "webhook")].attempts) == ("sent", 1)
    assert (by[("李四", "dingtalk")].state, by[("李四", "dingtalk")].attempts) == ("sent", 2)
    assert len(rx.of("feishu")) == 1 and len(rx.of("webhook")) == 1
    assert len(rx.of("dingtalk")) == 1
    assert [s for k, s in rx.requests if k == "feishu"] == [500, 429, 200]
    assert smtp.to("nobody@bounce.test") == []


async def test_a_correction_reaches_the_recipients_of_the_withdrawn_notice(
        dev_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer, rx: Receiver) -> None:
    queue = new_queue()
    async with running_worker(dev_env.client, queue):
        await send(dev_env.client, queue, "DLV-CORR",
                   notice("fsr_submission:overdue", ["owner", "data_bureau"]))
        await until(settled(project_id="DLV-CORR"), "the wrong notice")
        # The correction names another actor: it must still go where the wrong one went.
        assert await send(dev_env.client, queue, "DLV-CORR", notice(
            "fsr_submission:overdue:correction", ["leading_group_office"], kind="correction",
            rung="correction", withdraws="fsr_submission:overdue",
            message="[DLV-CORR] 可研报审已于到期日前报送, 此前的逾期通知撤回"))
        await until(settled(project_id="DLV-CORR", notice_key="fsr_submission:overdue:correction"),
                    "the correction")
    wrong = {(r.recipient, r.channel_kind, r.address)
             for r in rows(project_id="DLV-CORR", notice_key="fsr_submission:overdue")}
    fixed = rows(project_id="DLV-CORR", notice_key="fsr_submission:overdue:correction")
    assert {(r.recipient, r.channel_kind, r.address) for r in fixed} == wrong
    assert {r.state for r in fixed} == {"sent"} and len(wrong) == 5
    for address in ("zhang@owner.test", "li@data.test"):
        assert [m.subject for m in smtp.to(address)] == [
            "[时限][DLV-CORR] 逾期 (第2级)：可行性研究报告报审",
            "[时限][DLV-CORR] 更正：可行性研究报告报审"]
    assert smtp.to("wang@office.test") == []
    assert "【更正】" in rx.of("dingtalk")[1].body["markdown"]["text"]
    assert rx.of("webhook")[1].body["notice"]["withdraws"] == "fsr_submission:overdue"


async def test_the_engine_s_correction_reaches_everyone_the_wrong_notice_reached(
        dev_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer, rx: Receiver) -> None:
    """An overdue notice goes out; then the FSR turns up, submitted on its due day: the rule
    engine withdraws the notice, and the correction reaches the same people and channels."""
    client, queue = dev_env.client, new_queue()
    proj = started_for("overdue", "DLV-ENGINE")
    async with running_worker(client, queue):
        handle = await start(client, proj, queue)
        await until(settled(project_id="DLV-ENGINE"), "the overdue notice")
        wrong = rows(project_id="DLV-ENGINE")
        due = NoticeRecord.model_validate(wrong[0].notice).due_on
        assert due is not None
        result: RecordResult = await handle.execute_update(
            ProjectLifecycleWorkflow.record_document,
            DocumentArrival(type="fsr_submitted", on=due, ref="迟到的报送记录"))
        assert result.outcome == RecordOutcome.ACCEPTED
        await until(lambda: any(r.kind == "correction" for r in rows(project_id="DLV-ENGINE"))
                    and settled(project_id="DLV-ENGINE")(), "the correction")
    fixed = [r for r in rows(project_id="DLV-ENGINE") if r.kind == "correction"]
    assert {(r.recipient, r.channel_kind, r.address) for r in fixed} == \
        {(r.recipient, r.channel_kind, r.address) for r in wrong if r.channel_kind != "none"}
    assert {r.state for r in fixed} == {"sent"} and len(fixed) == 5
    assert fixed[0].notice["withdraws"] == wrong[0].notice_key
    for address in ("zhang@owner.test", "li@data.test"):
        assert [m.subject.split("] ", 1)[1] for m in smtp.to(address)] == [
            f"逾期 (第2级)：{DUTY}", f"更正：{DUTY}"]
    assert len(rx.of("dingtalk")) == 2 and len(rx.of("webhook")) == 2
