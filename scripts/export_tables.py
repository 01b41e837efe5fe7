"""The rows of the researcher exports, as polars DataFrames (scripts/export.py writes them).

Each agreement's years are worked out once (`agreement_span`, the dyad-year rules of
scripts/export_columns.py); pairs and pair-years are then made by joins, explodes and
group-bys in polars, not by Python loops over pairs, so that a package of 100k
agreements with the directed tables and the `until-ended` rule (which gives far more
pair-years than the attested one) builds no slower than before.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

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

def read_rows(pkg: Package, name: str, columns: list[str] | None = None) -> list[dict[str, str | None]]:
    """A resource's rows as dicts of text, None for empty cells (the packages' only missing value)."""
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


def _join(items: list[str]) -> str | None:
    s = LIST_SEPARATOR.join(items)
    return s or None


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
    countries = {c["iso3"]: c for c in read_rows(pkg, "countries")}
    agreements = sorted(read_rows(pkg, "agreements"), key=lambda a: a["agreement_id"])
    by_agreement: dict[str, dict[str, list[dict]]] = {}
    for name, columns in NEEDED.items():
        for row in read_rows(pkg, name, columns):
            by_agreement.setdefault(row["agreement_id"], {}).setdefault(name, []).append(row)
    cow_of = {iso3: (_int(c.get("cow_code")), c.get("cow_abbr")) for iso3, c in countries.items()}
    last_year = coverage_year(agreements)

    def cow(iso3: str | None) -> tuple[int | None, str | None]:
        return cow_of.get(iso3 or "", (None, None))

    # each country's list items as text, once: the party lists of 100k agreements are joined from these
    code_text = {iso3: "" if c is None else str(c) for iso3, (c, _) in cow_of.items()}
    abbr_text = {iso3: ab or "" for iso3, (_, ab) in cow_of.items()}
    name_text = {iso3: c.get("name") or iso3 for iso3, c in countries.items()}

    flat = []
    party_ids: list[str] = []
    party_iso3: list[str] = []
    rules = [options.rule] + [r for r in also if r != options.rule]
    spans: dict[str, dict[str, list]] = {
        rule: {k: [] for k in ("agreement_id", "start", "in_force_from", "last_attested", "end")} for rule in rules}
    for a in agreements:
        aid = a["agreement_id"]
        rel = by_agreement.get(aid, {})
        parties = sorted({p["country_iso3"] for p in rel.get("parties", [])})
        equipment = sorted(rel.get("equipment", []), key=lambda e: _natural(e["equipment_id"]))
        sources = sorted(rel.get("sources", []), key=lambda s: _natural(s["source_id"]))
        y, m, d = _parts(a["signed_on"])
        venue = a["venue_country_iso3"]
        history = rel.get("status_history", [])
        span = agreement_span(a, history, options.rule, last_year)
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
            "status_as_of": dt.date.fromisoformat(a["status_as_of"]),
            "entry_into_force_on": a["entry_into_force_on"],
            "entry_into_force_year": _year(a["entry_into_force_on"]),
            "end_on": a["end_on"],
            "end_year": _year(a["end_on"]),
            "in_force_from_year": span.in_force_from if span else None,
            "last_attested_year": span.last_attested if span else None,
            "counted_to_year": span.end if span else None,
            "assumed": int(span.end > span.last_attested) if span else None,
            # one party order for every list column: position i names the same country in each
            "parties_iso3": _join(parties),
            "parties_cow_code": _join([code_text.get(p, "") for p in parties]),
            "parties_cow_abbr": _join([abbr_text.get(p, "") for p in parties]),
            "parties_without_cow": _join([p for p in parties if not code_text.get(p)]),
            "parties_names": _join([name_text.get(p, p) for p in parties]),
            "n_parties": len(parties),
            "equipment_summary": (LIST_SEPARATOR + " ").join(items) or None,
            "n_equipment": len(equipment),
            "n_sources": len(sources),
            "first_source_url": next((s["url"] for s in sources if s.get("url")), None),
            "summary": a["summary"],
            "notes": a["notes"],
        })
        party_ids += [aid] * len(parties)
        party_iso3 += parties
        for rule in rules:
            sp = span if rule == options.rule else agreement_span(a, history, rule, last_year)
            if sp:
                for k, v in (("agreement_id", aid), ("start", sp.start), ("in_force_from", sp.in_force_from),
                             ("last_attested", sp.last_attested), ("end", sp.end)):
                    spans[rule][k].append(v)
    flat_df = frame("agreements_flat", flat)
    del flat, agreements, by_agreement  # the rows as Python objects: the frames below no longer need them
    codes = pl.DataFrame(
        {"iso3": list(cow_of), "cow_code": [c for c, _ in cow_of.values()], "cow_abbr": [ab for _, ab in cow_of.values()]},
        schema={"iso3": pl.Utf8, "cow_code": pl.Int64, "cow_abbr": pl.Utf8},
    )
    parties_df = pl.DataFrame({"agreement_id": party_ids, "iso3": party_iso3}, schema={"agreement_id": pl.Utf8, "iso3": pl.Utf8})
    pairs = (
        parties_df.join(parties_df, on="agreement_id", suffix="_b")
        .rename({"iso3": "iso3_a"})
        .filter(pl.col("iso3_a") < pl.col("iso3_b"))
    )
    pairs = _with_sides(pairs, codes)
    attrs = flat_df.select("agreement_id", "signed_year", "signed_month", "signed_day", "agreement_type", "instrument",
                           "status", "n_parties")
    dyads = pairs.join(attrs, on="agreement_id", how="left").sort("agreement_id", "iso3_a", "iso3_b")
    out = {
        "agreements_flat": flat_df,
        "dyads": _ordered(_undirected_ccodes(dyads), "dyads"),
        "directed_dyads": _ordered(_directed(dyads, ["agreement_id", "iso3_a", "iso3_b"]), "directed_dyads"),
    }
    span_schema = {"agreement_id": pl.Utf8, "start": pl.Int64, "in_force_from": pl.Int64, "last_attested": pl.Int64,
                   "end": pl.Int64}
    by_rule = {rule: _ordered(_undirected_ccodes(_dyad_years(pairs, pl.DataFrame(spans[rule], schema=span_schema), options)),
                              "dyad_years") for rule in rules}
    out["dyad_years"] = by_rule[options.rule]
    out["directed_dyad_years"] = _ordered(_directed(out["dyad_years"], ["iso3_a", "iso3_b", "year"]), "directed_dyad_years")
    if options.full_panel:
        out["dyad_years_full"] = _full_panel(out["dyad_years"], codes, options, last_year)
    return out, by_rule


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


def _dyad_years(pairs: pl.DataFrame, spans: pl.DataFrame, options: ExportOptions) -> pl.DataFrame:
    """One row per pair and year with at least one agreement in effect, with the two counts and the flag."""
    s = spans
    if options.year_from is not None:
        s = s.with_columns(start=pl.max_horizontal("start", pl.lit(options.year_from)))
    if options.year_to is not None:
        s = s.with_columns(end=pl.min_horizontal("end", pl.lit(options.year_to)))
    s = s.filter(pl.col("start") <= pl.col("end"))
    years = (
        pairs.select("agreement_id", "iso3_a", "iso3_b", "cow_code_a", "cow_abbr_a", "cow_code_b", "cow_abbr_b")
        .join(s, on="agreement_id", how="inner")
        .with_columns(year=pl.int_ranges("start", pl.col("end") + 1, dtype=pl.Int64))
        .explode("year")
        .with_columns(
            in_force=pl.col("in_force_from").is_not_null() & (pl.col("year") >= pl.col("in_force_from")),
            assumed=pl.col("year") > pl.col("last_attested"),
        )
    )
    ids = pl.col("agreement_id").sort()
    grouped = (
        years.group_by("iso3_a", "iso3_b", "year")
        .agg(
            pl.first("cow_code_a"), pl.first("cow_abbr_a"), pl.first("cow_code_b"), pl.first("cow_abbr_b"),
            n_signed=pl.len().cast(pl.Int64),
            n_in_force=pl.col("in_force").sum().cast(pl.Int64),
            assumed=pl.col("assumed").any().cast(pl.Int64),
            agreement_ids=ids.str.join(LIST_SEPARATOR),
            in_force_ids=pl.col("agreement_id").filter(pl.col("in_force")).sort().str.join(LIST_SEPARATOR),
        )
        .with_columns(in_force_ids=pl.when(pl.col("n_in_force") > 0).then(pl.col("in_force_ids")))
        .sort("iso3_a", "iso3_b", "year")
    )
    return grouped


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
