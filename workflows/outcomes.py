"""What the workflow answers to a recorded document (接收结果), in a module with no pydantic:
`shixian doc` names the outcomes before it has found the project (issue #12)."""

from __future__ import annotations

from enum import StrEnum


class RecordOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
