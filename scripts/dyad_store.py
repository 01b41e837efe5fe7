"""The dyad and dyad-year export tables, stored in the build's database for the API.

`/v1/dyads` and `/v1/dyad-years` serve the same rows as build/exports/dyads.csv and
dyad_years.csv. The rows are made once, at build time, by the same code that writes
those files (scripts/export_tables.py: build_frames), and stored here in tables whose
columns are the exports' columns (scripts/export_columns.py), so the API never works
out a dyad-year per request. dyad_years holds every rule of the exports (`rule`
column: until-ended, the exports' default, and attested), since a client may ask for
either.
"""
from __future__ import annotations

import sqlite3

import polars as pl
from sqlalchemy import Column, Index, Integer, LargeBinary, MetaData, String, Table

from .doc_store import AGREEMENT_ORDER, ID_COLUMNS, pack_ids

from .export_columns import ALL_EXPORTS, RULE_UNTIL_ENDED, RULES

metadata = MetaData()
_TYPES = {"integer": Integer, "string": String}

DYAD_COLUMNS = [c.name for c in ALL_EXPORTS["dyads"]]
DYAD_YEAR_COLUMNS = [c.name for c in ALL_EXPORTS["dyad_years"]]


def _columns(name: str, keys: list[str]) -> list[Column]:
    return [Column(c.name, _TYPES[c.type], primary_key=c.name in keys, nullable=not (c.required or c.name in keys))
            for c in ALL_EXPORTS[name]]


# dyads is clustered on its primary key (SQLite WITHOUT ROWID: no rowid, no autoindex holding a second copy
# of the key; its secondary indexes hold the key already). dyad_years keeps its rowid: without it, a state
# filter (iso3_a = ? OR iso3_b = ?: SQLite's multi-index OR, which collects rowids) took 3x the CPU, for 12 MB
# less at 100k agreements (bench/README.md, "Database size"). Its two id lists are stored packed
# (scripts/doc_store.py: pack_ids), 4 bytes an id.
DYADS = Table(
    "dyads", metadata, *_columns("dyads", ["agreement_id", "iso3_a", "iso3_b"]),
    Index("ix_dyads_b", "iso3_b", "agreement_id", "iso3_a"),
    Index("ix_dyads_a", "iso3_a", "agreement_id", "iso3_b"),
    sqlite_with_rowid=False,
)
DYAD_YEARS = Table(
    "dyad_years", metadata,
    Column("rule", String, primary_key=True, nullable=False),
    *[Column(c.name, LargeBinary, nullable=c.nullable) if c.name in ID_COLUMNS else c
      for c in _columns("dyad_years", ["iso3_a", "iso3_b", "year"])],
    Index("ix_dyad_years_b", "rule", "iso3_b", "iso3_a", "year"),
    Index("ix_dyad_years_year", "rule", "year"),
)


def store(con: sqlite3.Connection, dyads: pl.DataFrame, dyad_years: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Create the two tables and insert the export rows (dyad_years: one frame per rule, each taken out of
    the dict as it is stored); row counts.

    Rows go in in primary-key order (the frames are sorted by it; rules in name order) and the secondary
    indexes are made afterwards, from sorted data, so every b-tree is written once, packed. The rows go in
    through ADBC's bulk ingest (scripts/build.py: ingest_frames), which binds them from the frames' Arrow
    columns in C: ~630k rows at 100k agreements, whose Python tuples `executemany` took ~4 s to make and
    bind. It has its own connection to con's file, so con's open transaction is committed first."""
    from .build import ingest_frames

    for table in metadata.sorted_tables:
        con.execute(str(_create(table)))
    ordered_ids = pl.Series("id", [aid for (aid,) in con.execute(AGREEMENT_ORDER)], dtype=pl.Utf8)
    con.commit()
    (path,) = [row[2] for row in con.execute("PRAGMA database_list") if row[1] == "main"]
    n = dyad_years[RULE_UNTIL_ENDED].height if RULE_UNTIL_ENDED in dyad_years else 0

    def parts():
        yield "dyads", dyads.select(DYAD_COLUMNS)
        for rule in sorted(RULES):
            df = dyad_years.pop(rule).select(DYAD_YEAR_COLUMNS)  # dropped once stored: the caller's dict empties
            df = df.with_columns([pack_ids(df[c], ordered_ids) for c in ID_COLUMNS])
            yield "dyad_years", df.with_columns(pl.lit(rule).alias("rule")).select(["rule", *DYAD_YEAR_COLUMNS])

    ingest_frames(path, parts())
    for table in metadata.sorted_tables:
        for ix in table.indexes:
            con.execute(f"CREATE INDEX {ix.name} ON {table.name} ({', '.join(c.name for c in ix.columns)})")
    return {"dyads": dyads.height, "dyad_years": n}


def _create(table: Table):
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    return CreateTable(table).compile(dialect=sqlite.dialect())
