"""`dca build`: the validated package as a SQLite database (and optionally PostgreSQL).

The build is written aside and swapped in (see `atomic.replace_dir`), so a failed
or killed build leaves the previous `build/` as it was. Everything the API would
otherwise compute per request is computed here once: the denormalised
party/dyad indexes, each agreement's JSON, per-country summaries, counts and the
content hash that the API's ETags derive from.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import orjson
import polars as pl

from schema.tableschema import Package, load_package
from schema.tables import RESOURCE_TABLES, metadata

from .atomic import TMP_PREFIX, clear_debris, replace_dir

DB_NAME = "dca.sqlite"
SCHEMA_VERSION = "4"  # bump when the database layout changes; the API refuses other versions
# 2: agreement_csv (each agreement's list item as one CSV record, for the API's CSV exports)
# 3: dyads and dyad_years (the export rows, scripts/dyad_store.py); venue and equipment COW codes in the documents
# 4: agreement_docs without search_text and signed_on; full-text index with external content (agreements);
#    party_index, dyad_index and dyads without rowid

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


def read_frames(pkg: Package) -> dict[str, pl.DataFrame]:
    """Each resource as a polars frame with integer fields typed; dates stay ISO text."""
    frames = {}
    for r in pkg.resources:
        df = pl.read_csv(pkg.root / r.path, infer_schema=False, encoding="utf8")
        casts = [pl.col(f.name).cast(pl.Int64) for f in r.fields if f.type == "integer"]
        casts += [pl.col(f.name).cast(pl.Float64) for f in r.fields if f.type == "number"]
        frames[r.name] = df.with_columns(casts) if casts else df
    return frames


def _insert(con: sqlite3.Connection, table: str, df: pl.DataFrame) -> None:
    cols = ", ".join(df.columns)
    marks = ", ".join("?" * len(df.columns))
    con.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", df.iter_rows())


def load_resources(con: sqlite3.Connection, frames: dict[str, pl.DataFrame], say: Progress = None) -> dict[str, int]:
    """Every resource's rows into its table (created from ``schema.tables``): the build's database, and the
    in-memory one the codebook's figures are counted in (scripts/figures.py). name -> rows loaded."""
    counts = {}
    for name in RESOURCE_TABLES:
        if say:
            say(f"loading {name} ({frames[name].height} rows)…")
        _insert(con, name, frames[name])
        counts[name] = frames[name].height
    return counts


# Columns of the API's agreement CSV: the list item's fields, with the parties as
# ';'-separated ISO3 codes and names (in the same order).
CSV_COLUMNS = ["agreement_id", "title", "agreement_type", "instrument", "signed_on", "signed_precision", "venue_city",
               "venue_country_iso3", "venue_country_name", "venue_country_cow_code", "status", "status_as_of",
               "entry_into_force_on", "end_on", "summary", "parties", "party_names", "party_cow_codes"]


def party_cells(parties: list[dict]) -> list[str]:
    """The parties of a list item as the CSV's three ';'-separated cells (codes, names, COW codes; same order)."""
    return [";".join(p["iso3"] for p in parties), ";".join(p["name"] or "" for p in parties),
            ";".join("" if p["cow_code"] is None else str(p["cow_code"]) for p in parties)]


def csv_record(item: dict) -> str:
    """A list item as one CSV record (RFC 4180, CRLF), as the API's CSV exports serve it."""
    buf = io.StringIO()
    row = [item.get(c) for c in CSV_COLUMNS[:-3]]
    row += party_cells(item["parties"])
    csv.writer(buf, lineterminator="\r\n").writerow(row)
    return buf.getvalue()


DOC_CHUNK = 10_000  # agreements per batch of documents: memory is one batch, not the whole package


def _documents(frames: dict[str, pl.DataFrame]):
    """The JSON the API serves for each agreement (and its CSV record), serialised once here.

    Yields batches of (agreement_id, list_json, detail_json, csv_record) rows, so that only one batch of
    documents and of the child rows they are made of is held as Python objects at a time: the child tables
    are sorted by agreement_id once, and each batch takes the contiguous slice of its agreements."""
    countries = {r["iso3"]: r for r in frames["countries"].iter_rows(named=True)}
    children = {name: frames[name].sort("agreement_id", maintain_order=True)
                for name in ("parties", "equipment", "sources", "status_history")}
    agreements = frames["agreements"].sort("agreement_id")

    def cow(c: dict) -> int | None:
        return int(c["cow_code"]) if c.get("cow_code") is not None else None

    def with_cow(e: dict) -> dict:
        """An equipment row with the COW codes of its supplier and recipient next to their ISO3 codes."""
        out = {}
        for k, v in e.items():
            if k == "agreement_id":
                continue
            out[k] = v
            if k in ("supplier_iso3", "recipient_iso3"):
                out[k.replace("_iso3", "_cow_code")] = cow(countries.get(v or "", {}))
        return out

    for lo in range(0, agreements.height, DOC_CHUNK):
        batch = agreements.slice(lo, DOC_CHUNK)
        first, last = batch["agreement_id"][0], batch["agreement_id"][-1]
        groups = {}
        for name, df in children.items():
            ids = df["agreement_id"]
            start = ids.search_sorted(first, side="left")
            stop = ids.search_sorted(last, side="right")
            out: dict[str, list[dict]] = {}
            for row in df.slice(start, stop - start).iter_rows(named=True):
                out.setdefault(row["agreement_id"], []).append(row)
            groups[name] = out
        parties, equipment, sources, history = groups["parties"], groups["equipment"], groups["sources"], groups["status_history"]
        rows = []
        for a in batch.iter_rows(named=True):
            aid = a["agreement_id"]
            plist = []
            own = sorted(parties.get(aid, []), key=lambda p: p["country_iso3"])
            for p in own:
                c = countries.get(p["country_iso3"], {})
                plist.append({"iso3": p["country_iso3"], "name": c.get("name"), "cow_code": cow(c)})
            venue = countries.get(a["venue_country_iso3"] or "", {})
            item = {
                "agreement_id": aid,
                "title": a["title"],
                "agreement_type": a["agreement_type"],
                "instrument": a["instrument"],
                "signed_on": a["signed_on"],
                "signed_precision": a["signed_precision"],
                "venue_city": a["venue_city"],
                "venue_country_iso3": a["venue_country_iso3"],
                "venue_country_name": venue.get("name"),
                "venue_country_cow_code": cow(venue),
                "status": a["status"],
                "status_as_of": a["status_as_of"],
                "entry_into_force_on": a["entry_into_force_on"],
                "end_on": a["end_on"],
                "summary": a["summary"],
                "parties": plist,
            }
            detail = dict(item)
            detail["notes"] = a["notes"]
            detail["parties"] = [
                dict(pl_, signatory_name=p["signatory_name"], signatory_title=p["signatory_title"],
                     cow_abbr=countries.get(p["country_iso3"], {}).get("cow_abbr"))
                for pl_, p in zip(plist, own)
            ]
            detail["equipment"] = [with_cow(e) for e in sorted(equipment.get(aid, []), key=lambda e: e["equipment_id"])]
            detail["sources"] = [{k: v for k, v in s.items() if k != "agreement_id"} for s in sorted(sources.get(aid, []), key=lambda s: s["source_id"])]
            detail["status_history"] = [{k: v for k, v in h.items() if k != "agreement_id"} for h in sorted(history.get(aid, []), key=lambda h: (h["status_on"], h["history_id"]))]
            rows.append((aid, orjson.dumps(item).decode(), orjson.dumps(detail).decode(), csv_record(item)))
        yield rows


def _derive(con: sqlite3.Connection, frames: dict[str, pl.DataFrame]) -> None:
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
    con.execute("CREATE TABLE agreement_csv (agreement_id VARCHAR NOT NULL PRIMARY KEY, csv_record VARCHAR NOT NULL)")
    for rows in _documents(frames):
        con.executemany("INSERT INTO agreement_docs (agreement_id, list_json, detail_json) VALUES (?, ?, ?)",
                        [r[:3] for r in rows])
        con.executemany("INSERT INTO agreement_csv (agreement_id, csv_record) VALUES (?, ?)", [(r[0], r[3]) for r in rows])
    # External content: the index reads agreement_id, title and summary from agreements (by rowid) instead of
    # keeping its own copy of them. The rowids stay as loaded: the build is never VACUUMed after this.
    con.execute(
        "CREATE VIRTUAL TABLE agreements_fts USING fts5(agreement_id UNINDEXED, title, summary, content = 'agreements', "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    con.execute("INSERT INTO agreements_fts (rowid, agreement_id, title, summary) "
                "SELECT rowid, agreement_id, title, summary FROM agreements")
    con.execute("INSERT INTO agreements_fts (agreements_fts) VALUES ('optimize')")
    # Per-country summaries: counts, date span and partners with shared-agreement counts.
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


def _dyad_tables(con: sqlite3.Connection, pkg: Package, exports: Path) -> None:
    """The export tables (default options) written to `exports` as they are made, and the dyads and
    dyad-years (every rule) stored for the API: the same frames, so the API's rows are the files' rows
    (scripts/build_exports.py)."""
    from .build_exports import store_and_write

    store_and_write(con, pkg, exports)


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


def build_package(root: Path, out: Path, progress: Progress = None, database_url: str | None = None) -> BuildResult:
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
        digest = content_hash(pkg)
        frames = read_frames(pkg)
        db = stage / DB_NAME
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA auto_vacuum = INCREMENTAL")  # so that pages freed while building can be given back
        with con:
            create_tables(con)
            counts = load_resources(con, frames, say)
            say("precomputing lookup tables, documents and the full-text index…")
            _derive(con, frames)
            del frames  # the dyad tables and the exports read what they need themselves
            # --- researcher exports (scripts/export.py): build/exports/, swapped in with the rest ---
            say("precomputing the dyad and dyad-year tables, writing the researcher exports…")
            _dyad_tables(con, pkg, stage / "exports")
            say("indexing…")
            _create_indexes(con)
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
        con.execute("ANALYZE")
        # No VACUUM: every table and index was written once, in order, so the file is packed already (and a
        # VACUUM may renumber the agreements' rowids, which the full-text index refers to). The pages that the
        # full-text merge freed are given back.
        con.execute("PRAGMA incremental_vacuum")
        con.close()
        (stage / "manifest.json").write_bytes(
            orjson.dumps({k: v for k, v in meta.items() if k != "datapackage"} | {"counts": counts}, option=orjson.OPT_INDENT_2)
        )
        shutil.copy2(pkg.root / "datapackage.json", stage / "datapackage.json")
        # --- what depends on the data is generated here (and by dca release), never in a
        # data pull request: build/docs/ has the codebook, its figures and the coverage block ---
        say("writing the codebook and the coverage statement…")
        from .codebook import render_codebook
        from .coverage import coverage_markdown

        for rel, data in render_codebook(pkg.root, db=db).items():
            (stage / "docs" / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage / "docs" / rel).write_bytes(data)
        (stage / "docs" / "coverage.md").write_text(coverage_markdown(pkg.root) + "\n", encoding="utf-8")
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
