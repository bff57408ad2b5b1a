"""docker-compose.yml cannot run here (no Docker engine): check it by parsing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from workflows import search_attributes

ROOT = Path(__file__).parents[1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data


def test_compose_has_temporal_postgres_ui_and_workers() -> None:
    services = compose()["services"]
    assert {"postgresql", "temporal", "temporal-ui", "shixian-worker"} <= set(services)
    worker = services["shixian-worker"]
    assert worker["command"][0] == "worker"
    env = worker["environment"]
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["SHIXIAN_DATABASE_URL"].startswith("postgresql+psycopg2://")
    assert services["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgresql"


def test_compose_registers_every_search_attribute() -> None:
    command = " ".join(compose()["services"]["temporal-search-attributes"]["command"])
    for name, kind in search_attributes.for_dev_server().items():
        assert f"{name}={kind}" in command


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    packages = pyproject.split('packages = [', 1)[1].split("]", 1)[0]
    for package in (p.strip().strip('"') for p in packages.split(",")):
        assert f"COPY {package} {package}" in dockerfile


def test_regulation_texts_and_fidelity_sidecars_are_package_data() -> None:
    """An installed wheel must carry each pack's text: `source:` resolves beside the pack."""
    import fnmatch
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["policies"]
    shipped = [p.relative_to(ROOT / "policies").as_posix()
               for p in (ROOT / "policies").rglob("*") if p.suffix in (".txt", ".yaml")]
    assert any(p.startswith("regulations/") for p in shipped)
    for name in shipped:
        assert any(fnmatch.fnmatch(name, pat) for pat in patterns), name
