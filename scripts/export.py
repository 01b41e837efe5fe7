"""`dca export`: the researcher exports, keyed by ISO3 and Correlates of War codes.

Three tables, each as CSV, Parquet and Stata .dta, plus build/exports/datapackage.json
that describes every file (the CSVs with Table Schemas, the others as files with
size and checksum):

- agreements_flat: one row per agreement, no joins needed;
- dyads: one row per pair of parties per agreement (both directions with --directed);
- dyad_years: one row per pair and year with at least one agreement in force.

The columns and the dyad-year rules are defined once in scripts/export_columns.py.
Output is deterministic (sorted rows, fixed column order, fixed Parquet and Stata
metadata) so that release archives are byte-for-byte reproducible.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from schema.tableschema import Package, load_package

from .atomic import TMP_PREFIX, clear_debris, replace_dir
from .export_columns import (
    ACTIVE_STATUSES,
    ENDED_STATUSES,
    EXPORTS,
    LIST_SEPARATOR,
    PRIMARY_KEYS,
    TITLES,
    Column,
    one_row_per,
)

csv.field_size_limit(16 * 1024 * 1024)

FORMATS = {
    "csv": ("text/csv", "CSV (UTF-8, comma-separated, header row, LF line endings; empty cell = missing)"),
    "parquet": ("application/vnd.apache.parquet", "Apache Parquet (typed columns; empty = null)"),
    "dta": ("application/x-stata-dta", "Stata .dta, format 118 (Stata 14 or later; R: haven::read_dta)"),
}
STATA_TIME_STAMP = dt.datetime(2000, 1, 1, 0, 0)  # fixed, so that .dta files are reproducible
STATA_STR_MAX = 2045  # longest str# in format 118 (bytes); longer columns are written as strL
DESCRIPTOR = "datapackage.json"
# The columns of the child tables that the exports use.
NEEDED = {
    "parties": ["agreement_id", "country_iso3"],
    "equipment": ["equipment_id", "agreement_id", "designation", "category", "quantity", "status"],
    "sources": ["source_id", "agreement_id", "url"],
    "status_history": ["agreement_id", "equipment_id", "status_on", "agreement_status"],
}


class ExportError(Exception):
    """The exports could not be written; the message says why."""


@dataclass(frozen=True)
class ExportOptions:
    directed: bool = False
    start: str = "signing"  # "signing" or "entry"
    year_from: int | None = None
    year_to: int | None = None

    def __post_init__(self) -> None:
        if self.start not in ("signing", "entry"):
            raise ExportError(f"--start must be signing or entry, not {self.start!r}")
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ExportError(f"--from {self.year_from} is after --to {self.year_to}")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {"directed": d["directed"], "start": d["start"], "from": d["year_from"], "to": d["year_to"]}


# --- reading -----------------------------------------------------------------

def _read(pkg: Package, name: str, columns: list[str] | None = None) -> list[dict[str, str | None]]:
    """A resource's rows as dicts of text, None for empty cells (the packages' only missing value)."""
    import polars as pl

    df = pl.read_csv(pkg.root / pkg.resource(name).path, infer_schema=False, columns=columns, encoding="utf8")
    return df.with_columns(pl.col(c).replace("", None) for c in df.columns).to_dicts()


_CHILD_NUMBER = re.compile(r"^(.*)-([a-z])([0-9]+)$")


def _natural(child_id: str) -> tuple:
    """Order child ids as people do: -s2 before -s10."""
    m = _CHILD_NUMBER.match(child_id)
    return (m.group(1), m.group(2), int(m.group(3))) if m else (child_id, "", 0)


def _parts(date: str | None) -> tuple[int | None, int | None, int | None]:
    if not date:
        return None, None, None
    bits = [int(b) for b in date.split("-")]
    return tuple(bits + [None] * (3 - len(bits)))  # type: ignore[return-value]


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date else None


def _int(v: str | None) -> int | None:
    return int(v) if v not in (None, "") else None


def _join(items: Iterable[Any]) -> str | None:
    s = LIST_SEPARATOR.join(str(i) for i in items)
    return s or None


# --- the tables --------------------------------------------------------------

def build_tables(pkg: Package, options: ExportOptions = ExportOptions()) -> dict[str, list[dict[str, Any]]]:
    """The three export tables as lists of rows (dicts keyed by column name), sorted."""
    countries = {c["iso3"]: c for c in _read(pkg, "countries")}
    agreements = sorted(_read(pkg, "agreements"), key=lambda a: a["agreement_id"])
    by_agreement: dict[str, dict[str, list[dict]]] = {}
    for name, columns in NEEDED.items():
        for row in _read(pkg, name, columns):
            by_agreement.setdefault(row["agreement_id"], {}).setdefault(name, []).append(row)
    cow_of = {iso3: (_int(c.get("cow_code")), c.get("cow_abbr")) for iso3, c in countries.items()}

    def cow(iso3: str | None) -> tuple[int | None, str | None]:
        return cow_of.get(iso3 or "", (None, None))

    flat, dyads = [], []
    pair_years: dict[tuple[str, str], dict[int, set[str]]] = {}
    for a in agreements:
        aid = a["agreement_id"]
        rel = by_agreement.get(aid, {})
        parties = sorted({p["country_iso3"] for p in rel.get("parties", [])})
        equipment = sorted(rel.get("equipment", []), key=lambda e: _natural(e["equipment_id"]))
        sources = sorted(rel.get("sources", []), key=lambda s: _natural(s["source_id"]))
        y, m, d = _parts(a["signed_on"])
        with_cow = sorted((cow(p)[0], cow(p)[1] or "", p) for p in parties if cow(p)[0] is not None)
        venue = a["venue_country_iso3"]
        items = []
        for e in equipment:
            qty = f", quantity {e['quantity']}" if e.get("quantity") else ""
            items.append(f"{e['designation']} ({e['category']}{qty}, {e['status']})")
        flat.append({
            "agreement_id": aid,
            "title": a["title"],
            "agreement_type": a["agreement_type"],
            "instrument": a["instrument"],
            "signed_on": a["signed_on"],
            "signed_precision": a["signed_precision"],
            "signed_year": y,
            "signed_month": m,
            "signed_day": d,
            "venue_city": a["venue_city"],
            "venue_country_iso3": venue,
            "venue_country_cow_code": cow(venue)[0] if venue else None,
            "venue_country_name": countries.get(venue, {}).get("name") if venue else None,
            "status": a["status"],
            "status_as_of": a["status_as_of"],
            "entry_into_force_on": a["entry_into_force_on"],
            "entry_into_force_year": _year(a["entry_into_force_on"]),
            "end_on": a["end_on"],
            "end_year": _year(a["end_on"]),
            "parties_iso3": _join(parties),
            "parties_cow_code": _join(c for c, _, _ in with_cow),
            "parties_cow_abbr": _join(ab for _, ab, _ in with_cow),
            "parties_without_cow": _join(p for p in parties if cow(p)[0] is None),
            "parties_names": _join(countries.get(p, {}).get("name") or p for p in parties),
            "n_parties": len(parties),
            "equipment_summary": (LIST_SEPARATOR + " ").join(items) or None,
            "n_equipment": len(equipment),
            "n_sources": len(sources),
            "first_source_url": next((s["url"] for s in sources if s.get("url")), None),
            "summary": a["summary"],
            "notes": a["notes"],
        })
        pairs = [(p, q) for i, p in enumerate(parties) for q in parties[i + 1:]]
        if options.directed:
            pairs = pairs + [(q, p) for p, q in pairs]
        for p, q in pairs:
            dyads.append({
                "agreement_id": aid,
                **_sides(p, q, cow),
                "signed_year": y,
                "signed_month": m,
                "signed_day": d,
                "agreement_type": a["agreement_type"],
                "instrument": a["instrument"],
                "status": a["status"],
                "n_parties": len(parties),
            })
        span = active_years(a, rel.get("status_history", []), options)
        if span:
            for p, q in pairs:
                years = pair_years.setdefault((p, q), {})
                for year in range(span[0], span[1] + 1):
                    years.setdefault(year, set()).add(aid)
    dyads.sort(key=lambda r: (r["agreement_id"], r["iso3_a"], r["iso3_b"]))
    dyad_years = []
    for (p, q) in sorted(pair_years):
        sides = _sides(p, q, cow)
        for year, ids in sorted(pair_years[(p, q)].items()):
            dyad_years.append({**sides, "year": year, "n_agreements": len(ids), "agreement_ids": _join(sorted(ids))})
    return {"agreements_flat": flat, "dyads": dyads, "dyad_years": dyad_years}


def _sides(p: str, q: str, cow) -> dict[str, Any]:
    (cp, ap), (cq, aq) = cow(p), cow(q)
    return {"iso3_a": p, "cow_code_a": cp, "cow_abbr_a": ap, "iso3_b": q, "cow_code_b": cq, "cow_abbr_b": aq}


def active_years(agreement: dict, history: list[dict], options: ExportOptions = ExportOptions()) -> tuple[int, int] | None:
    """(first, last) calendar year in which the agreement counts, clipped; None when it never counts.

    Follows the rules of export_columns.dyad_year_rules() exactly.
    """
    status = agreement["status"]
    if status not in ACTIVE_STATUSES and status not in ENDED_STATUSES:
        return None  # announced, under negotiation: never in force
    start = _year(agreement["signed_on"])
    if options.start == "entry" and agreement.get("entry_into_force_on"):
        start = _year(agreement["entry_into_force_on"])
    if agreement.get("end_on"):
        end = _year(agreement["end_on"])
    elif status in ACTIVE_STATUSES:
        end = _year(agreement["status_as_of"])
    else:
        steps = sorted(h["status_on"] for h in history if not h.get("equipment_id") and h.get("agreement_status") == status)
        end = _year(steps[0]) if steps else start
    if end < start:
        end = start
    if options.year_from is not None:
        start = max(start, options.year_from)
    if options.year_to is not None:
        end = min(end, options.year_to)
    return (start, end) if start <= end else None


# --- writing -----------------------------------------------------------------

def _csv_bytes(columns: list[Column], rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.name for c in columns])
    for r in rows:
        w.writerow(["" if r[c.name] is None else r[c.name] for c in columns])
    return buf.getvalue().encode("utf-8")


def _parquet_bytes(name: str, columns: list[Column], rows: list[dict[str, Any]], pkg: Package | None = None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"string": pa.string(), "integer": pa.int64(), "date": pa.date32()}
    arrays = []
    for c in columns:
        values = [r[c.name] for r in rows]
        if c.type == "date":
            values = [dt.date.fromisoformat(v) if v else None for v in values]
        arrays.append(pa.array(values, type=types[c.type]))
    fields = [pa.field(c.name, types[c.type], nullable=not c.is_required(pkg), metadata={"title": c.title}) for c in columns]
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={"name": name}))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue().to_pybytes()


def _stata_bytes(name: str, version: str, columns: list[Column], rows: list[dict[str, Any]]) -> bytes:
    import pandas as pd

    data: dict[str, Any] = {}
    strl = []
    for c in columns:
        values = [r[c.name] for r in rows]
        if c.type == "integer":
            data[c.name] = pd.array(values, dtype="Int64")
        elif c.type == "date":
            data[c.name] = pd.to_datetime(pd.Series([v or None for v in values], dtype=object), format="%Y-%m-%d")
        else:
            strings = ["" if v is None else str(v) for v in values]
            data[c.name] = pd.Series(strings, dtype=object)
            if max((len(s.encode("utf-8")) for s in strings), default=0) > STATA_STR_MAX:
                strl.append(c.name)
    df = pd.DataFrame(data, columns=[c.name for c in columns])
    for c in columns:
        if len(c.name) > 32 or len(c.title) > 80:
            raise ExportError(f"{name}.{c.name}: Stata needs names of <= 32 and labels of <= 80 characters")
    buf = io.BytesIO()
    df.to_stata(
        buf,
        version=118,
        write_index=False,
        time_stamp=STATA_TIME_STAMP,
        data_label=f"DCA {name} v{version}"[:80],
        variable_labels={c.name: c.title for c in columns},
        convert_dates={c.name: "td" for c in columns if c.type == "date"},
        convert_strl=strl,
    )
    return buf.getvalue()


def table_schema(name: str, pkg: Package | None) -> dict[str, Any]:
    fields = []
    for c in EXPORTS[name]:
        f: dict[str, Any] = {"name": c.name, "type": c.type, "title": c.title, "description": c.full_description(pkg)}
        cons = c.constraints(pkg)
        if cons:
            f["constraints"] = cons
        fields.append(f)
    schema: dict[str, Any] = {"fields": fields, "primaryKey": PRIMARY_KEYS[name], "missingValues": [""]}
    if name == "dyads":
        schema["foreignKeys"] = [{"fields": ["agreement_id"], "reference": {"resource": "agreements_flat", "fields": ["agreement_id"]}}]
    return schema


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iter_exports(pkg: Package, options: ExportOptions = ExportOptions()) -> Iterator[tuple[str, bytes]]:
    """Every export file as (file name, bytes), one at a time (so a large package is never held twice in
    memory): each table in three formats, then the descriptor that lists them."""
    tables = build_tables(pkg, options)
    resources = []
    for name, columns in EXPORTS.items():
        rows = tables.pop(name)
        writers = {
            "csv": lambda: _csv_bytes(columns, rows),
            "parquet": lambda: _parquet_bytes(name, columns, rows, pkg),
            "dta": lambda: _stata_bytes(name, pkg.version, columns, rows),
        }
        for fmt, write in writers.items():
            data = write()
            path = f"{name}.{fmt}"
            mediatype, label = FORMATS[fmt]
            res: dict[str, Any] = {
                "name": name if fmt == "csv" else f"{name}_{fmt}",
                "path": path,
                "title": TITLES[name] + ("" if fmt == "csv" else f" ({fmt})"),
                "description": one_row_per(name, options.directed)
                + ("" if fmt == "csv" else f" The same rows and columns as {name}.csv, as {label}."),
                "format": fmt,
                "mediatype": mediatype,
                "bytes": len(data),
                "hash": "sha256:" + _sha256(data),
            }
            if fmt == "csv":
                res.update({"type": "table", "profile": "tabular-data-resource", "encoding": "utf-8",
                            "dialect": {"delimiter": ",", "header": True},
                            "schema": table_schema(name, pkg)})
            else:
                res["type"] = "file"
            resources.append(res)
            yield path, data
        del rows
    d = pkg.descriptor
    descriptor = {
        "name": f"{pkg.name}-exports",
        "title": f"{d.get('title', pkg.name)}: researcher exports",
        "description": (
            "Flat, dyadic and dyad-year tables derived from the data package, keyed by ISO 3166-1 alpha-3 and "
            "Correlates of War codes, as CSV, Parquet and Stata files. Generated by `dca export`; the codebook "
            "(docs/codebook.md) states every rule."
        ),
        "version": pkg.version,
        "homepage": d.get("homepage"),
        "licenses": d.get("licenses", []),
        "contributors": d.get("contributors", []),
        "dca_export_options": options.as_dict(),
        "resources": resources,
    }
    descriptor = {k: v for k, v in descriptor.items() if v is not None}
    yield DESCRIPTOR, (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_exports(pkg: Package, options: ExportOptions = ExportOptions()) -> dict[str, bytes]:
    """Every export file, by file name, as bytes: the tables in three formats and the descriptor."""
    return dict(iter_exports(pkg, options))


def write_exports(pkg: Package | Path | str, out: Path, options: ExportOptions = ExportOptions()) -> list[Path]:
    """Write the exports into the folder `out` (created; not atomic: see export_package)."""
    if not isinstance(pkg, Package):
        pkg = load_package(pkg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in iter_exports(pkg, options):
        (out / name).write_bytes(data)
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
