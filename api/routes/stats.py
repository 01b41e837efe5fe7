"""/v1/stats: counts by year, type, status and country, for charts."""
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
from .agreements import FILTERS as STATS_PARAMS
from .agreements import agreement_filter

router = APIRouter(tags=["stats"])


@router.get(
    "/stats",
    operation_id="getStats",
    summary="Counts for charts",
    description=(
        "Agreements counted by year of signature, type, status and party country. Takes the same filters as "
        "/v1/agreements (e.g. `party=PAK` for one country's agreements per year); without filters it covers "
        "the whole dataset."
    ),
    response_model=Stats,
    responses={**plain_responses(), 422: problem_doc("A parameter value is not valid; the problem names the allowed values.")},
    openapi_extra=STATS_PARAMS.openapi(),
)
async def stats(request: Request) -> Response:
    p = STATS_PARAMS.read(request.query_params)
    state = ready(request)
    check = Checker()
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
        cached = json_bytes(body)
        state.cache.put(key, cached)
    return Response(cached, media_type=JSON)
