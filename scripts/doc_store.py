"""How the build stores the API's pre-serialised documents, and how a reader gets their bytes back.

agreement_docs.list_json, agreement_docs.detail_json and agreement_csv.csv_record hold, per
agreement, the exact bytes the API serves (its list item, its full record, its CSV record).
Stored as text they were most of the database (at 100k agreements 483 of 921 MB, a quarter
of it page overflow: a 2.7 KB detail does not fit a 4 KB page's share). Each value is now one
zstd frame, compressed on its own so that a request still reads and decodes only its rows,
against a dictionary per column trained at build time on that column's documents (the same
keys, country names and phrases recur in every row, which a dictionary holds once). Decoding
is a few microseconds per row (bench/README.md, "Database size"); what the API sends is
byte-for-byte what was compressed, so its ETags, gzip and responses do not change.

The dictionaries are stored in the build itself (table ``doc_dicts``: column name ->
dictionary), so a build is self-contained and PostgreSQL gets them with the other tables
(as bytea, like the documents). ``Encoder`` is the build's side, ``Decoder`` the API's.

dyad_years.agreement_ids and in_force_ids (the exports' ';'-separated agreement ids, 73 MB
of text at 100k agreements, in 470k short rows that zstd compresses less than 2x) are stored
as the ids' ranks in agreement_id order, four bytes each (``pack_ids``); the API holds the
sorted ids (one list per build) and joins them back (``Decoder.dyad_year_row``).
"""
from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterable, Sequence

import zstandard

from .export_columns import ALL_EXPORTS, LIST_SEPARATOR

COLUMNS = ("list_json", "detail_json", "csv_record")
LEVEL = 3  # 6: 13 % smaller and 2.8x the compression time; 9: smaller still, twice that (bench/README.md)
DICT_SIZE = 112_640  # zstd's own default dictionary size (110 KB)
TRAIN_SAMPLES = 10_000
DICT_DDL = "CREATE TABLE doc_dicts (name VARCHAR NOT NULL PRIMARY KEY, dictionary BLOB NOT NULL)"


def _frames_options() -> dict:
    # No checksum and no dictionary id in each frame (8 bytes a row): the column names its dictionary.
    return {"level": LEVEL, "write_checksum": False, "write_dict_id": False, "write_content_size": True}


class Encoder:
    """The build's side: trains one dictionary per column on the first batch of documents it is given
    (the batches of scripts/build.py, 10,000 agreements each), then compresses every value."""

    def __init__(self) -> None:
        self.dicts: dict[str, bytes] = {}
        self._compress: list = []

    def _train(self, columns: list[list[bytes]]) -> None:
        for name, values in zip(COLUMNS, columns):
            step = max(1, len(values) // TRAIN_SAMPLES)
            sample = values[::step]
            # Fixed cover parameters: the same documents give the same dictionary, in well under a second.
            try:
                d = zstandard.train_dictionary(DICT_SIZE, sample, k=1024, d=8, level=LEVEL)
            except zstandard.ZstdError:  # too few documents to train on (a small package): frames without one
                d = None
            self.dicts[name] = d.as_bytes() if d is not None else b""
            opts = _frames_options()
            c = zstandard.ZstdCompressor(dict_data=d, **opts) if d is not None else zstandard.ZstdCompressor(**opts)
            self._compress.append(c)

    def encode(self, rows: Sequence[tuple[str, str, str, str]]) -> list[tuple[str, bytes, bytes, bytes]]:
        """(agreement_id, list_json, detail_json, csv_record) rows with the three documents compressed."""
        columns = [[r[i].encode() for r in rows] for i in (1, 2, 3)]
        if not self._compress:
            self._train(columns)
        packed = [_compress_all(c, values) for c, values in zip(self._compress, columns)]
        return [(r[0], *vals) for r, *vals in zip(rows, *packed)]

    def store(self, con) -> None:
        """The dictionaries into ``doc_dicts`` (an empty one for a column that had too few rows to train on)."""
        con.execute(DICT_DDL)
        con.executemany("INSERT INTO doc_dicts (name, dictionary) VALUES (?, ?)",
                        [(name, self.dicts.get(name, b"")) for name in COLUMNS])


_THREADS = min(os.cpu_count() or 1, 4)


def _compress_all(c: "zstandard.ZstdCompressor", values: list[bytes]) -> list[bytes]:
    """Each value as its own frame, the same bytes as ``c.compress(value)``: compressed by zstd's own threads
    (multi_compress_to_buffer, in C, without the GIL), so the build's other core is not idle while the main
    thread compresses ~300k documents (0.42 -> 0.24 s a 30,000-document batch on two cores). That call drops
    empty inputs at a batch's end (zstandard 0.25), which would put documents on the wrong rows: a batch
    holding an empty value is compressed one value at a time."""
    if _THREADS < 2 or not values or not all(values):
        return [c.compress(v) for v in values]
    return [bytes(s) for s in c.multi_compress_to_buffer(values, threads=_THREADS)]


class Decoder:
    """The API's side, for one build: the stored bytes of each column back as the bytes to serve.

    One decompression context per thread and column (zstandard's contexts are not to be shared
    between threads; requests decode on the event loop and in worker threads)."""

    def __init__(self, dicts: dict[str, bytes], agreement_ids: Sequence[str] = ()) -> None:
        missing = [c for c in COLUMNS if c not in dicts]
        if missing:
            raise ValueError(f"doc_dicts lacks {', '.join(missing)}")
        self._dicts = {name: zstandard.ZstdCompressionDict(bytes(d)) if d else None for name, d in dicts.items()}
        self._local = threading.local()
        self._ids = list(agreement_ids)  # sorted: an id's rank is its index (pack_ids)

    def _fn(self, name: str):
        fns = getattr(self._local, "fns", None)
        if fns is None:
            fns = self._local.fns = {}
        fn = fns.get(name)
        if fn is None:
            d = self._dicts[name]
            fn = fns[name] = (zstandard.ZstdDecompressor(dict_data=d) if d is not None else zstandard.ZstdDecompressor()).decompress
        return fn

    def detail(self, raw: bytes) -> bytes:
        """One agreement's detail_json (GET /v1/agreements/{id})."""
        return self._fn("detail_json")(raw)

    def list_item(self, raw: bytes) -> bytes:
        """One agreement's list_json."""
        return self._fn("list_json")(raw)

    def list_items(self, rows: Sequence[tuple]) -> bytes:
        """The list_json of rows (first column), joined with commas: the items of a JSON page."""
        fn = self._fn("list_json")
        return b",".join([fn(r[0]) for r in rows])

    def csv_records(self, rows: Sequence[tuple]) -> bytes:
        """The csv_record of rows (first column), concatenated (each ends with CRLF)."""
        fn = self._fn("csv_record")
        return b"".join([fn(r[0]) for r in rows])


    def ids(self, packed: bytes | None) -> str | None:
        """A packed id list (``pack_ids``) as the exports' text: the ids, sorted, ';'-separated."""
        if packed is None:
            return None
        ids = self._ids
        return LIST_SEPARATOR.join([ids[i] for i in struct.unpack(f"<{len(packed) >> 2}I", packed)])

    def dyad_year_row(self, row: tuple) -> tuple:
        """A dyad_years row as stored (DYAD_YEAR_COLUMNS, then any sort keys) with its two id lists as text."""
        ids = self.ids
        return (*row[:_AGREEMENT_IDS], ids(row[_AGREEMENT_IDS]), ids(row[_IN_FORCE_IDS]), *row[_IN_FORCE_IDS + 1:])


_DYAD_YEAR_COLUMNS = [c.name for c in ALL_EXPORTS["dyad_years"]]
_AGREEMENT_IDS, _IN_FORCE_IDS = _DYAD_YEAR_COLUMNS.index("agreement_ids"), _DYAD_YEAR_COLUMNS.index("in_force_ids")
assert _IN_FORCE_IDS == _AGREEMENT_IDS + 1  # dyad_year_row replaces them as one slice
ID_COLUMNS = ("agreement_ids", "in_force_ids")
AGREEMENT_ORDER = "SELECT agreement_id FROM agreements ORDER BY agreement_id"  # the ranks pack_ids uses


def pack_ids(lists: Iterable[str | None], ordered_ids: Iterable[str]) -> "pl.Series":
    """Each ';'-separated id list as the ids' ranks (an id's rank: its position in ``ordered_ids``, the rows
    of AGREEMENT_ORDER), 4 bytes little-endian each, in the list's order, as a Binary series; None stays
    None (an empty list is b"").

    Columnar (split, explode, one join, one byte buffer cut at the lists' offsets), not a loop over
    the lists: at 100k agreements the dyad-year tables hold ~470k lists, and the Python loop was
    ~1.8 s of the build, holding the GIL while the exports writer needed it."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    texts = lists if isinstance(lists, pl.Series) else pl.Series("ids", list(lists), dtype=pl.Utf8)
    n = texts.len()
    ids = ordered_ids if isinstance(ordered_ids, pl.Series) else pl.Series("id", list(ordered_ids), dtype=pl.Utf8)
    ranks = pl.DataFrame({"id": ids}).with_row_index("rank").select("id", pl.col("rank").cast(pl.UInt32))
    items = (pl.DataFrame({"text": texts}).with_row_index("row")
             .filter(pl.col("text").is_not_null() & (pl.col("text") != ""))
             .with_columns(pl.col("text").str.split(LIST_SEPARATOR)).explode("text")
             .join(ranks, left_on="text", right_on="id", how="left", maintain_order="left"))
    unknown = items.filter(pl.col("rank").is_null())
    if unknown.height:
        raise KeyError(unknown["text"][0])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(items["row"].to_numpy(), minlength=n) * 4, out=offsets[1:])
    data = items["rank"].to_numpy().astype("<u4")
    valid = pa.array(texts.is_not_null().to_numpy()).buffers()[1] if texts.null_count() else None
    packed = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [valid, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pl.Series(texts.name, packed, dtype=pl.Binary)


def load_decoder(rows: Sequence[tuple], agreement_ids: Iterable[tuple] = ()) -> Decoder:
    """A Decoder from the (name, dictionary) rows of ``doc_dicts`` and the rows of AGREEMENT_ORDER."""
    return Decoder({name: d for name, d in rows}, [r[0] for r in agreement_ids])
