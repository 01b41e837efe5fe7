"""The stored documents (scripts/doc_store.py): compressed at build time, served as the very bytes built.

The expected bytes are made here by the build's own document code without compression
(scripts/documents.py: documents), so a change in how they are stored cannot hide behind a
change in what is served.
"""
from __future__ import annotations

import csv
import io
import sqlite3

import orjson
import pytest

from schema.tableschema import load_package
from scripts.build import CSV_COLUMNS, read_frames
from scripts.documents import documents as make_documents
from scripts.doc_store import COLUMNS, Decoder, Encoder, load_decoder, pack_ids


@pytest.fixture(scope="module")
def documents(synthetic_package) -> dict[str, tuple[str, str, str, str]]:
    """agreement_id -> (agreement_id, list_json, detail_json, csv_record), uncompressed."""
    return {r[0]: r for batch in make_documents(read_frames(load_package(synthetic_package))) for r in batch}


def _round_trip(rows: list[tuple[str, str, str, str]]) -> tuple[Encoder, list[tuple]]:
    enc = Encoder()
    packed = enc.encode(rows)
    con = sqlite3.connect(":memory:")
    enc.store(con)
    dec = load_decoder(con.execute("SELECT name, dictionary FROM doc_dicts").fetchall())
    for (aid, lj, dj, cr), (paid, plj, pdj, pcr) in zip(rows, packed):
        assert paid == aid
        assert dec.list_item(plj) == lj.encode() and dec.detail(pdj) == dj.encode()
        assert dec.csv_records([(pcr,)]) == cr.encode()
    assert dec.list_items([(p[1],) for p in packed]) == ",".join(r[1] for r in rows).encode()
    assert dec.csv_records([(p[3],) for p in packed]) == "".join(r[3] for r in rows).encode()
    return enc, packed


def test_round_trip_with_trained_dictionaries(documents):
    rows = list(documents.values())
    enc, packed = _round_trip(rows)
    assert all(enc.dicts[c] for c in COLUMNS)  # enough documents to train every column's dictionary
    raw = sum(len(r[2]) for r in rows)
    assert sum(len(p[2]) for p in packed) < raw / 3  # the point of it: detail_json much smaller


def test_round_trip_without_dictionaries():
    """Too few documents to train on (a tiny package): frames without a dictionary, decoded the same."""
    rows = [("a-b-2001", '{"agreement_id":"a-b-2001","title":"Ä \\"x\\""}', '{"agreement_id":"a-b-2001"}', 'a-b-2001,"Ä ""x"""\r\n')]
    enc, _ = _round_trip(rows)
    assert enc.dicts == {c: b"" for c in COLUMNS}


def test_later_batches_use_the_first_batchs_dictionaries(documents):
    rows = list(documents.values())
    enc = Encoder()
    first, second = enc.encode(rows[:200]), enc.encode(rows[200:])
    con = sqlite3.connect(":memory:")
    enc.store(con)
    dec = load_decoder(con.execute("SELECT name, dictionary FROM doc_dicts").fetchall())
    assert [dec.detail(p[2]) for p in first + second] == [r[2].encode() for r in rows]


def test_stored_columns_are_compressed(synthetic_db, documents):
    con = sqlite3.connect(synthetic_db)
    stored = con.execute("SELECT typeof(list_json), typeof(detail_json), length(detail_json) FROM agreement_docs "
                         "WHERE agreement_id = ?", ("fra-ind-rus-2019-03-05",)).fetchone()
    assert stored[:2] == ("blob", "blob") and stored[2] < len(documents["fra-ind-rus-2019-03-05"][2])
    assert con.execute("SELECT DISTINCT typeof(csv_record) FROM agreement_csv").fetchall() == [("blob",)]


def test_api_serves_the_built_bytes(client, documents):
    """Every agreement's GET is its detail_json; list pages, NDJSON and CSV are its list_json and CSV record."""
    for aid, (_, _, detail, _) in documents.items():
        r = client.get(f"/v1/agreements/{aid}")
        assert r.status_code == 200 and r.content == detail.encode(), aid
    ordered = [documents[a] for a in sorted(documents)]
    page = client.get("/v1/agreements?sort=agreement_id&limit=1000")
    assert page.content.startswith(b'{"items":[' + ",".join(d[1] for d in ordered).encode() + b"],")
    stream = client.get("/v1/agreements?sort=agreement_id&limit=all")
    assert stream.content.startswith(b'{"items":[' + ",".join(d[1] for d in ordered).encode() + b"],")
    nd = client.get("/v1/agreements?sort=agreement_id&limit=all&format=ndjson")
    assert nd.content == "".join(d[1] + "\n" for d in ordered).encode()
    head = (",".join(CSV_COLUMNS) + "\r\n").encode()
    for url in ("/v1/agreements?sort=agreement_id&limit=1000&format=csv", "/v1/agreements?sort=agreement_id&limit=all&format=csv"):
        assert client.get(url).content == head + "".join(d[3] for d in ordered).encode(), url
    # a field selection decodes the list item, then projects it
    some = client.get("/v1/agreements?sort=agreement_id&limit=3&fields=agreement_id,title").json()["items"]
    assert some == [{"agreement_id": d[0], "title": orjson.loads(d[1])["title"]} for d in ordered[:3]]


def test_packed_id_lists_round_trip():
    ids = ["aaa-bbb-2001", "aaa-bbb-ccc-1999-05", "zzz-yyy-2020-01-02"]
    rank = ids  # an id's rank is its position
    lists = ["aaa-bbb-2001;zzz-yyy-2020-01-02", None, "", "aaa-bbb-ccc-1999-05", ";".join(ids)]
    packed = pack_ids(lists, rank)
    assert packed[1] is None and packed[2] == b"" and len(packed[4]) == 4 * len(ids)
    dec = Decoder({c: b"" for c in COLUMNS}, ids)
    assert [dec.ids(p) for p in packed] == lists
    with pytest.raises(KeyError):  # an id the build does not hold cannot be stored
        pack_ids(["aaa-bbb-2001;nope"], rank)


def test_dyad_years_id_lists_are_stored_packed_and_served_as_text(synthetic_db, client):
    con = sqlite3.connect(synthetic_db)
    assert con.execute("SELECT DISTINCT typeof(agreement_ids) FROM dyad_years").fetchall() == [("blob",)]
    assert {t for (t,) in con.execute("SELECT DISTINCT typeof(in_force_ids) FROM dyad_years")} <= {"blob", "null"}
    export = list(csv.DictReader(io.StringIO((synthetic_db.parent / "exports" / "dyad_years.csv").read_text(encoding="utf-8"),
                                             newline="")))
    want = [{"year": int(r["year"]), "agreement_ids": r["agreement_ids"], "in_force_ids": r["in_force_ids"] or None}
            for r in export][:1000]
    got = client.get("/v1/dyad-years?fields=year,agreement_ids,in_force_ids&limit=1000").json()["items"]
    assert got == want and any(";" in w["agreement_ids"] for w in want)
    text = client.get("/v1/dyad-years?fields=agreement_ids,in_force_ids&format=csv&limit=all").text
    assert [(r["agreement_ids"], r["in_force_ids"]) for r in csv.DictReader(io.StringIO(text, newline=""))] == \
        [(r["agreement_ids"], r["in_force_ids"]) for r in export]


@pytest.mark.parametrize("with_empty", [False, True], ids=["all-non-empty", "one-empty"])
def test_threaded_compression_gives_each_value_its_own_frame(documents, with_empty):
    """zstd's threaded batch call must give the bytes compress() gives, row for row; it silently drops
    empty inputs at the end of a batch (zstandard 0.25), so a batch holding one must not go through it."""
    import zstandard

    from scripts.doc_store import _compress_all

    values = [r[2].encode() for r in list(documents.values())[:200]]
    if with_empty:
        values[7] = values[-1] = b""
    c = zstandard.ZstdCompressor(level=3, write_checksum=False, write_dict_id=False, write_content_size=True)
    assert _compress_all(c, values) == [c.compress(v) for v in values]
    assert zstandard.ZstdDecompressor().decompress(_compress_all(c, values)[-1]) == values[-1]
    assert _compress_all(c, [b"a", b""]) == [c.compress(b"a"), c.compress(b"")]  # the call itself returns one frame
