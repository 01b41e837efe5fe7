"""scripts/pgload.py: loading a build into PostgreSQL, atomically (needs TEST_DATABASE_URL)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import TEST_DATABASE_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (scripts/pg_test_server.sh start)"),
]

ROOT = Path(__file__).resolve().parents[2]


def pg():
    import psycopg

    from scripts.pgload import conninfo

    return psycopg.connect(conninfo(TEST_DATABASE_URL), autocommit=True)


def schemas() -> set[str]:
    with pg() as c:
        return {r[0] for r in c.execute("SELECT nspname FROM pg_namespace")}


def test_load_twice_and_swap(synthetic_db, real_db):
    from scripts.pgload import load_postgres

    load_postgres(synthetic_db, TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"), schema="dca_t_swap")
    with pg() as c:
        assert c.execute("SELECT COUNT(*) FROM dca_t_swap.agreements").fetchone()[0] == 304
    messages = []
    load_postgres(real_db, TEST_DATABASE_URL, messages.append, schema="dca_t_swap")
    with pg() as c:
        n = c.execute("SELECT COUNT(*) FROM dca_t_swap.agreements").fetchone()[0]
        tables = {r[0] for r in c.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'dca_t_swap'")}
        collation = c.execute("SELECT collation_name FROM information_schema.columns WHERE table_schema = 'dca_t_swap' "
                              "AND table_name = 'agreements' AND column_name = 'agreement_id'").fetchone()[0]
        gin = c.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'dca_t_swap' AND tablename = 'agreements_fts'").fetchall()
    import sqlite3

    assert n == sqlite3.connect(real_db).execute("SELECT COUNT(*) FROM agreements").fetchone()[0]
    assert {"agreements", "parties", "party_index", "dyad_index", "agreement_docs", "agreement_csv", "build_meta",
            "country_summary", "countries", "equipment", "sources", "status_history", "agreements_fts"} <= tables
    assert collation == "C"
    assert any("gin" in d[0] and "to_tsvector" in d[0] for d in gin)
    assert not [s for s in schemas() if s.startswith("dca_t_swap__")]  # no staging or old schema left behind
    assert any("loaded" in m for m in messages)


def test_failed_load_leaves_the_previous_build(synthetic_db, real_db, monkeypatch):
    from scripts import pgload

    pgload.load_postgres(synthetic_db, TEST_DATABASE_URL, schema="dca_t_fail")
    calls = []

    def broken_copy(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full (simulated)")
        return original(*args, **kw)

    original = pgload._copy
    monkeypatch.setattr(pgload, "_copy", broken_copy)
    with pytest.raises(RuntimeError):
        pgload.load_postgres(real_db, TEST_DATABASE_URL, schema="dca_t_fail")
    with pg() as c:
        assert c.execute("SELECT COUNT(*) FROM dca_t_fail.agreements").fetchone()[0] == 304
    assert not [s for s in schemas() if s.startswith("dca_t_fail__")]


def test_bad_urls(real_db):
    from scripts.build import BuildError
    from scripts.pgload import load_postgres

    with pytest.raises(BuildError) as e:
        load_postgres(real_db, "mysql://x@y/z")
    assert "postgresql://" in str(e.value)
    with pytest.raises(BuildError) as e:
        load_postgres(real_db, "postgresql://nobody:secret@127.0.0.1:1/x")
    assert "cannot connect" in str(e.value) and "secret" not in str(e.value)


def test_dca_build_database_url(tmp_path):
    """`dca build --database-url` loads schema dca; the API then serves it (DATABASE_URL)."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from api.main import create_app
    from api.settings import Settings
    from scripts.cli import app as cli

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    shutil.copy2(ROOT / "datapackage.json", pkg / "datapackage.json")
    shutil.copytree(ROOT / "schema", pkg / "schema", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(ROOT / "dataset", pkg / "dataset")
    r = CliRunner().invoke(cli, ["build", str(pkg), "-q", "--database-url", TEST_DATABASE_URL])
    assert r.exit_code == 0, r.output
    with TestClient(create_app(Settings(database_url=TEST_DATABASE_URL))) as c:
        assert c.get("/v1/meta").json()["backend"] == "postgresql"
        ids = [i["agreement_id"] for i in c.get("/v1/agreements?party=PAK&party=RUS").json()["items"]]
        assert "pak-rus-2014-11-20" in ids
