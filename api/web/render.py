"""Rendering pages: the Jinja2 environment (autoescape on), security headers, error pages, static files."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from .charts import inline_svg
from .labels import file_size, human_date, label, status_age, web_url

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# No inline scripts or styles, nothing from another origin, no framing, no plugins.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def _static_versions() -> dict[str, str]:
    """name -> short hash of the file's content, appended to its URL so that a changed file is a new URL."""
    out = {}
    for p in sorted(STATIC.iterdir()):
        if p.is_file():
            out[p.name] = hashlib.blake2b(p.read_bytes(), digest_size=6).hexdigest()
    return out


STATIC_VERSIONS = _static_versions()


def qs(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html", "svg"), default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(label=label, date=human_date, web_url=web_url, filesize=file_size, qs=qs)
env.globals.update(status_age=status_age, chart_svg=inline_svg)   # templates/_charts.svg


def root_of(request: Request) -> str:
    return (request.scope.get("root_path") or "").rstrip("/")


def build_info(request: Request):
    """The facts of the build being served (for the footer), or None if no build is open."""
    state = getattr(request.app.state, "dca", None)
    snap = getattr(state, "current", None)
    return getattr(snap, "info", None) if snap is not None else getattr(state, "info", None)


def render(request: Request, template: str, context: dict[str, Any], status: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    root = root_of(request)

    def static(name: str) -> str:
        return f"{root}/static/{name}?v={STATIC_VERSIONS.get(name, '0')}"

    context = dict(context)
    info = context.pop("info", None) or build_info(request)   # the routes pass the build they read from
    html = env.get_template(template).render(root=root, static=static, info=info, request_path=request.url.path,
                                             **context)
    h = dict(SECURITY_HEADERS)
    h.update(headers or {})
    return HTMLResponse(html, status_code=status, headers=h)


ERROR_TITLES = {400: "Bad request", 404: "Page not found", 422: "Invalid filter", 500: "Something went wrong",
                503: "The data are not available"}


def error_page(request: Request, status: int, message: str, *, errors: list[dict[str, Any]] | None = None) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "title": ERROR_TITLES.get(status, "Error"),
                                          "message": message, "errors": errors or []},
                  status=status, headers={"Cache-Control": "no-store"})


def wants_html(request: Request) -> bool:
    accept = (request.headers.get("accept") or "").lower()
    return "text/html" in accept or "application/xhtml+xml" in accept


class StaticAssets(StaticFiles):
    """The stylesheet and script. Validators come from the API's ETag middleware, so Starlette's
    own (ETag, Last-Modified) are dropped rather than sent twice; a URL carrying the file's
    content hash (``?v=``) is cached for a year."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        for name in ("etag", "last-modified"):
            if name in response.headers:
                del response.headers[name]
        query = scope.get("query_string", b"").decode("latin-1")
        name = os.path.basename(str(full_path))
        if query == f"v={STATIC_VERSIONS.get(name)}":
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


static_app = StaticAssets(directory=str(STATIC))
