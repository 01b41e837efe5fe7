"""A copy of a build whose stored documents are plain text again, for Datasette in the HTTP benchmark.

Since SCHEMA_VERSION 5 the build keeps agreement_docs.list_json / detail_json and
agreement_csv.csv_record as zstd frames (scripts/doc_store.py), which the API and the bare
server decode per row. Datasette runs the API's SQL as canned queries and cannot decode
them: it would answer with base64 blobs, and "÷ datasette" would compare the API's work
with a cheaper one. So Datasette serves this copy, in which those three columns hold the
bytes the API serves, as text, decoded with doc_store's own Decoder (no second reading of
the format). Nothing else changes: the benchmark's scenarios read no other stored column
(dyad_years' packed id lists are read by none of Datasette's queries, so they stay packed).

The new tables are written in key order after the packed ones are set aside, so each is
contiguous, as a build writes them; the freed pages stay free (the file is a bench copy).
The copy is made in a temporary file beside its destination and moved into place, and it
records which build it was made from (build_meta 'plain_docs_of': path, size, mtime), so
it is made again only when the build changes.

    python bench/http/plain_docs.py bench/data/http/build/dca.sqlite   # prints the copy's path
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.doc_store import load_decoder  # the API's decoder

KEY = "plain_docs_of"
# table -> its decoded columns, each with the Decoder method that gives the bytes the API serves
TABLES = {
    "agreement_docs": {"list_json": "list_item", "detail_json": "detail"},
    "agreement_csv": {"csv_record": "csv_record"},
}


def default_destination(db: Path) -> Path:
    """build/plain-docs/dca.sqlite: the same file name, so that Datasette names the database as before."""
    return db.parent / "plain-docs" / db.name


def _source_key(db: Path) -> str:
    st = db.stat()
    return json.dumps({"build": str(db.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns})


def _stored_key(copy: Path) -> str | None:
    try:
        con = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM build_meta WHERE key = ?", (KEY,)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:  # not a database, or not one of ours: made again
        return None
    return row[0] if row else None


def _decode_tables(con: sqlite3.Connection) -> None:
    """Each table of TABLES rebuilt under its own DDL with its documents decoded, then the packed ones dropped."""
    dec = load_decoder(con.execute("SELECT name, dictionary FROM doc_dicts").fetchall())
    fns = {"list_item": dec.list_item, "detail": dec.detail, "csv_record": lambda raw: dec.csv_records([(raw,)])}
    for name, fn in fns.items():
        con.create_function(f"plain_{name}", 1, lambda raw, fn=fn: fn(raw).decode("utf-8"), deterministic=True)
    for table, columns in TABLES.items():
        (ddl,) = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        names = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        con.execute(f"ALTER TABLE {table} RENAME TO _packed_{table}")
        con.execute(ddl)
        select = ", ".join(f"plain_{columns[c]}({c})" if c in columns else c for c in names)
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {select} FROM _packed_{table} ORDER BY agreement_id")
    for table in TABLES:
        con.execute(f"DROP TABLE _packed_{table}")
        con.execute(f"ANALYZE {table}")
    con.execute("DROP TABLE doc_dicts")  # nothing in the copy is compressed with them any more


def plain_copy(db: Path, dst: Path | None = None) -> Path:
    """The plain-document copy of build database ``db`` (made, or reused if made from this very build)."""
    db = Path(db)
    dst = Path(dst) if dst else default_destination(db)
    key = _source_key(db)
    if dst.exists() and _stored_key(dst) == key:
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(db, tmp)
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = OFF")  # a temporary file: the rename below is what is atomic
            con.execute("PRAGMA synchronous = OFF")
            con.execute("BEGIN")
            _decode_tables(con)
            con.execute("INSERT OR REPLACE INTO build_meta (key, value) VALUES (?, ?)", (KEY, key))
            con.execute("COMMIT")
        finally:
            con.close()
        if _source_key(db) != key:
            raise RuntimeError(f"{db} changed while it was being copied; run again")
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.read()


def check_answers(api_url: str, datasette_url: str, paths: Path, n: int = 5) -> int:
    """The first ``n`` requests of the scenarios that read the documents (get, dyad, list), asked of the API
    (or the bare server) and of Datasette: Datasette's rows must be the API's very bytes, as JSON text (a
    base64 blob, or any other difference, stops the benchmark). Returns the number of requests compared."""
    compared = 0
    for scen in ("get", "dyad", "list"):
        ours = (paths / f"{scen}_project.txt").read_text().split()[:n]
        theirs = (paths / f"{scen}_datasette.txt").read_text().split()[:n]
        for a, d in zip(ours, theirs):
            body = _get(api_url + a)
            docs = [row["as_bytes_1"] for row in json.loads(_get(datasette_url + d))]
            if not all(isinstance(x, str) for x in docs):
                raise SystemExit(f"Datasette answers {d} with blobs, not text: {str(docs[0])[:80]}…")
            want = docs[0].encode() if scen == "get" else b'{"items":[' + ",".join(docs[:50]).encode() + b"],"
            if not (body == want if scen == "get" else body.startswith(want)):
                raise SystemExit(f"Datasette's {d} is not what the API serves at {a}")
            compared += 1
    return compared


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: plain_docs.py BUILD/dca.sqlite")
    print(plain_copy(Path(sys.argv[1])))
