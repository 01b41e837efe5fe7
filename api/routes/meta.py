"""/v1/meta, /v1/datapackage.json, /healthz and the index documents."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..downloads import build_files
from ..models import Downloads, Health, Meta, plain_responses
from ..params import Params, query_items
from ..state import ready
from ..streaming import JSON, json_bytes

router = APIRouter()
NO_PARAMS = Params()

try:
    API_VERSION = version("dca")
except PackageNotFoundError:  # pragma: no cover
    API_VERSION = "0"


def citation(info) -> str:
    d = info.datapackage
    authors = [c.get("title") for c in d.get("contributors", []) if c.get("role", "author") in ("author", "contributor") and c.get("title")]
    who = "; ".join(authors) or "Defence Cooperation Agreements project"
    year = (info.built_at or "")[:4]
    title = d.get("title") or info.name
    home = d.get("homepage")
    lic = (info.licenses[0].get("name") if info.licenses else None)
    parts = [f"{who} ({year}). {title}, version {info.version} [data set]."]
    if home:
        parts.append(f"{home}.")
    if lic:
        parts.append(f"Licence: {lic}.")
    parts.append(f"Content hash {info.content_hash[:16]}.")
    return " ".join(parts)


@router.get("/v1/meta", operation_id="getMeta", tags=["meta"], summary="About the dataset",
            description="Dataset name, version, build time, content hash, row counts, licence and how to cite it.",
            response_model=Meta, responses=plain_responses())
async def meta(request: Request) -> Response:
    NO_PARAMS.read(query_items(request))
    state = ready(request)
    info = state.info
    return Response(json_bytes({
        "name": info.name,
        "title": info.title,
        "version": info.version,
        "api_version": API_VERSION,
        "schema_version": info.schema_version,
        "built_at": info.built_at,
        "content_hash": info.content_hash,
        "counts": info.counts,
        "licenses": info.licenses,
        "license": info.licenses[0].get("name") if info.licenses else None,
        "citation": citation(info),
        "homepage": info.datapackage.get("homepage"),
        "backend": "sqlite" if state.db.is_sqlite else "postgresql",
        "warnings": request.app.state.dca.warnings,
    }), media_type=JSON)


@router.get("/v1/downloads", operation_id="listDownloads", tags=["meta"], summary="Files to download",
            description="The files of this build: researcher exports (CSV, Parquet, Stata), their data package "
                        "descriptor and the SQLite database, with format, size and SHA-256; `url` serves the file.",
            response_model=Downloads, responses=plain_responses())
async def downloads(request: Request) -> Response:
    NO_PARAMS.read(query_items(request))
    state = ready(request)
    base = str(request.base_url).rstrip("/")
    files = [{**f, "url": f"{base}/downloads/{f['path']}"} for f in await build_files(state)]
    return Response(json_bytes({"count": len(files), "files": files}), media_type=JSON)


@router.get("/v1/datapackage.json", operation_id="getDatapackage", tags=["meta"], summary="The Data Package descriptor",
            description="The datapackage.json of the build being served.", responses=plain_responses())
async def datapackage(request: Request) -> Response:
    NO_PARAMS.read(query_items(request))
    state = ready(request)
    return Response(state.info.datapackage_bytes, media_type=JSON)


@router.get("/healthz", operation_id="getHealth", tags=["meta"], summary="Health check",
            description="200 when the database answers, with the build being served; `status` is `degraded` (still 200) "
                        "while the last good snapshot is served because the build file changed and cannot be served. "
                        "503 (with `Retry-After`) when the database cannot be reached.",
            response_model=Health, responses=plain_responses())
async def healthz(request: Request) -> Response:
    NO_PARAMS.read(query_items(request))
    state = ready(request)
    db = state.db
    await db.fetch_one(db.compiled("health", _health_stmt))
    info = state.info
    warnings = request.app.state.dca.warnings
    degraded = any(w["code"] == "build-file-unservable" for w in warnings)
    return Response(json_bytes({"status": "degraded" if degraded else "ok", "version": info.version,
                                "content_hash": info.content_hash, "built_at": info.built_at, "warnings": warnings}),
                    media_type=JSON)


def _health_stmt():
    from sqlalchemy import literal_column, select

    return select(literal_column("1"))


@router.get("/", include_in_schema=False)
async def root(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return Response(json_bytes({"api": "Defence Cooperation Agreements", "v1": f"{base}/v1", "docs": f"{base}/docs",
                                "openapi": f"{base}/openapi.json"}), media_type=JSON)


@router.get("/v1", include_in_schema=False)
async def v1(request: Request) -> Response:
    base = str(request.base_url).rstrip("/") + "/v1"
    return Response(json_bytes({name: f"{base}/{name}" for name in
                                ("agreements", "countries", "equipment", "sources", "dyads", "dyad-years", "stats", "meta", "downloads",
                                 "datapackage.json")}),
                    media_type=JSON)
