"""The PostgreSQL side of bench/http: a server to measure against, the build loaded into it, its CPU.

``--pg auto`` starts a throwaway server with ``scripts/pg_test_server.sh`` (an
unprivileged user, a temporary directory, 127.0.0.1 on a free port) and stops it at the
end; ``--pg URL`` uses a server already running. Either way the build the SQLite servers
serve is loaded into schema ``dca`` with ``scripts.pgload.load_postgres``, unless that
schema already holds the same build (same ``content_hash`` in ``build_meta``), so a
second run does not pay the load again.

PostgreSQL does part of the work of every request, in its own processes: a replica that
only moves work there looks cheaper than it is. ``cpu_seconds`` is the CPU of the
server's postmaster and all its backends (the postmaster's children, live or reaped), read
from /proc, so the benchmark can report it per request beside the API's own.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TICK = os.sysconf("SC_CLK_TCK")


class PgServer:
    """A PostgreSQL server to benchmark against (started here with ``auto``, else given)."""

    def __init__(self, spec: str, state: Path) -> None:
        self.started_dir: str | None = None
        self.state = state
        if spec == "auto":
            env = {**os.environ, "PG_TEST_STATE": str(state)}
            env.pop("TEST_DATABASE_URL", None)
            self.url = subprocess.run(["bash", str(REPO / "scripts" / "pg_test_server.sh"), "start"], env=env, check=True,
                                      stdout=subprocess.PIPE, text=True).stdout.strip()
            self.started_dir = state.read_text().split()[-1]
        else:
            self.url = spec
        self.pid = postmaster_pid(self.url)

    def stop(self) -> None:
        if self.started_dir:
            env = {**os.environ, "PG_TEST_STATE": str(self.state)}
            subprocess.run(["bash", str(REPO / "scripts" / "pg_test_server.sh"), "stop", self.started_dir], env=env,
                           check=False, capture_output=True)
            self.started_dir = None


def _connect(url: str):
    import psycopg

    from scripts.pgload import conninfo

    return psycopg.connect(conninfo(url), autocommit=True, connect_timeout=10)


def postmaster_pid(url: str) -> int | None:
    """PID of the server's postmaster if it runs on this machine and /proc shows it, else None."""
    try:
        with _connect(url) as c:
            data_dir = c.execute("SELECT setting FROM pg_settings WHERE name = 'data_directory'").fetchone()[0]
        pid = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
        return pid if Path(f"/proc/{pid}").exists() else None
    except Exception:  # noqa: BLE001 - a remote or unreadable server: its CPU is simply not reported
        return None


def cpu_seconds(pid: int | None) -> float | None:
    """CPU of the postmaster, its live backends, and the backends it has already reaped."""
    if pid is None:
        return None
    total = 0.0
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in f[11:15]) / TICK  # utime, stime, cutime, cstime
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                try:
                    g = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # exited in between: counted in cutime at the next read
                total += (int(g[11]) + int(g[12])) / TICK
    except OSError:
        return None
    return total


def build_hash(db: Path) -> str:
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    try:
        return con.execute("SELECT value FROM build_meta WHERE key = 'content_hash'").fetchone()[0]
    finally:
        con.close()


def loaded_hash(url: str, schema: str = "dca") -> str | None:
    from psycopg import sql

    try:
        with _connect(url) as c:
            return c.execute(sql.SQL("SELECT value FROM {} WHERE key = 'content_hash'").format(
                sql.Identifier(schema, "build_meta"))).fetchone()[0]
    except Exception:  # noqa: BLE001 - no schema, no table: not loaded
        return None


def ensure_loaded(url: str, db: Path, say=print) -> float | None:
    """Load ``db`` into schema dca unless it holds that build already; seconds taken, or None if skipped."""
    from scripts.pgload import load_postgres

    if loaded_hash(url) == build_hash(db):
        say("PostgreSQL already holds this build (same content hash): not loaded again")
        return None
    t0 = time.perf_counter()
    load_postgres(db, url, lambda m: say(f"  pgload: {m}"))
    return time.perf_counter() - t0
