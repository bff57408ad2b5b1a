"""docker-compose.tls.yml (no Docker engine here): what can be checked without running it.

The overlay must only touch services docker-compose.yml defines, the shixian containers'
TLS variables must be the ones shixian's client reads (so the TLS test against a TLS
endpoint covers them), and the cluster's Web UI must be read-only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shixian.client import connect_config
from tests.tls_proxy import Pki

ROOT = Path(__file__).parents[1]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / name).read_text("utf-8"))
    return data


def test_the_overlay_only_changes_services_the_compose_file_has() -> None:
    base = set(_load("docker-compose.yml")["services"])
    overlay = _load("docker-compose.tls.yml")["services"]
    assert set(overlay) <= base
    # The base runs temporalio/server + admin-tools; tctl and auto-setup are gone from both.
    assert "tctl" not in (ROOT / "docker-compose.tls.yml").read_text("utf-8")
    assert overlay["temporal-ui"]["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert overlay["temporal"]["environment"]["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"


@pytest.mark.parametrize("service", ["shixian-worker", "shixian"])
def test_shixian_reads_the_overlays_tls_settings(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    pki = Pki(tmp_path)
    env = _load("docker-compose.tls.yml")["services"][service]["environment"]
    files = {"/certs/ca.pem": pki.ca, "/certs/worker.pem": pki.client_cert,
             "/certs/worker.key": pki.client_key}
    for name, value in env.items():
        if name.startswith("TEMPORAL_"):
            monkeypatch.setenv(name, str(files.get(value, value)))
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal:7233")
    config = connect_config()
    tls = config["tls"]
    assert tls.domain == "temporal"
    assert tls.server_root_ca_cert == pki.ca.read_bytes()
    assert tls.client_cert == pki.client_cert.read_bytes()
    assert tls.client_private_key == pki.client_key.read_bytes()
