"""Two builds compared: every table's rows (EXCEPT both ways, rowids included where a table has them; build_meta
without built_at), the full-text hits of a few queries, the schema, and the SHA-256 of every other file.

Usage: python bench/profile/compare_builds.py BUILD_A BUILD_B   (exits 1 on any difference)
"""
import sqlite3, sys, hashlib, os
a, b = sys.argv[1], sys.argv[2]
con = sqlite3.connect(f"{a}/dca.sqlite")
con.execute(f"ATTACH '{b}/dca.sqlite' AS b")
tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'agreements_fts%' ORDER BY 1")]
tb = [r[0] for r in con.execute("SELECT name FROM b.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'agreements_fts%' ORDER BY 1")]
print("same tables:", tables == tb)
bad = 0
for t in tables:
    where = " WHERE key <> 'built_at'" if t == "build_meta" else ""
    try:
        con.execute(f"SELECT rowid FROM main.{t} LIMIT 1"); cols = "rowid, *"
    except sqlite3.OperationalError:
        cols = "*"
    n = con.execute(f"SELECT COUNT(*) FROM main.{t}").fetchone()[0]
    x = con.execute(f"SELECT COUNT(*) FROM (SELECT {cols} FROM main.{t}{where} EXCEPT SELECT {cols} FROM b.{t}{where})").fetchone()[0]
    y = con.execute(f"SELECT COUNT(*) FROM (SELECT {cols} FROM b.{t}{where} EXCEPT SELECT {cols} FROM main.{t}{where})").fetchone()[0]
    nb = con.execute(f"SELECT COUNT(*) FROM b.{t}").fetchone()[0]
    bad += x + y + (n != nb)
    print(f"{t}: {n} / {nb} rows, A-B {x}, B-A {y}")
# full-text index answers the same
for q in ("defence", "training OR logistics", "synth*"):
    ra = con.execute("SELECT agreement_id FROM main.agreements_fts WHERE agreements_fts MATCH ? ORDER BY rank, agreement_id", (q,)).fetchall()
    rb = con.execute("SELECT agreement_id FROM b.agreements_fts WHERE agreements_fts MATCH ? ORDER BY rank, agreement_id", (q,)).fetchall()
    print("fts", q, len(ra), "same:", ra == rb); bad += ra != rb
sch_a = con.execute("SELECT type, name, sql FROM main.sqlite_master ORDER BY name").fetchall()
sch_b = con.execute("SELECT type, name, sql FROM b.sqlite_master ORDER BY name").fetchall()
print("same schema:", sch_a == sch_b)
def files(root):
    out = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f); rel = os.path.relpath(p, root)
            if rel in ("dca.sqlite", "manifest.json"): continue
            out[rel] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out
fa, fb = files(a), files(b)
diff = sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))
print(f"files: {len(fa)} / {len(fb)}, differing: {diff}")
print("TOTAL row differences:", bad)
sys.exit(1 if bad or diff or sch_a != sch_b else 0)
