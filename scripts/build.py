"""`dca build`: the validated package as a SQLite database (and optionally PostgreSQL).

The build is written aside and swapped in (see `atomic.replace_dir`), so a failed
or killed build leaves the previous `build/` as it was. Everything the API would
otherwise compute per request is computed here once: the denormalised
party/dyad indexes, each agreement's JSON, per-country summaries, counts and the
content hash that the API's ETags derive from.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import orjson
import polars as pl

from schema.tableschema import Package, load_package
from schema.tables import RESOURCE_TABLES, metadata

from .atomic import TMP_PREFIX, clear_debris, replace_dir
from .db_worker import DatabaseWorker
from .doc_store import Encoder as DocEncoder
from .documents import CSV_COLUMNS, documents  # noqa: F401  (CSV_COLUMNS: the API's CSV header)
from .memory import fewer_gc_passes, give_back_freed_memory  # noqa: F401  (fewer_gc_passes: dca build's policy)

DB_NAME = "dca.sqlite"
PAGE_SIZE = 8192
SCHEMA_VERSION = "5"  # bump when the database layout changes; the API refuses other versions
# 2: agreement_csv (each agreement's list item as one CSV record, for the API's CSV exports)
# 3: dyads and dyad_years (the export rows, scripts/dyad_store.py); venue and equipment COW codes in the documents
# 4: agreement_docs without search_text and signed_on; full-text index with external content (agreements);
#    party_index, dyad_index and dyads without rowid
# 5: list_json, detail_json and csv_record as zstd frames (BLOB), their dictionaries in doc_dicts (scripts/doc_store.py);
#    8 KB pages; dyad_years' id lists as agreement ranks (scripts/doc_store.py: pack_ids)

Progress = Callable[[str], None] | None


class BuildError(Exception):
    """A build could not be completed; the previous build is untouched."""


@dataclass
class BuildResult:
    database: Path
    content_hash: str
    counts: dict[str, int]

    @property
    def summary(self) -> str:
        return ", ".join(f"{n} {k}" for k, n in self.counts.items())


def content_hash(pkg: Package) -> str:
    """SHA-256 over the descriptor, the schemas and the data, in a fixed order."""
    h = hashlib.sha256()
    files = [pkg.root / "datapackage.json"]
    for r in pkg.resources:
        if r.schema_path:
            files.append(pkg.root / r.schema_path)
        files.append(pkg.root / r.path)
    for f in files:
        rel = f.relative_to(pkg.root).as_posix().encode()
        data = f.read_bytes()
        h.update(len(rel).to_bytes(4, "big") + rel + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def read_frames(pkg: Package, text: dict[str, pl.DataFrame] | None = None) -> dict[str, pl.DataFrame]:
    """Each resource as a polars frame with integer fields typed; dates stay ISO text.

    ``text``: the resources as frames of text cells, as `dca validate` read them (scripts/validate.py:
    check_package), typed here instead of parsing the files again. They are the same frames as a read
    of the files gives once the package is valid: its files are canonical (one header, the schema's
    columns in order, no quoted empty cells), so each empty cell is null in both."""
    frames = {}
    for r in pkg.resources:
        df = text[r.name] if text is not None else pl.read_csv(pkg.root / r.path, infer_schema=False, encoding="utf8")
        casts = [pl.col(f.name).cast(pl.Int64) for f in r.fields if f.type == "integer"]
        casts += [pl.col(f.name).cast(pl.Float64) for f in r.fields if f.type == "number"]
        frames[r.name] = df.with_columns(casts) if casts else df
    return frames


def insert_frame(con: sqlite3.Connection, table: str, df: pl.DataFrame) -> None:
    """The frame's rows into `table` (its columns by name), one executemany."""
    cols = ", ".join(df.columns)
    marks = ", ".join("?" * len(df.columns))
    con.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", df.iter_rows())


LOAD_CHUNK = 100_000  # rows per Arrow batch of the bulk load: memory is one batch's copy, not a table's


def bulk_load_resources(db: Path, frames: dict[str, pl.DataFrame], say: Progress = None) -> dict[str, int]:
    """Every resource's rows into its (already created, empty) table of the database file db, through ADBC's
    bulk ingest (ingest_frames: half the CPU of load_resources at 100k; the same rows, rowids and storage
    types, which a test holds). Call it when no other connection has a transaction open. name -> rows loaded."""
    def parts():
        for name in RESOURCE_TABLES:
            if say:
                say(f"loading {name} ({frames[name].height} rows)…")
            yield name, frames[name]

    ingest_frames(str(db), parts())
    return {name: frames[name].height for name in RESOURCE_TABLES}


def ingest_frames(db: str, parts: Iterable[tuple[str, pl.DataFrame]]) -> None:
    """Each (table, frame) of parts appended to its (already created) table of the database file db, through
    ADBC's bulk ingest: the values are bound from the frames' Arrow columns in C, where `executemany` makes a
    Python tuple per row and binds it cell by cell. Its own connection to the file: no other connection may
    have a write transaction open."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(db, autocommit=True) as ac, ac.cursor() as cur:
        for pragma in ("journal_mode = OFF", "synchronous = OFF"):
            cur.execute(f"PRAGMA {pragma}")
            cur.fetchall()
        for name, df in parts:
            for lo in range(0, df.height, LOAD_CHUNK):
                # compat_level oldest: plain (large) strings, which the driver binds; polars' string views it does not
                cur.adbc_ingest(name, df.slice(lo, LOAD_CHUNK).to_arrow(compat_level=pl.CompatLevel.oldest()), mode="append")


def load_resources(con: sqlite3.Connection, frames: dict[str, pl.DataFrame], say: Progress = None) -> dict[str, int]:
    """Every resource's rows into its table (created from ``schema.tables``): the build's database, and the
    in-memory one the codebook's figures are counted in (scripts/figures.py). name -> rows loaded."""
    counts = {}
    for name in RESOURCE_TABLES:
        if say:
            say(f"loading {name} ({frames[name].height} rows)…")
        insert_frame(con, name, frames[name])
        counts[name] = frames[name].height
    return counts


def party_cells(parties: list[dict]) -> list[str]:
    """The parties of a list item as the CSV's three ';'-separated cells (codes, names, COW codes; same order)."""
    return [";".join(p["iso3"] for p in parties), ";".join(p["name"] or "" for p in parties),
            ";".join("" if p["cow_code"] is None else str(p["cow_code"]) for p in parties)]


def _insert_documents(con: sqlite3.Connection, rows: list[tuple[str, bytes, bytes, bytes]]) -> None:
    """One batch of (agreement_id, list_json, detail_json, csv_record), encoded by scripts/doc_store.py, into
    agreement_docs and agreement_csv: how the documents are stored, apart from how they are made
    (scripts/documents.py)."""
    con.executemany("INSERT INTO agreement_docs (agreement_id, list_json, detail_json) VALUES (?, ?, ?)",
                    [r[:3] for r in rows])
    con.executemany("INSERT INTO agreement_csv (agreement_id, csv_record) VALUES (?, ?)", [(r[0], r[3]) for r in rows])


def _load_and_look_up(db: Path, con: sqlite3.Connection, frames: dict[str, pl.DataFrame], say: Progress) -> dict[str, int]:
    """The database's work that needs no Python objects per row, in one thread beside the documents (see
    build_package): the resources' rows (ADBC's bulk ingest) and the party and dyad lookups made from them.
    SQLite and ADBC release the GIL while they work. name -> rows loaded."""
    counts = bulk_load_resources(db, frames, say)
    # In key order, so that the (rowid-less) b-trees are appended to, not split all over.
    con.execute(
        "INSERT INTO party_index (country_iso3, signed_on, agreement_id, agreement_type, status) "
        "SELECT p.country_iso3, a.signed_on, a.agreement_id, a.agreement_type, a.status "
        "FROM parties p JOIN agreements a ON a.agreement_id = p.agreement_id ORDER BY 1, 2, 3"
    )
    con.execute(
        "INSERT INTO dyad_index (iso3_a, iso3_b, signed_on, agreement_id) "
        "SELECT p1.country_iso3, p2.country_iso3, a.signed_on, a.agreement_id FROM parties p1 "
        "JOIN parties p2 ON p2.agreement_id = p1.agreement_id AND p1.country_iso3 < p2.country_iso3 "
        "JOIN agreements a ON a.agreement_id = p1.agreement_id ORDER BY 1, 2, 3, 4"
    )
    con.execute("CREATE TABLE agreement_csv (agreement_id VARCHAR NOT NULL PRIMARY KEY, csv_record BLOB NOT NULL)")
    return counts


def _full_text_index(con: sqlite3.Connection) -> None:
    """The agreements' full-text index. External content: the index reads agreement_id, title and summary
    from agreements (by rowid) instead of keeping its own copy of them. The rowids stay as loaded: the build
    is never VACUUMed after this."""
    con.execute(
        "CREATE VIRTUAL TABLE agreements_fts USING fts5(agreement_id UNINDEXED, title, summary, content = 'agreements', "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    con.execute("INSERT INTO agreements_fts (rowid, agreement_id, title, summary) "
                "SELECT rowid, agreement_id, title, summary FROM agreements")
    con.execute("INSERT INTO agreements_fts (agreements_fts) VALUES ('optimize')")


def _index_resources(con: sqlite3.Connection) -> None:
    """The resources' secondary indexes (the other tables have theirs built in), and the statistics of the
    tables complete by now; the others' at the end (_analyse_the_rest). A table's statistics depend on its
    rows and indexes only, so they are those one ANALYZE at the end would give."""
    _create_indexes(con)
    for table in _tables(con):
        if _complete_early(table):
            con.execute(f'ANALYZE "{table}"')


def _complete_early(table: str) -> bool:
    """The tables complete when _index_resources runs (before the dyad step): the resources, the lookups, the
    full-text index's, the documents and the country summaries."""
    return (table in RESOURCE_TABLES or table.startswith("agreements_fts_")
            or table in ("party_index", "dyad_index", "agreement_docs", "agreement_csv", "doc_dicts", "country_summary"))


def _tables(con: sqlite3.Connection) -> list[str]:
    """The database's ordinary tables (virtual tables are not analysed; their shadow tables are)."""
    return [name for (name,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]


def _analyse_the_rest(con: sqlite3.Connection) -> None:
    for table in _tables(con):
        if not _complete_early(table):
            con.execute(f'ANALYZE "{table}"')


def _country_summary(con: sqlite3.Connection) -> None:
    """Per-country summaries: counts, date span and partners with shared-agreement counts."""
    partners: dict[str, dict[str, int]] = {}
    for a, b, n in con.execute(
        "SELECT iso3_a, iso3_b, COUNT(*) FROM dyad_index GROUP BY iso3_a, iso3_b"
    ):
        partners.setdefault(a, {})[b] = n
        partners.setdefault(b, {})[a] = n
    names = dict(con.execute("SELECT iso3, name FROM countries"))
    cows = dict(con.execute("SELECT iso3, cow_code FROM countries"))
    rows = []
    for iso3, count, first, last in con.execute(
        "SELECT country_iso3, COUNT(*), MIN(signed_on), MAX(signed_on) FROM party_index GROUP BY country_iso3"
    ).fetchall():
        plist = sorted(partners.get(iso3, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        pj = orjson.dumps([{"iso3": p, "name": names.get(p), "cow_code": cows.get(p), "agreements": n} for p, n in plist]).decode()
        rows.append((iso3, count, len(plist), first, last, pj))
    con.executemany(
        "INSERT INTO country_summary (iso3, agreement_count, partner_count, first_signed_on, last_signed_on, partners_json) VALUES (?,?,?,?,?,?)",
        rows,
    )


def _write_docs(stage: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (stage / "docs" / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / "docs" / rel).write_bytes(data)


def _dyad_tables(con: sqlite3.Connection, pkg: Package, exports: Path, text: dict[str, pl.DataFrame] | None = None,
                 before_store: Callable[[], None] | None = None) -> None:
    """The export tables (default options) written to `exports` as they are made, and the dyads and
    dyad-years (every rule) stored for the API: the same frames, so the API's rows are the files' rows
    (scripts/build_exports.py)."""
    from .build_exports import store_and_write

    store_and_write(con, pkg, exports, text, before_store)


def create_tables(con: sqlite3.Connection) -> None:
    """The tables of schema/tables.py, without their secondary indexes (see _create_indexes): the build's
    database, and the in-memory one the codebook's figures are counted in (scripts/figures.py)."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    for table in metadata.sorted_tables:
        con.execute(str(CreateTable(table).compile(dialect=sqlite.dialect())))


def _create_indexes(con: sqlite3.Connection) -> None:
    """The secondary indexes, made once the rows are in: one sort each, instead of an insert per row."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex

    for table in metadata.sorted_tables:
        for ix in sorted(table.indexes, key=lambda i: i.name or ""):
            con.execute(str(CreateIndex(ix).compile(dialect=sqlite.dialect())))


def build_package(root: Path, out: Path, progress: Progress = None, database_url: str | None = None,
                  text_frames: dict[str, pl.DataFrame] | None = None) -> BuildResult:
    """Build root's package into out. ``text_frames``: the package's data as `dca validate` read it (see
    read_frames), passed by `dca build` so that the files are parsed once; read from the files when None.
    The dict is emptied once read, so that its frames do not outlive the build's need of them."""
    steps = build_steps(root, out, progress, database_url, text_frames)
    next(steps)
    return finish_build(steps)


class BuildCancelled(Exception):
    """The build's first step was stopped (``stop``) because the validation beside it found problems."""


def finish_build(steps) -> BuildResult:
    """Run what is left of ``build_steps`` after its first step; the build's result."""
    try:
        next(steps)
    except StopIteration as done:
        return done.value
    raise RuntimeError("build_steps yields once")  # pragma: no cover


def build_steps(root: Path, out: Path, progress: Progress = None, database_url: str | None = None,
                text_frames: dict[str, pl.DataFrame] | None = None, stop: Callable[[], bool] | None = None):
    """build_package in two steps, a generator that yields once: the first step (the stage folder, the
    database's resources and documents, the codebook's text) runs up to the yield, the rest when it is
    resumed (finish_build). `dca build` runs the first step in a thread while the validation's checks run
    (the data was read by then; scripts/cli.py), and resumes it only if the checks find nothing: closing
    the generator instead (``close()``) removes the stage, like any failure, and leaves ``out`` untouched.
    ``stop``: asked between batches of documents; when it says yes, the first step ends in BuildCancelled.
    The first step may also fail on data that the checks then report (a cell that cannot be read as its
    type): the checks' findings are the answer then, not that error."""
    say = progress or (lambda m: None)
    t0 = time.monotonic()
    pkg = load_package(root)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_debris(out.parent, out)
    stage = out.parent / f"{TMP_PREFIX}build-{os.getpid()}-{out.name}"
    stage.mkdir()
    try:
        say("reading the package…")
        hashing = ThreadPoolExecutor(1, thread_name_prefix="dca-hash")  # files read and hashed beside the build
        digest_of = hashing.submit(content_hash, pkg)
        hashing.shutdown(wait=False)
        frames = read_frames(pkg, text_frames)
        # The text frames are kept for the codebook's text (below): they share their text columns with the
        # typed frames, so keeping them costs only the integer columns' text.
        text = dict(text_frames) if text_frames is not None else None
        if text_frames is not None:
            text_frames.clear()  # the caller's dict too: its frames are freed with the build's own (below)
        db = stage / DB_NAME
        con = sqlite3.connect(db, check_same_thread=False)  # used by one thread at a time (see below)
        # 8 KB pages: every b-tree has fewer part-filled pages (4 KB: 18 MB more at 100k agreements;
        # bench/README.md, "Database size").
        con.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA auto_vacuum = INCREMENTAL")  # so that pages freed while building can be given back
        create_tables(con)
        con.commit()
        with con:
            # The database work runs in a thread of its own (scripts/db_worker.py) while this one makes the
            # documents, the codebook and the export tables: the resources' load and lookups, then each batch
            # of documents as it is made, in that order. This thread touches the connection again only after
            # worker.join().
            worker = DatabaseWorker()
            try:
                loaded = worker.submit(_load_and_look_up, db, con, frames, say)
                say("precomputing lookup tables and documents…")
                docs = DocEncoder()  # each document as a zstd frame (scripts/doc_store.py)
                for rows in documents(frames):
                    if stop is not None and stop():
                        raise BuildCancelled("stopped: the validation found problems")
                    worker.submit(_insert_documents, con, docs.encode(rows))
                worker.submit(docs.store, con)
                worker.submit(_country_summary, con)
                del frames  # the dyad tables and the exports read what they need themselves
                # --- what depends on the data is generated here (and by dca release), never in a data pull
                # request: build/docs/ has the codebook, its figures (below, counted in the database) and the
                # coverage block ---
                say("writing the codebook and the coverage statement…")
                from .codebook import render_codebook_text
                from .coverage import coverage_markdown

                _write_docs(stage, render_codebook_text(pkg.root, text))
                (stage / "docs" / "coverage.md").write_text(coverage_markdown(pkg.root, text) + "\n", encoding="utf-8")
                yield  # the first step ends here (see above); the documents are still being stored meanwhile
                # The documents are stored before the dyad step starts (the step's peak is the build's, and the
                # documents waiting to be stored are freed first); the resources' indexes are made beside it.
                worker.join()
                give_back_freed_memory()  # the documents' Python objects: ≈ 250 MB at 100k, below the next step's peak
                # Beside the dyad step's tables (which need the connection only to store them): the full-text
                # index, the resources' indexes and statistics, the codebook's figures.
                worker.submit(_full_text_index, con)
                worker.submit(_index_resources, con)
                from .codebook import render_codebook_figures

                drawn = worker.submit(render_codebook_figures, pkg.root, None, con)  # counted in the resources
                # --- researcher exports (scripts/export.py): build/exports/, swapped in with the rest ---
                say("precomputing the dyad and dyad-year tables, writing the researcher exports…")
                _dyad_tables(con, pkg, stage / "exports", text, worker.join)  # empties `text` once read
                worker.join()
            finally:
                worker.close()
            counts = loaded.result()
            digest = digest_of.result()
            meta = {
                "name": pkg.name,
                "title": pkg.descriptor.get("title", ""),
                "version": pkg.version,
                "schema_version": SCHEMA_VERSION,
                "built_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                "content_hash": digest,
                "counts": orjson.dumps(counts).decode(),
                "licenses": orjson.dumps(pkg.descriptor.get("licenses", [])).decode(),
                "datapackage": orjson.dumps(pkg.descriptor).decode(),
            }
            con.executemany("INSERT INTO build_meta (key, value) VALUES (?, ?)", meta.items())
        say("analysing…")
        _analyse_the_rest(con)
        # No VACUUM: every table and index was written once, in order, so the file is packed already (and a
        # VACUUM may renumber the agreements' rowids, which the full-text index refers to). The pages that the
        # full-text merge freed are given back.
        con.execute("PRAGMA incremental_vacuum")
        con.close()
        (stage / "manifest.json").write_bytes(
            orjson.dumps({k: v for k, v in meta.items() if k != "datapackage"} | {"counts": counts}, option=orjson.OPT_INDENT_2)
        )
        shutil.copy2(pkg.root / "datapackage.json", stage / "datapackage.json")
        _write_docs(stage, drawn.result())  # the codebook's figures
        if database_url:
            from .pgload import load_postgres

            say("loading PostgreSQL…")
            load_postgres(db, database_url, say)
        replace_dir(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    say(f"done in {time.monotonic() - t0:.1f} s")
    return BuildResult(out / DB_NAME, digest, counts)
