"""docker-compose.yml cannot run here (no Docker engine): check it by parsing it, and check
that the scripts and files it mounts are there and say what the pattern needs."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from workflows import search_attributes

ROOT = Path(__file__).parents[1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data


def mounted(service: dict[str, Any], target: str) -> Path:
    """The repository file or directory a service mounts at `target`."""
    for volume in service.get("volumes", []):
        source, dest = volume.split(":")[:2]
        if dest == target:
            path = ROOT / source
            assert path.exists(), f"{source} is mounted but missing"
            return path
    raise AssertionError(f"nothing mounted at {target}")


def test_temporal_runs_on_the_server_image_not_auto_setup() -> None:
    services = compose()["services"]
    images = {name: s.get("image", "") for name, s in services.items()}
    assert not any("auto-setup" in image for image in images.values())
    assert images["temporal"].startswith("temporalio/server:")
    text = (ROOT / "docker-compose.yml").read_text("utf-8")
    assert "tctl" not in text
    # The server starts only after the schema is set up, by admin-tools' temporal-sql-tool.
    schema = services["temporal-schema"]
    assert schema["image"].startswith("temporalio/admin-tools:")
    assert services["temporal"]["depends_on"]["temporal-schema"]["condition"] == (
        "service_completed_successfully")
    script = mounted(schema, "/deploy") / schema["command"][0].removeprefix("/deploy/")
    body = script.read_text("utf-8")
    assert "temporal-sql-tool" in body and "setup-schema" in body and "update-schema" in body
    for db in ("temporal", "temporal_visibility"):
        assert db in body


def test_namespace_then_search_attributes_with_retries() -> None:
    services = compose()["services"]
    ns = services["temporal-namespace"]
    assert ns["image"].startswith("temporalio/admin-tools:")
    assert ns["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert ns["restart"].startswith("on-failure")
    body = (mounted(ns, "/deploy") / ns["command"][0].removeprefix("/deploy/")).read_text()
    assert "until" in body  # retries while the server starts
    create_ns = body.index("temporal operator namespace create")
    create_sa = body.index("temporal operator search-attribute create")
    assert create_ns < create_sa, "search attributes belong to an existing namespace"
    for name, kind in search_attributes.for_dev_server().items():
        assert f"{name}={kind}" in body
    # Workers start only once the namespace and its attributes exist.
    worker = services["shixian-worker"]
    assert worker["depends_on"]["temporal-namespace"]["condition"] == (
        "service_completed_successfully")


def test_separate_database_roles_for_temporal_and_the_read_model() -> None:
    services = compose()["services"]
    init = mounted(services["postgresql"], "/docker-entrypoint-initdb.d/10-roles.sql")
    sql = init.read_text("utf-8")
    assert re.search(r"CREATE ROLE temporal\b.*CREATEDB", sql)
    assert "CREATE ROLE shixian" in sql and "CREATE DATABASE shixian OWNER shixian" in sql
    temporal_user = services["temporal"]["environment"]["POSTGRES_USER"]
    read_model = services["shixian-worker"]["environment"]["SHIXIAN_DATABASE_URL"]
    assert temporal_user == "temporal"
    assert read_model.startswith("postgresql+psycopg2://shixian:")
    assert read_model.endswith("@postgresql:5432/shixian")
    assert services["postgresql"]["environment"]["POSTGRES_USER"] not in ("temporal", "shixian")


def test_dashboard_service_and_no_port_clash() -> None:
    services = compose()["services"]
    dash = services["shixian-dashboard"]
    assert dash["command"][0] == "dashboard" and "0.0.0.0" in dash["command"]
    published: dict[str, str] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            host = str(port).split(":")[0]
            assert host not in published, f"{name} and {published[host]} both publish {host}"
            published[host] = name
    assert published["8080"] == "shixian-dashboard"
    assert published["8233"] == "temporal-ui"
    for name in ("shixian-worker", "shixian-dashboard"):
        assert services[name]["depends_on"]["shixian-migrate"]["condition"] == (
            "service_completed_successfully")
    assert services["shixian-migrate"]["command"] == ["db", "upgrade"]


def test_every_command_the_compose_file_runs_exists() -> None:
    from shixian.cli import build_parser

    parser = build_parser()
    for name in ("shixian-worker", "shixian-dashboard", "shixian-migrate"):
        parser.parse_args(compose()["services"][name]["command"])  # exits if unknown


def packages() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    include: list[str] = data["tool"]["setuptools"]["packages"]["find"]["include"]
    return [p.rstrip("*") for p in include]


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    for package in packages():
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

def test_pyproject_builds_without_setuptools_warnings(tmp_path: Path) -> None:
    """What `./dev up` printed ~200 lines of: a license table, subpackages installed as
    data. Build the wheel and look at what setuptools says and what the wheel holds."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
         str(tmp_path), "-v", str(ROOT)], capture_output=True, text=True, timeout=600,
        check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = proc.stdout + proc.stderr
    for warning in ("SetuptoolsDeprecationWarning", "Package would be ignored",
                    "Installing '", "License classifiers are deprecated"):
        assert warning not in log, warning
    import zipfile

    [wheel] = tmp_path.glob("shixian-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("shixian/commands/portfolio.py", "shixian/dashboard/app.py",
                 "shixian/dashboard/templates/portfolio.html",
                 "activities/migrations/versions/0001_read_model.py",
                 "shixian/examples/jiujiang-portfolio.yaml", "policies/jiujiang-2024.yaml"):
        assert any(n.startswith(path) for n in names), path
    assert not any(n.startswith("tests/") for n in names)


def test_lunardate_pin_allows_only_versions_with_to_solar_date() -> None:
    """calendars/provisional.py calls LunarDate.to_solar_date(), first in lunardate 0.3."""
    from packaging.requirements import Requirement

    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    [req] = [Requirement(r) for r in data["project"]["dependencies"]
             if r.startswith("lunardate")]
    assert "0.2.9" not in req.specifier and "0.3" in req.specifier
    from lunardate import LunarDate

    assert hasattr(LunarDate, "to_solar_date")
