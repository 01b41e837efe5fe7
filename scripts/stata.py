"""Stata .dta files (format 118) for the exports: typed, labelled, reproducible and fast.

pandas writes correct .dta files, but slowly and with several copies of the data:
its frame is copied, every text cell is encoded by a Python call, padded by another,
and the table of long strings (strL) is built row by row. At 100k agreements that
was most of the export time and a good part of the build's peak memory. This module
writes the same format straight from the polars frame with numpy: each column is
turned into its fixed-width bytes in one vectorised step and placed into the record
array, so memory is the file plus one column at a time. The bytes are those pandas'
own writer (``StataWriterUTF8``, version 118) gives for the same frame; a test
compares the two on edge cases (strL shared across columns, missing values, dates,
non-ASCII text, empty frames).

Coded columns (a vocabulary of `categories`, or 0/1 flags) are written as
integers with value labels: a string code becomes its position in the vocabulary
(1, 2, ...), labelled with the category's label.

pandas' rules, kept here so that the files do not change:
- integers are int32 (`long`, format %12.0g), missing = 2147483621; a column whose
  values (missing counted as 0) leave int32's range is double (%10.0g), missing = pandas'
  double sentinel;
- dates are doubles of days since 1960-01-01 (format %td), missing = 2**1023;
- text is str# with # = the longest value's UTF-8 length (at least 1), missing = "";
  a column longer than 2045 bytes is strL: each distinct non-empty text stored once
  (in the order rows, then columns, first use it), cells hold its (v, o) key.
"""
from __future__ import annotations

import datetime as dt
import struct
from typing import Any, Iterator

import numpy as np
import polars as pl

STATA_TIME_STAMP = dt.datetime(2000, 1, 1, 0, 0)  # fixed, so that .dta files are reproducible
STATA_STR_MAX = 2045  # longest str# in format 118 (bytes); longer columns are written as strL
NAME_MAX, LABEL_MAX = 32, 80

_LONG, _DOUBLE, _STRL = 65528, 65526, 32768
_LONG_MISSING = 2147483621
_DOUBLE_MISSING = struct.unpack("<d", b"\x00\x00\x00\x00\x00\x00\xe0\x7f")[0]  # a missing date (Stata's .)
_WIDE_MISSING = struct.unpack("<d", b"\x00\x00\x00\x00\x00\x1b\xe0\x7f")[0]  # a missing integer stored as double
_LONG_MAX, _LONG_MIN = 2147483620, -2147483647
_STATA_EPOCH_SHIFT = 3653  # days from 1960-01-01 (Stata's day 0) to 1970-01-01 (polars' day 0)
_O_SHIFT = 2 ** 16  # format 118, little-endian: key = v + o * 2**16 (v: 2 bytes, o: 6 bytes)
_RECORD_BLOCK_BYTES = 1 << 24  # bytes of records per part of a written file (stata_frame_chunks)
_CHUNK_BYTES = 1 << 22  # bytes of text per vectorised copy of a text column (bounds the index arrays)
_MAP_TAGS = ("stata_data", "map", "variable_types", "varnames", "sortlist", "formats", "value_label_names",
             "variable_labels", "characteristics", "data", "strls", "value_labels", "stata_data_close", "end-of-file")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class StataError(Exception):
    """A column cannot be written to Stata as defined; the message says which and why."""


def _tag(val: bytes, tag: str) -> bytes:
    return b"<" + tag.encode() + b">" + val + b"</" + tag.encode() + b">"


def _pad(text: str | bytes, length: int) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return raw + b"\x00" * (length - len(raw))


def _utf8(s: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """A text column's UTF-8 bytes and its n+1 offsets (missing = empty), without a Python object per cell."""
    import pyarrow as pa

    arr = s.fill_null("").to_arrow().cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return data, offsets


def _place_text(rec: np.ndarray, start: int, width: int, s: pl.Series) -> None:
    """Copy each cell's bytes into rec[row, start:start+width] (the rest stays NUL: Stata's padding).

    A boolean mask of the cells' byte positions (row i: its first len(i) bytes) takes the column's bytes in
    row order, which is the order of the UTF-8 buffer: one masked copy, no index array per byte. In chunks of
    rows whose mask is about _CHUNK_BYTES."""
    data, offsets = _utf8(s)
    n = len(offsets) - 1
    step = max(1, _CHUNK_BYTES // width)
    positions = np.arange(width)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        first, last = offsets[lo], offsets[hi]
        if last > first:
            mask = positions < np.diff(offsets[lo: hi + 1])[:, None]
            rec[lo:hi, start:start + width][mask] = data[first:last]


def _strl_keys(df: pl.DataFrame, strl: list[tuple[int, str]]) -> tuple[dict[str, np.ndarray], bytes]:
    """The (v, o) key of every cell of the strL columns, and the GSO blob of their distinct texts.

    v is the column's position (1-based) and o the row (1-based) where a text first occurs, scanning rows,
    then columns, as Stata (and pandas) number them; an empty or missing text is key 0 and is not stored.

    The texts are told apart by a 64-bit hash of each cell (polars hashes its strings in place), so no cell's
    text is copied, sorted or joined: at 100k agreements the directed dyad-years' two id-list columns (128 MB
    of text) cost ≈ 300 MB at the peak when they were converted to Arrow and dictionary-encoded, and ≈ 15 MB
    this way. Every cell is then compared with the text its hash stands for; if two texts ever shared a hash
    the exact path (_strl_keys_exact) gives the answer instead, so a collision can cost time but never a
    wrong file."""
    if df.height == 0:
        return {name: np.zeros(0, dtype=np.uint64) for _, name in strl}, b""
    k = len(strl)
    texts = [df.get_column(name).fill_null("") for _, name in strl]
    hashes = _cell_hashes(texts)
    uniq, first = [], []
    for j, h in enumerate(hashes):  # each hash's first row in each column, as a cell position row * k + column
        u, rows = np.unique(h, return_index=True)
        uniq.append(u)
        first.append(rows.astype(np.int64) * k + j)
    u_all, p_all = np.concatenate(uniq), np.concatenate(first)
    order = np.lexsort((p_all, u_all))
    u_all, p_all = u_all[order], p_all[order]
    lead = np.ones(len(u_all), dtype=bool)
    lead[1:] = u_all[1:] != u_all[:-1]
    distinct, first_cell = u_all[lead], p_all[lead]  # sorted hashes, each with its first cell
    rows, cols = first_cell // k, first_cell % k
    text_of = pl.Series("val", [None] * len(distinct), dtype=pl.Utf8)  # the text each distinct hash stands for
    for j, t in enumerate(texts):
        at = np.flatnonzero(cols == j)
        if len(at):
            text_of = text_of.scatter(at, t.gather(rows[at]))
    index = [np.searchsorted(distinct, h) for h in hashes]
    if not all((t == text_of.gather(ix)).all() for t, ix in zip(texts, index)):
        return _strl_keys_exact(df, strl)
    return _keys_and_table(strl, first_cell, index, text_of.str.len_bytes().to_numpy() > 0,
                           lambda use: text_of.gather(use).to_arrow())


_STRL_HASH_SEED = 0x5354524C  # fixed, so that a run is reproducible; the file does not depend on it


def _cell_hashes(texts: list[pl.Series]) -> list[np.ndarray]:
    return [t.hash(seed=_STRL_HASH_SEED).to_numpy() for t in texts]


def _strl_keys_exact(df: pl.DataFrame, strl: list[tuple[int, str]]) -> tuple[dict[str, np.ndarray], bytes]:
    """_strl_keys without hashes: the columns dictionary-encoded together by Arrow (one dictionary, so each
    distinct text is held once and compared exactly), for the case where two texts share a hash."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if df.height == 0:
        return {name: np.zeros(0, dtype=np.uint64) for _, name in strl}, b""
    k = len(strl)
    columns = []
    for _, name in strl:
        arr = df.get_column(name).fill_null("").to_arrow()
        columns.append(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    encoded = pc.dictionary_encode(pa.chunked_array(columns, type=columns[0].type))
    texts = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.large_string())
    first = np.full(len(texts), np.iinfo(np.int64).max, dtype=np.int64)  # each text's first cell, row * k + column
    cells = []
    for j in range(k):
        idx = encoded.chunk(j).indices.to_numpy(zero_copy_only=False).astype(np.int64)
        cells.append(idx)
        seen, rows = np.unique(idx, return_index=True)  # each text's first row in this column
        first[seen] = np.minimum(first[seen], rows * k + j)
    return _keys_and_table(strl, first, cells, pc.binary_length(texts).to_numpy(zero_copy_only=False) > 0,
                           lambda use: texts.take(pa.array(use)))


def _keys_and_table(strl: list[tuple[int, str]], first_cell: np.ndarray, cells: list[np.ndarray], stored: np.ndarray,
                    take) -> tuple[dict[str, np.ndarray], bytes]:
    """The cells' keys and the GSO table, from each distinct text's first cell (row * k + column), each column's
    cells as indexes of the distinct texts, which texts are stored (not empty), and `take`, which gives the
    distinct texts at the given indexes as an Arrow array."""
    k = len(strl)
    positions = np.array([pos for pos, _ in strl], dtype=np.int64)
    key_v, key_o = positions[first_cell % k], first_cell // k + 1
    key = (key_v + key_o * _O_SHIFT).astype(np.uint64)
    key[~stored] = 0
    use = np.argsort(first_cell, kind="stable")
    use = use[stored[use]]  # the stored texts in order of first use
    keys = {name: key[ix] for ix, (_, name) in zip(cells, strl)}
    return keys, _gso_blob(take(use), key_v[use], key_o[use])


# One GSO record's head: "GSO", v (uint32), o (uint64), type 130 (text), length with its NUL (uint32).
_GSO_HEAD = np.dtype([("gso", "S3"), ("v", "<u4"), ("o", "<u8"), ("t", "u1"), ("len", "<u4")])  # packed: 20 bytes


def _gso_blob(texts, key_v: np.ndarray, key_o: np.ndarray) -> bytes:
    """The strL table: each distinct text with its (v, o) key as one GSO record, in order, built by arrow
    (each record's head, its bytes and a NUL joined element-wise) instead of a Python call per text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    m = len(texts)
    if m == 0:
        return b""
    text = texts.cast(pa.large_binary())
    head = np.zeros(m, dtype=_GSO_HEAD)
    head["gso"] = b"GSO"
    head["v"] = key_v
    head["o"] = key_o
    head["t"] = 130
    head["len"] = pc.binary_length(text).to_numpy(zero_copy_only=False) + 1
    heads = pa.FixedSizeBinaryArray.from_buffers(pa.binary(_GSO_HEAD.itemsize), m, [None, pa.py_buffer(head.tobytes())])
    records = pc.binary_join_element_wise(heads.cast(pa.large_binary()), text, pa.scalar(b"\x00", pa.large_binary()),
                                          pa.scalar(b"", pa.large_binary()))
    _, off_buf, data_buf = records.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[records.offset: records.offset + m + 1]
    return bytes(memoryview(data_buf)[offsets[0]:offsets[-1]])


def _value_label(name: str, labels: dict[int, str]) -> bytes:
    items = sorted(labels.items())
    texts = [str(label).encode("utf-8") for _, label in items]
    offsets, pos = [], 0
    for t in texts:
        offsets.append(pos)
        pos += len(t) + 1
    n = len(items)
    body = (struct.pack("<i", 8 + 8 * n + pos) + _pad(name[:32], 129) + b"\x00\x00\x00"
            + struct.pack("<ii", n, pos) + struct.pack(f"<{n}i", *offsets) + struct.pack(f"<{n}i", *[v for v, _ in items])
            + b"".join(t + b"\x00" for t in texts))
    return _tag(body, "lbl")


def stata_frame_bytes(data_label: str, columns: list[dict[str, Any]], df: pl.DataFrame) -> bytes:
    """A .dta file of `df`, as one bytes object (see stata_frame_chunks)."""
    return b"".join(stata_frame_chunks(data_label, columns, df))


def stata_frame_chunks(data_label: str, columns: list[dict[str, Any]], df: pl.DataFrame) -> Iterator[bytes]:
    """A .dta file of `df`, in parts: everything before the records, the records a block of rows at a time
    (about _RECORD_BLOCK_BYTES each), then everything after them, so that a writer holds one block, not the
    file (the directed dyad-years' file is 85 MB at 100k agreements). `columns`: name, type (string, integer,
    date), title and vocabulary ((code, label) pairs, empty when the column is not coded), in the file's order.
    The checks (names, vocabularies) run before the first part is given."""
    n = df.height
    kinds: list[tuple[str, int, str]] = []  # (name, Stata type, format)
    values: dict[str, Any] = {}
    labels: dict[str, dict[int, str]] = {}
    strl: list[tuple[int, str]] = []
    for pos, c in enumerate(columns, start=1):
        name = c["name"]
        if len(name) > NAME_MAX or len(c["title"]) > LABEL_MAX:
            raise StataError(f"{data_label}.{name}: Stata needs names of <= {NAME_MAX} and labels of <= {LABEL_MAX} characters")
        s = df[name]
        vocab = c.get("vocabulary") or []
        if c["type"] == "string" and vocab:
            number = {code: i for i, (code, _) in enumerate(vocab, start=1)}
            unknown = set(s.drop_nulls().unique().to_list()) - set(number)
            if unknown:
                raise StataError(f"{data_label}.{name}: values outside the vocabulary: {sorted(unknown)[:5]}")
            s = s.replace_strict(number, default=None, return_dtype=pl.Int64)
            labels[name] = {i: label for i, (_, label) in enumerate(vocab, start=1)}
        elif c["type"] == "integer" and vocab:
            labels[name] = {int(code): label for code, label in vocab}
        if c["type"] == "date":
            days = (s.str.to_date("%Y-%m-%d") if s.dtype == pl.Utf8 else s.cast(pl.Date)).cast(pl.Int64) + _STATA_EPOCH_SHIFT
            values[name] = days.cast(pl.Float64).fill_null(_DOUBLE_MISSING).to_numpy()
            kinds.append((name, _DOUBLE, "%td"))
        elif c["type"] == "integer" or (c["type"] == "string" and vocab):
            s = s.cast(pl.Int64)
            filled = s.fill_null(0)
            if n == 0 or (filled.max() <= _LONG_MAX and filled.min() >= _LONG_MIN):
                values[name] = s.fill_null(_LONG_MISSING).cast(pl.Int32).to_numpy()
                kinds.append((name, _LONG, "%12.0g"))
            else:
                values[name] = s.cast(pl.Float64).fill_null(_WIDE_MISSING).to_numpy()
                kinds.append((name, _DOUBLE, "%10.0g"))
        else:
            s = s.cast(pl.Utf8)
            width = max(int(s.str.len_bytes().max() or 0), 1)
            values[name] = s
            if width > STATA_STR_MAX:
                strl.append((pos, name))
                kinds.append((name, _STRL, "%9s"))
            else:
                kinds.append((name, width, f"%{width}s"))
    blob = b""
    if strl:
        keys, blob = _strl_keys(df.select([name for _, name in strl]).cast(pl.Utf8), strl)
        values.update(keys)
    sizes = {_LONG: 4, _DOUBLE: 8, _STRL: 8}
    widths = [sizes.get(t, t) for _, t, _ in kinds]
    head, tail = _blocks(data_label, columns, kinds, labels, blob, n, sum(widths))
    return _chunks(head, tail, n, kinds, widths, values)


def _chunks(head: bytes, tail: bytes, n: int, kinds: list[tuple[str, int, str]], widths: list[int],
            values: dict[str, Any]) -> Iterator[bytes]:
    sizes = {_LONG: "<i4", _DOUBLE: "<f8", _STRL: "<u8"}
    row = sum(widths)
    yield head
    step = max(1, _RECORD_BLOCK_BYTES // max(row, 1))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        block = bytearray((hi - lo) * row)  # the records of rows lo..hi, written in place, column by column
        rec = np.frombuffer(block, dtype=np.uint8).reshape(hi - lo, row)
        start = 0
        for (name, typ, _), width in zip(kinds, widths):
            v = values[name]
            if typ in sizes:
                rec[:, start:start + width] = np.ascontiguousarray(v[lo:hi], dtype=sizes[typ]).view(np.uint8).reshape(hi - lo, width)
            else:
                _place_text(rec, start, width, v.slice(lo, hi - lo))
            start += width
        del rec
        yield block
    yield tail


def _blocks(data_label: str, columns: list[dict[str, Any]], kinds: list[tuple[str, int, str]],
            labels: dict[str, dict[int, str]], blob: bytes, n: int, row_width: int) -> tuple[bytes, bytes]:
    """Everything before the records (up to and including <data>) and everything after them."""
    nvar = len(kinds)
    label = data_label[:LABEL_MAX].encode("utf-8")
    ts = STATA_TIME_STAMP
    stamp = f"{ts:%d} {_MONTHS[ts.month - 1]} {ts:%Y %H:%M}".encode()
    header = b"<stata_dta>" + _tag(
        _tag(b"118", "release") + _tag(b"LSF", "byteorder") + _tag(struct.pack("<H", nvar), "K")
        + _tag(struct.pack("<Q", n), "N") + _tag(struct.pack("<H", len(label)) + label, "label")
        + _tag(b"\x11" + stamp, "timestamp"), "header")
    titles = {c["name"]: c["title"] for c in columns}
    blocks = [
        ("variable_types", _tag(struct.pack(f"<{nvar}H", *[t for _, t, _ in kinds]), "variable_types")),
        ("varnames", _tag(b"".join(_pad(name[:32], 129) for name, _, _ in kinds), "varnames")),
        ("sortlist", _tag(b"\x00" * 2 * (nvar + 1), "sortlist")),
        ("formats", _tag(b"".join(_pad(fmt, 57) for _, _, fmt in kinds), "formats")),
        ("value_label_names", _tag(b"".join(_pad(name[:32] if name in labels else "", 129) for name, _, _ in kinds),
                                   "value_label_names")),
        ("variable_labels", _tag(b"".join(_pad(titles[name], 321) for name, _, _ in kinds), "variable_labels")),
        ("characteristics", _tag(b"", "characteristics")),
    ]
    positions = {"stata_data": 0, "map": len(header)}
    pos = len(header) + len(_tag(b"\x00" * 8 * len(_MAP_TAGS), "map"))
    for tag, data in blocks:
        positions[tag] = pos
        pos += len(data)
    positions["data"] = pos
    pos += len(b"<data>") + n * row_width + len(b"</data>")
    strls = _tag(blob, "strls")
    positions["strls"] = pos
    pos += len(strls)
    value_labels = _tag(b"".join(_value_label(name, labels[name]) for name, _, _ in kinds if name in labels), "value_labels")
    positions["value_labels"] = pos
    pos += len(value_labels)
    positions["stata_data_close"] = pos
    positions["end-of-file"] = pos + len(b"</stata_dta>")
    the_map = _tag(struct.pack(f"<{len(_MAP_TAGS)}Q", *[positions[t] for t in _MAP_TAGS]), "map")
    head = b"".join([header, the_map, *[d for _, d in blocks], b"<data>"])
    return head, b"".join([b"</data>", strls, value_labels, b"</stata_dta>"])


def stata_bytes(data_label: str, columns: list[dict[str, Any]], values: dict[str, list]) -> bytearray:
    """A .dta file from columns of Python values (None for missing); see stata_frame_bytes."""
    types = {"string": pl.Utf8, "integer": pl.Int64}
    df = pl.DataFrame({c["name"]: pl.Series(c["name"], values[c["name"]], dtype=types.get(c["type"]),
                                            strict=False) for c in columns})
    return stata_frame_bytes(data_label, columns, df)
