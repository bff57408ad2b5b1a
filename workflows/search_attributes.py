"""Custom search attributes that make fleet-wide lists cheap (DESIGN §4).

Registered on the embedded dev server at start; on a real cluster, register them once
with `temporal operator search-attribute create` (the README lists the command).
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

JURISDICTION = SearchAttributeKey.for_keyword("ShixianJurisdiction")
STAGE = SearchAttributeKey.for_keyword("ShixianStage")
OWNER = SearchAttributeKey.for_keyword("ShixianOwner")
NEXT_DUE = SearchAttributeKey.for_datetime("ShixianNextDue")
OVERDUE = SearchAttributeKey.for_bool("ShixianOverdue")
ESCALATION_LEVEL = SearchAttributeKey.for_int("ShixianEscalationLevel")

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    JURISDICTION,
    STAGE,
    OWNER,
    NEXT_DUE,
    OVERDUE,
    ESCALATION_LEVEL,
)

_CLI_TYPE = {
    "KEYWORD": "Keyword",
    "DATETIME": "Datetime",
    "BOOL": "Bool",
    "INT": "Int",
}


def for_dev_server() -> dict[str, str]:
    """name -> type as `temporal server start-dev --search-attribute` wants it."""
    return {key.name: _CLI_TYPE[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
            for key in ALL}
