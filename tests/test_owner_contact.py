"""The projects file names the 业主联系人 (issue #10 §1): notices to the owner reach that
person as well as whoever the contacts file lists for the owner — on a real SMTP server and
a signature-checking robot receiver."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from shixian.errors import UserError
from shixian.projects_file import load_projects
from tests.conftest import new_queue, running_worker
from tests.delivery_helpers import rows, settled, started_for, until
from tests.delivery_servers import Receiver, SmtpServer
from tests.lifecycle_helpers import start
from workflows.models import OwnerContact

HEAD = "项目编号,项目名称,适用办法,业主单位,业主类型,项目类别,项目类型,投资额（万元）,启动日期"


def test_csv_and_yaml_carry_the_owner_contact(tmp_path: Path) -> None:
    csv = tmp_path / "projects.csv"
    csv.write_text(f"{HEAD},业主联系人,联系人邮箱,通知机器人\n"
                   "JJ-C1,甲,九江,市测试局,行政机关,其他,建设类,800,2026-03-02,"
                   "赵六,zhao@owner.test,owner-ding\n"
                   "JJ-C2,乙,九江,市测试局,行政机关,其他,建设类,800,2026-03-02,,,\n",
                   encoding="utf-8")
    one, two = load_projects(csv)
    assert one.owner_contact == OwnerContact(name="赵六", email="zhao@owner.test",
                                             robot="owner-ding")
    assert two.owner_contact is None
    yml = tmp_path / "projects.yaml"
    yml.write_text("projects:\n  - {id: JJ-Y1, name: 丙, policy: jiujiang-2024, owner: 市测试局,\n"
                   "     owner_type: administrative, category: other, kind: build,\n"
                   "     investment_wan: 800, started_on: 2026-03-02,\n"
                   "     owner_contact: {name: 钱七, email: qian@owner.test}}\n",
                   encoding="utf-8")
    [y] = load_projects(yml)
    assert y.owner_contact == OwnerContact(name="钱七", email="qian@owner.test")


def test_a_wrong_contact_is_reported_with_its_column(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(f"{HEAD},业主联系人,联系人邮箱\n"
                   "JJ-C3,甲,九江,市测试局,行政机关,其他,建设类,800,2026-03-02,赵六,zhao-at-owner\n"
                   "JJ-C4,乙,九江,市测试局,行政机关,其他,建设类,800,2026-03-02,孙八,\n",
                   encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_projects(csv)
    lines = str(caught.value).splitlines()
    assert any("row 2 (JJ-C3): 联系人邮箱" in line and "pattern" in line for line in lines)
    assert any("row 3 (JJ-C4)" in line and "needs an email or a robot" in line
               for line in lines)


async def test_notices_to_the_owner_reach_the_projects_file_contact(
        dev_env: WorkflowEnvironment, contacts: Path, smtp: SmtpServer, rx: Receiver) -> None:
    client, queue = dev_env.client, new_queue()
    base = started_for("overdue", "DLV-CONTACT")
    project = base.model_copy(update={"owner_contact": OwnerContact(
        name="赵六", email="zhao@owner.test", robot="owner-ding")})
    async with running_worker(client, queue):
        await start(client, project, queue)
        await until(settled(project_id="DLV-CONTACT"), "deliveries of DLV-CONTACT")
    # The contacts file's 张三 and the projects file's 赵六 both get the owner's notice, by
    # e-mail and on the owner's DingTalk group (one message there: same robot, same notice).
    assert [m.subject for m in smtp.to("zhao@owner.test")] == [
        m.subject for m in smtp.to("zhang@owner.test")]
    assert len(smtp.to("zhao@owner.test")) == 1
    sent = [(r.recipient, r.channel_kind) for r in rows(project_id="DLV-CONTACT")]
    assert ("市测试局（赵六）", "email") in sent and ("张三", "email") in sent
    assert [k for _, k in sent].count("dingtalk") == 1
    assert len(rx.of("dingtalk")) == 1
