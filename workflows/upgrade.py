"""From v1 to v2: how a project started before rule engine v2 continues under it.

A v1 workflow (`workflows.v1`, frozen) replays its recorded history exactly; on its first
new workflow task it continues-as-new into the v2 type with this input. Every v1 model is a
subset of its v2 form, so the conversion is a JSON round trip: documents, clock stops,
extensions, notices (with their due days, so no rung is sent twice) and the event log carry.
"""

from __future__ import annotations

from typing import Any

from workflows.models import LifecycleInput

UPGRADED_WORKFLOW_TYPE = "ProjectLifecycleWorkflowV2"


def upgraded_input(v1_input: Any, v1_state: Any) -> LifecycleInput:
    data = v1_input.model_dump(mode="json")
    data["carried"] = v1_state.model_dump(mode="json")
    data["calendar"] = data["carried"].get("calendar") or data["calendar"]
    return LifecycleInput.model_validate(data)
