"""Exactly once across `kill -9` of the worker mid-delivery, quiet hours, rate limits."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.delivery import DeliverInput, DeliveryTarget, deliver, utc
from delivery import contacts as contacts_mod
from delivery.quiet import BEIJING
from shixian.converter import DATA_CONVERTER
from shixian.worker_runtime import delivery_executor, delivery_workers
from tests.conftest import new_queue, running_worker
from tests.delivery_helpers import (
    completed,
    contacts_yaml,
    notice,
    rows,
    send,
    settled,
    started_for,
    until,
)
from tests.delivery_servers import Receiver, SmtpServer
from tests.lifecycle_helpers import record_history, start
from workflows.delivery import NoticeDeliveryWorkflow
from workflows.models import NoticeRecord

ROOT = Path(__file__).parent.parent


async def test_a_worker_killed_mid_delivery_sends_each_message_once(
        dev_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer, rx: Receiver,
        tmp_path: Path) -> None:
    client, queue = dev_env.client, new_queue()
    rx.hold["webhook"] = threading.Event()
    log = tmp_path / "worker.log"
    env = dict(os.environ, TEMPORAL_ADDRESS=client.service_client.config.target_host)
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "worker.py", "--task-queue", queue,
                                 "--log-format", "json"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        await until(lambda: "worker started" in log.read_text(), "the worker to start")
        proj = started_for("overdue", "DLV-KILL")
        await start(client, proj, queue)
        # The webhook request is with the receiver, unanswered; everything else is sent.
        await until(rx.held.is_set, "the webhook request to be held")
        await until(lambda: sum(r.state == "sent" for r in rows(project_id="DLV-KILL")) == 4,
                    "e-mail, DingTalk and Feishu deliveries")
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -9
    rx.hold["webhook"].set()  # the receiver got the body; its answer goes to a dead socket
    async with running_worker(client, queue):
        await until(settled(project_id="DLV-KILL"), "the webhook delivery to be retried")
    hook = rows(project_id="DLV-KILL", channel_kind="webhook")
    assert [(r.state, r.attempts) for r in hook] == [("sent", 2)]
    assert [k for k, _ in rx.requests if k == "webhook"] == ["webhook", "webhook"]
    assert len(rx.of("webhook")) == 1  # the retry carried the same Idempotency-Key
    assert len(smtp.to("zhang@owner.test")) == 1 and len(smtp.to("li@data.test")) == 1
    assert len(rx.of("dingtalk")) == 1 and len(rx.of("feishu")) == 1

    # A retry of an attempt whose row says `sent` (the worker died after sending and marking,
    # before Temporal heard back) sends nothing.
    mail = rows(project_id="DLV-KILL", channel_kind="email")[0]
    again = deliver(DeliverInput(
        project_id="DLV-KILL", notice=NoticeRecord.model_validate(mail.notice),
        target=DeliveryTarget(delivery_id=mail.id, recipient=mail.recipient,
                              channel_kind="email", address=mail.address)))
    assert (again.state, again.reason) == ("sent", "not sent again: already sent")
    assert len(smtp.to(mail.address)) == 1


async def test_quiet_hours_hold_im_but_not_email(
        time_skipping_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer,
        rx: Receiver) -> None:
    now = datetime.now(BEIJING)
    window = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=2):%H:%M}"
    owners = {"市测试局": [{"name": "张三", "email": "zhang@owner.test",
                           "robots": ["owner-ding"], "quiet_hours": window}]}
    contacts_yaml(contacts, smtp.port, rx, owners=owners)
    client, queue = time_skipping_env.client, new_queue()
    async with running_worker(client, queue):
        await send(client, queue, "DLV-QUIET", notice("fsr_submission:overdue", ["owner"]))
        await until(lambda: {r.channel_kind: r.state for r in rows(project_id="DLV-QUIET")}
                    == {"email": "sent", "dingtalk": "delayed"}, "e-mail sent, IM held")
        assert rx.of("dingtalk") == [] and len(smtp.to("zhang@owner.test")) == 1
        held = rows(project_id="DLV-QUIET", channel_kind="dingtalk")[0]
        until_utc = utc(held.quiet_until)
        assert until_utc is not None
        assert until_utc.astimezone(BEIJING).strftime("%H:%M") == window[-5:]
        # Time skips to the end of the quiet hours: the durable timer fires, IM goes out.
        await time_skipping_env.sleep(timedelta(hours=3))
        handle = await completed(client, "delivery-project-DLV-QUIET-fsr_submission:overdue")
        history = await handle.fetch_history()
    # The history (a durable timer between two activities) replays; keep it for test_replay.
    await Replayer(workflows=[NoticeDeliveryWorkflow], data_converter=DATA_CONVERTER
                   ).replay_workflow(history)
    await record_history(handle, "delivery-quiet-hours")
    assert [r.state for r in rows(project_id="DLV-QUIET", channel_kind="dingtalk")] == ["sent"]
    assert len(rx.of("dingtalk")) == 1


async def test_a_correction_withdraws_a_message_still_held_by_quiet_hours(
        time_skipping_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer,
        rx: Receiver) -> None:
    now = datetime.now(BEIJING)
    window = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=2):%H:%M}"
    owners = {"市测试局": [{"name": "张三", "email": "zhang@owner.test",
                           "robots": ["owner-ding"], "quiet_hours": window}]}
    contacts_yaml(contacts, smtp.port, rx, owners=owners)
    client, queue = time_skipping_env.client, new_queue()
    async with running_worker(client, queue):
        await send(client, queue, "DLV-HELD", notice("fsr_submission:overdue", ["owner"]))
        await until(lambda: {r.channel_kind: r.state for r in rows(project_id="DLV-HELD")}
                    == {"email": "sent", "dingtalk": "delayed"}, "e-mail sent, IM held")
        await send(client, queue, "DLV-HELD", notice(
            "fsr_submission:overdue:correction", ["owner"], kind="correction",
            rung="correction", withdraws="fsr_submission:overdue"))
        await until(settled(project_id="DLV-HELD"), "the correction")
        await time_skipping_env.sleep(timedelta(hours=3))
        # The held wrong message's workflow wakes, finds its row withdrawn, sends nothing.
        await completed(client, "delivery-project-DLV-HELD-fsr_submission:overdue")
    states = {(r.notice_key.endswith("correction"), r.channel_kind): r.state
              for r in rows(project_id="DLV-HELD")}
    assert states == {(False, "email"): "sent", (False, "dingtalk"): "withdrawn",
                      (True, "email"): "sent"}
    assert rx.of("dingtalk") == []
    assert [m.subject.split("] ")[1] for m in smtp.to("zhang@owner.test")] == [
        "逾期 (第2级)：可行性研究报告报审", "更正：可行性研究报告报审"]


async def test_robot_queues_are_rate_limited_on_the_server(
        dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path))
    with delivery_executor() as executor:
        workers = delivery_workers(dev_env.client, "tq-rates", executor,
                                   contacts=contacts_mod.load())
    rates = {w.task_queue: w.config().get("max_task_queue_activities_per_second")
             for w in workers}
    assert rates == {"tq-rates-delivery": None, "tq-rates-delivery-email": None,
                     "tq-rates-delivery-dingtalk": 20 / 60, "tq-rates-delivery-wecom": 20 / 60,
                     "tq-rates-delivery-feishu": 100 / 60, "tq-rates-delivery-webhook": None}


def test_quiet_until_spans_midnight() -> None:
    from delivery.quiet import quiet_until

    at = datetime(2026, 11, 23, 23, 30, tzinfo=BEIJING)
    assert quiet_until(at, "22:00-08:00") == datetime(2026, 11, 24, 8, 0, tzinfo=BEIJING)
    assert quiet_until(at.replace(hour=7), "22:00-08:00") == at.replace(hour=8, minute=0)
    assert quiet_until(at.replace(hour=12), "22:00-08:00") is None
    assert quiet_until(at.replace(hour=12, minute=30), "12:00-13:00") == \
        at.replace(hour=13, minute=0)
    assert quiet_until(datetime(2026, 11, 23, 15, 30, tzinfo=UTC), "22:00-08:00") == \
        datetime(2026, 11, 24, 8, 0, tzinfo=BEIJING)  # 23:30 Beijing
