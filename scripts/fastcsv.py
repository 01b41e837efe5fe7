"""The fast reading of a regular CSV file: pyarrow's parser into a polars frame of text cells.

`readcsv.read_table` reads row by row in Python so that it can say what is wrong on each
row: short and long rows, blank rows, bytes that are not UTF-8, a quote never closed. Nearly
every file has none of these, and for those the row-by-row reader costs seconds and a Python
string per cell (≈ 1.4 GB at 100k agreements). So a file is first tried here; whenever it is
not plainly regular (any CR, NUL, a quote in the header, a row of another width, a blank row,
bad UTF-8, an odd number of quotes from a multi-line row on), this returns None and the
row-by-row reader runs instead, so every finding and message stays what it was. For a file
read here, rows and lines are numbered exactly as `csv.reader` numbers them.
"""
from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from schema.tableschema import Resource


def read_regular(data: bytes, resource: Resource) -> tuple[list[str], pl.DataFrame, list[int]] | None:
    """(header, frame of the schema's fields in schema order, line of each row), or None when the
    file needs the row-by-row reader. data has no byte-order mark."""
    if b"\r" in data or b"\x00" in data:
        return None
    end = data.find(b"\n")
    first = data if end < 0 else data[:end]
    if not first or b'"' in first:
        return None
    try:
        header = first.decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    width = len(header)
    raw = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            # malloc's pool, not mimalloc's: the frames keep these buffers (polars reads them in place),
            # and once `dca build` drops them, malloc gives the pages back where mimalloc kept ≈ 180 MB
            memory_pool=pa.system_memory_pool(),
            read_options=pacsv.ReadOptions(column_names=raw, skip_rows=1, use_threads=False,
                                             # one block: one chunk per column, as the row-by-row reader's frames
                                             block_size=max(len(data), 1 << 20)),
            parse_options=pacsv.ParseOptions(quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in raw}, null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                 check_utf8=True),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    cells = pl.from_arrow(table)
    del table
    assert isinstance(cells, pl.DataFrame)
    n = cells.height
    if n and cells.select(pl.any_horizontal(pl.all_horizontal(pl.col(c) == "" for c in raw)).any()).item():
        return None  # a blank row: reported by the row-by-row reader
    lines = _line_numbers(data, cells, raw)
    if lines is None:
        return None
    from .readcsv import _positions  # the same mapping of fields to columns as the row-by-row reader

    position = _positions(header, resource.field_names)
    missing = list(resource.missing_values)
    exprs = []
    for name in resource.field_names:
        i = position.get(name, -1)
        if 0 <= i < width:
            col = pl.col(raw[i])
            if missing:
                col = pl.when(col.is_in(missing)).then(None).otherwise(col)
            exprs.append(col.alias(name))
        else:
            exprs.append(pl.lit(None, pl.Utf8).alias(name))
    return header, cells.select(exprs), lines


def _line_numbers(data: bytes, cells: pl.DataFrame, raw: list[str]) -> list[int] | None:
    """The line each row starts on (the header is line 1), as csv.reader counts them; None when a
    row that spans lines opens a quote never closed (the row-by-row reader reports that)."""
    n = cells.height
    newlines = data.count(b"\n")
    plain = n + 1 if data.endswith(b"\n") else n
    if newlines == plain:
        return list(range(2, n + 2))
    if n == 0:
        return None
    extra = cells.select(pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True) for c in raw)
                         .cast(pl.Int64).alias("x")).get_column("x").to_numpy()
    if int(extra.sum()) + plain != newlines:
        return None
    # row k starts after the header, the k rows before it and the newlines inside their cells
    starts = 2 + np.arange(n) + np.concatenate(([0], np.cumsum(extra)[:-1])).astype(np.int64)
    # csv.reader's check for an unclosed quote: from the row's first line to the end of the file,
    # an odd number of quote characters.
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == 34)
    multi = starts[extra > 0]
    offsets = nl[multi - 2] + 1  # line L starts after the (L-1)-th newline
    after = len(quotes) - np.searchsorted(quotes, offsets)
    if (after % 2 == 1).any():
        return None
    return starts.tolist()
