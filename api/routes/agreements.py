"""/v1/agreements: the filtered, paged list and one agreement in full."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from .. import fts, listing, vocab
from ..models import AgreementDetail, AgreementList, list_responses, one_responses
from ..params import (
    COUNTRY_SCHEMA,
    COW_SCHEMA,
    DATE_SCHEMA,
    NO_NUL,
    PAGING,
    Checker,
    Param,
    Params,
    enum_array,
    fields_param,
    like_pattern,
    query_items,
    upper_bound,
)
from ..problems import Problem
from ..queries import AgreementFilter, agreement_detail, agreements_count, agreements_page
from ..cow import to_iso3
from ..state import Snapshot, ready
from ..streaming import JSON, negotiate

router = APIRouter(tags=["agreements"])

LIST_FIELDS = ["agreement_id", "title", "agreement_type", "instrument", "signed_on", "signed_precision", "venue_city",
               "venue_country_iso3", "venue_country_name", "venue_country_cow_code", "status", "status_as_of", "entry_into_force_on",
               "end_on", "summary", "parties"]
# fields= takes every column of the CSV too: party_names and party_cow_codes (';'-separated, as in the CSV).
FIELD_CHOICES = LIST_FIELDS + ["party_names", "party_cow_codes"]
SORTS = ["signed_on", "-signed_on", "agreement_id", "-agreement_id", "title", "-title"]
KIND = listing.ListKind("agreements", LIST_FIELDS, docs=True)
MAX_PARTIES = 10  # more is no real query, and would make ever larger statements
# The vocabularies values are checked against (fixed for the process: they come from the schema).
TYPES = vocab.enum("agreements", "agreement_type")
INSTRUMENTS = vocab.enum("agreements", "instrument")
STATUSES = vocab.enum("agreements", "status")
CATEGORIES = vocab.enum("equipment", "category")

FILTERS = Params(
    Param("party", "A party, by ISO3 code or Correlates of War code (`RUS` or `365`). Repeat it (or separate codes "
          "with commas) to require several parties: `party=PAK&party=RUS` is the dyad, and a third code narrows to "
          "agreements with all three (at most 10).",
          {"type": "array", "items": COUNTRY_SCHEMA, "maxItems": 10}, multi=True),
    Param("ccode", "A party by Correlates of War code (`ccode=365`); repeat it for several, like `party`, with "
          "which it combines.", {"type": "array", "items": COW_SCHEMA, "maxItems": 10}, multi=True),
    Param("country", "A party by ISO3 or COW code (the same as a single `party`).", COUNTRY_SCHEMA),
    Param("signed_from", "Signed on or after this date: YYYY, YYYY-MM or YYYY-MM-DD. Partial dates (a signing "
          "date known only to the year or month) order as their first day.", DATE_SCHEMA),
    Param("signed_to", "Signed on or before this date: YYYY, YYYY-MM or YYYY-MM-DD (a year or month includes all of it). "
          "A range that ends before it starts matches nothing.", DATE_SCHEMA),
    Param("type", "Agreement type; repeat for any of several. " + vocab.describe("agreements", "agreement_type"),
          enum_array(vocab.enum("agreements", "agreement_type")), multi=True),
    Param("instrument", "Instrument (legal form); repeat for any of several (`instrument=treaty&instrument=agreement` keeps "
          "what DCAD counts). " + vocab.describe("agreements", "instrument"),
          enum_array(vocab.enum("agreements", "instrument")), multi=True),
    Param("status", "Status; repeat for any of several. " + vocab.describe("agreements", "status"),
          enum_array(vocab.enum("agreements", "status")), multi=True),
    Param("venue_country", "The country where it was signed, by ISO3 or COW code.", COUNTRY_SCHEMA),
    Param("equipment_category", "Has equipment of this category; repeat for any of several. "
          + vocab.describe("equipment", "category"), enum_array(vocab.enum("equipment", "category")), multi=True),
    Param("designation", "Has equipment whose designation contains this text, ignoring case (`mi-35` matches Mi-35M). "
          "With equipment_category, the same item must match both.", {"type": "string", "maxLength": 100, "pattern": NO_NUL}),
    Param("q", "Full-text search in title and summary: every word must occur, as a word or the start of one "
          "(accents and case are ignored). A text with no letters or digits filters nothing.",
          {"type": "string", "maxLength": fts.MAX_TEXT, "pattern": NO_NUL}),
)
LIST_PARAMS = FILTERS + Params(
    Param("sort", "Sort order: a field, with `-` for descending; ties are broken by agreement_id. Default signed_on.",
          {"type": "string", "enum": SORTS}),
    fields_param(FIELD_CHOICES),
) + PAGING
ONE_PARAMS = Params()


def agreement_filter(state: Snapshot, check: Checker, p: dict[str, Any]) -> AgreementFilter:
    """The list's filters, checked and normalised (shared with /v1/stats)."""
    parties: list[str] = []
    given: dict[str, int] = {}
    cow = to_iso3(state)
    for name, values in (("party", p["party"]), ("ccode", p.get("ccode") or []),
                         ("country", [p["country"]] if p["country"] is not None else [])):
        # every value counts, an empty one too: the schema's maxItems counts the values as sent
        given[name] = max(given.get(name, 0), len(values))
        codes = 0
        for v in values:
            for part in v.split(","):
                codes += bool(part.strip())
                code = check.country(name, part, state.countries, cow, cow_only=name == "ccode")
                if code and code not in parties:
                    parties.append(code)
        given[name] = max(given[name], codes)
    # Counted as given, before duplicates are dropped, as the schema's maxItems counts them (per parameter:
    # party= and ccode= each take up to 10).
    for name, n in given.items():
        if n > MAX_PARTIES:
            check.fail(name, f"{n} party codes given; at most {MAX_PARTIES} can be required at once")
    lo = check.partial_date("signed_from", p["signed_from"])
    hi = check.partial_date("signed_to", p["signed_to"])
    to_incl = to_excl = None
    if hi:
        to_incl, to_excl = upper_bound(*hi)
    # signed_from after signed_to is a valid, empty range (the schema cannot say otherwise): no rows.
    # (Absent filters are not checked at all: most requests give two or three of the eleven.)
    types = check.choices("type", p["type"], TYPES, "agreement type") if p["type"] else ()
    instruments = check.choices("instrument", p["instrument"], INSTRUMENTS, "instrument") if p["instrument"] else ()
    statuses = check.choices("status", p["status"], STATUSES, "status") if p["status"] else ()
    venue = check.country("venue_country", p["venue_country"], state.countries, cow) if p["venue_country"] else None
    categories = (check.choices("equipment_category", p["equipment_category"], CATEGORIES, "equipment category")
                  if p["equipment_category"] else ())
    desig = check.text("designation", p["designation"], max_len=100) if p["designation"] else None
    query = None
    text = check.text("q", p["q"], max_len=fts.MAX_TEXT) if p["q"] else None
    if text is not None:
        toks = list(dict.fromkeys(fts.tokens(text)))  # a repeated word adds nothing to an AND
        if not toks:
            pass  # no words: every word (of none) occurs, so nothing is filtered out
        elif len(toks) > fts.MAX_TOKENS:
            check.fail("q", f"has {len(toks)} words; at most {fts.MAX_TOKENS} are allowed")
        else:
            query = fts.sqlite_match(toks) if state.db.is_sqlite else fts.pg_tsquery(toks)
    s = check.choice("sort", p.get("sort"), SORTS, "sort order") or "signed_on"
    check.done()
    return AgreementFilter(
        parties=tuple(sorted(parties)),
        signed_from=lo[0] if lo else None,
        signed_to_incl=to_incl,
        signed_to_excl=to_excl,
        types=tuple(sorted(types)) if types else (),
        instruments=tuple(sorted(instruments)) if instruments else (),
        statuses=tuple(sorted(statuses)) if statuses else (),
        venue=venue,
        categories=tuple(sorted(categories)) if categories else (),
        designation=like_pattern(desig) if desig else None,
        q=query,
        sort=s.lstrip("-"),
        desc=s.startswith("-"),
    )


def _accept(request: Request) -> str | None:
    """The first Accept header, as ``request.headers.get("accept")`` gives it (without building Headers)."""
    for k, v in request.scope["headers"]:
        if k == b"accept":
            return v.decode("latin-1")
    return None


def output_format(check: Checker, request: Request, value: str | None) -> str:
    fmt = negotiate(value.strip().lower() if value and value.strip() else None, _accept(request))
    if fmt not in ("json", "csv", "ndjson"):
        check.fail("format", f"{value!r} is not a format; allowed values: json, csv, ndjson", value=value,
                   allowed=["json", "csv", "ndjson"])
        return "json"
    return fmt


@router.get(
    "/agreements",
    operation_id="listAgreements",
    summary="List agreements",
    description=(
        "Agreements matching all the given filters, each with its parties (ISO3 code and name). Paged with `limit` "
        "and the opaque `cursor` of the `next` link; `total` counts every match. `format=csv` (or `Accept: text/csv`) "
        "gives the same rows as CSV (parties as `;`-separated codes and names), `format=ndjson` as newline-delimited "
        "JSON; with either, `limit=all` streams the whole result in one response."
    ),
    response_model=AgreementList,
    responses=list_responses("agreements"),
    openapi_extra=LIST_PARAMS.openapi(),
)
async def list_agreements(request: Request) -> Response:
    p = LIST_PARAMS.read(query_items(request))
    state = ready(request)
    check = Checker()
    fmt = output_format(check, request, p["format"])
    out_fields = check.fields(p["fields"], FIELD_CHOICES)
    limit = check.limit(p["limit"], allow_all=True)
    f = agreement_filter(state, check, p)
    pg = not state.db.is_sqlite
    key_types = (str,) if f.sort == "agreement_id" else (str, str)
    return await listing.respond(
        request, state, KIND,
        shape=f.shape(), scope=f.scope(), params=f.params(),
        page_stmt=lambda with_cursor, limited, records=False: agreements_page(f, pg, with_cursor, limited, records),
        count_stmt=lambda with_cursor: agreements_count(f, pg, with_cursor),
        fmt=fmt, limit=limit, cursor=p["cursor"], fields=out_fields, key_types=key_types,
        inline=f.index_driven,
    )


@router.get(
    "/agreements/{agreement_id}",
    operation_id="getAgreement",
    summary="One agreement",
    description="The agreement with its parties (and signatories), equipment, sources and status history.",
    response_model=AgreementDetail,
    responses=one_responses("agreement"),
)
async def get_agreement(
    request: Request,
    agreement_id: str = Path(description="The agreement id, e.g. pak-rus-2014-11-20."),
) -> Response:
    ONE_PARAMS.read(query_items(request))
    state = ready(request)
    db = state.db
    row = None
    if len(agreement_id) <= 200 and "\x00" not in agreement_id:
        row = await db.fetch_one(db.compiled("agreement_detail", agreement_detail), {"agreement_id": agreement_id}, inline=True)
    if row is None:
        raise Problem(404, f"no agreement with id {agreement_id!r}; find agreements with /v1/agreements?q=...", type="not-found")
    return Response(db.docs.detail(row[0]), media_type=JSON)
