"""`shixian dashboard`: a read-only web view of the read model.

Managers who do not live in a terminal still need to see, at a glance, which projects are
late, who must act and by how much, and when each remaining duty falls due. A Starlette
application (`app.py`) served by uvicorn (`server.py`) renders Jinja2 templates
(`templates/`, `render.py`) from the same queries `shixian list` uses, and changes nothing.
"""

from __future__ import annotations

from shixian.dashboard.server import DashboardServer, make_server

__all__ = ["DashboardServer", "make_server"]
