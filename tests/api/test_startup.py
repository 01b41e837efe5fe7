"""Start-up checks (missing, stale, corrupt builds), `dca serve`, and read-only access."""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.db import Database, StartupError, check_database
from api.main import create_app
from api.settings import Settings
from scripts.cli import app as cli

from .conftest import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parents[2]


def copy_db(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "dca.sqlite"
    shutil.copy2(src, dst)
    return dst


def edit(path: Path, *sql: str) -> None:
    con = sqlite3.connect(path, isolation_level=None)  # autocommit: VACUUM needs no open transaction
    for s in sql:
        con.execute(s)
    con.close()


def startup_error(path: Path) -> str:
    with pytest.raises(StartupError) as e:
        check_database(Settings(sqlite_path=path))
    return str(e.value)


def test_good_build_passes(synthetic_db):
    info = check_database(Settings(sqlite_path=synthetic_db))
    assert info.counts["agreements"] == 304 and len(info.content_hash) == 64


def test_missing_build(tmp_path):
    msg = startup_error(tmp_path / "nope.sqlite")
    assert msg == f"no build found at {tmp_path / 'nope.sqlite'}; run `dca build` (or `make serve`) first"


def test_not_a_database(tmp_path):
    p = tmp_path / "dca.sqlite"
    p.write_text("hello, I am not SQLite\n" * 100)
    assert "corrupt build" in startup_error(p) and "run `dca build` again" in startup_error(p)


def test_truncated_database(synthetic_db, tmp_path):
    p = tmp_path / "dca.sqlite"
    data = synthetic_db.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    assert "corrupt build" in startup_error(p)


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "dca.sqlite").mkdir()
    assert "corrupt build" in startup_error(tmp_path / "dca.sqlite")


def test_stale_build(synthetic_db, tmp_path):
    p = copy_db(synthetic_db, tmp_path)
    edit(p, "UPDATE build_meta SET value = '0' WHERE key = 'schema_version'")
    msg = startup_error(p)
    assert msg.startswith("stale build") and "run `dca build`" in msg and "version 0" in msg


@pytest.mark.parametrize("sql, words", [
    ("DROP TABLE agreement_docs", "missing tables agreement_docs"),
    ("DROP TABLE party_index", "missing tables party_index"),
    ("DROP TABLE build_meta", "build_meta is missing"),
    ("DELETE FROM build_meta WHERE key = 'content_hash'", "build_meta lacks content_hash"),
    ("DELETE FROM parties WHERE rowid % 2 = 0", "parties has"),
    ("UPDATE build_meta SET value = 'x' WHERE key = 'counts'", "corrupt build"),
])
def test_corrupt_build(synthetic_db, tmp_path, sql, words):
    p = copy_db(synthetic_db, tmp_path)
    edit(p, sql, "VACUUM")
    msg = startup_error(p)
    assert words in msg and "run `dca build`" in msg


def test_empty_sqlite_file(tmp_path):
    p = tmp_path / "dca.sqlite"
    edit(p, "CREATE TABLE t (a)")
    assert "not a dca build" in startup_error(p)


def test_dca_serve_without_a_build(tmp_path):
    r = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "none.sqlite")])
    assert r.exit_code == 1
    assert "no build found at" in r.output and "dca build" in r.output
    r = CliRunner().invoke(cli, ["serve", str(tmp_path)])
    assert r.exit_code == 1 and str(tmp_path / "build" / "dca.sqlite") in r.output


def test_dca_serve_with_a_stale_build(synthetic_db, tmp_path):
    p = copy_db(synthetic_db, tmp_path)
    edit(p, "UPDATE build_meta SET value = '0' WHERE key = 'schema_version'")
    r = CliRunner().invoke(cli, ["serve", "--db", str(p)])
    assert r.exit_code == 1 and "stale build" in r.output


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_uvicorn_refuses_to_start_on_a_corrupt_build(tmp_path):
    p = tmp_path / "dca.sqlite"
    p.write_text("garbage")
    env = dict(os.environ, DCA_DB=str(p))
    env.pop("DATABASE_URL", None)
    r = subprocess.run([sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(_free_port())],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "corrupt build" in r.stderr and "Traceback" not in r.stderr


def test_dca_serve_serves(synthetic_db):
    port = _free_port()
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dca"), "serve", "--db", str(synthetic_db), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["status"] == "ok"
        r = httpx.get(f"http://127.0.0.1:{port}/v1/agreements?party=FRA&party=IND&party=RUS")
        assert r.json()["total"] >= 1
        r = httpx.head(f"http://127.0.0.1:{port}/v1/agreements?format=csv&limit=all")
        assert r.status_code == 200 and int(r.headers["x-row-count"]) == 304
        assert httpx.delete(f"http://127.0.0.1:{port}/v1/agreements").status_code == 405
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_app_without_lifespan_answers_503_for_a_missing_build(tmp_path):
    from fastapi.testclient import TestClient

    app = create_app(Settings(sqlite_path=tmp_path / "none.sqlite"))
    c = TestClient(app)  # not entered: no lifespan, the app opens the database on first use
    r = c.get("/v1/agreements")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json" and "no build found" in r.json()["detail"]


def test_lifespan_failure_stops_the_app(tmp_path):
    from fastapi.testclient import TestClient

    app = create_app(Settings(sqlite_path=tmp_path / "none.sqlite"))
    with pytest.raises(BaseException):
        with TestClient(app):
            pass


def test_sqlite_is_opened_read_only(synthetic_db):
    db = Database(Settings(sqlite_path=synthetic_db))
    try:
        conn = db.engine.raw_connection()
        with pytest.raises(sqlite3.OperationalError):
            conn.cursor().execute("CREATE TABLE hack (a)")
        with pytest.raises(sqlite3.OperationalError):
            conn.cursor().execute("DELETE FROM agreements")
        conn.close()
    finally:
        db.dispose()
    assert sqlite3.connect(synthetic_db).execute("SELECT COUNT(*) FROM agreements").fetchone()[0] == 304


@pytest.mark.postgres
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (scripts/pg_test_server.sh start)")
def test_postgres_schema_missing():
    with pytest.raises(StartupError) as e:
        check_database(Settings(database_url=TEST_DATABASE_URL, pg_schema="no_such_schema"))
    assert "no build found in PostgreSQL" in str(e.value) and "dca build --database-url" in str(e.value)


def test_postgres_unreachable():
    with pytest.raises(StartupError) as e:
        check_database(Settings(database_url=f"postgresql://nobody@127.0.0.1:{_free_port()}/x"))
    assert "cannot connect to PostgreSQL" in str(e.value)


def test_database_url_must_be_postgres():
    with pytest.raises(StartupError) as e:
        check_database(Settings(database_url="mysql://x@y/z"))
    assert "postgresql://" in str(e.value)
