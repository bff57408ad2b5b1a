"""What a fresh `shixian list`, `status`, `doc` and `ics` process imports (issue #12), and
the shortcuts that keep it small: handlers named by string, pack facts from a cache.

Each command runs in a child process (the suite's own process has imported everything);
the child reports its `sys.modules` after the command ran. `status` and `doc` run against
an address where nothing listens: they fail to connect after importing all they import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert
from temporalio.testing import WorkflowEnvironment

from activities.db import engine, obligations, projects
from shixian import ics, ladder, pack_facts, vocabulary
from shixian.updates import DOCUMENT_SIGNAL, RECORD_DOCUMENT, RECORD_DOCUMENTS, STATUS_QUERY

ROOT = Path(__file__).parents[1]
CHILD = """
import json, os, sys
from shixian.cli import block_optional_grpc, main
block_optional_grpc()
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(k for k, v in sys.modules.items() if v is not None)  # None: blocked
sys.stderr.write("\\nMODULES:" + json.dumps(loaded) + "\\n")
sys.stderr.flush()
os._exit(0)  # as `shixian` leaves: Temporal's core threads can abort a finalizing interpreter
"""
# Never in these commands: the writers' and migrations' libraries, the worker's logging,
# the workflow itself, the calendar-feed and spreadsheet libraries, grpcio (not a dependency).
NEVER = ("sqlalchemy", "alembic", "structlog", "workflows.lifecycle", "icalendar",
         "openpyxl", "grpc", "shixian.operations", "activities.notices", "starlette")
# `list` and `ics` read the read model only: not Temporal, not the pydantic models.
READERS_NEVER = (*NEVER, "temporalio", "pydantic", "policies.model", "shixian.vocabulary")


def imported(*args: str, env: dict[str, str]) -> set[str]:
    return imported_and_said(*args, env=env)[0]


def imported_and_said(*args: str, env: dict[str, str]) -> tuple[set[str], str]:
    """The modules the command imported, and what it wrote (stdout, then stderr before
    them)."""
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    said, _, line = proc.stderr.rpartition("MODULES:")
    assert line, proc.stderr[-2000:]
    return set(json.loads(line.splitlines()[0])), proc.stdout + said


def under(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.fixture(scope="module")
def child_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A read model of its own with one project (an empty one asks Temporal, by design), a
    pack-facts cache of its own, and no Temporal server."""
    home = tmp_path_factory.mktemp("imports")
    url = f"sqlite:///{home / 'rm.db'}"
    with engine(url).begin() as conn:
        conn.execute(insert(projects), [{
            "project_id": "IMP-1", "workflow_id": "project-IMP-1", "name": "导入检查",
            "policy": "jiujiang-2024", "jurisdiction": "九江市", "owner": "市数据管理局",
            "investment_wan": 100.0, "stage": "feasibility", "stage_title": "可行性研究报告审批",
            "next_due_on": date(2026, 12, 1), "overdue": False, "escalation_level": 0,
            "provisional": False, "finished": False, "business_date": date(2026, 11, 23),
            "seq": 1, "as_of": datetime(2026, 11, 23, tzinfo=UTC), "terminated": None}])
        conn.execute(insert(obligations), [{
            "project_id": "IMP-1", "obligation_id": "fsr_submission", "position": 0,
            "rule": "fsr_submission", "title": "完成可行性研究报告编制及报审",
            "actor": "owner", "actor_name": "市数据管理局", "state": "open",
            "starts_on": None, "opens_on": None, "due_on": date(2026, 12, 1), "due_at": None,
            "provisional": False, "overdue_working_days": 0, "escalation_level": 0,
            "escalation_rung": None, "citation": "九江 第二十五条", "done_on": None,
            "limit_text": None, "on_time": None}])
    env = {**os.environ, "SHIXIAN_DATABASE_URL": url, "SHIXIAN_HOME": str(home),
           "XDG_CACHE_HOME": str(home / "cache"), "TEMPORAL_ADDRESS": "127.0.0.1:1"}
    env.pop("TEMPORAL_CONFIG_FILE", None)
    return env


def test_list_imports_neither_temporal_nor_sqlalchemy_nor_the_models(
        child_env: dict[str, str]) -> None:
    imported("list", env=child_env)  # the first run fills the pack-facts cache
    for args in (["list"], ["list", "--json"], ["list", "--overdue", "--jsonl"]):
        modules = imported(*args, env=child_env)
        assert "shixian.commands.portfolio" in modules
        assert under(modules, READERS_NEVER) == [], args


def test_ics_imports_neither_temporal_nor_icalendar(child_env: dict[str, str]) -> None:
    imported("list", env=child_env)
    modules = imported("ics", env=child_env)
    assert "shixian.commands.ics" in modules
    assert under(modules, READERS_NEVER) == []


def test_status_and_doc_import_the_client_but_not_the_workflow(
        child_env: dict[str, str]) -> None:
    for args in (["status", "IMP-1"], ["doc", "IMP-1", "fsr_submitted", "--on", "2026-11-20"]):
        modules = imported(*args, env=child_env)
        assert "temporalio.client" in modules and f"shixian.commands.{args[0]}" in modules
        assert under(modules, NEVER) == [], args
        assert "shixian.commands.projects" not in modules  # start's machinery


@pytest.mark.parametrize("args", [
    ("status", "IMP-UNKNOWN"),
    ("doc", "IMP-UNKNOWN", "fsr_submitted", "--on", "2026-11-20"),
    ("doc", "IMP-UNKNOWN", "fsr_submitted", "--on", "2026-11-20", "--json"),
])
def test_an_unknown_project_is_answered_without_the_models(
        args: tuple[str, ...], child_env: dict[str, str], dev_env: WorkflowEnvironment) -> None:
    """An unknown id is answered from Temporal's not-found before the data converter, the
    pydantic models and the renderer are imported (they come with a found project)."""
    env = {**child_env, "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host}
    modules, said = imported_and_said(*args, env=env)
    assert "unknown project 'IMP-UNKNOWN'" in said, said
    assert "temporalio.client" in modules and f"shixian.commands.{args[0]}" in modules
    assert under(modules, ("pydantic", "policies", "workflows.models", "shixian.converter",
                           "shixian.render", "shixian.updates")) == []


def test_an_empty_read_model_asks_temporal_without_the_models(
        tmp_path: Path, child_env: dict[str, str], dev_env: WorkflowEnvironment) -> None:
    """`list` over an empty read model asks Temporal how many projects run (a count, no
    payload to convert), so it imports the client but not the converter or the models,
    and with no row to count it loads no calendar."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine(url)  # migrated, no rows
    env = {**child_env, "SHIXIAN_DATABASE_URL": url, "SHIXIAN_HOME": str(tmp_path),
           "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host}
    modules, said = imported_and_said("list", env=env)
    assert "temporalio.client" in modules, said  # it did ask
    assert under(modules, ("pydantic", "policies.model", "workflows", "shixian.converter",
                           "shixian.render", "sqlalchemy", "calendars.loader",
                           "chinese_calendar")) == []  # no rows: no count, no calendar


def test_the_names_sent_are_the_workflows_own() -> None:
    """`shixian.updates` names the workflow's handlers by string: they must exist."""
    from temporalio import workflow

    from workflows import lifecycle

    defn = workflow._Definition.must_from_class(lifecycle.ProjectLifecycleWorkflow)
    assert {RECORD_DOCUMENT, RECORD_DOCUMENTS} <= set(defn.updates)
    assert STATUS_QUERY in defn.queries
    assert DOCUMENT_SIGNAL == lifecycle.DOCUMENT_SIGNAL
    assert defn.updates[RECORD_DOCUMENT].ret_type is not None


def test_pack_facts_say_what_the_packs_say(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """From a cold cache (computed, then written) and a warm one (read back), place, colour
    and alarms are those of `vocabulary`, `ladder` and `ics` for every pack and level."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for warm in (False, True):
        pack_facts.facts.cache_clear()
        assert (tmp_path / "shixian" / pack_facts.CACHE_NAME).exists() is warm
        for pack in vocabulary.packs():
            for place in ("九江市", "江西省上饶市玉山县", "苏州市相城区", ""):
                assert pack_facts.place(pack.id, place) == vocabulary.place(pack.id, place)
            for level in range(6):
                for overdue in (False, True):
                    assert pack_facts.rag(pack.id, overdue, level) == ladder.rag(
                        pack.id, overdue, level)
            assert pack_facts.warnings(pack.id) == ics.warning_rungs(ladder.ladder(pack.id))
        assert pack_facts.rag("no-such-pack", True, 3) == ladder.rag("no-such-pack", True, 3)
    pack_facts.facts.cache_clear()


def test_a_changed_pack_file_is_not_read_from_the_cache(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    pack_facts.facts.cache_clear()
    pack_facts.facts()
    path = tmp_path / "shixian" / pack_facts.CACHE_NAME
    stale = json.loads(path.read_text(encoding="utf-8"))
    stale["packs"]["jiujiang-2024"]["status"] = "draft"
    path.write_text(json.dumps(stale), encoding="utf-8")
    pack_facts.facts.cache_clear()
    assert pack_facts.place("jiujiang-2024", "九江市") == "九江市 (征求意见稿)"  # as cached
    stale["fingerprint"] = "another set of packs"
    path.write_text(json.dumps(stale), encoding="utf-8")
    pack_facts.facts.cache_clear()
    assert pack_facts.place("jiujiang-2024", "九江市") == "九江市"  # recomputed
    pack_facts.facts.cache_clear()


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:////abs/dir/rm.db", Path("/abs/dir/rm.db")),
    ("sqlite:///relative/rm.db", Path("relative/rm.db")),
    ("sqlite+pysqlite:////abs/rm.db", Path("/abs/rm.db")),
    ("sqlite://", None), ("sqlite:///:memory:", None),
    ("sqlite:////abs/rm.db?timeout=5", None),  # a query string: SQLAlchemy reads it
    ("postgresql+psycopg2://u@h:5432/db", None),
])
def test_sqlite_urls_read_as_sqlalchemy_reads_them(url: str, path: Path | None) -> None:
    from sqlalchemy import make_url

    from activities.reader import sqlite_path

    assert sqlite_path(url) == path
    if path is not None:
        assert Path(str(make_url(url).database)) == path


def test_an_unusual_url_is_read_through_sqlalchemy(child_env: dict[str, str]) -> None:
    """A URL the reader does not parse itself still reads, through the engine's driver."""
    from activities.reader import day, flag, reading

    url = child_env["SHIXIAN_DATABASE_URL"] + "?timeout=5"
    with reading(url) as conn:
        assert conn.marker == "?"
        [row] = conn.rows("SELECT project_id, next_due_on, finished FROM projects "
                          "WHERE project_id = ?", ("IMP-1",))
    assert (row["project_id"], day(row["next_due_on"]), flag(row["finished"])) == (
        "IMP-1", date(2026, 12, 1), False)
