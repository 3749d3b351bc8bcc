"""A throwaway PostgreSQL cluster (initdb into a temp dir, its own free port) that a drill may restart.

Never the shared server: tests that restart PostgreSQL start their own, as `.ci/start-postgres` does.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks._support import free_port


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries on this machine (Debian layout or PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: [int(x) for x in
                   Path(p).parts[-3].split(".") if x.isdigit()])
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


class ThrowawayPostgres:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; `restart()` is `pg_ctl restart -m fast`."""

    def __init__(self, dbname: str = "drill") -> None:
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries (apt-get install postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="triage-drill-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.dbname = dbname
        self._as = []
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(self.dir, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", dbname)

    @property
    def url(self) -> str:
        """The URL of the drill database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin / tool), *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, cwd=self.dir)

    def _ctl(self, action: str, *extra: str) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  "-o", options, action, *extra)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._ctl("start")

    def restart(self) -> tuple[float, float]:
        """`pg_ctl restart -m fast` (every connection is cut); returns (went down, back up) as time.time()."""
        began = time.time()
        self._ctl("restart", "-m", "fast")
        return began, time.time()

    def stop(self) -> None:
        """Stop the server and delete its files."""
        try:
            self._ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
