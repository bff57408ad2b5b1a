"""Contacts files, late projects and waiting on delivery rows, for the delivery tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import ActivityEnvironment

from activities.db import engine, notice_deliveries
from activities.notices import NoticeInput, send_notice
from tests.delivery_servers import Receiver
from tests.jiujiang_cases import project
from tests.lifecycle_helpers import lifecycle_input
from workflows.ledger import Ledger
from workflows.models import LedgerState, NoticeRecord, Project

SECRETS = {
    "SHIXIAN_T_SMTP_PASSWORD": "smtp-pass-1",
    "SHIXIAN_T_DINGTALK_TOKEN": "ding-token-1", "SHIXIAN_T_DINGTALK_SECRET": "SECding-secret",
    "SHIXIAN_T_WECOM_KEY": "wecom-key-1",
    "SHIXIAN_T_FEISHU_TOKEN": "feishu-hook-1", "SHIXIAN_T_FEISHU_SECRET": "feishu-secret",
    "SHIXIAN_T_WEBHOOK_SECRET": "webhook-secret",
    "SHIXIAN_T_WRONG_SECRET": "not-the-secret",
}


def receiver_for_secrets() -> Receiver:
    return Receiver(
        tokens={"dingtalk": SECRETS["SHIXIAN_T_DINGTALK_TOKEN"],
                "wecom": SECRETS["SHIXIAN_T_WECOM_KEY"],
                "feishu": SECRETS["SHIXIAN_T_FEISHU_TOKEN"]},
        secrets={"dingtalk": SECRETS["SHIXIAN_T_DINGTALK_SECRET"],
                 "feishu": SECRETS["SHIXIAN_T_FEISHU_SECRET"],
                 "webhook": SECRETS["SHIXIAN_T_WEBHOOK_SECRET"]})


def contacts_yaml(path: Path, smtp_port: int, rx: Receiver, **overrides: Any) -> Path:
    """Owner 市测试局 → 张三 (e-mail + DingTalk); 九江 data bureau → 李四 (e-mail, Feishu,
    webhook); leading-group office → 王五 (e-mail + WeCom)."""
    doc: dict[str, Any] = {
        "channels": {
            "email": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                      "username": "shixian", "password_env": "SHIXIAN_T_SMTP_PASSWORD",
                      "sender": "时限 <shixian@jj.test>", "timeout_seconds": 3},
            "robots": {
                "owner-ding": {"kind": "dingtalk", "url": rx.url("dingtalk"),
                               "token_env": "SHIXIAN_T_DINGTALK_TOKEN",
                               "secret_env": "SHIXIAN_T_DINGTALK_SECRET", "timeout_seconds": 3},
                "office-wecom": {"kind": "wecom", "url": rx.url("wecom"),
                                 "token_env": "SHIXIAN_T_WECOM_KEY", "timeout_seconds": 3},
                "data-feishu": {"kind": "feishu", "url": rx.url("feishu"),
                                "token_env": "SHIXIAN_T_FEISHU_TOKEN",
                                "secret_env": "SHIXIAN_T_FEISHU_SECRET", "timeout_seconds": 3},
                "data-oa": {"kind": "webhook", "url": rx.url("webhook"),
                            "secret_env": "SHIXIAN_T_WEBHOOK_SECRET", "timeout_seconds": 3},
                "wrong-ding": {"kind": "dingtalk", "url": rx.url("dingtalk"),
                               "token_env": "SHIXIAN_T_DINGTALK_TOKEN",
                               "secret_env": "SHIXIAN_T_WRONG_SECRET", "timeout_seconds": 3},
                "wrong-oa": {"kind": "webhook", "url": rx.url("webhook"),
                             "secret_env": "SHIXIAN_T_WRONG_SECRET", "timeout_seconds": 3},
            },
        },
        "jurisdictions": {"九江市": {
            "data_bureau": [{"name": "李四", "email": "li@data.test",
                             "robots": ["data-feishu", "data-oa"]}],
            "leading_group_office": [{"name": "王五", "email": "wang@office.test",
                                      "robots": ["office-wecom"]}],
        }},
        "owners": {"市测试局": [{"name": "张三", "email": "zhang@owner.test",
                                "robots": ["owner-ding"]}]},
        "delivery": {"rate_per_minute": {"dingtalk": 600, "wecom": 600},
                     "attempt_timeout_seconds": 5, "retry_initial_seconds": 0.2,
                     "retry_maximum_seconds": 1, "retry_maximum_attempts": 5},
    }
    for key, value in overrides.items():
        doc[key] = value
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def started_for(rung: str, pid: str, owner: str = "市测试局") -> Project:
    """A project whose first duty stands at `rung` today (warning, overdue or escalated)."""
    today = datetime.now(UTC)
    for days in range(5, 90):
        p = project(pid, investment_wan=800, owner=owner,
                    started_on=date.today() - timedelta(days=days))
        inp = lifecycle_input(p)
        from calendars.engine import WorkCalendar

        ledger = Ledger(p, inp.pack, WorkCalendar.from_snapshot(inp.calendar), LedgerState())
        if [n.rung for n in ledger.escalate(today)] == [rung]:
            return p
    raise AssertionError(f"no start date puts a duty at {rung}")


def rows(**where: Any) -> list[Any]:
    query = select(notice_deliveries).order_by(notice_deliveries.c.id)
    for k, v in where.items():
        query = query.where(getattr(notice_deliveries.c, k) == v)
    with engine().connect() as conn:
        return list(conn.execute(query).all())


async def until(check: Callable[[], bool], what: str, limit: float = 120) -> None:
    """Poll until `check()`; the limit is a hang guard, not a speed assertion."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not check():
        if loop.time() > end:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.2)


def settled(**where: Any) -> Callable[[], bool]:
    def check() -> bool:
        found = rows(**where)
        return bool(found) and all(r.state not in ("pending", "delayed") for r in found)
    return check


async def send(client: Client, queue: str, project_id: str, notice: NoticeRecord) -> bool:
    """send_notice as the lifecycle's worker runs it on `queue`."""
    env = ActivityEnvironment(client=client)
    env.info = replace(env.info, task_queue=queue)
    result: bool = await env.run(send_notice, NoticeInput(
        workflow_id=f"project-{project_id}", project_id=project_id, jurisdiction="九江市",
        notice=notice))
    return result


async def completed(client: Client, workflow_id: str) -> WorkflowHandle[Any, Any]:
    """Poll until the workflow completed (result() is unreliable on the time-skipping
    server while time is locked)."""
    handle = client.get_workflow_handle(workflow_id)
    status = None
    while status != WorkflowExecutionStatus.COMPLETED:
        status = (await handle.describe()).status
        await asyncio.sleep(0.2)
    return handle


def notice(key: str, actors: list[str], **kw: Any) -> NoticeRecord:
    base: dict[str, Any] = dict(
        key=key, obligation=key.split(":")[0], rung="overdue", level=2,
        recipients=[], message="[T] 可行性研究报告报审 — 已逾期", citation="九江 第二十五条",
        due_on=date(2026, 11, 2), overdue_working_days=3, fired_at=datetime.now(UTC),
        recipient_actors=actors, policy="jiujiang-2024", project_name="测试项目",
        owner="市测试局", duty_title="可行性研究报告报审", actor="owner", actor_name="市测试局",
        ends_with="可行性研究报告报审")
    base.update(kw)
    return NoticeRecord.model_validate(base)
