"""`dca build`: the database it writes, and that a failed build changes nothing."""
from __future__ import annotations

import sqlite3

import orjson
import pytest
from typer.testing import CliRunner

import scripts.build as build_mod
from scripts.atomic import TMP_PREFIX
from scripts.build import DB_NAME, build_package
from scripts.doc_store import load_decoder
from scripts.cli import app
from tests.packages import make_package
from tests.test_documents import frames  # noqa: F401  (the fixture: the base package and awkward rows)

runner = CliRunner()


@pytest.fixture
def built(tmp_path):
    pkg = make_package(tmp_path / "p")
    out = tmp_path / "build"
    result = build_package(pkg, out)
    return pkg, out, result


def test_build_writes_tables_with_the_package_rows(built):
    pkg, out, result = built
    con = sqlite3.connect(out / DB_NAME)
    assert con.execute("SELECT COUNT(*) FROM agreements").fetchone()[0] == 3
    assert con.execute("SELECT COUNT(*) FROM parties").fetchone()[0] == 7
    assert con.execute("SELECT quantity FROM equipment WHERE equipment_id = 'deu-nor-1999-e1'").fetchone()[0] == 12
    assert result.counts["agreements"] == 3


def test_build_precomputes_lookups(built):
    _, out, _ = built
    con = sqlite3.connect(out / DB_NAME)
    # a three-party agreement gives three unordered pairs
    pairs = con.execute("SELECT iso3_a, iso3_b FROM dyad_index WHERE agreement_id = 'bra-chl-per-2003-07' ORDER BY 1, 2").fetchall()
    assert pairs == [("BRA", "CHL"), ("BRA", "PER"), ("CHL", "PER")]
    plan = " ".join(r[3] for r in con.execute(
        "EXPLAIN QUERY PLAN SELECT agreement_id FROM party_index WHERE country_iso3 = ? AND signed_on >= ? "
        "ORDER BY signed_on, agreement_id LIMIT 50", ("FRA", "2000")))
    assert "USING PRIMARY KEY" in plan or "COVERING INDEX" in plan, plan
    assert "TEMP B-TREE" not in plan
    docs = load_decoder(con.execute("SELECT name, dictionary FROM doc_dicts").fetchall())
    doc = orjson.loads(docs.detail(con.execute("SELECT detail_json FROM agreement_docs WHERE agreement_id = 'fra-ind-2001-05-06'").fetchone()[0]))
    assert [p["iso3"] for p in doc["parties"]] == ["FRA", "IND"]
    assert doc["parties"][1]["cow_code"] == 750
    assert doc["equipment"][0]["designation"] == "Testjet X"
    hits = con.execute("SELECT agreement_id FROM agreements_fts WHERE agreements_fts MATCH 'three'").fetchall()
    assert hits == [("bra-chl-per-2003-07",)]
    summary = dict(con.execute("SELECT iso3, agreement_count FROM country_summary"))
    assert summary["FRA"] == 1 and "USA" not in summary


def test_build_records_content_hash_and_version(built):
    pkg, out, result = built
    con = sqlite3.connect(out / DB_NAME)
    meta = dict(con.execute("SELECT key, value FROM build_meta"))
    assert meta["content_hash"] == result.content_hash and len(result.content_hash) == 64
    assert meta["version"] == orjson.loads((pkg / "datapackage.json").read_bytes())["version"]
    # same data, same hash; changed data, different hash
    assert build_package(pkg, out).content_hash == result.content_hash
    (pkg / "dataset" / "parties.csv").write_text((pkg / "dataset" / "parties.csv").read_text().replace("Test Person One", "Test Person 1"))
    assert build_package(pkg, out).content_hash != result.content_hash


@pytest.mark.parametrize("step", ["documents", "_load_and_look_up", "_insert_documents", "_full_text_index", "_index_resources", "_country_summary"])
def test_failed_build_leaves_previous_build_intact(built, monkeypatch, step):
    """Whichever step fails (making the documents, in this thread; the load and indexes, storing the documents,
    the summaries, in the database thread), the build fails with its error and the previous build stays."""
    pkg, out, _ = built
    before = (out / DB_NAME).read_bytes()

    def boom(*a, **k):
        raise RuntimeError("simulated crash halfway through the build")

    monkeypatch.setattr(build_mod, step, boom)
    with pytest.raises(RuntimeError):
        build_package(pkg, out)
    assert (out / DB_NAME).read_bytes() == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_debris_of_a_killed_build_is_cleared(built):
    pkg, out, _ = built
    debris = out.parent / f"{TMP_PREFIX}build-99999-build"
    debris.mkdir()
    (debris / DB_NAME).write_bytes(b"half a database")
    build_package(pkg, out)
    assert not debris.exists()
    assert sqlite3.connect(out / DB_NAME).execute("SELECT COUNT(*) FROM agreements").fetchone()[0] == 3


def test_build_refuses_an_invalid_package_and_keeps_the_old_build(tmp_path):
    good = make_package(tmp_path / "good")
    out = tmp_path / "out"
    assert runner.invoke(app, ["build", str(good), "--out", str(out), "-q"]).exit_code == 0
    before = (out / DB_NAME).read_bytes()
    bad = make_package(tmp_path / "bad", "dangling_references")
    result = runner.invoke(app, ["build", str(bad), "--out", str(out), "-q"])
    assert result.exit_code == 1
    assert "is not in agreements.csv" in result.output
    assert (out / DB_NAME).read_bytes() == before


def test_validates_frames_are_the_frames_the_build_reads(tmp_path):
    """`dca build` builds from the text that `dca validate` read (so the files are parsed once): typed, it is what
    a read of the files gives, column types and nulls included."""
    from schema.tableschema import load_package
    from scripts.build import read_frames
    from scripts.validate import check_package

    root = make_package(tmp_path / "p")
    findings, text = check_package(root)
    assert findings == [] and set(text) == {"countries", "agreements", "parties", "sources", "equipment", "status_history"}
    pkg = load_package(root)
    shared, own = read_frames(pkg, text), read_frames(pkg)
    for name, df in own.items():
        assert shared[name].equals(df), name
        assert shared[name].schema == df.schema


def test_no_frames_come_back_from_a_package_that_cannot_be_read(tmp_path):
    from scripts.validate import check_package

    findings, text = check_package(make_package(tmp_path / "p", "dangling_references"))
    assert findings and text is not None  # read, but invalid: the build refuses it before using them
    root = make_package(tmp_path / "q")
    (root / "dataset" / "parties.csv").unlink()
    findings, text = check_package(root)
    assert text is None


def test_bulk_load_stores_what_executemany_stores(frames, tmp_path, monkeypatch):
    """The build's ADBC load gives every table the rows, rowids and storage types that executemany gives
    (integers as INTEGER, value_amount as REAL, empty cells as NULL, awkward text as it is), in batches too."""
    from schema.tables import RESOURCE_TABLES
    from scripts.build import bulk_load_resources, create_tables, load_resources

    monkeypatch.setattr(build_mod, "LOAD_CHUNK", 3)
    cons = {}
    for how in ("bulk", "executemany"):
        db = tmp_path / f"{how}.sqlite"
        con = sqlite3.connect(db)
        create_tables(con)
        con.commit()
        if how == "bulk":
            counts = bulk_load_resources(db, frames)
        else:
            with con:
                counts = load_resources(con, frames)
        assert counts == {name: frames[name].height for name in RESOURCE_TABLES}
        cons[how] = con
    for name in RESOURCE_TABLES:
        cols = frames[name].columns
        q = f"SELECT rowid, {', '.join(cols)}, {', '.join(f'typeof({c})' for c in cols)} FROM {name} ORDER BY rowid"
        rows = cons["bulk"].execute(q).fetchall()
        assert len(rows) == frames[name].height
        assert rows == cons["executemany"].execute(q).fetchall(), name
    assert cons["bulk"].execute("SELECT typeof(value_amount), typeof(quantity) FROM equipment WHERE equipment_id = 'zz-01-e1'").fetchone() == ("real", "integer")


@pytest.mark.parametrize("where", ["writer", "tables"])
def test_a_failure_in_the_dyad_step_fails_the_build_and_leaves_the_previous_one(built, monkeypatch, where):
    """The exports are written in a thread while the dyad tables are made and stored: an error on either
    side is the build's error (not a hang, not a half-written build), whether the writer fails (a Stata
    file that cannot be written) or the tables do (after the writer has started)."""
    import scripts.export as export_mod
    import scripts.export_tables as tables_mod
    from scripts.export import ExportError

    pkg, out, _ = built
    before = (out / DB_NAME).read_bytes()
    if where == "writer":
        def no_stata(*a, **k):
            raise ExportError("simulated: a .dta file cannot be written")
        monkeypatch.setattr(export_mod, "_stata_chunks", no_stata)
        expected = ExportError
    else:
        made = tables_mod.iter_frames

        def halfway(*a, **k):
            for i, item in enumerate(made(*a, **k)):
                if i == 3:
                    raise RuntimeError("simulated: the dyad-years cannot be made")
                yield item
        monkeypatch.setattr(tables_mod, "iter_frames", halfway)
        expected = RuntimeError
    with pytest.raises(expected, match="simulated"):
        build_package(pkg, out)
    assert (out / DB_NAME).read_bytes() == before
    assert (out / "exports" / "datapackage.json").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_a_build_from_the_validated_frames_parses_no_csv_file_again(tmp_path, monkeypatch):
    """`dca build` hands the frames `dca validate` read to the build: the tables, documents, exports, codebook
    and coverage block are all made from them (no file is parsed a second time), and the build is the one a
    build from the files gives."""
    import polars as pl

    from scripts.validate import check_package

    pkg = make_package(tmp_path / "pkg")
    from_files = tmp_path / "from-files"
    build_package(pkg, from_files)
    findings, text_frames = check_package(pkg)
    assert findings == [] and text_frames

    def no_second_parse(*a, **k):
        raise AssertionError(f"a CSV file was parsed again: {a[:1]}")
    monkeypatch.setattr(pl, "read_csv", no_second_parse)
    from_frames = tmp_path / "from-frames"
    build_package(pkg, from_frames, text_frames=text_frames)
    monkeypatch.undo()
    for f in sorted(p for p in from_files.rglob("*") if p.is_file() and p.name not in (DB_NAME, "manifest.json")):
        assert (from_frames / f.relative_to(from_files)).read_bytes() == f.read_bytes(), f.name
    a, b = sqlite3.connect(from_files / DB_NAME), sqlite3.connect(from_frames / DB_NAME)
    for (table,) in a.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' AND name <> 'build_meta'"):
        assert a.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall() == b.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall(), table
