"""The approved-projects file ops hand to `shixian start` (YAML or JSON; scripts depend on it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shixian import yamlio
from shixian.errors import UserError
from workflows.models import Project


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yamlio.load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'YAML'}: "
                        f"{exc}") from None


def load_projects(path: Path) -> list[Project]:
    """Every project in the file, or one error listing every bad entry (nothing half-read)."""
    data = _read(path)
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        raise UserError(f"{path}: expected a mapping with a `projects:` list")
    projects: list[Project] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["projects"], start=1):
        label = raw.get("id", "?") if isinstance(raw, dict) else "?"
        try:
            project = Project.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "entry"
                problems.append(f"{path}: project #{i} ({label}): {where}: {err['msg']}")
            continue
        if project.id in seen:
            problems.append(f"{path}: project #{i} ({project.id}): duplicate id, also #"
                            f"{seen[project.id]}")
            continue
        seen[project.id] = i
        projects.append(project)
    if problems:
        raise UserError("\n".join(problems))
    return projects
