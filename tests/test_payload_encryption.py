"""Optional payload encryption: histories on the server are unreadable without the key, the
CLI and worker work as before, and the codec server lets an operator read them."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import urllib.request
from datetime import date
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from calendars import WorkCalendar
from shixian import operations
from shixian.cli import main
from shixian.client import connect
from shixian.codec import ENCODING, codec_from_env, new_key, payload_codec
from shixian.codec_server import CodecServer
from shixian.converter import DATA_CONVERTER
from shixian.temporal_env import dev_server_path
from tests.conftest import new_queue, running_worker
from tests.jiujiang_cases import project

NAME = "加密测试项目 payload-marker"


async def first_task_done(handle: Any) -> None:
    """Once the worker has run the project's first task: it has polled the queue, so
    `status` finds a live worker (right after the worker starts it may not have yet)."""
    for _ in range(300):
        if any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
               for e in (await handle.fetch_history()).events):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no workflow task completed within 30 s")


async def test_payloads_are_encrypted_and_still_readable_by_shixian(
    dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = dev_env.client.service_client.config.target_host
    queue = new_queue()
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)
    monkeypatch.setenv("SHIXIAN_PAYLOAD_KEY", new_key())
    client = await connect()  # the CLI's own connection: codec from the environment
    proj = project("JJT-ENC", name=NAME, investment_wan=150, started_on=date(2026, 3, 2))
    inp = operations.prepare(proj, WorkCalendar.default(use_env=False))
    async with running_worker(client, queue):
        assert await operations.start_project(client, inp)
        await first_task_done(client.get_workflow_handle("project-JJT-ENC"))
        code = await asyncio.to_thread(main, ["status", "JJT-ENC", "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert json.loads(out)["name"] == NAME

        # What the server keeps, read without the key.
        plain = await Client.connect(address, data_converter=DATA_CONVERTER)
        handle = plain.get_workflow_handle("project-JJT-ENC")
        history = await handle.fetch_history()
        started = next(e for e in history.events
                       if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
        payload = started.workflow_execution_started_event_attributes.input.payloads[0]
        assert payload.metadata["encoding"] == ENCODING
        assert NAME.encode() not in payload.data and b"jiujiang-2024" not in payload.data
        with pytest.raises(ValueError):
            json.loads(payload.data)
        raw = history.to_json()
        assert NAME not in raw and "investment_wan" not in raw
        # Search attributes are never encrypted (README: keep personal data out of them).
        assert "市测试局" in json.dumps(json_format.MessageToDict(
            started.workflow_execution_started_event_attributes.search_attributes),
            ensure_ascii=False) or "ShixianOwner" in raw

        # The codec server gives an operator the plaintext back, as Temporal's tools ask.
        assert codec_from_env() is not None
        server = CodecServer(payload_codec(), "127.0.0.1", 0, ["http://127.0.0.1:8233"])
        server.start()
        try:
            body = json_format.MessageToJson(Payloads(payloads=[payload])).encode()
            request = urllib.request.Request(f"{server.url}/decode", data=body, method="POST",
                                             headers={"Content-Type": "application/json",
                                                      "X-Namespace": "default"})
            with urllib.request.urlopen(request, timeout=30) as response:
                decoded = json_format.Parse(response.read(), Payloads()).payloads[0]
            # decrypted, then inflated: the input is large, so it was compressed first
            assert decoded.metadata["encoding"] == b"json/plain"
            assert json.loads(decoded.data)["project"]["name"] == NAME
            shown = await asyncio.to_thread(subprocess.run, [
                str(dev_server_path()), "workflow", "show", "-w", "project-JJT-ENC",
                "--address", address, "--codec-endpoint", server.url, "-o", "json"],
                capture_output=True, text=True, timeout=60)
            assert shown.returncode == 0, shown.stderr
            first = json.loads(shown.stdout)["events"][0]
            data = first["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
            assert json.loads(base64.b64decode(data["data"]))["project"]["name"] == NAME
        finally:
            server.stop()
        await handle.terminate("test over")

    # Without the key the CLI says so in one line instead of printing ciphertext or a trace.
    monkeypatch.delenv("SHIXIAN_PAYLOAD_KEY")
    async with running_worker(client, queue):
        code = await asyncio.to_thread(main, ["status", "JJT-ENC"])
    _, err = capsys.readouterr()  # (the in-process worker logs its notices there too)
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("shixian: error: the project's data")
    assert "is encrypted (key id k" in err and "SHIXIAN_PAYLOAD_KEY is not set" in err


def test_a_bad_key_is_named(monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SHIXIAN_PAYLOAD_KEY", "c2hvcnQ=")
    assert main(["codec-server", "--port", "0"]) == 2
    assert "SHIXIAN_PAYLOAD_KEY: 5 bytes, an AES-256 key has 32" in capsys.readouterr().err
