"""Today's Beijing date for commands that read, without importing the ledger for it."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime


def today() -> date:
    """`shixian.operations.today` when it is loaded (the one clock seam, which tests pin),
    else the same computation (`workflows.base.business_date`) without importing Temporal's
    client and the ledger for it."""
    operations = sys.modules.get("shixian.operations")
    if operations is not None:
        found: date = operations.today()
        return found
    from calendars.periods import SHANGHAI

    return datetime.now(UTC).astimezone(SHANGHAI).date()
