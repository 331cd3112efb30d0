"""A lost, refused or exhausted database connection answers 503 SERVICE_UNAVAILABLE with
Retry-After (the phone retries); every other error stays a 500 (the chaos run's primary restart)."""

from __future__ import annotations

import json

import pytest
from starlette.types import Receive, Scope, Send

from tests.http import Api, demo
from tests.probe_app import _db_faults
from tsh.platform.db.unavailable import RETRY_AFTER_S, database_unavailable
from tsh.platform.http.middleware import RequestContextMiddleware

FAULT = "/api/bff/mobile/probe/db-fault"
UNAVAILABLE = [
    "admin_shutdown",
    "admin_shutdown_raw",
    "shutting_down",
    "connection_lost",
    "closed",
    "invalidated",
    "refused",
    "pool_timeout",
    "operational",
]
BUGS = ["integrity", "programming", "statement_timeout", "interface", "file"]


def test_every_fault_is_classified() -> None:
    assert set(_db_faults()) == set(UNAVAILABLE) | set(BUGS)


@pytest.mark.parametrize("kind", UNAVAILABLE)
async def test_a_lost_connection_is_503_with_retry_after(api: Api, kind: str) -> None:
    response = await api.get(demo("cashier"), FAULT, kind=kind)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    body = response.json()
    assert body["success"] is False
    assert body["error_code"] == "SERVICE_UNAVAILABLE"
    assert body["metadata"]["request_id"] == response.headers["X-Request-ID"]
    assert "5432" not in response.text and "administrator" not in response.text


@pytest.mark.parametrize("kind", BUGS)
async def test_a_real_bug_stays_500(api: Api, kind: str) -> None:
    response = await api.get(demo("cashier"), FAULT, kind=kind)
    assert response.status_code == 500, response.text
    assert response.json()["error_code"] == "INTERNAL_ERROR"
    assert "Retry-After" not in response.headers


def test_a_wrapped_driver_error_is_found_through_its_cause() -> None:
    class Wrapper(Exception):
        pass

    try:
        try:
            raise _db_faults()["admin_shutdown_raw"]
        except Exception as exc:
            raise Wrapper("commit failed") from exc
    except Wrapper as wrapped:
        assert database_unavailable(wrapped)
    assert not database_unavailable(Wrapper("nothing underneath"))


async def _call(app: RequestContextMiddleware) -> tuple[int, dict[bytes, bytes], dict[str, object]]:
    scope: Scope = {"type": "http", "method": "POST", "path": "/api/bff/mobile/pos/x", "headers": []}
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    start, body = sent[0], sent[1]
    headers = dict(start["headers"])  # type: ignore[call-overload]
    return int(start["status"]), headers, json.loads(body["body"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "status"), [("admin_shutdown", 503), ("integrity", 500)])
async def test_raised_outside_the_routes_too(kind: str, status: int) -> None:
    """An error escaping the route handlers (a commit in a middleware) reaches the request-context
    middleware: it too answers 503 for a lost connection and 500 for a bug."""

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise _db_faults()[kind]

    app = RequestContextMiddleware(failing, max_body_bytes=1024, access_log=False)
    code, headers, body = await _call(app)
    assert code == status
    assert (b"retry-after" in headers) is (status == 503)
    assert body["error_code"] == ("SERVICE_UNAVAILABLE" if status == 503 else "INTERNAL_ERROR")
