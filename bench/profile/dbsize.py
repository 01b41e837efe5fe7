"""Bytes per table (with its indexes) of a build, from SQLite's dbstat, against a plain load of the six resource tables."""
import os, sqlite3, sys
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
print(f"file {total/1e6:.1f} MB, free pages {con.execute('PRAGMA freelist_count').fetchone()[0]}")
for t, (a, b) in sorted(sizes.items(), key=lambda kv: -sum(kv[1])):
    print(f"| {t} | {a/1e6:.1f} | {b/1e6:.1f} | {(a+b)/1e6:.1f} |")
