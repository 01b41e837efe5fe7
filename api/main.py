"""The FastAPI application: ``create_app(settings)`` and ``app`` for uvicorn.

    uvicorn api.main:app            # serves build/dca.sqlite, or DATABASE_URL
    dca serve --host H --port P     # the same, after checking the build

One ASGI layer (``api.http.Edge``) sits outside FastAPI: lifespan, CORS, read-only
methods, HEAD, ETag & 304, Cache-Control and gzip, and it calls the API's endpoints
itself; web pages, docs and the OpenAPI description go through FastAPI's router.
"""
from __future__ import annotations

import copy
import logging
from typing import Any

from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp

from . import problems
from .cow import by_iso3
from .http import Edge
from .models import PROBLEM_REF, problem_components
from .params import COMPONENTS
from .problems import PROBLEM_JSON
from .routes import agreements, dyads, meta, stats, tables
from .web import install as install_web
from .settings import Settings
from .state import AppState

log = logging.getLogger("api")

DESCRIPTION = """\
Read-only access to the **Defence Cooperation Agreements** dataset: who signed what, when and where,
with the equipment named in connection with each agreement and the sources behind every record.

* Lists are paged: `limit` (1-1000, default 50) and the opaque `cursor` of the `next` link
  (also in the `Link` header); `total` and `X-Total-Count` give the number of matches.
* Every list is also available as CSV (`format=csv` or `Accept: text/csv`) and NDJSON (`format=ndjson`).
  `limit=all` streams the whole result in one response (in any format), and `X-Row-Count` (sent before the
  body) says how many rows to expect.
* A stream that breaks off part-way (the database stopped answering) is never a silently short file: a CSV
  ends with a line starting `# incomplete:`, NDJSON with a problem document of type
  `urn:dca:problem:incomplete`, JSON is left unterminated (not valid JSON), and the connection is closed
  without the final chunk, which HTTP clients report as an incomplete body.
* An empty parameter (`status=`, `cursor=`) is the same as an absent one, as HTML forms send them.
* While the database cannot be reached, every endpoint (`/healthz` too) answers 503 with `Retry-After`.
* Responses carry an `ETag` derived from the build's content hash; send it back in `If-None-Match` for a 304.
* Errors are RFC 9457 problem details (`application/problem+json`).
"""

def _inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions ('sha256-...') for each inline <script> of a page."""
    import base64
    import hashlib
    import re

    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S) if "src=" not in attrs]


def docs_csp(html: str) -> str:
    """The Content-Security-Policy of the docs page: its own files, plus its one inline script by hash.

    Swagger UI's start-up script is inline (FastAPI writes it), so it is allowed by its
    SHA-256 and nothing else inline is; styles allow 'unsafe-inline' because Swagger UI
    sets style attributes as it renders; images may be data: URLs (its icons).
    """
    scripts = " ".join(["'self'", *_inline_script_hashes(html)])
    return (f"default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            "form-action 'none'")


def _install_docs(app: FastAPI) -> None:
    """Interactive docs at /docs with Swagger UI's files from the swagger-ui-bundle package.

    FastAPI's default page loads them from a CDN, which a closed network (or a
    privacy-minded reader) never reaches. The page carries a strict CSP (``docs_csp``)
    and the web pages' other security headers.
    """
    from fastapi.openapi.docs import get_swagger_ui_html
    from starlette.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    from .web.render import SECURITY_HEADERS

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Defence Cooperation Agreements API: docs",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon-32x32.png",
    ).body
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": docs_csp(page.decode())}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return HTMLResponse(page, headers=headers)


ERROR_RESPONSES = {
    "400": "Unknown query parameter, or a cursor that this query did not issue.",
    "422": "A parameter value is not valid; the problem names each parameter and the allowed values.",
    "503": "The database cannot be served (no build, or a build of another layout).",
}


def tidy_openapi(schema: dict[str, Any], codes: list[str], cow_codes: list[int]) -> None:
    """The description as generated clients need it.

    * One ``Problem`` component, referenced (not copied) by every error response, so a
      client parses every error into one type; FastAPI's own 422 shape is replaced by it.
    * The country code defined once (``CountryCode``: the build's codes once it is open,
      upper case, lower case accepted too), with ``CowCode`` (the build's COW codes) and
      ``CountryRef`` (either).
    """
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        comps.pop(name, None)
    comps.update(problem_components())
    comps.update(copy.deepcopy(COMPONENTS))
    if codes:
        comps["CountryCode"] = {"type": "string", "enum": codes, "title": "CountryCode",
                                "description": COMPONENTS["CountryCode"]["description"]}
    if cow_codes:
        comps["CowCode"] = {"type": "integer", "enum": cow_codes, "title": "CowCode",
                            "description": COMPONENTS["CowCode"]["description"]}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            for code, text in ERROR_RESPONSES.items():
                if code == "422" and not op.get("parameters"):
                    continue
                responses.setdefault(code, {"description": text})
            for code, resp in responses.items():
                if code == "default" or int(code) >= 400:
                    resp["content"] = {PROBLEM_JSON: {"schema": dict(PROBLEM_REF)}}
                    if resp.get("description") in (None, "", "Validation Error"):
                        resp["description"] = ERROR_RESPONSES.get(code, "Error")


API_ROUTERS = [("/v1", agreements.router), ("/v1", tables.router), ("/v1", dyads.router), ("/v1", stats.router)]


class DcaApp(FastAPI):
    """FastAPI with ``api.http.Edge`` as its one middleware, outside FastAPI's own error handling."""

    _traced: bool | None = None  # whether FastAPI's OpenTelemetry bridge is on (looked up at the first request)

    def build_middleware_stack(self) -> ASGIApp:
        return Edge(super().build_middleware_stack(), self, self.state.dca, [*API_ROUTERS, ("", meta.router)])

    async def __call__(self, scope, receive, send) -> None:
        """FastAPI's entry without its per-request look-up of OpenTelemetry providers (once is enough).

        When a tracer, meter or logger provider is configured before the first request,
        every request goes through FastAPI's telemetry as before.
        """
        if self._traced is False and scope["type"] == "http":
            if self.root_path:
                scope["root_path"] = self.root_path
            scope["app"] = self
            await self.middleware_stack(scope, receive, send)
            return
        if self._traced is None and scope["type"] == "http":
            telemetry = getattr(self, "_native_telemetry", None)
            self._traced = bool(telemetry is not None and telemetry.enabled())
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    state = AppState(settings)
    app = DcaApp(
        title="Defence Cooperation Agreements API",
        version=meta.API_VERSION,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # served below from the vendored Swagger UI: no CDN, works on a closed network
        redoc_url=None,
    )
    _install_docs(app)
    app.state.dca = state
    # Included one level deep (not through a /v1 router of routers): fewer levels to match per request.
    for prefix, router in API_ROUTERS:
        app.include_router(router, prefix=prefix)
    install_web(app)  # the web pages (api/web); before meta.router: browsers get the page at /
    app.include_router(meta.router)
    problems.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        snap = state.current
        tidy_openapi(schema, sorted(snap.countries) if snap else [], sorted(by_iso3(snap).values()) if snap else [])
        if state.current:  # the country codes are known: the description is final for this process
            app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

    return app


app = create_app()
