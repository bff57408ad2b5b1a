"""The embedded mailbox, `shixian contacts check/show`, and `resend` of failed and
undeliverable notices."""

from __future__ import annotations

import email
import json
from email.header import decode_header, make_header
from pathlib import Path

import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from activities.delivery import plan_notice
from delivery.channels import Outgoing, PermanentError, send_email
from delivery.contacts import Channels, Contacts, EmailChannel
from delivery.render import render
from shixian.cli import main
from shixian.errors import UserError
from shixian.notices_view import resend
from tests.conftest import new_queue, running_worker
from tests.delivery_helpers import SECRETS, notice, rows, send, settled, until
from tests.delivery_servers import Receiver, SmtpServer, self_signed


async def test_without_contacts_every_message_lands_in_the_mailbox(
        dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SHIXIAN_HOME", str(tmp_path))
    monkeypatch.delenv("SHIXIAN_CONTACTS", raising=False)
    queue = new_queue()
    async with running_worker(dev_env.client, queue):
        await send(dev_env.client, queue, "DLV-BOX",
                   notice("fsr_submission:overdue", ["owner", "data_bureau"]))
        await until(settled(project_id="DLV-BOX"), "mailbox deliveries")
    box = tmp_path / "mailbox"
    emls, jsons = sorted(box.glob("*.eml")), sorted(box.glob("*.json"))
    assert len(emls) == 2 and len(jsons) == 2  # 2 recipients × (e-mail, robot)
    mail = email.message_from_bytes(emls[0].read_bytes())
    assert str(make_header(decode_header(mail["Subject"]))) == \
        "[时限][DLV-BOX] 逾期 (第2级)：可行性研究报告报审"
    assert mail["To"].endswith("@jiujiang-2024.invalid>")
    robot = json.loads(jsons[0].read_text(encoding="utf-8"))
    assert robot["channel"] == "dingtalk" and robot["body"]["msgtype"] == "markdown"
    assert "登记文件「可行性研究报告报审」即可办结" in robot["body"]["markdown"]["text"]
    assert {r.state for r in rows(project_id="DLV-BOX")} == {"sent"}
    assert all("written to" in r.reason for r in rows(project_id="DLV-BOX"))
    capsys.readouterr()
    assert main(["contacts", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["embedded"] and shown["mailbox_dir"] == str(box)


def test_the_example_contacts_file_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parent.parent / "shixian" / "examples" / "contacts.example.yaml"
    assert main(["contacts", "check", str(example)]) == 0
    out, err = capsys.readouterr()
    assert "ok — 1 jurisdiction(s), 1 owner(s), 6 recipient entries" in out
    assert "SHIXIAN_SMTP_PASSWORD" in err  # unset here: the worker will need it


def test_contacts_check_names_the_fix(tmp_path: Path, contacts: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contacts", "check", str(contacts)]) == 0
    assert "ok — 1 jurisdiction(s), 1 owner(s)" in capsys.readouterr().out
    data = yaml.safe_load(contacts.read_text(encoding="utf-8"))
    cases = [
        (["owners", "市测试局", 0, "robots"], ["no-such-robot"],
         "robot 'no-such-robot' is not under channels.robots"),
        (["owners", "市测试局", 0, "quiet_hours"], "10pm",
         "quiet_hours '10pm': write HH:MM-HH:MM"),
        (["channels", "robots", "data-oa", "secret_env"], "lower-case",
         "channels.robots.data-oa.secret_env: String should match pattern"),
        (["owners", "市测试局", 0], {"name": "无渠道"}, "has no email: and no robots:"),
        (["delivery", "attempt_timeout_seconds"], 2,
         "channels.email.timeout_seconds (3) must be shorter than delivery.attempt_timeout"),
    ]
    for path, value, expected in cases:
        bad = json.loads(json.dumps(data))
        node = bad
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        target = tmp_path / "bad.yaml"
        target.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
        assert main(["contacts", "check", str(target)]) == 2
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, err


async def test_resend_after_fixing_a_secret_and_after_adding_a_contact(
        dev_env: WorkflowEnvironment, contacts: Path, rx: Receiver) -> None:
    client, queue = dev_env.client, new_queue()
    data = yaml.safe_load(contacts.read_text(encoding="utf-8"))
    data["jurisdictions"]["九江市"]["finance"] = [{"name": "财政OA", "robots": ["wrong-oa"]}]
    contacts.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    async with running_worker(client, queue):
        await send(client, queue, "DLV-RESEND", notice("c:consequence", ["finance", "ndrc"]))
        await until(settled(project_id="DLV-RESEND"), "the first deliveries")
        failed = rows(project_id="DLV-RESEND", state="failed")
        lost = rows(project_id="DLV-RESEND", state="undeliverable")
        assert [r.recipient for r in failed] == ["财政OA"]
        assert [(r.recipient, r.actor) for r in lost] == [("市发改委", "ndrc")]
        assert lost[0].reason.startswith("no contact for 市发改委 (九江市): add ndrc")
        with pytest.raises(UserError, match="still no contact for"):
            await resend(client, lost[0].id)
        # The operator fixes the robot's secret and adds the missing office, then resends.
        robots = data["channels"]["robots"]
        robots["wrong-oa"]["secret_env"] = "SHIXIAN_T_WEBHOOK_SECRET"
        data["jurisdictions"]["九江市"]["ndrc"] = [{"name": "发改委值班", "robots": ["data-oa"]}]
        contacts.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        await resend(client, failed[0].id)
        _, new_ids = await resend(client, lost[0].id)
        await until(settled(project_id="DLV-RESEND"), "the resent deliveries")
    states = {r.recipient: (r.state, r.attempts) for r in rows(project_id="DLV-RESEND")}
    assert states["财政OA"] == ("sent", 2)
    assert states["发改委值班"] == ("sent", 1) and len(new_ids) == 1
    assert rows(id=lost[0].id)[0].state == "rerouted"
    assert len(rx.of("webhook")) == 2
    with pytest.raises(UserError, match="already routed again"):
        await resend(client, lost[0].id)


def test_a_broken_contacts_file_makes_notices_undeliverable_not_stuck(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "contacts.yaml"
    bad.write_text("owners: {市测试局: [{name: 张三}]}\n", encoding="utf-8")
    monkeypatch.setenv("SHIXIAN_CONTACTS", str(bad))
    plan = plan_notice("project-DLV-BROKEN", "DLV-BROKEN", "九江市",
                       notice("fsr_submission:overdue", ["owner", "ndrc"]), "tq-none")
    assert plan.targets == []  # nothing to start; the project's workflow goes on
    lost = rows(project_id="DLV-BROKEN")
    assert [(r.recipient, r.state) for r in lost] == [("市测试局", "undeliverable"),
                                                      ("市发改委", "undeliverable")]
    assert lost[0].reason.startswith(f"contacts file unusable: {bad}: owners.市测试局.0")


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_smtp_over_tls_trusts_the_configured_ca_only(tmp_path: Path, security: str) -> None:
    cert = self_signed(tmp_path)
    server = SmtpServer(SECRETS["SHIXIAN_T_SMTP_PASSWORD"], tls=security, cert=cert)
    server.start()
    try:
        channel = EmailChannel(host="127.0.0.1", port=server.port, security=security,
                               username="shixian", password_env="SHIXIAN_T_SMTP_PASSWORD",
                               sender="时限 <shixian@jj.test>", ca_file=str(cert[0]),
                               timeout_seconds=5)
        book = Contacts(channels=Channels(email=channel))
        out = Outgoing(recipient="张三", address="zhang@owner.test",
                       message=render("DLV-TLS", notice("k:overdue", ["owner"]), "张三"),
                       idempotency_key="shixian-tls", payload={})
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SHIXIAN_T_SMTP_PASSWORD", SECRETS["SHIXIAN_T_SMTP_PASSWORD"])
            assert send_email(channel, book, out).startswith("250")
            untrusted = channel.model_copy(update={"ca_file": None})
            with pytest.raises(PermanentError, match="certificate is not trusted"):
                send_email(untrusted, book, out)
        assert [m.subject for m in server.to("zhang@owner.test")] == [
            "[时限][DLV-TLS] 逾期 (第2级)：可行性研究报告报审"]
    finally:
        server.stop()
