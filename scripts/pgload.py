"""Load a finished SQLite build into PostgreSQL (``dca build --database-url URL``).

Every table of the build is copied with ``COPY`` (psycopg 3) into a fresh staging
schema, indexed and analysed there, and then swapped in as schema ``dca`` in one
short transaction (old schema renamed away, staging renamed in, old dropped), so an
API reading ``dca`` sees either the previous build or the new one, never a mix. A
failed load drops its staging schema and leaves ``dca`` as it was.

Text columns use the "C" collation so that PostgreSQL orders (and therefore pages)
exactly as SQLite does. The full-text index is a table of the same word tokens the
API searches with (``api.fts``), with a GIN index on ``to_tsvector('simple', tokens)``.
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from schema.tables import metadata

Say = Callable[[str], None] | None

# PostgreSQL-only indexes: keyset order on the unfiltered list, and the full-text index.
EXTRA_INDEXES = [
    ("agreements", "ix_pg_agreements_signed_id", "(signed_on, agreement_id)"),
    ("agreements", "ix_pg_agreements_title_id", "(title, agreement_id)"),
    ("agreements_fts", "ix_pg_agreements_fts", "USING gin (to_tsvector('simple'::regconfig, tokens))"),
]
SKIP = ("sqlite_", "agreements_fts")  # SQLite internals and the FTS5 shadow tables
CHUNK = 5000


def _build_error() -> type[Exception]:
    from .build import BuildError

    return BuildError


class PgLoadError(_build_error()):  # type: ignore[misc]
    """Loading PostgreSQL failed; `dca build` reports the message (the previous build stays)."""


def conninfo(database_url: str) -> str:
    """postgresql:// (or postgres://, postgresql+psycopg://) URL as psycopg takes it."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix):]
    raise PgLoadError(f"not a PostgreSQL URL (expected postgresql://...): {database_url.split('://', 1)[0]}://...")


def safe_url(database_url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(conninfo(database_url).replace("postgresql://", "postgresql+psycopg://", 1)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "the given database URL"


def _pg_type(sqlite_type: str) -> str:
    t = (sqlite_type or "").upper()
    if "INT" in t:
        return "bigint"
    if t == "DATE":
        return "date"
    if t == "BLOB":  # the stored documents' zstd frames and their dictionaries (scripts/doc_store.py)
        return "bytea"
    if any(k in t for k in ("REAL", "FLOA", "DOUB")):
        return "double precision"
    return 'text COLLATE "C"'


def _tables(src: sqlite3.Connection) -> list[str]:
    names = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return [n for n in names if not n.startswith(SKIP)]


def load_postgres(sqlite_path: Path | str, database_url: str, say: Say = None, *, schema: str = "dca") -> None:
    """Copy the SQLite build at ``sqlite_path`` into schema ``schema`` of ``database_url``, atomically."""
    import psycopg
    from psycopg import sql

    from api.fts import index_text

    say = say or (lambda m: None)
    info = conninfo(database_url)
    where = safe_url(database_url)
    src = sqlite3.connect(Path(sqlite_path).resolve().as_uri() + "?mode=ro", uri=True)
    staging = f"{schema}__staging_{os.getpid()}"
    old = f"{schema}__old_{os.getpid()}"
    t0 = time.monotonic()
    try:
        try:
            pg = psycopg.connect(info, connect_timeout=10)
        except psycopg.Error as e:
            raise PgLoadError(f"cannot connect to PostgreSQL at {where}: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
        with pg:
            try:
                _load(pg, src, staging, say, index_text)
                pg.commit()
                say(f"swapping schema {schema} in…")
                with pg.transaction():
                    cur = pg.cursor()
                    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
                    if cur.fetchone():
                        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(old)))
                        cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(schema), sql.Identifier(old)))
                    cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(staging), sql.Identifier(schema)))
                    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(old)))
            except BaseException:
                try:
                    pg.rollback()
                    pg.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(staging)))
                    pg.commit()
                except Exception:  # noqa: BLE001 - the original error matters more
                    pass
                raise
    except psycopg.Error as e:
        raise PgLoadError(f"loading PostgreSQL at {where} failed: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
    finally:
        src.close()
    say(f"PostgreSQL schema {schema} at {where} loaded in {time.monotonic() - t0:.1f} s")


def _load(pg, src: sqlite3.Connection, staging: str, say, index_text) -> None:
    from psycopg import sql

    cur = pg.cursor()
    _session_settings(cur)
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(staging)))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(staging)))
    for table in _tables(src):
        cols = src.execute(f'PRAGMA table_info("{table}")').fetchall()  # (cid, name, type, notnull, default, pk)
        defs = [sql.SQL("{} {}{}").format(sql.Identifier(c[1]), sql.SQL(_pg_type(c[2])), sql.SQL(" NOT NULL" if c[3] else ""))
                for c in cols]
        pk = [c[1] for c in sorted((c for c in cols if c[5]), key=lambda c: c[5])]
        if pk:
            defs.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, pk))))
        qt = sql.Identifier(staging, table)
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(qt, sql.SQL(", ").join(defs)))
        names = [c[1] for c in cols]
        n = _copy(cur, src, qt, table, names)
        say(f"  {table}: {n} rows")
    # Full-text index: the same tokens the API searches with.
    qt = sql.Identifier(staging, "agreements_fts")
    cur.execute(sql.SQL('CREATE TABLE {} (agreement_id text COLLATE "C" PRIMARY KEY, tokens text NOT NULL)').format(qt))
    with cur.copy(sql.SQL("COPY {} (agreement_id, tokens) FROM STDIN").format(qt)) as copy:
        for aid, title, summary in src.execute("SELECT agreement_id, title, summary FROM agreements"):
            copy.write_row((aid, index_text(title, summary)))
    say("  indexing…")
    from scripts.dyad_store import metadata as dyad_metadata

    for table in [*metadata.sorted_tables, *dyad_metadata.sorted_tables]:
        for ix in sorted(table.indexes, key=lambda i: i.name or ""):
            cur.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(
                sql.Identifier(ix.name), sql.Identifier(staging, table.name),
                sql.SQL(", ").join(sql.Identifier(c.name) for c in ix.columns)))
    for table, name, spec in EXTRA_INDEXES:
        cur.execute(sql.SQL("CREATE INDEX {} ON {} ").format(sql.Identifier(name), sql.Identifier(staging, table)) + sql.SQL(spec))
    for table in _tables(src) + ["agreements_fts"]:
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(staging, table)))


def _session_settings(cur) -> None:
    """Settings of this loading session only (the server's own configuration is left alone).

    More memory for the index builds (each sorts in memory instead of in temporary
    files), and lz4 rather than pglz for the compressed (TOAST) values, which are mostly
    the stored JSON documents: several times faster to compress, where the server has
    it. Every table is created in the loading transaction, so on a server with
    ``wal_level = minimal`` (``scripts/pg_test_server.sh`` starts one) the COPY and the
    index builds write no WAL at all.
    """
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cur.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    row = cur.fetchone()
    if row and row[0]:
        cur.execute("SET LOCAL default_toast_compression = 'lz4'")


def _copy(cur, src: sqlite3.Connection, qt, table: str, names: list[str]) -> int:
    from psycopg import sql

    cols = sql.SQL(", ").join(map(sql.Identifier, names))
    n = 0
    select = f'SELECT {", ".join(chr(34) + c + chr(34) for c in names)} FROM "{table}"'  # names from the build's own schema
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(qt, cols)) as copy:
        rows = src.execute(select)
        while chunk := rows.fetchmany(CHUNK):
            for row in chunk:
                copy.write_row(row)
            n += len(chunk)
    return n
