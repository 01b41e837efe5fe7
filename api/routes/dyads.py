"""/v1/dyads and /v1/dyad-years: the researcher exports' pair tables, queryable.

The rows are those of build/exports/dyads.csv and dyad_years.csv (stored at build
time by scripts/dyad_store.py from the code that writes those files), with the same
columns; states can be given by ISO3 or Correlates of War code.
"""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from scripts.export_columns import RULE_UNTIL_ENDED, RULES

from .. import listing
from ..cow import to_iso3
from ..models import DyadList, DyadYearList, list_responses
from ..params import COUNTRY_SCHEMA, COW_SCHEMA, PAGING, Checker, Param, Params, fields_param, query_items
from ..queries import (
    DYAD_COLUMNS,
    DYAD_YEAR_COLUMNS,
    DyadFilter,
    dyad_years_count,
    dyad_years_page,
    dyads_count,
    dyads_page,
)
from ..state import Snapshot, ready
from .agreements import output_format

router = APIRouter(tags=["dyads"])

DYADS = listing.ListKind("dyads", DYAD_COLUMNS, columns=DYAD_COLUMNS, key_types=(str, str, str))
DYAD_YEARS = listing.ListKind("dyad_years", DYAD_YEAR_COLUMNS, columns=DYAD_YEAR_COLUMNS, key_types=(str, str, int),
                              decode="dyad_year_row")  # id lists stored packed (scripts/doc_store.py)
YEAR = re.compile(r"^[0-9]{4}$")
YEAR_SCHEMA = {"type": "integer", "minimum": 1000, "maximum": 9999}


def _filters(year_what: str) -> Params:
    return Params(
        Param("state", "Pairs with this state on either side, by ISO3 or Correlates of War code (`RUS` or `365`).",
              COUNTRY_SCHEMA),
        Param("ccode", "Pairs with this state on either side, by Correlates of War code (`ccode=365`).", COW_SCHEMA),
        Param("pair", "One pair of states, two codes (ISO3 or COW) in either order: `pair=PAK,RUS` or "
              "`pair=PAK&pair=RUS` (one code alone is that state's pairs, as `state=`). Combines with state= and ccode=: "
              "every state named must be in the pair.", {"type": "array", "items": COUNTRY_SCHEMA, "minItems": 1, "maxItems": 2, "uniqueItems": True},
              multi=True, explode=False),
        Param("year_from", f"{year_what} in or after this year (YYYY), both included.", YEAR_SCHEMA),
        Param("year_to", f"{year_what} in or before this year (YYYY).", YEAR_SCHEMA),
    )


DYAD_PARAMS = _filters("Signed") + Params(fields_param(DYAD_COLUMNS)) + PAGING
DYAD_YEAR_PARAMS = _filters("Years") + Params(
    Param("rule", "The dyad-year rule of the exports: `until-ended` (default; an agreement counts until it is known to "
          "end, the rows of dyad_years.csv) or `attested` (only through its last attested year, the rows of "
          "`dca export --rule attested`). The codebook states both.", {"type": "string", "enum": list(RULES)}),
    fields_param(DYAD_YEAR_COLUMNS),
) + PAGING


def _year(check: Checker, name: str, value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    if not YEAR.match(value.strip()):
        check.fail(name, f"{value!r} is not a year; use four digits, e.g. 2014", value=value)
        return None
    return int(value)


def dyad_filter(state: Snapshot, check: Checker, p: dict[str, Any], *, rule: str | None = None) -> DyadFilter:
    cow = to_iso3(state)
    wanted: list[str] = []  # every state named: a row must have all of them
    for name, value in (("state", p["state"]), ("ccode", p["ccode"])):
        code = check.country(name, value, state.countries, cow, cow_only=name == "ccode")
        if code:
            wanted.append(code)
    parts = [part.strip() for v in p["pair"] for part in v.split(",")]
    codes = [c for c in parts if c]
    # At most two items, empty ones counted (`pair=,,PAK,RUS` is four items, not a pair; `pair=PAK,` is PAK's
    # pairs, an empty item being read as absent as everywhere): what the OpenAPI description says.
    if len(parts) > 2:
        how = f"{len(codes)} codes" if len(codes) == len(parts) else f"{len(parts)} items, {len(parts) - len(codes)} of them empty"
        check.fail("pair", f"give exactly two states (e.g. pair=PAK,RUS), not {how}", value=",".join(parts))
        codes = []
    got = [check.country("pair", c, state.countries, cow) for c in codes[:2]]
    if len(got) == 2 and got[0] and got[0] == got[1]:
        check.fail("pair", f"names {got[0]} twice; a pair is two different states", value=",".join(codes))
    wanted += [g for g in got if g]
    lo = _year(check, "year_from", p["year_from"])
    hi = _year(check, "year_to", p["year_to"])
    check.done()
    # One state: its pairs; two: that pair; more: no pair has them all (a year range that ends before it
    # starts likewise matches nothing, as signed_from/signed_to do).
    states = sorted(set(wanted))
    one = states[0] if len(states) == 1 else None
    pair = tuple(states) if len(states) == 2 else (("", "") if len(states) > 2 else None)
    return DyadFilter(state=one, pair=pair, year_from=lo, year_to=hi, rule=rule)  # type: ignore[arg-type]


async def _respond(request: Request, kind: listing.ListKind, params: Params, page, count, with_rule: bool) -> Response:
    p = params.read(query_items(request))
    state = ready(request)
    check = Checker()
    fmt = output_format(check, request, p["format"])
    out_fields = check.fields(p["fields"], kind.fields)
    limit = check.limit(p["limit"], allow_all=True)
    rule = (check.choice("rule", p["rule"], list(RULES), "dyad-year rule") or RULE_UNTIL_ENDED) if with_rule else None
    f = dyad_filter(state, check, p, rule=rule)
    return await listing.respond(
        request, state, kind, shape=f.shape(), scope=f.scope(), params=f.params(),
        page_stmt=lambda c, lim, _records=False: page(f, c, lim), count_stmt=lambda c: count(f, c),
        fmt=fmt, limit=limit, cursor=p["cursor"], fields=out_fields, inline=not f.state,
    )


@router.get("/dyads", summary="List dyads", operation_id="listDyads",
            description="One row per pair of parties per agreement: the rows and columns of the researcher export "
                        "dyads.csv (party A's ISO3 code sorts first; ccode1 < ccode2 are the same two states in COW "
                        "order). Sorted by agreement_id, iso3_a, iso3_b.",
            response_model=DyadList, responses=list_responses("dyads"), openapi_extra=DYAD_PARAMS.openapi())
async def list_dyads(request: Request) -> Response:
    return await _respond(request, DYADS, DYAD_PARAMS, dyads_page, dyads_count, False)


@router.get("/dyad-years", summary="List dyad-years", operation_id="listDyadYears",
            description="One row per pair of states and year with at least one agreement in effect, with n_signed, "
                        "n_in_force and the agreements counted: the rows and columns of the researcher export "
                        "dyad_years.csv (or, with rule=attested, of `dca export --rule attested`). Sorted by iso3_a, "
                        "iso3_b, year.",
            response_model=DyadYearList, responses=list_responses("dyad-years"), openapi_extra=DYAD_YEAR_PARAMS.openapi())
async def list_dyad_years(request: Request) -> Response:
    return await _respond(request, DYAD_YEARS, DYAD_YEAR_PARAMS, dyad_years_page, dyad_years_count, True)
