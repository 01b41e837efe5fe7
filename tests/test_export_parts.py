"""The exports' writers that work in parts: Stata's strL table found by hashes, Parquet by row groups.

Both exist to keep the build's peak memory down (bench/README.md, "Issue #15, session 11"); what they must
not do is change what a researcher reads. The strL keys are held to the exact path (Arrow's dictionary
encoding, no hashes) and to pandas' own writer; the Parquet files are read back.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts import export, stata
from scripts.export_columns import Column

LONG = ["", "x" * 2100, "y" * 3000, "Ä" * 1500, "short"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.none() | st.sampled_from(LONG), st.none() | st.sampled_from(LONG)), max_size=30))
def test_strl_keys_by_hash_equal_the_exact_keys(rows):
    """Texts repeated within and across columns, empty and missing cells: the same keys and table as the
    exact path, whatever the mix."""
    df = pl.DataFrame({"a": [r[0] for r in rows], "b": [r[1] for r in rows]}, schema={"a": pl.Utf8, "b": pl.Utf8})
    strl = [(1, "a"), (3, "b")]
    keys, blob = stata._strl_keys(df, strl)
    exact_keys, exact_blob = stata._strl_keys_exact(df, strl)
    assert blob == exact_blob
    for name in ("a", "b"):
        assert keys[name].tolist() == exact_keys[name].tolist()


def test_a_hash_collision_falls_back_to_the_exact_keys(monkeypatch):
    """Every cell given the same hash (as if all texts collided): the file is still pandas' file."""
    from tests.test_export import _pandas_dta

    calls = []
    exact = stata._strl_keys_exact
    monkeypatch.setattr(stata, "_cell_hashes", lambda texts: [np.zeros(len(t), dtype=np.uint64) for t in texts])
    monkeypatch.setattr(stata, "_strl_keys_exact", lambda *a: calls.append(1) or exact(*a))
    columns = [{"name": "a", "type": "string", "title": "Long text"},
               {"name": "b", "type": "string", "title": "Long text too"}]
    values = {"a": ["x" * 3000, None, "y" * 2100, "x" * 3000], "b": ["short", "x" * 3000, "", "z" * 2500]}
    assert stata.stata_bytes("DCA test", columns, values) == _pandas_dta(columns, values, ["a", "b"])
    assert calls == [1]


def test_the_hash_path_needs_no_fallback_on_distinct_texts(monkeypatch):
    monkeypatch.setattr(stata, "_strl_keys_exact", lambda *a: pytest.fail("the exact path was taken"))
    df = pl.DataFrame({"a": [f"{i:04d}" + "x" * 2100 for i in range(500)] * 2})
    keys, _ = stata._strl_keys(df, [(1, "a")])
    assert keys["a"][:500].tolist() == [1 + (i + 1) * 2 ** 16 for i in range(500)]
    assert keys["a"][500:].tolist() == keys["a"][:500].tolist()


COLUMNS = [Column("n", "integer", "Number", "A number.", required=True), Column("t", "string", "Text", "Some text.")]


@pytest.mark.parametrize("rows", [0, 1, 7, 10])
def test_parquet_in_row_groups_reads_back_as_the_frame(monkeypatch, rows):
    monkeypatch.setattr(export, "PARQUET_ROW_GROUP_ROWS", 3)
    df = pl.DataFrame({"n": list(range(rows)), "t": [None if i % 4 == 0 else f"ä{i}" for i in range(rows)]},
                      schema={"n": pl.Int64, "t": pl.Utf8})
    parts = list(export._parquet_chunks("test", COLUMNS, df))
    data = b"".join(parts)
    f = pq.ParquetFile(io.BytesIO(data))
    assert f.metadata.num_rows == rows and f.metadata.num_row_groups == -(-rows // 3)
    assert f.schema_arrow.metadata[b"name"] == b"test" and not f.schema_arrow.field("n").nullable
    back = pd.read_parquet(io.BytesIO(data))
    assert back["n"].tolist() == df["n"].to_list()
    assert [None if pd.isna(v) else v for v in back["t"]] == df["t"].to_list()
    assert len(parts) == f.metadata.num_row_groups + 1 and export._parquet_bytes("test", COLUMNS, df) == data
