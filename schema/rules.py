"""What a Table Schema cannot say: the dataset's own rules, as pandera checks.

Each rule reads one table enriched with facts from the others (how many parties
an agreement has, which countries they are, which agreement a source belongs
to), so every rule is one vectorised pass however large the package is. A rule
carries both the test (True = fine) and the message a contributor will read,
written to say what is wrong and what would be right.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

# The phrase in notes by which a reviewer marks a record as a separate instrument signed with another
# of the same parties, date and type (the duplicate rule then lets it pass).
NOT_A_DUPLICATE = "Not a duplicate of"

PARTIAL_DATE_PATTERN = "^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"


@dataclass(frozen=True)
class Rule:
    resource: str
    field: str
    code: str
    ok: pl.Expr
    message: pl.Expr


def currency_codes() -> list[str]:
    """ISO 4217 alphabetic codes, from pycountry's copy of the standard (not a hand-kept list)."""
    import pycountry

    return sorted(c.alpha_3 for c in pycountry.currencies)


_PRECISION_LEN = pl.col("signed_precision").replace_strict({"day": 10, "month": 7, "year": 4}, default=-1, return_dtype=pl.Int32)


def _precision_ok() -> pl.Expr:
    """signed_on is exactly as long as its precision says (day YYYY-MM-DD, month YYYY-MM, year YYYY)."""
    return (pl.col("signed_on").is_null() | pl.col("signed_precision").is_null()
            | (pl.col("signed_on").str.len_chars() == pl.col("signed_precision").replace_strict({"day": 10, "month": 7, "year": 4}, default=-1, return_dtype=pl.UInt32)))


def _lit(s: str) -> pl.Expr:
    return pl.lit(s, dtype=pl.Utf8)


def _q(col: str) -> pl.Expr:
    return pl.concat_str([_lit("'"), pl.col(col).fill_null(""), _lit("'")])


def partial_date_fields(resource) -> list[str]:
    return [f.name for f in resource.fields if f.constraints.get("pattern") == PARTIAL_DATE_PATTERN]


def _calendar_ok(col: str) -> pl.Expr:
    c = pl.col(col)
    day = c.str.len_chars() == 10
    return c.is_null() | ~day | c.str.to_date("%Y-%m-%d", strict=False).is_not_null()


def _not_before(later: str, earlier: str) -> pl.Expr:
    """Partial ISO dates compared at the precision both share (lexical order is date order)."""
    a, b = pl.col(later), pl.col(earlier)
    n = pl.min_horizontal(a.str.len_chars(), b.str.len_chars())
    return a.is_null() | b.is_null() | (a.str.slice(0, n) >= b.str.slice(0, n))


def _not_future(col: str, today: str) -> pl.Expr:
    c = pl.col(col).cast(pl.Utf8)
    n = c.str.len_chars()
    return c.is_null() | (c <= _lit(today).str.slice(0, n))


def _date_rules(resource_name: str, resource, today: str) -> list[Rule]:
    out = []
    for name in partial_date_fields(resource):
        out.append(Rule(resource_name, name, "rule-calendar", _calendar_ok(name),
                        pl.concat_str([_q(name), _lit(" is not a date in the calendar; check the day and month")])))
        out.append(Rule(resource_name, name, "rule-future", _not_future(name, today),
                        pl.concat_str([_q(name), _lit(f" is in the future (today is {today}); dates record what has happened")])))
    for f in resource.fields:
        if f.type == "date":
            out.append(Rule(resource_name, f.name, "rule-future", _not_future(f.name, today),
                            pl.concat_str([_q(f.name), _lit(f" is in the future (today is {today}); dates record what has happened")])))
    return out


def _child_id_rule(resource_name: str, id_field: str, letter: str) -> Rule:
    expected = pl.concat_str([pl.col("agreement_id"), _lit(f"-{letter}")])
    ok = pl.col(id_field).is_null() | pl.col("agreement_id").is_null() | (
        pl.col(id_field).str.starts_with(expected) & pl.col(id_field).str.slice(expected.str.len_chars()).str.contains(r"^[0-9]+$")
    )
    msg = pl.concat_str([_q(id_field), _lit(" does not belong to its agreement; expected '"), expected, _lit("' followed by a number (e.g. "), expected, _lit("1)")])
    return Rule(resource_name, id_field, "rule-id", ok, msg)


ORIGIN_TYPES_OF_A_PARTY = ["official", "treaty_text"]


def _origins(sources: pl.DataFrame) -> pl.DataFrame:
    """Independent origins per agreement: sources that reprint no other, one per publisher.

    Two URLs carrying one wire story or press release are one origin, so a source
    that copies another names it in reprint_of and does not count; two pieces by
    the same publisher count once. The publisher stands for the origin, without
    what brackets add ("Ministry of Defence (press release)" and "Ministry of
    Defence (website)" are one), or the site's host when no publisher is given.
    """
    host = pl.col("url").str.extract(r"^https?://(?:www\.)?([^/:?#]+)", 1)
    key = pl.coalesce(
        pl.col("publisher").str.to_lowercase().str.replace_all(r"\([^)]*\)", " ").str.replace_all(r"\s+", " ").str.strip_chars()
        .replace("", None),
        host.str.to_lowercase(),
        pl.col("citation"),
        pl.col("source_id"),
    )
    own = sources.filter(pl.col("agreement_id").is_not_null() & pl.col("reprint_of").is_null())
    return own.group_by("agreement_id").agg(
        key.n_unique().alias("_n_origins"),
        pl.col("source_type").is_in(ORIGIN_TYPES_OF_A_PARTY).all().alias("_origins_official"),
    )


def enrich(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Each table with the facts from other tables its rules need, in its own row order."""
    parties = tables["parties"].select("agreement_id", "country_iso3").drop_nulls()
    per_agreement = parties.group_by("agreement_id").agg(
        pl.col("country_iso3").n_unique().alias("_n_parties"),
        pl.col("country_iso3").unique().sort().str.to_lowercase().str.join("-").alias("_parties_key"),
    )
    sources = tables["sources"].select("source_id", "agreement_id").drop_nulls()
    n_sources = sources.group_by("agreement_id").agg(pl.len().alias("_n_sources"))
    origins = _origins(tables["sources"])
    pairs = parties.rename({"country_iso3": "_iso"})

    a = tables["agreements"].with_row_index("_i")
    a = (a.join(per_agreement, on="agreement_id", how="left").join(n_sources, on="agreement_id", how="left")
         .join(origins, on="agreement_id", how="left").unique("_i").sort("_i"))
    a = a.with_columns(
        pl.col("_n_parties").fill_null(0),
        pl.col("_n_sources").fill_null(0),
        pl.col("_n_origins").fill_null(0),
        pl.col("_origins_official").fill_null(False),
        pl.concat_str([pl.col("_parties_key"), pl.col("signed_on")], separator="-").alias("_expected_id"),
    )
    dup_key = ["_parties_key", "signed_on", "agreement_type"]
    a = a.with_columns(
        pl.when(pl.all_horizontal([pl.col(c).is_not_null() for c in dup_key]))
        .then(pl.col("agreement_id").first().over(dup_key))
        .alias("_first_same")
    )

    e = tables["equipment"].with_row_index("_i")
    pair_keys = pairs.select(pl.concat_str(["agreement_id", "_iso"], separator="|").alias("k")).get_column("k").implode()
    src_owner = sources.unique("source_id", keep="first").rename({"agreement_id": "_source_agreement"})
    e = e.join(src_owner, on="source_id", how="left").sort("_i").with_columns(
        (pl.col("supplier_iso3").is_null() | pl.concat_str(["agreement_id", "supplier_iso3"], separator="|").is_in(pair_keys)).alias("_supplier_party"),
        (pl.col("recipient_iso3").is_null() | pl.concat_str(["agreement_id", "recipient_iso3"], separator="|").is_in(pair_keys)).alias("_recipient_party"),
    )

    eq_owner = tables["equipment"].select("equipment_id", pl.col("agreement_id").alias("_equipment_agreement")).drop_nulls().unique("equipment_id")
    h = tables["status_history"].with_row_index("_i")
    h = h.join(src_owner, on="source_id", how="left").join(eq_owner, on="equipment_id", how="left").sort("_i")

    reprinted = tables["sources"].select("source_id", pl.col("agreement_id").alias("_reprint_agreement")).drop_nulls().unique("source_id")
    s = tables["sources"].with_row_index("_i")
    s = s.join(reprinted, left_on="reprint_of", right_on="source_id", how="left").sort("_i")
    return {"agreements": a, "equipment": e, "status_history": h, "sources": s, "parties": tables["parties"].with_row_index("_i")}


def rules(package, today: dt.date | None = None) -> list[Rule]:
    today_s = (today or dt.date.today()).isoformat()
    R: list[Rule] = []
    ag = package.resource("agreements")
    R += _date_rules("agreements", ag, today_s)
    R += [
        Rule("agreements", "agreement_id", "rule-parties", pl.col("_n_parties") >= 2,
             pl.concat_str([_lit("has "), pl.col("_n_parties").cast(pl.Utf8), _lit(" distinct part"),
                            pl.when(pl.col("_n_parties") == 1).then(_lit("y")).otherwise(_lit("ies")),
                            _lit(" in parties.csv; an agreement needs at least two state parties: add a row per party to parties.csv")])),
        Rule("agreements", "agreement_id", "rule-sources", pl.col("_n_sources") >= 1,
             _lit("has no source in sources.csv; every agreement must cite at least one real source (URL or full bibliographic reference)")),
        Rule("agreements", "agreement_id", "rule-origins",
             (pl.col("_n_sources") < 1) | (pl.col("_n_origins") >= 2)
             | ((pl.col("_n_origins") == 1) & pl.col("_origins_official") & pl.col("notes").fill_null("").str.contains("(?i)single origin:")),
             pl.concat_str([_lit("has "), pl.col("_n_origins").cast(pl.Utf8), _lit(" independent origin"),
                            pl.when(pl.col("_n_origins") == 1).then(_lit("")).otherwise(_lit("s")),
                            _lit(" in sources.csv; every agreement needs at least two: sources from different publishers that do not copy each other "
                                 "(a reprint of a wire story or press release names the source it copies in reprint_of and does not count). "
                                 "Add an independent source, or, only when the one origin is an official text of a party, write 'Single origin:' and the reason in notes")])),
        Rule("agreements", "signed_precision", "rule-precision", _precision_ok(),
             pl.when(pl.col("signed_on").str.len_chars() > _PRECISION_LEN)
             .then(pl.concat_str([_q("signed_precision"), _lit(" does not match signed_on "), _q("signed_on"),
                                  _lit(", which is more precise; if the sources give only the "), pl.col("signed_precision"),
                                  _lit(", write signed_on as '"), pl.col("signed_on").str.slice(0, _PRECISION_LEN.clip(0, 10).cast(pl.UInt32)), _lit("', the date the id uses too; "
                                  "if a source gives the exact date, correct signed_precision")]))
             .otherwise(pl.concat_str([_q("signed_precision"), _lit(" does not match signed_on "), _q("signed_on"),
                            _lit("; use 'day' for YYYY-MM-DD, 'month' for YYYY-MM, 'year' for YYYY (never add a day or month that no source gives)")]))),
        Rule("agreements", "status_as_of", "rule-order",
             pl.col("status_as_of").is_null() | pl.col("signed_on").is_null()
             | (pl.col("status_as_of").cast(pl.Utf8).str.slice(0, pl.col("signed_on").str.len_chars()) >= pl.col("signed_on")),
             pl.concat_str([_q("status_as_of"), _lit(" is before the signing date "), _q("signed_on"), _lit("; the status cannot be known as of a date before signature")])),
        Rule("agreements", "entry_into_force_on", "rule-order", _not_before("entry_into_force_on", "signed_on"),
             pl.concat_str([_q("entry_into_force_on"), _lit(" is before the signing date "), _q("signed_on"), _lit("; an agreement cannot enter into force before it is signed")])),
        Rule("agreements", "end_on", "rule-order", _not_before("end_on", "signed_on") & _not_before("end_on", "entry_into_force_on"),
             pl.concat_str([_q("end_on"), _lit(" is before the signing date or the entry into force; check both dates")])),
        Rule("agreements", "agreement_id", "rule-id",
             # a date padded beyond its precision is the precision rule's finding alone: the id
             # is never told to take a day or month that no source gave
             ~_precision_ok()
             | pl.col("agreement_id").is_null() | pl.col("_expected_id").is_null() | (pl.col("_n_parties") < 2)
             | (pl.col("agreement_id") == pl.col("_expected_id"))
             | (pl.col("agreement_id").str.starts_with(pl.concat_str([pl.col("_expected_id"), _lit("-")]))
                & pl.col("agreement_id").str.slice(pl.col("_expected_id").str.len_chars() + 1).str.contains("^[a-z][a-z0-9]*$")),
             pl.concat_str([_q("agreement_id"), _lit(" does not agree with the parties and signing date; expected '"), pl.col("_expected_id"),
                            _lit("' (parties' ISO3 codes in lower case, sorted, then signed_on), with a suffix such as -b only when two agreements share both")])),
        Rule("agreements", "agreement_id", "rule-duplicate",
             pl.col("_first_same").is_null() | (pl.col("_first_same") == pl.col("agreement_id"))
             # several instruments of one type are often signed together (three procurement deals at one
             # summit): a record that names the other in notes as "Not a duplicate of <id>" has been checked
             | (pl.col("notes").str.contains(NOT_A_DUPLICATE, literal=True)
                & pl.col("notes").str.contains(pl.col("_first_same"), literal=True)).fill_null(False),
             pl.concat_str([_lit("has the same parties, signing date and type as '"), pl.col("_first_same"),
                            _lit("'; if it is the same agreement, merge the two records; if not, check the type or date, "
                                 "or, if it is a separate instrument signed with it, say so in notes: '" + NOT_A_DUPLICATE + " "),
                            pl.col("_first_same"), _lit(": ' and what sets it apart")])),
    ]
    R += _date_rules("sources", package.resource("sources"), today_s)
    R += [
        Rule("sources", "url", "rule-citation", pl.col("url").is_not_null() | pl.col("citation").is_not_null(),
             _lit("is empty and so is citation; give the source's URL or, when it has none, a full bibliographic reference in citation")),
        Rule("sources", "url", "rule-url",
             # feed and campaign parameters are not part of the page's address, and make one page look like two
             pl.col("url").is_null() | ~pl.col("url").str.contains(r"[?&]utm_[A-Za-z]+="),
             pl.concat_str([_q("url"), _lit(" carries tracking parameters (utm_...); cite the page's own address: "
                                            "remove everything from the first '?utm_' or '&utm_' that belongs to them")])),
        _child_id_rule("sources", "source_id", "s"),
        Rule("sources", "reprint_of", "rule-source-owner",
             pl.col("reprint_of").is_null() | pl.col("_reprint_agreement").is_null()
             | ((pl.col("_reprint_agreement") == pl.col("agreement_id")) & (pl.col("reprint_of") != pl.col("source_id"))),
             pl.concat_str([_q("reprint_of"), _lit(" must name another source of "), _q("agreement_id"),
                            _lit(" (the one whose text this source copies), not this source itself nor a source of another agreement")])),
    ]
    R += [
        _child_id_rule("equipment", "equipment_id", "e"),
        Rule("equipment", "value_currency", "rule-currency",
             pl.col("value_currency").is_null() | pl.col("value_currency").is_in(currency_codes()),
             pl.concat_str([_q("value_currency"), _lit(" is not an ISO 4217 currency code; give the code of the currency the source states "
                                                       "the value in (e.g. USD, EUR, RUB, INR)")])),
        Rule("equipment", "supplier_iso3", "rule-party",
             (pl.col("_supplier_party") & pl.col("_recipient_party")) | pl.col("non_party_reason").is_not_null(),
             pl.concat_str([
                 pl.when(~pl.col("_supplier_party") & ~pl.col("_recipient_party"))
                 .then(pl.concat_str([_lit("neither supplier "), _q("supplier_iso3"), _lit(" nor recipient "), _q("recipient_iso3"), _lit(" is")]))
                 .when(~pl.col("_supplier_party")).then(pl.concat_str([_lit("the supplier "), _q("supplier_iso3"), _lit(" is")]))
                 .otherwise(pl.concat_str([_lit("the recipient "), _q("recipient_iso3"), _lit(" is")])),
                 _lit(" not a party to "), _q("agreement_id"), _lit("; correct the code, or say why in non_party_reason")])),
        Rule("equipment", "source_id", "rule-source-owner",
             pl.col("_source_agreement").is_null() | (pl.col("_source_agreement") == pl.col("agreement_id")),
             pl.concat_str([_q("source_id"), _lit(" is a source of "), _q("_source_agreement"), _lit(", not of "), _q("agreement_id"),
                            _lit("; cite a source of this agreement (add it to sources.csv if needed)")])),
    ]
    R += _date_rules("status_history", package.resource("status_history"), today_s)
    R += [
        _child_id_rule("status_history", "history_id", "h"),
        Rule("status_history", "agreement_status", "rule-history-kind",
             pl.col("agreement_status").is_null() ^ pl.col("equipment_status").is_null(),
             _lit("give exactly one of agreement_status (a step of the agreement) or equipment_status (a step of an equipment item)")),
        Rule("status_history", "equipment_id", "rule-history-kind",
             pl.col("equipment_status").is_null() | pl.col("equipment_id").is_not_null(),
             _lit("is empty but equipment_status is given; name the equipment item this step concerns")),
        Rule("status_history", "equipment_id", "rule-equipment-owner",
             pl.col("_equipment_agreement").is_null() | (pl.col("_equipment_agreement") == pl.col("agreement_id")),
             pl.concat_str([_q("equipment_id"), _lit(" belongs to "), _q("_equipment_agreement"), _lit(", not to "), _q("agreement_id")])),
        Rule("status_history", "source_id", "rule-source-owner",
             pl.col("_source_agreement").is_null() | (pl.col("_source_agreement") == pl.col("agreement_id")),
             pl.concat_str([_q("source_id"), _lit(" is a source of "), _q("_source_agreement"), _lit(", not of "), _q("agreement_id"),
                            _lit("; cite a source of this agreement (add it to sources.csv if needed)")])),
    ]
    return R


def rule_schemas(rule_list: list[Rule]) -> dict[str, pa.DataFrameSchema]:
    """One pandera schema per resource, one dataframe-level check per rule."""
    by_resource: dict[str, list[pa.Check]] = {}
    for i, r in enumerate(rule_list):
        by_resource.setdefault(r.resource, []).append(
            pa.Check(lambda data, e=r.ok: data.lazyframe.select(e.fill_null(True).alias("ok")), name=f"rule:{i}")
        )
    return {name: pa.DataFrameSchema(checks=checks, name=f"{name} rules") for name, checks in by_resource.items()}
