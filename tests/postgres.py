"""A real PostgreSQL server for tests, from the machine's own binaries, in a temp dir.

`initdb` refuses to run as root, and CI runs as root: the server then runs as the
`postgres` user (DESIGN §7), in a directory it owns, on a free port, and is stopped at the
end of the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from shixian.temporal_env import free_port


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's `{name}` is not installed; `./dev test` installs the "
                           "postgresql package, or run `apt-get install postgresql`")
    return found


class TempPostgres:
    def __init__(self, durable: bool = False) -> None:
        """`durable`: commits survive a crash (fsync, synchronous commit), as in production;
        else both are off, which is faster and enough when the server is never killed."""
        self.options = "" if durable else " -c fsync=off -c synchronous_commit=off"
        self.dir = Path(tempfile.mkdtemp(prefix="shixian-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if self.as_postgres else list(args)
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stderr.strip()}")

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                        + self.options, "start")
        self._run(_binary("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                  "postgres", "shixian")
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/shixian"

    def crash(self) -> None:
        """Stop the server the hard way (`-m immediate`: no shutdown checkpoint, like a
        crash); the data directory stays for `restart`."""
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
                        + self.options, "start")

    def stop(self) -> None:
        try:
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
