"""The envelope and error bodies, through HTTP, on the test-only probe endpoints."""

from __future__ import annotations

import httpx2 as httpx

from tests.conftest import Auth

SP1 = "salesperson1@demo.tsh.iq"
PROBE = "/api/bff/mobile/probe"


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False
    assert body["error_code"] == code
    assert isinstance(body["error"], str) and body["error"]
    meta = body["metadata"]
    assert meta["api_version"] == "1.0.0"
    assert meta["request_id"] == r.headers["x-request-id"]
    return body


async def test_success_envelope_and_request_id(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth.headers(SP1, **{"X-Request-ID": "abc-123"})
    r = await client.get(f"{PROBE}/me", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    assert set(body["metadata"]) >= {"cached", "response_time_ms", "api_version", "request_id", "cache_age_s"}
    assert body["metadata"]["request_id"] == "abc-123" == r.headers["x-request-id"]
    assert body["data"]["name"]


async def test_unknown_path_is_404_envelope(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/bff/mobile/nope"), 404, "NOT_FOUND")


async def test_wrong_method_is_405_envelope(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/api/auth/login"), 405, "METHOD_NOT_ALLOWED")


async def test_invalid_query_is_422_without_echo(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get(
        f"{PROBE}/me", params={"detail": "<script>evil</script>"}, headers=await auth.headers(SP1)
    )
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert body["details"][0]["field"] == "detail"
    assert "evil" not in r.text


async def test_unknown_query_parameter_is_422(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get(f"{PROBE}/me", params={"bogus": "1"}, headers=await auth.headers(SP1))
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert body["details"] == [{"field": "bogus", "issue": "unknown field"}]


async def test_non_id_path_segment_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    # One id rule (tsh.platform.http.ids): a path segment that is no id names no resource.
    headers = await auth.headers("branch_manager1@demo.tsh.iq")
    for bad in ("abc", "0", "-3", "1.5", "\uff11", "2147483648", "01"):
        assert_error(await client.get(f"{PROBE}/users/{bad}", headers=headers), 404, "NOT_FOUND")


async def test_unhandled_error_is_500_without_leak(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get(f"{PROBE}/boom", headers=await auth.headers(SP1))
    assert_error(r, 500, "INTERNAL_ERROR")
    for leak in ("SELECT", "password_hash", "Traceback", "/srv", ".py", "RuntimeError"):
        assert leak not in r.text


async def test_unknown_body_field_and_malformed_json(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth.headers(SP1)
    r = await client.put(f"{PROBE}/me/language", json={"language": "ar", "admin": True}, headers=headers)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert {"field": "admin", "issue": "unknown field"} in body["details"]
    r = await client.put(f"{PROBE}/me/language", content=b'{"language": ', headers=headers)
    assert_error(r, 400, "MALFORMED_REQUEST")


async def test_body_over_one_mib_is_413(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth.headers(SP1, **{"Idempotency-Key": "big-1"})
    big = b'{"text": "' + b"x" * (1024 * 1024 + 10) + b'", "amount": 1}'
    r = await client.post(
        f"{PROBE}/notes", content=big, headers={**headers, "Content-Type": "application/json"}
    )
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")


async def test_role_not_allowed_is_403_and_other_branch_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    sp = await auth.login(SP1)
    assert_error(
        await client.get(f"{PROBE}/users/{sp['user']['id']}", headers=await auth.headers(SP1)),
        403,
        "FORBIDDEN",
    )
    bm1 = await auth.headers("branch_manager1@demo.tsh.iq")
    bm2_user = (await auth.login("branch_manager2@demo.tsh.iq"))["user"]
    assert_error(await client.get(f"{PROBE}/users/{bm2_user['id']}", headers=bm1), 404, "NOT_FOUND")


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    r = await client.get("/health/live")
    assert r.json() == {"status": "ok"}
    r = await client.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["checks"]["database"]["status"] == "ok"
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert "tsh_http_requests_total" in r.text
    assert "tsh_http_request_duration_seconds_bucket" in r.text


async def test_openapi_lists_routes_with_bearer(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    op = doc["paths"]["/api/bff/mobile/probe/me"]["get"]
    assert op["operationId"] == "prb_01_me"
    assert op["security"] == [{"bearer": []}]
