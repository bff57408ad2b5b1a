"""Delivery throughput and the robot rate limit, on a local dev server, run by hand.

1. N notices, each to an e-mail address and a signed webhook, through send_notice, the
   delivery workflow and the channel workers, to a local aiosmtpd server and HTTP receiver:
   wall time until every row is `sent`, and how many messages each server received.
2. M DingTalk messages with `rate_per_minute: {dingtalk: R}`: how long the server-side
   limit on the DingTalk task queue spreads them (≈ M/R minutes if it holds).

    .venv/bin/python bench/delivery_bench.py [N] [M] [R]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.testing import WorkflowEnvironment

from shixian import logs
from shixian.converter import DATA_CONVERTER
from shixian.temporal_env import dev_server_path
from tests.conftest import new_queue, running_worker
from tests.delivery_helpers import SECRETS, contacts_yaml, notice, rows, send
from tests.delivery_servers import SmtpServer
from workflows import search_attributes


async def settle(project_id: str, expected: int) -> None:
    while True:
        found = rows(project_id=project_id)
        if len(found) == expected and all(r.state == "sent" for r in found):
            return
        await asyncio.sleep(0.05)


async def main(n: int, m: int, rate: float) -> None:
    logs.configure(json_lines=True)  # log lines on stderr, results on stdout
    tmp = Path(tempfile.mkdtemp(prefix="shixian-bench-"))
    os.environ.update(SECRETS, SHIXIAN_HOME=str(tmp),
                      SHIXIAN_DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}")
    from tests.delivery_helpers import receiver_for_secrets

    smtp, rx = SmtpServer(SECRETS["SHIXIAN_T_SMTP_PASSWORD"]), receiver_for_secrets()
    smtp.start()
    rx.start()
    people = {"九江市": {"data_bureau": [{"name": "李四", "email": "li@data.test",
                                         "robots": ["data-oa"]}],
                         "ndrc": [{"name": "钉钉群", "robots": ["owner-ding"]}]}}
    path = contacts_yaml(tmp / "contacts.yaml", smtp.port, rx, jurisdictions=people)
    text = path.read_text(encoding="utf-8").replace("dingtalk: 600", f"dingtalk: {rate}")
    path.write_text(text, encoding="utf-8")
    os.environ["SHIXIAN_CONTACTS"] = str(path)
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER, dev_server_existing_path=str(dev_server_path()),
        search_attributes=search_attributes.ALL, ui=False)
    try:
        queue = new_queue()
        async with running_worker(env.client, queue):
            t0 = time.perf_counter()
            for i in range(n):
                await send(env.client, queue, "BENCH-MAIL",
                           notice(f"duty{i}:overdue", ["data_bureau"]))
            await settle("BENCH-MAIL", 2 * n)
            t1 = time.perf_counter()
            print(f"{n} notices → {2 * n} messages (e-mail + signed webhook): "
                  f"{t1 - t0:.1f} s wall, {2 * n / (t1 - t0):.1f} messages/s; received "
                  f"{len(smtp.mails)} mails, {len(rx.of('webhook'))} webhooks")
            t0 = time.perf_counter()
            for i in range(m):
                await send(env.client, queue, "BENCH-DING", notice(f"duty{i}:overdue", ["ndrc"]))
            await settle("BENCH-DING", m)
            t1 = time.perf_counter()
            print(f"{m} DingTalk messages at {rate:g}/min: {t1 - t0:.1f} s wall "
                  f"(≥ {(m - 1) * 60 / rate:.0f} s if the limit holds with no burst); "
                  f"received {len(rx.of('dingtalk'))}")
    finally:
        await env.shutdown()
        smtp.stop()
        rx.stop()


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    asyncio.run(main(int(args[0]) if args else 50, int(args[1]) if len(args) > 1 else 10,
                     args[2] if len(args) > 2 else 20))
