"""Stata .dta files (format 118) for the exports: typed, labelled, reproducible and fast.

pandas writes correct .dta files, but slowly: it builds the table of long strings
(strL) with DataFrame.iterrows, one Python row object per record (40 of the 44 s
that dyad_years.dta took at 100k agreements), and pads every fixed-width string
with a Python call per cell. `_Writer` does the same work column by column, with
numpy for the padding, and gives the same bytes (a test compares them with pandas'
own writer), so only the time changes.

Coded columns (a vocabulary of `categories`, or 0/1 flags) are written as
integers with value labels: a string code becomes its position in the vocabulary
(1, 2, ...), labelled with the category's label.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np

STATA_TIME_STAMP = dt.datetime(2000, 1, 1, 0, 0)  # fixed, so that .dta files are reproducible
STATA_STR_MAX = 2045  # longest str# in format 118 (bytes); longer columns are written as strL
NAME_MAX, LABEL_MAX = 32, 80


class StataError(Exception):
    """A column cannot be written to Stata as defined; the message says which and why."""


def _writer_class():
    from pandas.io.stata import StataStrLWriter, StataWriterUTF8, _datetime_to_stata_elapsed_vec

    class _Writer(StataWriterUTF8):
        def _convert_strls(self, data):  # same result as pandas', without iterrows
            columns = list(data.columns)
            convert = [c for i, c in enumerate(columns) if self.typlist[i] == 32768 or c in self._convert_strl]
            if not convert:
                return data
            ssw = StataStrLWriter(data, convert, version=self._dta_version, byteorder=self._byteorder)
            convert_key = ssw._convert_key
            table: dict[str, tuple[int, int]] = {"": (0, 0)}
            positions = [columns.index(c) + 1 for c in convert]
            values = [data[c].tolist() for c in convert]
            keys = np.zeros((len(data), len(convert)), dtype=np.uint64)
            for o, row in enumerate(zip(*values), start=1):
                for j, val in enumerate(row):
                    if not isinstance(val, str):
                        val = ""  # None or NaN: missing
                    key = table.get(val)
                    if key is None:
                        key = table[val] = (positions[j], o)
                    if key != (0, 0):
                        keys[o - 1, j] = convert_key(key)
            for j, c in enumerate(convert):
                data[c] = keys[:, j]
            self._strl_blob = ssw.generate_blob(table)
            return data

        def _prepare_data(self):  # pandas' steps, with the fixed-width text built by numpy, not per cell
            import sys

            from pandas.io.stata import _set_endianness

            data = self.data
            for i, col in enumerate(data):
                if self._convert_dates is not None and i in self._convert_dates:
                    data[col] = _datetime_to_stata_elapsed_vec(data[col], self.fmtlist[i])
            data = self._convert_strls(data)
            native = self._byteorder == _set_endianness(sys.byteorder)
            arrays, dtypes = [], []
            for i, col in enumerate(data):
                typ = self.typlist[i]
                if typ <= self._max_string_length:
                    # _encode_strings made bytes; a NUL-padded S{typ} array is what _pad_bytes + astype gave
                    vals = [v if isinstance(v, bytes) else ("" if v is None or v != v else v).encode(self._encoding)
                            for v in data[col].tolist()]
                    arr = np.array(vals, dtype=f"S{typ}") if vals else np.empty(0, dtype=f"S{typ}")
                else:
                    arr = data[col].to_numpy()
                    if not native:
                        arr = arr.astype(arr.dtype.newbyteorder(self._byteorder))
                arrays.append(arr)
                dtypes.append((col, arr.dtype))
            records = np.empty(len(data), dtype=dtypes)
            for (col, _), arr in zip(dtypes, arrays):
                records[col] = arr
            return records

    return _Writer


def stata_bytes(data_label: str, columns: list[dict[str, Any]], values: dict[str, list]) -> bytes:
    """A .dta file. `columns`: name, type (string, integer, date), title, vocabulary ((code, label) pairs,
    empty when the column is not coded) and, optionally, max_bytes (the longest text's UTF-8 length, when
    the caller knows it cheaply), in order; `values`: each column's values, None for missing."""
    import pandas as pd

    data: dict[str, Any] = {}
    strl, labels = [], {}
    for c in columns:
        name, vals = c["name"], values[c["name"]]
        if len(name) > NAME_MAX or len(c["title"]) > LABEL_MAX:
            raise StataError(f"{data_label}.{name}: Stata needs names of <= {NAME_MAX} and labels of <= {LABEL_MAX} characters")
        vocab = c.get("vocabulary") or []
        if vocab and c["type"] == "string":
            number = {code: i for i, (code, _) in enumerate(vocab, start=1)}
            unknown = {v for v in vals if v is not None and v not in number}
            if unknown:
                raise StataError(f"{data_label}.{name}: values outside the vocabulary: {sorted(unknown)[:5]}")
            data[name] = pd.array([None if v is None else number[v] for v in vals], dtype="Int64")
            labels[name] = {i: label for i, (_, label) in enumerate(vocab, start=1)}
        elif c["type"] == "integer":
            data[name] = pd.array(vals, dtype="Int64")
            if vocab:
                labels[name] = {int(code): label for code, label in vocab}
        elif c["type"] == "date":
            iso = [None if v is None else str(v) for v in vals]  # date objects or ISO text
            data[name] = pd.to_datetime(pd.Series(iso, dtype=object), format="%Y-%m-%d")
        else:
            strings = ["" if v is None else v for v in vals]
            data[name] = pd.Series(strings, dtype=object)
            longest = c.get("max_bytes")
            if longest is None:
                longest = max((len(s.encode("utf-8")) for s in strings if len(s) * 4 > STATA_STR_MAX), default=0)
            if longest > STATA_STR_MAX:
                strl.append(name)
    df = pd.DataFrame(data, columns=[c["name"] for c in columns])
    buf = io.BytesIO()
    writer = _writer_class()(
        buf,
        df,
        write_index=False,
        time_stamp=STATA_TIME_STAMP,
        data_label=data_label[:LABEL_MAX],
        variable_labels={c["name"]: c["title"] for c in columns},
        convert_dates={c["name"]: "td" for c in columns if c["type"] == "date"},
        convert_strl=strl,
        value_labels=labels or None,
        version=118,
    )
    writer.write_file()
    return buf.getvalue()
