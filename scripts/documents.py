"""Each agreement's documents (list item JSON, detail JSON, CSV record), made with polars expressions.

The API serves these bytes as they are, so they are made once per build. Made per agreement in
Python (a dict and two `orjson.dumps` each) they were most of the build's CPU at 100k; here each
batch of agreements is a handful of joins and group-bys, its JSON comes from `struct.json_encode`
(whose output is orjson's for the types used here: strings, integers, floats and nulls, a test
holds it on awkward text) and its CSV record from string expressions that quote as the `csv`
module does. `tests/test_documents.py` compares every byte with the straightforward
per-agreement construction.
"""
from __future__ import annotations

from typing import Iterator

import polars as pl

# Columns of the API's agreement CSV: the list item's fields, with the parties as
# ';'-separated ISO3 codes and names (in the same order).
CSV_COLUMNS = ["agreement_id", "title", "agreement_type", "instrument", "signed_on", "signed_precision", "venue_city",
               "venue_country_iso3", "venue_country_name", "venue_country_cow_code", "status", "status_as_of",
               "entry_into_force_on", "end_on", "summary", "parties", "party_names", "party_cow_codes"]
ITEM_FIELDS = CSV_COLUMNS[:-3]  # then "parties"; the detail adds notes, equipment, sources, status_history

DOC_CHUNK = 10_000  # agreements per batch of documents: memory is one batch, not the whole package

# A cell needs quotes in a CSV record when it holds one of these (the csv module's QUOTE_MINIMAL with
# the excel dialect and CRLF line ends).
_NEEDS_QUOTES = r'[,"\r\n]'


def _csv_cell(expr: pl.Expr) -> pl.Expr:
    """One cell as csv.writer writes it: empty for null, quoted (quotes doubled) when it must be."""
    s = expr.cast(pl.Utf8)
    quoted = pl.lit('"') + s.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(s.is_null()).then(pl.lit("")).when(s.str.contains(_NEEDS_QUOTES)).then(quoted).otherwise(s)


def _grouped(df: pl.DataFrame, name: str, element: pl.Expr, *more: pl.Expr) -> pl.DataFrame:
    """agreement_id -> the list of its rows' `element` structs (in df's order), and any other aggregates."""
    return df.group_by("agreement_id", maintain_order=True).agg(element.alias(name), *more)


def _with_cow(df: pl.DataFrame, cow: pl.DataFrame, column: str) -> pl.DataFrame:
    """df with the COW code of the country in `column` next to it (as <prefix>_cow_code)."""
    out = column.replace("_iso3", "_cow_code")
    return df.join(cow.rename({"iso3": column, "cow_code": out}), on=column, how="left", maintain_order="left")


def _batch(agreements: pl.DataFrame, children: dict[str, pl.DataFrame], countries: pl.DataFrame) -> pl.DataFrame:
    """agreement_id, list_json, detail_json, csv_record for one batch of agreements (sorted by id)."""
    parties = (children["parties"].sort(["agreement_id", "country_iso3"], maintain_order=True)
               .join(countries, left_on="country_iso3", right_on="iso3", how="left", maintain_order="left"))
    iso3, name, cow_code = pl.col("country_iso3").alias("iso3"), pl.col("name"), pl.col("cow_code")
    parties = _grouped(
        parties, "parties", pl.struct(iso3, name, cow_code),
        pl.struct(iso3, name, cow_code, "signatory_name", "signatory_title", "cow_abbr").alias("parties_detail"),
        pl.col("country_iso3").str.join(";").alias("_codes"),
        name.fill_null("").str.join(";").alias("_names"),
        cow_code.cast(pl.Utf8).fill_null("").str.join(";").alias("_cows"),
    )
    cow = countries.select("iso3", "cow_code")
    equipment = children["equipment"]
    columns = []
    for c in equipment.columns:
        if c != "agreement_id":
            columns.append(c)
            if c in ("supplier_iso3", "recipient_iso3"):
                equipment = _with_cow(equipment, cow, c)
                columns.append(c.replace("_iso3", "_cow_code"))
    equipment = _grouped(equipment.sort(["agreement_id", "equipment_id"], maintain_order=True), "equipment", pl.struct(columns))
    sources = children["sources"]
    sources = _grouped(sources.sort(["agreement_id", "source_id"], maintain_order=True), "sources",
                       pl.struct([c for c in sources.columns if c != "agreement_id"]))
    history = children["status_history"]
    history = _grouped(history.sort(["agreement_id", "status_on", "history_id"], maintain_order=True), "status_history",
                       pl.struct([c for c in history.columns if c != "agreement_id"]))
    venue = countries.select(pl.col("iso3").alias("venue_country_iso3"), pl.col("name").alias("venue_country_name"),
                             pl.col("cow_code").alias("venue_country_cow_code"))
    df = agreements.join(venue, on="venue_country_iso3", how="left", maintain_order="left")
    for g in (parties, equipment, sources, history):
        df = df.join(g, on="agreement_id", how="left", maintain_order="left")
    lists = {c: pl.col(c).fill_null(pl.lit([], dtype=df.schema[c])) for c in ("parties", "parties_detail", "equipment", "sources", "status_history")}
    item = [pl.col(c) for c in ITEM_FIELDS] + [lists["parties"].alias("parties")]
    detail = item[:-1] + [lists["parties_detail"].alias("parties"), pl.col("notes"), lists["equipment"], lists["sources"],
                          lists["status_history"]]
    cells = [_csv_cell(pl.col(c)) for c in ITEM_FIELDS]
    cells += [_csv_cell(pl.col(c).fill_null("")) for c in ("_codes", "_names", "_cows")]
    return df.select(
        "agreement_id",
        pl.struct(item).struct.json_encode().alias("list_json"),
        pl.struct(detail).struct.json_encode().alias("detail_json"),
        (pl.concat_str(cells, separator=",") + pl.lit("\r\n")).alias("csv_record"),
    )


def documents(frames: dict[str, pl.DataFrame], chunk: int = DOC_CHUNK) -> Iterator[list[tuple[str, str, str, str]]]:
    """The JSON the API serves for each agreement (and its CSV record), serialised once here.

    Yields batches of (agreement_id, list_json, detail_json, csv_record) rows in agreement_id order, so that
    only one batch of documents and of the child rows they are made of is held at a time: the child tables
    are sorted by agreement_id once, and each batch takes the contiguous slice of its agreements."""
    countries = frames["countries"].select("iso3", "name", "cow_code", "cow_abbr")
    children = {name: frames[name].sort("agreement_id", maintain_order=True)
                for name in ("parties", "equipment", "sources", "status_history")}
    agreements = frames["agreements"].sort("agreement_id")
    for lo in range(0, agreements.height, chunk):
        batch = agreements.slice(lo, chunk)
        first, last = batch["agreement_id"][0], batch["agreement_id"][-1]
        sliced = {}
        for name, df in children.items():
            ids = df["agreement_id"]
            start = ids.search_sorted(first, side="left")
            stop = ids.search_sorted(last, side="right")
            sliced[name] = df.slice(start, stop - start)
        docs = _batch(batch, sliced, countries)
        yield list(zip(*(docs.get_column(c).to_list() for c in docs.columns)))
