"""/v1/stats: counts by year, type, status and country, for charts; as JSON or one CSV table."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from .. import vocab
from ..models import Stats, plain_responses, problem_doc
from ..cow import by_iso3
from ..params import Checker
from ..queries import stats_statements
from ..state import ready
from ..streaming import JSON, json_bytes
from ..params import Param, Params, query_items
from ..streaming import CSV, CsvEncoder
from .agreements import FILTERS, agreement_filter, output_format

STATS_PARAMS = FILTERS + Params(
    Param("format", "json (default) or csv: one table with a row per count (columns by, key, name, cow_code, count); "
          "overrides the Accept header (text/csv).", {"type": "string", "enum": ["json", "csv"]}),
)
CSV_COLUMNS = ["by", "key", "name", "cow_code", "count"]


def stats_csv(body: dict) -> bytes:
    """The counts as one long table: by (total, year, type, status, country), key, name, cow_code, count."""
    rows: list[list] = [["total", "", "", "", body["total"]]]
    for by, key in (("year", "by_year"), ("type", "by_type"), ("status", "by_status")):
        rows += [[by, c["key"], "", "", c["count"]] for c in body[key]]
    rows += [["country", c["iso3"], c["name"] or "", "" if c["cow_code"] is None else c["cow_code"], c["count"]]
             for c in body["by_country"]]
    enc = CsvEncoder(CSV_COLUMNS)
    return enc.head() + enc.rows(rows)

router = APIRouter(tags=["stats"])


@router.get(
    "/stats",
    operation_id="getStats",
    summary="Counts for charts",
    description=(
        "Agreements counted by year of signature, type, status and party country. Takes the same filters as "
        "/v1/agreements (e.g. `party=PAK` for one country's agreements per year); without filters it covers "
        "the whole dataset. `format=csv` (or `Accept: text/csv`) gives the same counts as one table."
    ),
    response_model=Stats,
    responses={**plain_responses(), 200: {**plain_responses()[200], "content": {"text/csv": {"schema": {"type": "string"}}}},
               422: problem_doc("A parameter value is not valid; the problem names the allowed values.")},
    openapi_extra=STATS_PARAMS.openapi(),
)
async def stats(request: Request) -> Response:
    p = STATS_PARAMS.read(query_items(request))
    state = ready(request)
    check = Checker()
    fmt = output_format(check, request, p["format"])
    if fmt == "ndjson":
        check.fail("format", "'ndjson' is not a format of /v1/stats; allowed values: json, csv", value=p["format"],
                   allowed=["json", "csv"])
    f = agreement_filter(state, check, p)
    key = ("stats", f.shape(), tuple(sorted(f.params().items())))
    cached = state.cache.get(key)
    if cached is None:
        db = state.db
        pg = not db.is_sqlite
        params = f.params()
        stmts = stats_statements(f, pg)
        result = {}
        for name in stmts:
            c = db.compiled(("stats", name, f.shape()), lambda name=name: stats_statements(f, pg)[name])
            result[name] = await db.fetch_all(c, params)
        years = {str(y): n for y, n in result["year"] if y}
        by_year = []
        if years:
            lo, hi = int(min(years)), int(max(years))
            by_year = [{"key": f"{y:04d}", "count": years.get(f"{y:04d}", 0)} for y in range(lo, hi + 1)]
        cows = by_iso3(state)
        types = dict(result["type"])
        statuses = dict(result["status"])
        body = {
            "total": result["total"][0][0],
            "by_year": by_year,
            "by_type": [{"key": t, "count": types.get(t, 0)} for t in vocab.enum("agreements", "agreement_type")],
            "by_status": [{"key": s, "count": statuses.get(s, 0)} for s in vocab.enum("agreements", "status")],
            "by_country": [{"iso3": c, "name": state.countries.get(c), "cow_code": cows.get(c), "count": n}
                           for c, n in result["country"]],
            "filters": {k: v for k, v in {
                "party": list(f.parties) or None, "signed_from": p["signed_from"] or None, "signed_to": p["signed_to"] or None,
                "type": list(f.types) or None, "instrument": list(f.instruments) or None, "status": list(f.statuses) or None, "venue_country": f.venue,
                "equipment_category": list(f.categories) or None, "designation": p["designation"] or None, "q": p["q"] or None,
            }.items() if v},
        }
        cached = (json_bytes(body), stats_csv(body))
        state.cache.put(key, cached)
    if fmt == "csv":
        version = (state.info.version if state.info else "") or "data"
        return Response(cached[1], media_type=CSV,
                        headers={"Content-Disposition": f'attachment; filename="dca-{version}-stats.csv"'})
    return Response(cached[0], media_type=JSON)
