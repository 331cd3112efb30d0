"""Every error becomes the error envelope here: no default FastAPI bodies, no stack traces."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator

import asyncpg.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from tsh.platform.db.unavailable import RETRY_AFTER_S, database_unavailable, describe
from tsh.platform.errors import AppError
from tsh.platform.http.envelope import error_bytes, metadata
from tsh.platform.http.validation import details_from

log = logging.getLogger("tsh.http")

_STATUS_CODES = {
    400: ("MALFORMED_REQUEST", "The request could not be understood"),
    401: ("AUTH_REQUIRED", "Authentication required"),
    403: ("FORBIDDEN", "Your role may not use this function"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("PAYLOAD_TOO_LARGE", "The request body is larger than 1 MiB"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
}


def request_meta(request: Request) -> dict[str, object]:
    state = request.scope.get("state") or {}
    return metadata(request_id=state.get("request_id", ""), started=state.get("started", time.perf_counter()))


def error_response(request: Request, exc: AppError) -> Response:
    body = error_bytes(message=exc.message, code=exc.code, meta=request_meta(request), details=exc.details)
    return Response(body, status_code=exc.status, media_type="application/json", headers=exc.headers)


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(request, exc)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(
            request, AppError("The request body is not valid JSON", code="MALFORMED_REQUEST")
        )
    return error_response(
        request,
        AppError("The request is invalid", code="VALIDATION_ERROR", status=422, details=details_from(errors)),
    )


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _STATUS_CODES.get(exc.status_code, ("HTTP_ERROR", "Request failed"))
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return error_response(request, AppError(message, code=code, status=exc.status_code, headers=headers))


def _allowed_methods(request: Request) -> str:
    """Every method the path takes. Starlette names only the first route whose path matched, and
    FastAPI registers one route per method, so GET and POST on one path would answer Allow: GET."""
    methods: set[str] = set()
    for route in _flat(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    methods.discard("HEAD")
    return ", ".join(sorted(methods))


def _flat(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes of included routers too (FastAPI wraps each `include_router` in one route that
    has no methods; the auth and legacy routers are included without a prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)
        else:
            yield route


def unavailable_error() -> AppError:
    return AppError(
        "The database is unavailable",
        code="SERVICE_UNAVAILABLE",
        status=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _database(request: Request, exc: Exception) -> Response:
    """A driver or pool error: 503 when the connection was lost or refused, else a bug (500)."""
    if not database_unavailable(exc):
        return await _unhandled(request, exc)
    log.error("database unavailable: %s", describe(exc))
    return error_response(request, unavailable_error())


async def _unhandled(request: Request, exc: Exception) -> Response:
    if database_unavailable(exc):  # wrapped by something that is not a driver error
        log.error("database unavailable: %s", describe(exc))
        return error_response(request, unavailable_error())
    log.exception("unhandled error", exc_info=exc)
    return error_response(request, AppError("Internal server error", code="INTERNAL_ERROR", status=500))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    # DBAPIError covers OperationalError and the plain DBAPIError SQLAlchemy wraps asyncpg's
    # AdminShutdownError in; the raw driver and socket errors escape on a new connection.
    for exc_class in (
        DBAPIError,
        PoolTimeout,
        asyncpg.exceptions.PostgresError,
        asyncpg.exceptions.InterfaceError,
        ConnectionError,
        TimeoutError,
    ):
        app.add_exception_handler(exc_class, _database)
    app.add_exception_handler(Exception, _unhandled)
