"""Bytes per table (with its indexes) of a build, from SQLite's dbstat, against a plain load of the six resource tables.

    python bench/profile/dbsize.py build/dca.sqlite [--plain]

``--plain`` also writes the plain load (the six resource tables with their primary keys, nothing
else, VACUUMed, at the build's page size) next to the build in a temporary file, and prints the ratio.
"""
import os, sqlite3, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def plain_load(path: str, page_size: int) -> int:
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateTable

    from schema.tables import RESOURCE_TABLES, metadata

    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(path))) as tmp:
        dst = os.path.join(tmp, "plain.sqlite")
        con = sqlite3.connect(dst)
        con.execute(f"PRAGMA page_size = {page_size}")
        con.execute("ATTACH ? AS s", (path,))
        for name in RESOURCE_TABLES:
            con.execute(str(CreateTable(metadata.tables[name]).compile(dialect=sqlite.dialect())))
            con.execute(f"INSERT INTO main.{name} SELECT * FROM s.{name}")  # names from schema.tables
        con.commit()
        con.execute("DETACH s")
        con.execute("VACUUM")
        con.close()
        return os.path.getsize(dst)


path = sys.argv[1]
con = sqlite3.connect(path)
owner = {r[0]: r[1] for r in con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
sizes = {}
for name, size in con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
    t = owner.get(name, name)
    if t.startswith("agreements_fts"):
        t = "agreements_fts"
    table, idx = sizes.setdefault(t, [0, 0])
    if name == t or name.startswith("agreements_fts"):
        sizes[t][0] += size
    else:
        sizes[t][1] += size
total = os.path.getsize(path)
page_size = con.execute("PRAGMA page_size").fetchone()[0]
print(f"file {total/1e6:.1f} MB, page size {page_size}, free pages {con.execute('PRAGMA freelist_count').fetchone()[0]}")
print("| table | table MB | indexes MB | total MB |\n|---|---|---|---|")
for t, (a, b) in sorted(sizes.items(), key=lambda kv: -sum(kv[1])):
    print(f"| {t} | {a/1e6:.1f} | {b/1e6:.1f} | {(a+b)/1e6:.1f} |")
if "--plain" in sys.argv[2:]:
    plain = plain_load(path, page_size)
    print(f"plain load {plain/1e6:.1f} MB: the build is {total/plain:.2f}x")
