"""The web pages: ``/`` (overview, browse, filter, downloads), ``/agreements/{id}``, ``/countries``,
``/countries/{iso3}``, ``/countries/{a}/{b}`` (a pair), ``/codebook`` and ``/cite``, plus
``/agreements/{id}.csv`` and ``/downloads/{path}`` (the build's files).

Rendered on the server (they work without JavaScript) from the API's query layer. ``/`` is
shared with the API's JSON index: browsers (``Accept: text/html``) get the page, every other
client the JSON as before. Errors on these routes are HTML pages: an unknown agreement or
country is a 404 page, bad filter values are explained above the form (status 422), and an
unexpected error is a 500 page (logged, with no detail shown).
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import FileResponse, RedirectResponse, Response

from .. import vocab
from ..downloads import serving_path
from ..problems import Problem
from ..queries import AgreementFilter
from ..routes import meta as api_meta
from ..routes.agreements import SORTS
from ..state import ready
from ..streaming import CSV
from . import charts, data, network, pages, worldmap
from .render import SECURITY_HEADERS, error_page, render, root_of, static_app, wants_html

log = logging.getLogger("api.web")


class WebRoute(APIRoute):
    """A route whose errors are HTML pages, not the API's problem documents."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as e:
                return error_page(request, e.status, e.detail, errors=e.errors)
            except StarletteHTTPException as e:
                return error_page(request, e.status_code, str(e.detail or ""))
            except Exception:  # noqa: BLE001 - logged; the visitor gets a plain page
                log.exception("unexpected error on %s %s", request.method, request.url.path)
                return error_page(request, 500, "The server met an unexpected error; it has been logged.")

        return handle


router = APIRouter(route_class=WebRoute, include_in_schema=False)


def install(app: FastAPI) -> None:
    """Add the pages and their static files to the app (before the API's ``/`` JSON index)."""
    app.include_router(router)
    app.mount("/static", static_app, name="static")
    from . import geo

    geo.shapes()   # project the map's shapes once, now, rather than on the first visitor's request


# --------------------------------------------------------------------------- helpers

def _api_query(pairs: list[tuple[str, str]], **extra: str) -> str:
    return urlencode(pairs + list(extra.items()))


def _natural(text: str | None) -> list:
    """A sort key that puts s2 before s10."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"([0-9]+)", text or "")]


def _row(item: dict[str, Any], equipment: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {**item, "equipment": equipment.get(item["agreement_id"], [])}


def _sort_headers(root: str, wq: data.WebQuery) -> dict[str, dict[str, Any]]:
    cur = wq.effective_sort
    out = {}
    for col, first, words in (("signed_on", "-signed_on", ("oldest first", "newest first")),
                              ("title", "title", ("A to Z", "Z to A"))):
        if cur.lstrip("-") == col:
            desc = cur.startswith("-")
            new = col if desc else "-" + col
            state = "descending" if desc else "ascending"
            now = words[1] if desc else words[0]
            nxt = words[0] if desc else words[1]
        else:
            new, state, now = first, None, None
            nxt = words[1] if first.startswith("-") else words[0]
        q = _api_query(wq.view_pairs(sort=new))
        out[col] = {"href": f"{root}/" + (f"?{q}" if q else ""), "state": state, "now": now, "next": nxt}
    return out


def _build_file_links(request: Request, files: list[dict[str, Any]]) -> tuple[bool, list[dict[str, Any]]]:
    """Whether the API lists the release files at /v1/downloads, and each file of the build with the
    address of this package's ``/downloads/{path}``, which serves exactly those files."""
    root = root_of(request)
    return data.app_serves(request, "/v1/downloads"), [{**f, "href": f"{root}/downloads/{quote(f['path'])}"} for f in files]


def _pair_href(root: str):
    return lambda a, b: f"{root}/countries/{quote(min(a, b))}/{quote(max(a, b))}"


def _overview(state, root: str, st: data.Stats, pairs: list[data.Pair], *, all_types: list[str]) -> dict[str, Any]:
    """The home page's overview: map, partner network, top pairs and the timelines by type, instrument and status."""
    href = lambda iso: f"{root}/countries/{quote(iso)}"  # noqa: E731
    names = state.countries
    instruments = vocab.enum("agreements", "instrument")
    statuses = vocab.enum("agreements", "status")
    seen = sorted({y for y, _ in st.status_counts} | set(st.years))
    status_years = [f"{y:04d}" for y in range(int(seen[0]), int(seen[-1]) + 1)] if seen else []
    return {
        "status_years": status_years,
        "world": worldmap.world_map(st.all_countries, names, href),
        "net": network.network(pairs, names, href, _pair_href(root), types=all_types, counts=st.all_countries),
        "top_pairs": [{"a": p.a, "b": p.b, "name_a": names.get(p.a, p.a), "name_b": names.get(p.b, p.b),
                       "total": p.total, "href": _pair_href(root)(p.a, p.b)} for p in pairs[:10]],
        "instrument_chart": charts.year_type_chart(st.years, st.instruments, st.instrument_counts, all_types=instruments,
                                                   chart_id="chart-instruments", height=190,
                                                   title="Agreements signed per year, by instrument"),
        "status_chart": charts.year_type_chart(status_years, st.statuses,
                                               st.status_counts, all_types=statuses, chart_id="chart-statuses",
                                               height=190, title="Status changes per year, by status reached"),
    }


# --------------------------------------------------------------------------- pages

@router.get("/")
async def index(request: Request) -> Response:
    if not wants_html(request):
        return await api_meta.root(request)   # the API's JSON index, unchanged for API clients
    state = ready(request)
    root = root_of(request)
    query = request.query_params
    if any(not v.strip() for _, v in query.multi_items()):
        # A form sent without JavaScript carries its empty fields: drop them for a clean, shareable URL.
        clean = _api_query([(k, v) for k, v in query.multi_items() if v.strip()])
        return RedirectResponse(f"{root}/" + (f"?{clean}" if clean else ""), status_code=303)
    wq = data.WebQuery.read(query)
    error: Problem | None = None
    f: AgreementFilter | None = None
    result = None
    try:
        f, limit = data.check_query(state, wq)
        result = await data.list_agreements(request, state, f, limit, wq.cursor)
    except Problem as e:
        if e.status >= 500:
            raise
        error = e
        limit = data.DEFAULT_LIMIT
    stats_filter = data.with_sort(f, "signed_on") if f is not None and error is None else AgreementFilter()
    st = await data.stats(state, stats_filter)
    all_types = vocab.enum("agreements", "agreement_type")
    year_chart = charts.year_type_chart(st.years, st.types, st.counts, all_types=all_types)
    country_chart = charts.country_chart(st.by_country, lambda iso: f"{root}/countries/{quote(iso)}")
    key = ("web", "overview", root, stats_filter.shape(), tuple(sorted(stats_filter.params().items())))
    overview = state.cache.get(key)   # the map's paths and the network's layout: computed once per build and filter
    if overview is None:
        overview = _overview(state, root, st, await data.pairs(state, stats_filter), all_types=all_types)
        state.cache.put(key, overview)

    page = {}
    if result is not None:
        start = (wq.page - 1) * limit + 1 if result.items else 0
        page = {
            "start": start,
            "end": start + len(result.items) - 1 if result.items else 0,
            "next": (f"{root}/?" + _api_query(wq.view_pairs(), cursor=result.next_cursor, page=str(wq.page + 1)))
            if result.next_cursor else None,
            "first": (f"{root}/" + (f"?{_api_query(wq.view_pairs())}" if wq.view_pairs() else "")) if wq.cursor else None,
        }
    pairs = wq.filter_pairs() if error is None else []
    api_sort = wq.effective_sort if error is None else data.DEFAULT_SORT
    api_list, files = _build_file_links(request, await data.build_files(state))
    countries = await data.party_countries(state)
    known = {iso for iso, _ in countries}
    chosen = wq.filters["party"] + ([wq.filters["venue_country"]] if wq.filters["venue_country"] else [])
    # A country chosen in the address but party to no agreement still shows as chosen.
    extra = [(iso, state.countries[iso]) for iso in chosen if iso in state.countries and iso not in known]
    choices = sorted(countries + list(dict.fromkeys(extra)), key=lambda c: c[1])
    parties = wq.filters["party"]
    selects = (parties + ["", ""])[: max(2, min(len(parties), data.MAX_PARTY_SELECTS))]
    status = error.status if error is not None else 200
    return render(request, "index.html", {
        "info": state.info,
        "wq": wq,
        "filters": wq.filters,
        "party_selects": selects,
        "country_choices": choices,
        "types": vocab.enum("agreements", "agreement_type"),
        "instruments": vocab.enum("agreements", "instrument"),
        "statuses": vocab.enum("agreements", "status"),
        "categories": vocab.enum("equipment", "category"),
        "page_sizes": data.PAGE_SIZES,
        "limit": limit,
        "default_limit": data.DEFAULT_LIMIT,
        "error": error,
        "result": result,
        "rows": [_row(i, result.equipment) for i in result.items] if result else [],
        "page": page,
        "sort": _sort_headers(root, wq),
        "sort_value": wq.sort if wq.sort in SORTS else None,
        "stats": st,
        "stats_filtered": not stats_filter.is_empty,
        "year_chart": year_chart,
        "country_chart": country_chart,
        "all_types": all_types,
        "csv_url": f"{root}/v1/agreements?" + _api_query(pairs + [("sort", api_sort)], format="csv", limit="all"),
        "ndjson_url": f"{root}/v1/agreements?" + _api_query(pairs + [("sort", api_sort)], format="ndjson", limit="all"),
        "json_url": f"{root}/v1/agreements?" + _api_query(pairs + [("sort", api_sort)]),
        "downloads_api": api_list,
        "files": files,
        "citation": api_meta.citation(state.info),
        **overview,
    }, status=status)


@router.get("/agreements/{agreement_id}.csv")
async def agreement_csv(request: Request, agreement_id: str) -> Response:
    state = ready(request)
    body = await data.agreement_csv(state, agreement_id)
    if body is None:
        return error_page(request, 404, f"There is no agreement with the id “{agreement_id}”.")
    version = state.info.version or "data"
    return Response(body, media_type=CSV,
                    headers={"Content-Disposition": f'attachment; filename="dca-{version}-{agreement_id}.csv"'})


@router.get("/agreements/{agreement_id}")
async def agreement_page(request: Request, agreement_id: str) -> Response:
    state = ready(request)
    doc = await data.agreement(state, agreement_id)
    if doc is None:
        return error_page(request, 404, f"There is no agreement with the id “{agreement_id}”. "
                                        "Find agreements with the filters on the front page.")
    root = root_of(request)
    aid = doc["agreement_id"]
    sources = sorted(doc.get("sources") or [], key=lambda s: _natural(s.get("source_id")))
    source_ids = {s["source_id"] for s in sources}
    equipment = sorted(doc.get("equipment") or [], key=lambda e: _natural(e.get("equipment_id")))
    designations = {e["equipment_id"]: e.get("designation") or e["equipment_id"] for e in equipment}
    history = sorted(doc.get("status_history") or [], key=lambda h: (h.get("status_on") or "", h.get("history_id") or ""))
    base = str(request.base_url).rstrip("/")
    url = f"{base}/agreements/{quote(aid)}"
    info = state.info
    dataset = info.title or "Defence Cooperation Agreements between States"
    cite = f"{doc.get('title') or aid} ({aid}). In: {dataset}, version {info.version} (dataset). {url}"
    return render(request, "agreement.html", {
        "info": info,
        "a": doc,
        "sources": sources,
        "source_ids": source_ids,
        "equipment": equipment,
        "designations": designations,
        "history": history,
        "countries": state.countries,
        "cite": cite,
        "record_url": url,
        "json_url": f"{root}/v1/agreements/{quote(aid)}",
        "csv_url": f"{root}/agreements/{quote(aid)}.csv",
        "equipment_csv_url": f"{root}/v1/equipment?" + _api_query([("agreement_id", aid)], format="csv", limit="all"),
        "sources_csv_url": f"{root}/v1/sources?" + _api_query([("agreement_id", aid)], format="csv", limit="all"),
    })


@router.get("/countries")
async def countries_page(request: Request) -> Response:
    state = ready(request)
    view = pages.CountriesView.read(request.query_params)
    rows = await data.countries_with_agreements(state)
    regions = sorted({r["region"] for r in rows if r.get("region")})
    shown = view.apply(rows)
    return render(request, "countries.html", {"info": state.info, "countries": shown, "all_count": len(rows),
                                              "regions": regions, "view": view,
                                              "headers": view.headers(f"{root_of(request)}/countries")})


@router.get("/countries/{iso3}")
async def country_page(request: Request, iso3: str) -> Response:
    state = ready(request)
    root = root_of(request)
    got = await data.country(state, iso3)
    if got is None:
        return error_page(request, 404, f"There is no country with the code “{iso3}”. "
                                        "Country codes are ISO 3166-1 alpha-3, such as PAK or RUS.")
    item, partners = got
    code = item["iso3"]
    if iso3 != code:
        return RedirectResponse(f"{root}/countries/{code}", status_code=301)
    f = data.with_sort(data.country_filter(state, code), "-signed_on")
    result = await data.list_agreements(request, state, f, data.COUNTRY_PAGE_LIMIT, None, with_equipment=False)
    st = await data.stats(state, data.with_sort(f, "signed_on"))
    all_types = vocab.enum("agreements", "agreement_type")
    timeline = charts.year_type_chart(st.years, st.types, st.counts, all_types=all_types, chart_id="chart-timeline",
                                      height=170, title=f"Timeline: agreements of {item['name']} per year, by type")
    pairs = await data.pairs(state, data.with_sort(f, "signed_on"))
    net = network.network(pairs, state.countries, lambda iso: f"{root}/countries/{quote(iso)}", _pair_href(root),
                          types=all_types, chart_id="network", focus=code,
                          title=f"Partners of {item['name']}")
    return render(request, "country.html", {
        "info": state.info,
        "c": item,
        "partners": partners,
        "result": result,
        "timeline": timeline,
        "net": net,
        "pair_href": _pair_href(root),
        "stats": st,
        "all_types": all_types,
        "browse_url": f"{root}/?" + _api_query([("party", code)]),
        "csv_url": f"{root}/v1/agreements?" + _api_query([("party", code), ("sort", "-signed_on")], format="csv", limit="all"),
        "json_url": f"{root}/v1/countries/{code}",
    })


@router.get("/downloads/{path:path}")
async def build_file(request: Request, path: str) -> Response:
    """A file of the build being served, if it is one of those /v1/downloads lists (nothing else is reachable)."""
    state = ready(request)
    files = {f["path"]: f for f in await data.build_files(state)}
    f = files.get(path)
    if f is None:
        return error_page(request, 404, f"There is no download called “{path}”.")
    full = serving_path(state, f["path"])
    try:
        st = os.stat(full)
    except OSError:
        return error_page(request, 404, f"The download “{path}” is no longer on the server.")
    response = FileResponse(full, media_type=f["mediatype"], filename=Path(f["path"]).name, stat_result=st)
    # Validators come from the API's ETag middleware; do not send a second ETag.
    for name in ("etag", "last-modified"):
        del response.headers[name]
    return response



@router.get("/countries/{iso_a}/{iso_b}")
async def pair_page(request: Request, iso_a: str, iso_b: str) -> Response:
    """Every agreement between two states on a timeline, with their equipment and statuses."""
    state = ready(request)
    root = root_of(request)
    a, b = iso_a.strip().upper(), iso_b.strip().upper()
    for code in (a, b):
        if code not in state.countries:
            return error_page(request, 404, f"There is no country with the code “{code}”. "
                                            "Country codes are ISO 3166-1 alpha-3, such as PAK or RUS.")
    if a == b:
        return error_page(request, 404, f"A pair needs two different countries; both codes are “{a}”.")
    if (a, b) != (iso_a, iso_b) or a > b:
        return RedirectResponse(f"{root}/countries/{quote(min(a, b))}/{quote(max(a, b))}", status_code=301)
    f = data.with_sort(data.country_filter(state, a, b), "signed_on")
    result = await data.list_agreements(request, state, f, data.COUNTRY_PAGE_LIMIT, None)
    docs = [await data.agreement(state, i["agreement_id"]) for i in result.items]
    history = {d["agreement_id"]: sorted([h for h in d.get("status_history") or []],
                                         key=lambda h: (h.get("status_on") or "", h.get("history_id") or ""))
               for d in docs if d}
    all_types = vocab.enum("agreements", "agreement_type")
    names = (state.countries[a], state.countries[b])
    timeline = charts.pair_timeline(result.items, history, types=all_types, built=(state.info.built_at or "")[:10],
                                    href=lambda aid: f"{root}/agreements/{quote(aid)}",
                                    title=f"Agreements of {names[0]} and {names[1]} over time")
    rows = [_row(i, result.equipment) for i in result.items]
    return render(request, "pair.html", {
        "info": state.info,
        "a": a, "b": b, "name_a": names[0], "name_b": names[1],
        "result": result,
        "rows": rows,
        "history": history,
        "timeline": timeline,
        "browse_url": f"{root}/?" + _api_query([("party", a), ("party", b)]),
        "csv_url": f"{root}/v1/agreements?" + _api_query([("party", a), ("party", b), ("sort", "signed_on")],
                                                         format="csv", limit="all"),
    })


@router.get("/codebook")
async def codebook_page(request: Request) -> Response:
    """The codebook (docs/codebook.md, generated by ``dca codebook``) as a page of the site."""
    state = ready(request)
    body = pages.codebook_html(f"{root_of(request)}/codebook/figures/")
    if body is None:
        return error_page(request, 404, "The codebook is not on this server: run `dca codebook` in the project.")
    return render(request, "codebook.html", {"info": state.info, "body": body})


@router.get("/codebook/figures/{name}")
async def codebook_figure(request: Request, name: str) -> Response:
    path = pages.figure_path(name)
    if path is None:
        return error_page(request, 404, f"There is no codebook figure called “{name}”.")
    # The figures are the pages' own charts as files (charts.svg_document): no script, no style; opened on
    # their own they get the pages' headers, CSP included.
    return FileResponse(path, media_type="image/svg+xml", headers=SECURITY_HEADERS)


@router.get("/cite")
async def cite_page(request: Request) -> Response:
    """How to cite the dataset: the recommended citation, BibTeX, the version and content hash."""
    state = ready(request)
    info = state.info
    base = str(request.base_url).rstrip("/")
    return render(request, "cite.html", {
        "info": info,
        "citation": api_meta.citation(info),
        "bibtex": pages.bibtex(info, base + "/"),
        "cff_authors": pages.cff_authors(),
        "meta_url": f"{root_of(request)}/v1/meta",
    })
