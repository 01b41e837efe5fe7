"""The HTTP benchmark's plain-document copy for Datasette (bench/http/plain_docs.py).

Datasette runs the API's SQL on that copy, so its stored documents must be the very bytes the
API serves (as text, not zstd frames), and the copy must be made again when the build changes.
"""
from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from bench.http.plain_docs import KEY, plain_copy

SOME = ["fra-ind-rus-2019-03-05"]  # a hand-written record (tests/api/conftest.py), and the first four below


@pytest.fixture(scope="module")
def build_copy(synthetic_db, tmp_path_factory):
    """The synthetic build, copied so that this module can touch it without disturbing other tests."""
    db = tmp_path_factory.mktemp("plain-docs") / "build" / "dca.sqlite"
    db.parent.mkdir()
    shutil.copy2(synthetic_db, db)
    return db


def test_plain_copy_holds_what_the_api_serves(build_copy, client):
    plain = plain_copy(build_copy)
    assert plain.name == build_copy.name and plain != build_copy  # Datasette names the database by the file's stem
    con = sqlite3.connect(plain)
    ids = SOME + [r[0] for r in con.execute("SELECT agreement_id FROM agreement_docs ORDER BY agreement_id LIMIT 4")]
    for aid in ids:
        lj, dj, cr = con.execute("SELECT d.list_json, d.detail_json, c.csv_record FROM agreement_docs d "
                                 "JOIN agreement_csv c USING (agreement_id) WHERE agreement_id = ?", (aid,)).fetchone()
        assert all(isinstance(v, str) for v in (lj, dj, cr)), aid  # text, as Datasette shows it
        assert client.get(f"/v1/agreements/{aid}").content == dj.encode(), aid
    listed = client.get("/v1/agreements?sort=agreement_id&limit=4").content
    first = [r[0] for r in con.execute("SELECT list_json FROM agreement_docs ORDER BY agreement_id LIMIT 4")]
    assert listed.startswith(b'{"items":[' + ",".join(first).encode() + b"],")
    body = client.get("/v1/agreements?sort=agreement_id&limit=4&format=csv").content
    records = "".join(r[0] for r in con.execute("SELECT csv_record FROM agreement_csv ORDER BY agreement_id LIMIT 4"))
    assert body == body.split(b"\r\n", 1)[0] + b"\r\n" + records.encode()
    # the other tables are the build's, the dictionaries gone with the frames
    assert con.execute("SELECT count(*) FROM agreement_docs").fetchone() == \
        sqlite3.connect(build_copy).execute("SELECT count(*) FROM agreement_docs").fetchone()
    assert not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'doc_dicts'").fetchall()
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_plain_copy_is_reused_until_the_build_changes(build_copy):
    plain = plain_copy(build_copy)
    made = plain.stat().st_mtime_ns
    assert plain_copy(build_copy) == plain and plain.stat().st_mtime_ns == made  # reused
    st = build_copy.stat()
    os.utime(build_copy, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the build is "rebuilt"
    assert plain_copy(build_copy) == plain and plain.stat().st_mtime_ns != made
    key = sqlite3.connect(plain).execute("SELECT value FROM build_meta WHERE key = ?", (KEY,)).fetchone()[0]
    assert str(build_copy.stat().st_mtime_ns) in key
    assert not [p for p in plain.parent.iterdir() if p != plain]  # no temporary file left behind
