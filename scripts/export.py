"""`dca export`: the researcher exports, keyed by ISO3 and Correlates of War codes.

Five tables in every build, each as CSV, Parquet and Stata .dta, plus
build/exports/datapackage.json that describes every file (the CSVs with Table
Schemas, the others as files with size and checksum):

- agreements_flat: one row per agreement, no joins needed;
- dyads and directed_dyads: one row per pair of parties per agreement (per direction);
- dyad_years and directed_dyad_years: one row per pair and year with an agreement in effect;

and, with `--full-panel`, dyad_years_full: every pair of COW states in every covered
year, zeros included (Parquet and Stata only; as CSV it would be a large file that
says mostly 0).

The columns and the dyad-year rules are defined once in scripts/export_columns.py,
the rows are made in scripts/export_tables.py, Stata files in scripts/stata.py.
Output is deterministic (sorted rows, fixed column order, fixed Parquet and Stata
metadata) so that release archives are byte-for-byte reproducible.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Iterator

import polars as pl

from schema.tableschema import Package, load_package

from .atomic import TMP_PREFIX, clear_debris, replace_dir
from .export_columns import ALL_EXPORTS, EXPORTS, FULL_PANEL_FORMATS, PRIMARY_KEYS, TITLES, Column, one_row_per
from .export_tables import ExportError, ExportOptions, Text, _last_year, agreement_span, build_frames, read_frame
from .stata import StataError, stata_frame_chunks

__all__ = ["ExportError", "ExportOptions", "agreement_span", "build_frames", "build_tables", "render_exports",
           "write_exports", "export_package", "table_schema"]

FORMATS = {
    "csv": ("text/csv", "CSV (UTF-8, comma-separated, header row, LF line endings; empty cell = missing)"),
    "parquet": ("application/vnd.apache.parquet", "Apache Parquet (typed columns; empty = null)"),
    "dta": ("application/x-stata-dta", "Stata .dta, format 118 (Stata 14 or later; R: haven::read_dta)"),
}
DESCRIPTOR = "datapackage.json"


def build_tables(pkg: Package, options: ExportOptions = ExportOptions()) -> dict[str, list[dict[str, Any]]]:
    """The export tables as lists of rows (dicts keyed by column name), sorted; dates as ISO text."""
    out = {}
    for name, df in build_frames(pkg, options).items():
        dates = [c for c, t in df.schema.items() if t == pl.Date]
        out[name] = df.with_columns(pl.col(c).cast(pl.Utf8) for c in dates).to_dicts()
    return out


# --- writing -----------------------------------------------------------------

CSV_PART_ROWS = 200_000  # rows per part of a written CSV file (_csv_chunks)


def _csv_chunks(df: pl.DataFrame) -> Iterator[bytes]:
    """RFC 4180 with LF line endings: a field is quoted only when it holds a comma, a quote or a line break.
    In parts of CSV_PART_ROWS rows (the header with the first), whose concatenation is the whole file as one
    write gives it, so that the writer holds a part, not the file (159 MB of directed dyad-years at 100k)."""
    for lo in range(0, max(df.height, 1), CSV_PART_ROWS):
        buf = io.BytesIO()  # bytes straight from the writer (no str of the part, decoded and encoded again)
        df.slice(lo, CSV_PART_ROWS).write_csv(buf, include_header=lo == 0, line_terminator="\n",
                                              quote_style="necessary", null_value="")
        yield buf.getvalue()


PARQUET_ROW_GROUP_ROWS = 200_000  # rows per row group of a Parquet file, converted and written one at a time


class _Drain:
    """A write-only sink for pyarrow's Parquet writer that hands out what has been written so far, so that
    the file leaves in parts as its row groups are written instead of as one buffer."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def _parquet_chunks(name: str, columns: list[Column], df: pl.DataFrame, pkg: Package | None = None) -> Iterator[bytes]:
    """The Parquet file (zstd, with statistics), a row group of PARQUET_ROW_GROUP_ROWS rows at a time: each
    group's rows are converted to Arrow and written, and the bytes written so far handed on. Converting the
    whole frame at once held a second copy of it (≈ 240 MB at the peak for the directed dyad-years at 100k
    agreements)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"string": pa.string(), "integer": pa.int64(), "date": pa.date32()}
    fields = [pa.field(c.name, types[c.type], nullable=not c.is_required(pkg), metadata={"title": c.title}) for c in columns]
    schema = pa.schema(fields, metadata={"name": name})
    sink = _Drain()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd", write_statistics=True) as writer:
        for lo in range(0, df.height, PARQUET_ROW_GROUP_ROWS):
            part = df.slice(lo, PARQUET_ROW_GROUP_ROWS).to_arrow().cast(schema)
            writer.write_table(part, row_group_size=PARQUET_ROW_GROUP_ROWS)
            del part
            yield sink.take()
    yield sink.take()


def _parquet_bytes(name: str, columns: list[Column], df: pl.DataFrame, pkg: Package | None = None) -> bytes:
    """The Parquet file as one bytes object (see _parquet_chunks)."""
    return b"".join(_parquet_chunks(name, columns, df, pkg))


def _stata_chunks(name: str, version: str, columns: list[Column], df: pl.DataFrame, pkg: Package | None = None) -> Iterator[bytes]:
    spec = [{"name": c.name, "type": c.type, "title": c.title, "vocabulary": c.vocabulary(pkg)} for c in columns]
    try:
        return stata_frame_chunks(f"DCA {name} v{version}", spec, df)
    except StataError as e:
        raise ExportError(str(e)) from None


def table_schema(name: str, pkg: Package | None) -> dict[str, Any]:
    """The Table Schema of an export: the column definitions, with each coded column's vocabulary as Data
    Package v2 `categories` (and `enum`, which the reference validator checks)."""
    fields = []
    for c in ALL_EXPORTS[name]:
        f: dict[str, Any] = {"name": c.name, "type": c.type, "title": c.title, "description": c.full_description(pkg)}
        cons = c.constraints(pkg)
        if cons:
            f["constraints"] = cons
        vocab = c.vocabulary(pkg)
        if vocab:
            f["categories"] = [{"value": code, "label": label} for code, label in vocab]
        fields.append(f)
    schema: dict[str, Any] = {"fields": fields, "primaryKey": PRIMARY_KEYS[name], "missingValues": [""]}
    if name in ("dyads", "directed_dyads"):
        schema["foreignKeys"] = [{"fields": ["agreement_id"], "reference": {"resource": "agreements_flat", "fields": ["agreement_id"]}}]
    return schema


class _Measured:
    """The parts of one file, counted and hashed as a writer takes them: the file's size and SHA-256 are
    known once it has been written in full, without holding it whole."""

    def __init__(self, parts: Iterable[bytes]):
        self._parts = parts
        self._sha = hashlib.sha256()
        self.size = 0
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        for part in self._parts:
            self._sha.update(part)
            self.size += len(part)
            yield part
        self.done = True

    @property
    def hash(self) -> str:
        if not self.done:  # a bug in a caller of _iter_files, never a user error
            raise RuntimeError("a file's parts were not all taken before the next file was asked for")
        return "sha256:" + self._sha.hexdigest()


Frames = dict[str, pl.DataFrame] | Iterable[tuple[str, pl.DataFrame]]


def iter_exports(pkg: Package, options: ExportOptions = ExportOptions(),
                 frames: Frames | None = None) -> Iterator[tuple[str, bytes]]:
    """Every export file as (file name, bytes), one at a time (so a large package is never held twice in
    memory): each table in its formats, then the descriptor that lists them. `frames`: build_frames(pkg,
    options) when the caller has them already (consumed), or (name, frame) pairs in the exports' order, made
    as they are asked for (dca build: export_tables.iter_frames, so each table is dropped once written)."""
    for path, parts in _iter_files(pkg, options, frames):
        yield path, b"".join(parts)


def _iter_files(pkg: Package, options: ExportOptions = ExportOptions(),
                frames: Frames | None = None, text: Text = None) -> Iterator[tuple[str, Iterable[bytes]]]:
    """iter_exports' files as (file name, parts): the caller takes every part of a file (writing or joining
    them) before it asks for the next file, whose descriptor entry needs the size and hash of the parts.
    `text`: see export_tables.read_frame."""
    frames = build_frames(pkg, options) if frames is None else frames
    if isinstance(frames, dict):
        held = frames
        frames = ((n, held.pop(n)) for n in [n for n in ALL_EXPORTS if n in held])
    last_year = _last_year(read_frame(pkg, "agreements", ["status_as_of"], text))
    resources = []
    for name, df in frames:
        columns = ALL_EXPORTS[name]
        writers = {
            "csv": lambda: _csv_chunks(df),
            "parquet": lambda: _parquet_chunks(name, columns, df, pkg),
            "dta": lambda: _stata_chunks(name, pkg.version, columns, df, pkg),
        }
        formats = list(writers) if name in EXPORTS else list(FULL_PANEL_FORMATS)
        for fmt in formats:
            parts = _Measured(writers[fmt]())
            path = f"{name}.{fmt}"
            yield path, parts
            mediatype, label = FORMATS[fmt]
            same = f" The same rows and columns as {name}.csv, as {label}." if "csv" in formats else f" As {label}."
            res: dict[str, Any] = {
                "name": name if fmt == "csv" else f"{name}_{fmt}",
                "path": path,
                "title": TITLES[name] + ("" if fmt == "csv" else f" ({fmt})"),
                "description": one_row_per(name) + ("" if fmt == "csv" else same),
                "format": fmt,
                "mediatype": mediatype,
                "bytes": parts.size,
                "hash": parts.hash,
            }
            if fmt == "csv":
                res.update({"type": "table", "profile": "tabular-data-resource", "encoding": "utf-8",
                            "dialect": {"delimiter": ",", "header": True},
                            "schema": table_schema(name, pkg)})
            else:
                res["type"] = "file"
            resources.append(res)
        del df
    d = pkg.descriptor
    descriptor = {
        "name": f"{pkg.name}-exports",
        "title": f"{d.get('title', pkg.name)}: researcher exports",
        "description": (
            "Flat, dyadic and dyad-year tables (undirected and directed) derived from the data package, keyed by "
            "ISO 3166-1 alpha-3 and Correlates of War codes, as CSV, Parquet and Stata files. Generated by "
            "`dca export`; the codebook (docs/codebook.md) states every rule."
        ),
        "version": pkg.version,
        "homepage": d.get("homepage"),
        "licenses": d.get("licenses", []),
        "contributors": d.get("contributors", []),
        "dca_export_options": options.as_dict(),
        "dca_coverage": {"last_year": last_year,
                         "rule": "the year of the latest status_as_of of any agreement (the data date)"},
        "resources": resources,
    }
    descriptor = {k: v for k, v in descriptor.items() if v is not None}
    yield DESCRIPTOR, [(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")]


def render_exports(pkg: Package, options: ExportOptions = ExportOptions()) -> dict[str, bytes]:
    """Every export file, by file name, as bytes: the tables in three formats and the descriptor."""
    return dict(iter_exports(pkg, options))


def write_exports(pkg: Package | Path | str, out: Path, options: ExportOptions = ExportOptions(),
                  frames: Frames | None = None, text: Text = None) -> list[Path]:
    """Write the exports into the folder `out` (created; not atomic: see export_package). `text`: see
    export_tables.read_frame."""
    if not isinstance(pkg, Package):
        pkg = load_package(pkg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, parts in _iter_files(pkg, options, frames, text):
        with open(out / name, "wb") as f:
            for part in parts:
                f.write(part)
        written.append(out / name)
    return written


def export_package(root: Path, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    """Write the exports to a staged folder, then swap it in: readers never see half an export."""
    pkg = load_package(root)
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not _is_exports_folder(out):
        raise ExportError(f"refusing to replace {out}: it is not an exports folder (no exports {DESCRIPTOR}); choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    clear_debris(out.parent, out)
    stage = out.parent / f"{TMP_PREFIX}export-{os.getpid()}-{out.name}"
    try:
        write_exports(pkg, stage, options)
        replace_dir(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return sorted(out.iterdir())


def _is_exports_folder(folder: Path) -> bool:
    try:
        return json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8")).get("name", "").endswith("-exports")
    except (OSError, ValueError, AttributeError):
        return False
