"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error a client can meet has a clear ``detail`` and, for bad parameters, an
``errors`` list naming each parameter and what would be accepted. No stack trace or
exception text from the server ever reaches a client: unexpected errors are logged
and answered with a bare 500 problem.
"""
from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger("api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:dca:problem:"
ALLOW = "GET, HEAD, OPTIONS"

TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    422: "Invalid parameter",
    500: "Internal server error",
    503: "Service unavailable",
}
TYPES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    422: "invalid-parameter",
    500: "internal-error",
    503: "unavailable",
}


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, title: str | None = None, type: str | None = None,
                 errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.type = type or TYPES.get(status, "error")
        self.errors = errors
        self.headers = headers or {}


def invalid(parameter: str, message: str, *, allowed: list[str] | None = None, value: Any = None, status: int = 422) -> Problem:
    """A problem about one query or path parameter."""
    err: dict[str, Any] = {"parameter": parameter, "message": message}
    if value is not None:
        err["value"] = value
    if allowed is not None:
        err["allowed"] = allowed
    return Problem(status, f"{parameter}: {message}", errors=[err])


def problem_body(status: int, detail: str, *, instance: str | None = None, title: str | None = None,
                 type: str | None = None, errors: list[dict[str, Any]] | None = None) -> bytes:
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type or TYPES.get(status, "error")),
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return orjson.dumps(body)


def problem_response(status: int, detail: str, *, instance: str | None = None, title: str | None = None,
                     type: str | None = None, errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    h = {"Cache-Control": "no-store"}
    if status == 405:
        h["Allow"] = ALLOW
    h.update(headers or {})
    return Response(problem_body(status, detail, instance=instance, title=title, type=type, errors=errors),
                    status_code=status, media_type=PROBLEM_JSON, headers=h)


def _instance(request: Request) -> str:
    return request.url.path


def _describe_validation(err: dict[str, Any]) -> dict[str, Any]:
    loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "header", "body")]
    name = loc[0] if loc else "request"
    msg = err.get("msg", "is invalid")
    out: dict[str, Any] = {"parameter": name, "message": msg}
    if "input" in err and isinstance(err["input"], (str, int, float)):
        out["value"] = err["input"]
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        out["allowed"] = [str(ctx["expected"])]
    return out


RETRY_AFTER = "5"


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the database cannot be reached (a PostgreSQL outage, a full pool), not a bug.

    They are answered 503 with ``Retry-After``: the request was fine and will succeed
    once the database is back. SQL errors of other kinds stay 500s (they are bugs).
    """
    import sqlalchemy.exc

    out: list[type[BaseException]] = [sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                                      sqlalchemy.exc.TimeoutError]
    try:
        import psycopg

        out += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # pragma: no cover
        pass
    return tuple(out)


def install(app: FastAPI) -> None:
    async def _unreachable(request: Request, exc: Exception) -> Response:
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path,
                    (str(exc).strip().splitlines() or [type(exc).__name__])[0])
        return problem_response(503, "the database cannot be reached just now; try again shortly",
                                instance=_instance(request), type="unavailable", headers={"Retry-After": RETRY_AFTER})

    for cls in unreachable_errors():
        app.add_exception_handler(cls, _unreachable)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(exc.status, exc.detail, instance=_instance(request), title=exc.title,
                                type=exc.type, errors=exc.errors, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [_describe_validation(e) for e in exc.errors()]
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors) or "invalid request"
        return problem_response(422, detail, instance=_instance(request), errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        if status == 404:
            detail = exc.detail if exc.detail and exc.detail != "Not Found" else (
                f"no endpoint at {request.url.path}; the API is described at /docs and /openapi.json")
        elif status == 405:
            detail = f"{request.method} is not allowed: the API is read-only (use GET or HEAD)"
        else:
            detail = str(exc.detail) if exc.detail else TITLES.get(status, "error")
        return problem_response(status, detail, instance=_instance(request), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(500, "the server met an unexpected error; it has been logged", instance=_instance(request))
