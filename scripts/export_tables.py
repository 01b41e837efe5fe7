"""The rows of the researcher exports, as polars DataFrames (scripts/export.py writes them).

Every table is made by polars expressions over whole columns, never by a Python loop over
agreements or pairs: at 100k agreements (1M in bench/) the rows would be millions of Python
objects. The agreements' years follow the dyad-year rules of scripts/export_columns.py:
`agreement_span` states them for one agreement, `spans_frame` computes them for all at once
(a test keeps the two in agreement). Pairs are a self-join of the parties; pair-years an
explode of the spans' year ranges, made of integers and in parts (`_dyad_years`), so that
the `until-ended` rule's millions of pair-agreement-years need little memory. `iter_frames`
gives the tables one at a time, so that a caller can write and drop each in turn.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import polars as pl

from schema.tableschema import Package

from .export_columns import (
    ACTIVE_STATUSES,
    ALL_EXPORTS,
    COW_ENTRIES_SINCE_2000,
    COW_NOT_MEMBERS_SINCE_2000,
    ENDED_STATUSES,
    FULL_PANEL_FIRST_YEAR,
    LIST_SEPARATOR,
    NOT_IN_FORCE_STATUSES,
    RULE_UNTIL_ENDED,
    RULES,
)

# The columns of the child tables that the exports use.
NEEDED = {
    "parties": ["agreement_id", "country_iso3"],
    "equipment": ["equipment_id", "agreement_id", "designation", "category", "quantity", "status"],
    "sources": ["source_id", "agreement_id", "url"],
    "status_history": ["agreement_id", "equipment_id", "status_on", "agreement_status"],
}
KOSOVO = 347  # in the COW state system, but without an ISO 3166-1 code, so not a row of countries.csv
POLARS_TYPES = {"string": pl.Utf8, "integer": pl.Int64, "date": pl.Date}


class ExportError(Exception):
    """The exports could not be written; the message says why."""


@dataclass(frozen=True)
class ExportOptions:
    rule: str = RULE_UNTIL_ENDED  # see export_columns.RULES
    year_from: int | None = None
    year_to: int | None = None
    full_panel: bool = False

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ExportError(f"--rule must be one of {', '.join(RULES)}, not {self.rule!r}")
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ExportError(f"--from {self.year_from} is after --to {self.year_to}")
        if self.full_panel and self.year_from is not None and self.year_from < FULL_PANEL_FIRST_YEAR:
            raise ExportError(f"--full-panel starts in {FULL_PANEL_FIRST_YEAR} at the earliest (COW state system "
                              f"membership is known here only from then on), not --from {self.year_from}")

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "from": self.year_from, "to": self.year_to, "full_panel": self.full_panel}


@dataclass(frozen=True)
class Span:
    """The years in which an agreement counts (see export_columns.dyad_year_rules)."""
    start: int  # first year in n_signed
    in_force_from: int | None  # first year in n_in_force; None: never
    last_attested: int
    end: int  # counted end year under the rule


# --- reading -----------------------------------------------------------------

Text = dict[str, pl.DataFrame] | None  # the resources as `dca validate` read them (see read_frame)


def read_frame(pkg: Package, name: str, columns: list[str] | None = None, text: Text = None) -> pl.DataFrame:
    """A resource as text columns, None for empty cells (the packages' only missing value). `text`: the
    resources as frames of text cells, missing cells null, as `dca validate` read them from a valid package
    (validate.check_package), which `dca build` passes instead of having each file parsed again: for a
    valid (canonical) file they are the frames this reads."""
    if text is not None and name in text:
        df = text[name] if columns is None else text[name].select(columns)
    else:
        df = pl.read_csv(pkg.root / pkg.resource(name).path, infer_schema=False, columns=columns, encoding="utf8")
    return df.with_columns(pl.col(c).replace("", None) for c in df.columns)


def read_rows(pkg: Package, name: str, columns: list[str] | None = None) -> list[dict[str, str | None]]:
    """A resource's rows as dicts of text, None for empty cells (the packages' only missing value)."""
    return read_frame(pkg, name, columns).to_dicts()


_CHILD_NUMBER = re.compile(r"^(.*)-([a-z])([0-9]+)$")


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date else None


# --- the rules ---------------------------------------------------------------

def coverage_year(agreements: list[dict]) -> int | None:
    """The last year the release covers: the year of its data date, the latest status_as_of of any agreement."""
    dates = [a["status_as_of"] for a in agreements if a.get("status_as_of")]
    return _year(max(dates)) if dates else None


def agreement_span(agreement: dict, history: list[dict], rule: str = RULE_UNTIL_ENDED,
                   last_year: int | None = None) -> Span | None:
    """The years in which one agreement counts, unclipped; None when it never counts (rules 1-6)."""
    status = agreement["status"]
    if status in NOT_IN_FORCE_STATUSES or (status not in ACTIVE_STATUSES and status not in ENDED_STATUSES):
        return None
    start = _year(agreement["signed_on"])
    own = [h for h in history if not h.get("equipment_id") and h.get("status_on")]
    if agreement.get("entry_into_force_on"):
        in_force_from = _year(agreement["entry_into_force_on"])
    else:
        steps = sorted(h["status_on"] for h in own if h.get("agreement_status") == "in_force")
        in_force_from = _year(steps[0]) if steps else (_year(agreement["status_as_of"]) if status == "in_force" else None)
    if agreement.get("end_on"):
        attested = _year(agreement["end_on"])
    elif status in ACTIVE_STATUSES:
        attested = _year(agreement["status_as_of"])
    else:
        steps = sorted(h["status_on"] for h in own if h.get("agreement_status") == status)
        attested = _year(steps[0]) if steps else start
    attested = max(attested, start)
    end = attested
    if rule == RULE_UNTIL_ENDED and not agreement.get("end_on") and status in ACTIVE_STATUSES and last_year:
        end = max(end, last_year)
    if in_force_from is not None:
        in_force_from = max(in_force_from, start)
        end = max(end, in_force_from)
        attested = max(attested, in_force_from)
    return Span(start, in_force_from, attested, end)


# --- the tables --------------------------------------------------------------

def frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows as a DataFrame with exactly the export's columns, in order, with their types."""
    return pl.DataFrame(rows, schema={c.name: POLARS_TYPES[c.type] for c in ALL_EXPORTS[name]})


def build_frames(pkg: Package, options: ExportOptions = ExportOptions()) -> dict[str, pl.DataFrame]:
    """Every export table as a DataFrame, sorted: the five of every build, and the full panel when asked."""
    return build_frames_for_rules(pkg, options)[0]


def build_frames_for_rules(pkg: Package, options: ExportOptions = ExportOptions(),
                           also: tuple[str, ...] = ()) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """build_frames, and the dyad_years table under each rule of `also` too (keyed by rule, options.rule's
    included): one pass over the package, since only the agreements' spans differ between the rules."""
    out: dict[str, pl.DataFrame] = {}
    by_rule: dict[str, pl.DataFrame] = {}
    for name, rule, df in iter_frames(pkg, options, also):
        if name == "dyad_years":
            by_rule[rule or options.rule] = df
            if rule != options.rule:
                continue
        out[name] = df
    return out, by_rule


def iter_frames(pkg: Package, options: ExportOptions = ExportOptions(),
                also: tuple[str, ...] = (), text: Text = None) -> Iterator[tuple[str, str | None, pl.DataFrame]]:
    """The export tables one at a time, as (table name, rule, frame), in the exports' order, so that a caller
    can write each one and drop it before the next is made (the dyad-year tables of a large package are the
    build's largest objects). `rule` is set for dyad_years only: first under each rule of `also` other than
    options.rule, then under options.rule (the exports' table), followed by its directed table.

    Everything is made by polars expressions over whole columns (no Python loop over agreements): the
    agreements' spans by `spans_frame`, pairs by a self-join of the parties, pair-years by an explode of the
    spans' year ranges and a group-by. `text`: see read_frame; every resource is read before the first
    table is given."""
    countries = read_frame(pkg, "countries", ["iso3", "cow_code", "cow_abbr", "name"], text).with_columns(
        pl.col("cow_code").cast(pl.Int64))
    agreements = read_frame(pkg, "agreements", text=text).sort("agreement_id", maintain_order=True)
    last_year = _last_year(agreements)
    codes = countries.select("iso3", "cow_code", "cow_abbr")
    rules = [r for r in also if r != options.rule] + [options.rule]
    history = read_frame(pkg, "status_history", NEEDED["status_history"], text)
    spans = {rule: spans_frame(agreements, history, rule, last_year) for rule in rules}
    del history
    parties = (read_frame(pkg, "parties", NEEDED["parties"], text)
               .select("agreement_id", iso3="country_iso3").unique().sort("agreement_id", "iso3"))
    flat = _flat(pkg, agreements, parties, countries, spans[options.rule], resources=text)
    del agreements
    yield "agreements_flat", None, flat
    pairs = (
        parties.join(parties, on="agreement_id", suffix="_b")
        .rename({"iso3": "iso3_a"})
        .filter(pl.col("iso3_a") < pl.col("iso3_b"))
    )
    del parties
    pairs = _with_sides(pairs, codes)
    attrs = flat.select("agreement_id", "signed_year", "signed_month", "signed_day", "agreement_type", "instrument",
                        "status", "n_parties")
    del flat
    dyads = pairs.join(attrs, on="agreement_id", how="left").sort("agreement_id", "iso3_a", "iso3_b")
    del attrs
    yield "dyads", None, _ordered(_undirected_ccodes(dyads), "dyads")
    yield "directed_dyads", None, _ordered(_directed(dyads, ["agreement_id", "iso3_a", "iso3_b"]), "directed_dyads")
    del dyads
    pairs = pairs.select("agreement_id", "iso3_a", "iso3_b", "cow_code_a", "cow_abbr_a", "cow_code_b", "cow_abbr_b")
    for rule in rules:
        years = _ordered(_undirected_ccodes(_dyad_years(pairs, spans.pop(rule), options)), "dyad_years")
        yield "dyad_years", rule, years
    del pairs
    yield "directed_dyad_years", None, _ordered(_directed(years, ["iso3_a", "iso3_b", "year"]), "directed_dyad_years")
    if options.full_panel:
        yield "dyad_years_full", None, _full_panel(years, codes, options, last_year)


def _year_of(col: str) -> pl.Expr:
    """The year of an ISO 8601 date, truncated or not (the first four characters), as _year does."""
    return pl.col(col).str.slice(0, 4).cast(pl.Int64)


def _last_year(agreements: pl.DataFrame) -> int | None:
    """coverage_year of a frame of agreements."""
    latest = agreements.get_column("status_as_of").drop_nulls().max() if agreements.height else None
    return _year(latest)  # type: ignore[arg-type]


def spans_frame(agreements: pl.DataFrame, history: pl.DataFrame, rule: str, last_year: int | None) -> pl.DataFrame:
    """agreement_span of every agreement at once: agreement_id, start, in_force_from, last_attested, end, for the
    agreements that count (the others have no row). agreement_span is the rule for one agreement; this is the
    same rule as column expressions (tests/test_export.py checks that they agree)."""
    own = (history.filter(pl.col("equipment_id").is_null() & pl.col("status_on").is_not_null())
           .join(agreements.select("agreement_id", "status"), on="agreement_id", how="inner"))
    steps = own.group_by("agreement_id").agg(
        in_force_step=pl.col("status_on").filter(pl.col("agreement_status") == "in_force").min(),
        status_step=pl.col("status_on").filter(pl.col("agreement_status") == pl.col("status")).min(),
    )
    status = pl.col("status")
    active = status.is_in(list(ACTIVE_STATUSES))
    a = (agreements.select("agreement_id", "status", "signed_on", "status_as_of", "entry_into_force_on", "end_on")
         .filter(status.is_in(list(ACTIVE_STATUSES + ENDED_STATUSES)))
         .join(steps, on="agreement_id", how="left", maintain_order="left"))
    start = pl.col("start")
    a = a.with_columns(start=_year_of("signed_on")).with_columns(
        in_force_from=pl.coalesce(_year_of("entry_into_force_on"), _year_of("in_force_step"),
                                  pl.when(status == "in_force").then(_year_of("status_as_of"))),
        last_attested=pl.max_horizontal(
            pl.when(pl.col("end_on").is_not_null()).then(_year_of("end_on"))
            .when(active).then(_year_of("status_as_of"))
            .otherwise(pl.coalesce(_year_of("status_step"), start)),
            start),
    )
    end = pl.col("last_attested")
    if rule == RULE_UNTIL_ENDED and last_year:
        end = pl.when(pl.col("end_on").is_null() & active).then(pl.max_horizontal(end, pl.lit(last_year))).otherwise(end)
    known = pl.col("in_force_from").is_not_null()  # (max_horizontal skips nulls: a None stays None only by `known`)
    a = a.with_columns(end=end).with_columns(in_force_from=pl.when(known).then(pl.max_horizontal("in_force_from", start)))
    a = a.with_columns(
        end=pl.when(known).then(pl.max_horizontal("end", "in_force_from")).otherwise("end"),
        last_attested=pl.when(known).then(pl.max_horizontal("last_attested", "in_force_from")).otherwise("last_attested"),
    )
    return a.select("agreement_id", "start", "in_force_from", "last_attested", "end")


def _natural_key(col: str) -> list[pl.Expr]:
    """_natural as sort keys: -s2 before -s10."""
    m = pl.col(col).str.extract_groups(_CHILD_NUMBER.pattern)
    return [pl.coalesce(m.struct.field("1"), pl.col(col)), m.struct.field("2").fill_null(""),
            m.struct.field("3").cast(pl.Int64).fill_null(0)]


def _sorted_children(df: pl.DataFrame, id_col: str) -> pl.DataFrame:
    """Child rows by agreement, in the natural order of their ids (stable, as Python's sorted)."""
    keys = _natural_key(id_col)
    return (df.with_columns(k.alias(f"_k{i}") for i, k in enumerate(keys))
            .sort("agreement_id", "_k0", "_k1", "_k2", maintain_order=True)
            .drop("_k0", "_k1", "_k2"))


def _none_if_empty(col: str) -> pl.Expr:
    return pl.when(pl.col(col) != "").then(pl.col(col)).alias(col)


def _flat(pkg: Package, agreements: pl.DataFrame, parties: pl.DataFrame, countries: pl.DataFrame,
          spans: pl.DataFrame, resources: Text = None) -> pl.DataFrame:
    """agreements_flat: one row per agreement, with its party lists, equipment summary and span. `resources`:
    see read_frame."""
    # each country's list items as text; a party that is not a row of countries: no code, its ISO3 as name
    text = countries.select(
        "iso3",
        code=pl.col("cow_code").cast(pl.Utf8).fill_null(""),
        abbr=pl.col("cow_abbr").fill_null(""),
        cname=pl.coalesce("name", "iso3"),
    )
    sep = LIST_SEPARATOR
    plists = (
        parties.join(text, on="iso3", how="left", maintain_order="left")
        .with_columns(pl.col("code", "abbr").fill_null(""), pl.col("cname").fill_null(pl.col("iso3")))
        .group_by("agreement_id")
        .agg(
            parties_iso3=pl.col("iso3").str.join(sep),
            parties_cow_code=pl.col("code").str.join(sep),
            parties_cow_abbr=pl.col("abbr").str.join(sep),
            parties_without_cow=pl.col("iso3").filter(pl.col("code") == "").str.join(sep),
            parties_names=pl.col("cname").str.join(sep),
            n_parties=pl.len().cast(pl.Int64),
        )
        .with_columns(_none_if_empty(c) for c in ("parties_iso3", "parties_cow_code", "parties_cow_abbr",
                                                  "parties_without_cow", "parties_names"))
    )
    eq = _sorted_children(read_frame(pkg, "equipment", NEEDED["equipment"], resources), "equipment_id")
    qty = pl.col("quantity")
    item = pl.concat_str(
        pl.col("designation").fill_null("None"), pl.lit(" ("), pl.col("category").fill_null("None"),
        pl.when(qty.is_not_null()).then(pl.lit(", quantity ") + qty).otherwise(pl.lit("")),
        pl.lit(", "), pl.col("status").fill_null("None"), pl.lit(")"))
    eq = (eq.group_by("agreement_id")
          .agg(equipment_summary=item.str.join(sep + " "), n_equipment=pl.len().cast(pl.Int64)))
    src = _sorted_children(read_frame(pkg, "sources", NEEDED["sources"], resources), "source_id")
    src = (src.group_by("agreement_id")
           .agg(n_sources=pl.len().cast(pl.Int64), first_source_url=pl.col("url").drop_nulls().first()))
    venue = countries.select(venue_country_iso3="iso3", venue_country_cow_code="cow_code", venue_country_name="name")
    span = spans.select("agreement_id", in_force_from_year="in_force_from", last_attested_year="last_attested",
                        counted_to_year="end",
                        assumed=(pl.col("end") > pl.col("last_attested")).cast(pl.Int64))
    date = pl.col("signed_on").str.split("-")
    df = (
        agreements
        .join(venue, on="venue_country_iso3", how="left", maintain_order="left")
        .join(span, on="agreement_id", how="left", maintain_order="left")
        .join(plists, on="agreement_id", how="left", maintain_order="left")
        .join(eq, on="agreement_id", how="left", maintain_order="left")
        .join(src, on="agreement_id", how="left", maintain_order="left")
        .with_columns(
            signed_year=date.list.get(0, null_on_oob=True).cast(pl.Int64),
            signed_month=date.list.get(1, null_on_oob=True).cast(pl.Int64),
            signed_day=date.list.get(2, null_on_oob=True).cast(pl.Int64),
            status_as_of=pl.col("status_as_of").str.to_date("%Y-%m-%d"),
            entry_into_force_year=_year_of("entry_into_force_on"),
            end_year=_year_of("end_on"),
            n_parties=pl.col("n_parties").fill_null(0),
            n_equipment=pl.col("n_equipment").fill_null(0),
            n_sources=pl.col("n_sources").fill_null(0),
            equipment_summary=_none_if_empty("equipment_summary"),
        )
    )
    return _ordered(df, "agreements_flat")


def _with_sides(pairs: pl.DataFrame, codes: pl.DataFrame) -> pl.DataFrame:
    """Add each side's COW code and abbreviation to a frame with iso3_a and iso3_b."""
    for side in ("a", "b"):
        pairs = pairs.join(codes.rename({"iso3": f"iso3_{side}", "cow_code": f"cow_code_{side}", "cow_abbr": f"cow_abbr_{side}"}),
                           on=f"iso3_{side}", how="left")
    return pairs


def _undirected_ccodes(df: pl.DataFrame) -> pl.DataFrame:
    both = pl.col("cow_code_a").is_not_null() & pl.col("cow_code_b").is_not_null()
    return df.with_columns(
        ccode1=pl.when(both).then(pl.min_horizontal("cow_code_a", "cow_code_b")),
        ccode2=pl.when(both).then(pl.max_horizontal("cow_code_a", "cow_code_b")),
    )


def _directed(df: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Both directions of every pair: the rows as they are, and with sides A and B swapped; ccode1 = A's code."""
    swap = {f"{k}_{s}": f"{k}_{t}" for k in ("iso3", "cow_code", "cow_abbr") for s, t in (("a", "b"), ("b", "a"))}
    both = pl.concat([df, df.rename(swap).select(df.columns)])
    return both.with_columns(ccode1=pl.col("cow_code_a"), ccode2=pl.col("cow_code_b")).sort(key)


def _ordered(df: pl.DataFrame, name: str) -> pl.DataFrame:
    return df.select([pl.col(c.name).cast(POLARS_TYPES[c.type]) for c in ALL_EXPORTS[name]])


# Pair-agreement-years exploded at a time (pairs are never split between two parts): bounds the dyad-year step's
# memory whatever the package's size; each part is a few tens of MB.
_PART_ROWS = 1 << 21


def _dyad_years(pairs: pl.DataFrame, spans: pl.DataFrame, options: ExportOptions) -> pl.DataFrame:
    """One row per pair and year with at least one agreement in effect, with the two counts and the flag.

    The pair-agreement-years (the explode: at 100k agreements ≈ 4M rows under `until-ended`) are the largest
    intermediate of the build, so they are made of integers only (an agreement is its rank in id order, a
    pair its rank in (iso3_a, iso3_b) order) and in parts of about _PART_ROWS rows, whole pairs each, in pair
    order. Sorted by (pair, year, agreement), each group's ids are in id order and the groups in the table's
    order, without comparing a string."""
    s = spans
    if options.year_from is not None:
        s = s.with_columns(start=pl.max_horizontal("start", pl.lit(options.year_from)))
    if options.year_to is not None:
        s = s.with_columns(end=pl.min_horizontal("end", pl.lit(options.year_to)))
    s = s.filter(pl.col("start") <= pl.col("end")).sort("agreement_id").with_row_index("a")
    sides = ["iso3_a", "iso3_b", "cow_code_a", "cow_abbr_a", "cow_code_b", "cow_abbr_b"]
    keys = pairs.select(sides).unique(["iso3_a", "iso3_b"]).sort("iso3_a", "iso3_b").with_row_index("p")
    spans_of_pairs = (
        pairs.select("agreement_id", "iso3_a", "iso3_b")
        .join(keys.select("p", "iso3_a", "iso3_b"), on=["iso3_a", "iso3_b"])
        .join(s, on="agreement_id", how="inner")
        .select("p", "a", "start", "end", "in_force_from", "last_attested")
    )
    per_pair = (spans_of_pairs.group_by("p").agg(n=(pl.col("end") - pl.col("start") + 1).sum()).sort("p")
                .select("p", part=(pl.col("n").cum_sum() - pl.col("n")) // _PART_ROWS))
    spans_of_pairs = spans_of_pairs.join(per_pair, on="p")
    ids = s.get_column("agreement_id")
    n_parts = int(per_pair.get_column("part").max() or 0) + 1 if per_pair.height else 0
    parts = [_pair_years(spans_of_pairs.filter(pl.col("part") == i), ids) for i in range(n_parts)]
    grouped = pl.concat(parts) if parts else _pair_years(spans_of_pairs.clear(), ids)
    return keys.join(grouped, on="p", how="inner", maintain_order="right").drop("p")


def _pair_years(spans_of_pairs: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """The dyad-year counts of some whole pairs (p, a, start, end, in_force_from, last_attested), by (p, year).

    Sorted by (p, year, a), a group is a run of rows: its counts are numpy reductions over the runs, and its id
    lists are slices of one buffer of every row's id (see _join_runs), so no per-group string is built."""
    years = (
        spans_of_pairs
        .select("p", "a", "in_force_from", "last_attested", year=pl.int_ranges("start", pl.col("end") + 1, dtype=pl.Int32))
        .explode("year")
        .select(
            "p", "year", "a",
            in_force=pl.col("in_force_from").is_not_null() & (pl.col("year") >= pl.col("in_force_from")),
            assumed=pl.col("year") > pl.col("last_attested"),
        )
        .sort("p", "year", "a")
    )
    p, year = years.get_column("p").to_numpy(), years.get_column("year").to_numpy()
    n = len(p)
    starts = np.flatnonzero(np.r_[True, (p[1:] != p[:-1]) | (year[1:] != year[:-1])]) if n else np.zeros(0, np.int64)
    bounds = np.r_[starts, n]
    in_force = years.get_column("in_force").to_numpy()
    n_in_force = np.add.reduceat(in_force.astype(np.int64), starts) if n else np.zeros(0, np.int64)
    row_ids = ids.gather(years.get_column("a"))
    forced = row_ids.filter(years.get_column("in_force"))
    return pl.DataFrame({
        "p": p[starts],
        "year": year[starts].astype(np.int64),
        "n_signed": np.diff(bounds).astype(np.int64),
        "n_in_force": n_in_force,
        "assumed": (np.maximum.reduceat(years.get_column("assumed").to_numpy(), starts) if n else np.zeros(0, bool)).astype(np.int64),
        "agreement_ids": pl.Series(_join_runs(row_ids, bounds)),
        "in_force_ids": pl.Series(_join_runs(forced, np.r_[0, np.cumsum(n_in_force)])),
    }).with_columns(in_force_ids=pl.when(pl.col("n_in_force") > 0).then(pl.col("in_force_ids")))


def _join_runs(items: pl.Series, bounds: np.ndarray):
    """Each run items[bounds[g]:bounds[g+1]] joined by LIST_SEPARATOR, as an arrow array: every item is
    followed by the separator unless it ends its run, all written into one buffer by arrow, whose offsets at
    the run boundaries then delimit the runs (an empty run is an empty text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n, m = len(items), len(bounds) - 1
    arr = items.to_arrow().cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    last = np.zeros(n, dtype=bool)
    last[bounds[1:][bounds[1:] > bounds[:-1]] - 1] = True
    sep_offsets = np.r_[0, np.cumsum(~last)].astype(np.int64)
    seps = pa.LargeStringArray.from_buffers(n, pa.py_buffer(sep_offsets.tobytes()),
                                            pa.py_buffer(LIST_SEPARATOR.encode() * int(sep_offsets[-1])))
    joined = pc.binary_join_element_wise(arr, seps, pa.scalar("", pa.large_string()))
    _, off_buf, data_buf = joined.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[joined.offset: joined.offset + n + 1]
    run_offsets = offsets[bounds] - offsets[0]
    data = pa.py_buffer(b"") if data_buf is None else data_buf.slice(int(offsets[0]))
    return pa.LargeStringArray.from_buffers(m, pa.py_buffer(np.ascontiguousarray(run_offsets).tobytes()), data)


def _full_panel(dyad_years: pl.DataFrame, codes: pl.DataFrame, options: ExportOptions, last_year: int | None) -> pl.DataFrame:
    """Every pair of COW system members in every covered year, zeros where no agreement is in effect."""
    first = options.year_from if options.year_from is not None else (
        dyad_years["year"].min() if dyad_years.height else last_year)
    last = options.year_to if options.year_to is not None else last_year
    if first is None or last is None or first > last:
        return frame("dyad_years_full", [])
    if first < FULL_PANEL_FIRST_YEAR:
        raise ExportError(
            f"--full-panel: the agreements count from {first}, but COW state system membership is known here only "
            f"from {FULL_PANEL_FIRST_YEAR} on; give --from {FULL_PANEL_FIRST_YEAR} or later")
    from .countries import cow_states

    states = codes.filter(pl.col("cow_code").is_not_null() & ~pl.col("cow_code").is_in(list(COW_NOT_MEMBERS_SINCE_2000))).select(
        pl.col("cow_code").alias("ccode"), pl.col("cow_abbr").alias("abbr"), "iso3")
    if KOSOVO not in set(states["ccode"].to_list()):
        states = pl.concat([states, pl.DataFrame({"ccode": [KOSOVO], "abbr": [cow_states()[KOSOVO][0]], "iso3": [None]},
                                                 schema=states.schema)])
    entry = pl.DataFrame({"ccode": list(COW_ENTRIES_SINCE_2000), "entered": list(COW_ENTRIES_SINCE_2000.values())},
                         schema={"ccode": pl.Int64, "entered": pl.Int64})
    states = states.join(entry, on="ccode", how="left").with_columns(pl.col("entered").fill_null(first))
    one = states.rename({"ccode": "ccode1", "abbr": "cow_abbr1", "iso3": "iso3_1", "entered": "e1"})
    two = states.rename({"ccode": "ccode2", "abbr": "cow_abbr2", "iso3": "iso3_2", "entered": "e2"})
    pairs = one.join(two, how="cross").filter(pl.col("ccode1") < pl.col("ccode2"))
    panel = (
        pairs.with_columns(year=pl.int_ranges(pl.max_horizontal("e1", "e2", pl.lit(first)), last + 1, dtype=pl.Int64))
        .explode("year")
        .drop_nulls("year")
    )
    counts = dyad_years.filter(pl.col("ccode1").is_not_null()).select("ccode1", "ccode2", "year", "n_signed", "n_in_force", "assumed")
    panel = (
        panel.join(counts, on=["ccode1", "ccode2", "year"], how="left")
        .with_columns(pl.col("n_signed", "n_in_force", "assumed").fill_null(0))
        .sort("ccode1", "ccode2", "year")
    )
    return _ordered(panel, "dyad_years_full")
