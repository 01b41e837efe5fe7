"""/v1/countries, /v1/countries/{iso3}, /v1/equipment and /v1/sources."""
from __future__ import annotations

import re

import orjson
from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from .. import listing, vocab
from ..models import CountryDetail, CountryList, EquipmentList, SourceList, list_responses, one_responses
from ..cow import to_iso3
from ..params import (COUNTRY_SCHEMA, NO_NUL, PAGING, Checker, Param, Params, enum_array, fields_param, like_pattern,
                      query_items)
from ..problems import Problem
from ..queries import (
    COUNTRY_COLUMNS,
    COUNTRY_SORTS,
    EQUIPMENT_COLUMNS,
    SOURCE_COLUMNS,
    TableFilter,
    countries_count,
    countries_page,
    country_one,
    equipment_count,
    equipment_page,
    sources_count,
    sources_page,
)
from ..state import ready
from ..streaming import JSON
from .agreements import output_format

router = APIRouter()

COUNTRIES = listing.ListKind("countries", COUNTRY_COLUMNS, columns=COUNTRY_COLUMNS)
EQUIPMENT = listing.ListKind("equipment", EQUIPMENT_COLUMNS, columns=EQUIPMENT_COLUMNS)
SOURCES = listing.ListKind("sources", SOURCE_COLUMNS, columns=SOURCE_COLUMNS)
AGREEMENT_ID = re.compile(r"^[a-z0-9-]{1,200}$")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
AGREEMENT_ID_SCHEMA = {"type": "string", "pattern": "^[a-z0-9-]{1,200}$"}

COUNTRY_PARAMS = Params(
    Param("region", vocab.describe("countries", "region"), {"type": "string", "maxLength": 100, "pattern": NO_NUL}),
    Param("has_agreements", "true (or 1, yes): only countries party to at least one agreement; false (or 0, no): only the others.",
          {"type": "string", "enum": list(TRUE + FALSE)}),
    Param("sort", "iso3 (default), name, or -agreement_count (most agreements first, then by iso3).",
          {"type": "string", "enum": list(COUNTRY_SORTS)}),
    fields_param(COUNTRY_COLUMNS),
) + PAGING
EQUIPMENT_PARAMS = Params(
    Param("agreement_id", "Only the equipment of this agreement.", AGREEMENT_ID_SCHEMA),
    Param("category", "Category; repeat for any of several. " + vocab.describe("equipment", "category"),
          enum_array(vocab.enum("equipment", "category")), multi=True),
    Param("status", "Item status; repeat for any of several. " + vocab.describe("equipment", "status"),
          enum_array(vocab.enum("equipment", "status")), multi=True),
    Param("designation", "Designation contains this text, ignoring case (`mi-35` matches Mi-35M).", {"type": "string", "maxLength": 100, "pattern": NO_NUL}),
    Param("supplier", "The supplying state, by ISO3 or Correlates of War code.", COUNTRY_SCHEMA),
    Param("recipient", "The receiving state, by ISO3 or Correlates of War code.", COUNTRY_SCHEMA),
    fields_param(EQUIPMENT_COLUMNS),
) + PAGING
SOURCE_PARAMS = Params(
    Param("agreement_id", "Only the sources of this agreement.", AGREEMENT_ID_SCHEMA),
    Param("source_type", "Source type; repeat for any of several. " + vocab.describe("sources", "source_type"),
          enum_array(vocab.enum("sources", "source_type")), multi=True),
    fields_param(SOURCE_COLUMNS),
) + PAGING
ONE_PARAMS = Params()


def _filter(eq: dict[str, tuple], like: dict[str, str | None], flags: tuple[str, ...] = (), sort: str = "") -> TableFilter:
    values = []
    eq_shape = []
    for name, vals in eq.items():
        if vals:
            eq_shape.append((name, len(vals)))
            values += [(f"{name}{i}", v) for i, v in enumerate(vals)]
    like_shape = []
    for name, v in like.items():
        if v:
            like_shape.append(name)
            values.append((f"{name}_like", like_pattern(v)))
    return TableFilter(eq=tuple(eq_shape), like=tuple(like_shape), flags=flags, sort=sort, values=tuple(values))


def _agreement_id(check: Checker, value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        return ()
    v = value.strip()
    if not AGREEMENT_ID.match(v):
        check.fail("agreement_id", f"{value!r} is not an agreement id (lower-case letters, digits and hyphens, "
                   "e.g. pak-rus-2014-11-20)", value=value)
        return ()
    return (v,)


@router.get("/countries", operation_id="listCountries", tags=["countries"], summary="List countries",
            description="Every country of the ISO 3166-1 table, with how many agreements it is a party to and with "
                        "how many partners.",
            response_model=CountryList, responses=list_responses("countries"), openapi_extra=COUNTRY_PARAMS.openapi())
async def list_countries(request: Request) -> Response:
    p = COUNTRY_PARAMS.read(query_items(request))
    state = ready(request)
    check = Checker()
    fmt = output_format(check, request, p["format"])
    out_fields = check.fields(p["fields"], COUNTRY_COLUMNS)
    s = check.choice("sort", p["sort"], list(COUNTRY_SORTS), "sort order") or "iso3"
    flags: tuple[str, ...] = ()
    has = p["has_agreements"]
    if has:
        v = has
        if v in TRUE:
            flags = ("has_agreements",)
        elif v in FALSE:
            flags = ("no_agreements",)
        else:
            check.fail("has_agreements", f"{has!r} is not a boolean; use true or false", value=has, allowed=["true", "false"])
    reg = check.text("region", p["region"], max_len=100)
    limit = check.limit(p["limit"], allow_all=True)
    check.done()
    f = _filter({"region": (reg.strip(),) if reg else ()}, {}, flags, s)
    key_types = (str,) if s == "iso3" else ((str, str) if s == "name" else (int, str))
    return await listing.respond(
        request, state, COUNTRIES, shape=f.shape(), scope=f.scope(), params=f.params(),
        page_stmt=lambda c, lim, _records=False: countries_page(f, c, lim), count_stmt=lambda c: countries_count(f, c),
        fmt=fmt, limit=limit, cursor=p["cursor"], fields=out_fields, key_types=key_types, inline=True,
    )


@router.get("/countries/{iso3}", operation_id="getCountry", tags=["countries"], summary="One country",
            description="A country with its agreement counts, first and last signing dates, and its partners "
                        "(the states it has agreements with, most shared agreements first).",
            response_model=CountryDetail, responses=one_responses("country"))
async def get_country(
    request: Request,
    iso3: str = Path(description="ISO 3166-1 alpha-3 code (case-insensitive), e.g. PAK, or the Correlates of War "
                     "code, e.g. 770."),
) -> Response:
    ONE_PARAMS.read(query_items(request))
    state = ready(request)
    code = iso3.strip().upper()
    if re.fullmatch(r"[0-9]{1,4}", code):
        code = to_iso3(state).get(int(code), code)
    if not re.fullmatch(r"[A-Z]{3}", code) or code not in state.countries:
        raise Problem(404, f"no country with code {iso3!r}; the list is at /v1/countries", type="not-found")
    db = state.db
    row = await db.fetch_one(db.compiled("country_one", country_one), {"iso3": code}, inline=True)
    if row is None:  # pragma: no cover - the code was in the table at start-up
        raise Problem(404, f"no country with code {iso3!r}", type="not-found")
    item = dict(zip(COUNTRY_COLUMNS, row[: len(COUNTRY_COLUMNS)]))
    partners = row[len(COUNTRY_COLUMNS)]
    base = str(request.base_url).rstrip("/")
    links = {
        "agreements": f"{base}/v1/agreements?party={code}",
        "agreements_csv": f"{base}/v1/agreements?party={code}&format=csv&limit=all",
        "stats": f"{base}/v1/stats?party={code}",
    }
    body = (orjson.dumps(item)[:-1] + b',"partners":' + (partners.encode() if partners else b"[]")
            + b',"links":' + orjson.dumps(links) + b"}")
    return Response(body, media_type=JSON)


@router.get("/equipment", operation_id="listEquipment", tags=["equipment"], summary="List equipment",
            description="Equipment named in connection with agreements, one row per item.",
            response_model=EquipmentList, responses=list_responses("equipment"), openapi_extra=EQUIPMENT_PARAMS.openapi())
async def list_equipment(request: Request) -> Response:
    p = EQUIPMENT_PARAMS.read(query_items(request))
    state = ready(request)
    check = Checker()
    fmt = output_format(check, request, p["format"])
    out_fields = check.fields(p["fields"], EQUIPMENT_COLUMNS)
    aid = _agreement_id(check, p["agreement_id"])
    cats = check.choices("category", p["category"], vocab.enum("equipment", "category"), "equipment category")
    sts = check.choices("status", p["status"], vocab.enum("equipment", "status"), "item status")
    desig = check.text("designation", p["designation"], max_len=100)
    sup = check.country("supplier", p["supplier"], state.countries, to_iso3(state))
    rec = check.country("recipient", p["recipient"], state.countries, to_iso3(state))
    limit = check.limit(p["limit"], allow_all=True)
    check.done()
    f = _filter({"agreement_id": aid, "category": tuple(sorted(cats)), "status": tuple(sorted(sts)),
                 "supplier_iso3": (sup,) if sup else (), "recipient_iso3": (rec,) if rec else ()},
                {"designation": desig})
    return await listing.respond(
        request, state, EQUIPMENT, shape=f.shape(), scope=f.scope(), params=f.params(),
        page_stmt=lambda c, lim, _records=False: equipment_page(f, c, lim), count_stmt=lambda c: equipment_count(f, c),
        fmt=fmt, limit=limit, cursor=p["cursor"], fields=out_fields,
        inline=f.eq in ((), (("agreement_id", 1),)) and not f.like,
    )


@router.get("/sources", operation_id="listSources", tags=["sources"], summary="List sources",
            description="The sources that support the records.",
            response_model=SourceList, responses=list_responses("sources"), openapi_extra=SOURCE_PARAMS.openapi())
async def list_sources(request: Request) -> Response:
    p = SOURCE_PARAMS.read(query_items(request))
    state = ready(request)
    check = Checker()
    fmt = output_format(check, request, p["format"])
    out_fields = check.fields(p["fields"], SOURCE_COLUMNS)
    aid = _agreement_id(check, p["agreement_id"])
    types = check.choices("source_type", p["source_type"], vocab.enum("sources", "source_type"), "source type")
    limit = check.limit(p["limit"], allow_all=True)
    check.done()
    f = _filter({"agreement_id": aid, "source_type": tuple(sorted(types))}, {})
    return await listing.respond(
        request, state, SOURCES, shape=f.shape(), scope=f.scope(), params=f.params(),
        page_stmt=lambda c, lim, _records=False: sources_page(f, c, lim), count_stmt=lambda c: sources_count(f, c),
        fmt=fmt, limit=limit, cursor=p["cursor"], fields=out_fields,
        inline=f.eq in ((), (("agreement_id", 1),)),
    )
