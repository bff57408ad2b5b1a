"""One way for tests to serve the dashboard on a free port in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from calendars import WorkCalendar
from shixian.dashboard import DashboardServer, make_server


@contextmanager
def serving(today: date, calendar: WorkCalendar | None = None) -> Iterator[DashboardServer]:
    """The dashboard as of `today`, stopped and closed when the block ends."""
    srv = make_server("127.0.0.1", 0, calendar=calendar or WorkCalendar.default(use_env=False),
                      today=lambda: today)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()
