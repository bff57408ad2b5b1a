"""`shixian dashboard`: a read-only web view of the read model.

Managers who do not live in a terminal still need to see, at a glance, which projects are
late and by how much, and when each remaining duty falls due. The page is rendered on the
server from the same read model `shixian list` uses (stdlib only: no web framework to keep
patched on a government intranet) and changes nothing.
"""

from __future__ import annotations

from shixian.dashboard.server import DashboardServer, make_server

__all__ = ["DashboardServer", "make_server"]
