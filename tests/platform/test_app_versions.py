"""App versions (docs/contract/mobile.md §4): 426 below the configured minimum on every BFF call,
never on login or health; a malformed version is a 422; no header is served unless required."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2 as httpx
import pytest
from asgi_lifespan import LifespanManager

from tests.http import DEMO_PASSWORD, demo
from tsh.bff.spec import REGISTRY
from tsh.config import Settings
from tsh.main import create_app, load_apps

SALES_DASHBOARD = "/api/bff/mobile/salesperson/dashboard"


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def versioned(seeded: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings = seeded.model_copy(update={"min_app_version": {"salesperson": "2.3.0", "pos": "1.0.0"}})
    async for c in _client(settings):
        yield c


async def _token(c: httpx.AsyncClient, email: str, **headers: str) -> dict[str, str]:
    r = await c.post("/api/auth/login", json={"email": email, "password": DEMO_PASSWORD}, headers=headers)
    assert r.status_code == 200, r.text  # login is never refused for the version
    return {"Authorization": "Bearer " + r.json()["data"]["access_token"]}


async def test_an_old_app_is_told_to_upgrade_on_every_bff_call(versioned: httpx.AsyncClient) -> None:
    old = {"X-App-Name": "salesperson", "X-App-Version": "2.2.9"}
    auth = await _token(versioned, demo("salesperson"), **old)
    r = await versioned.get(SALES_DASHBOARD, headers={**auth, **old})
    assert r.status_code == 426
    body = r.json()
    assert body["error_code"] == "UPGRADE_REQUIRED"
    assert body["details"] == [
        {"field": "X-App-Version", "issue": "older than the minimum", "minimum": "2.3.0"}
    ]
    # Before authentication too: an old build with an expired token still learns what to do.
    assert (await versioned.get(SALES_DASHBOARD, headers=old)).status_code == 426
    for ok in ("2.3.0", "2.10.1", "3.0.0-beta.1"):
        r = await versioned.get(SALES_DASHBOARD, headers={**auth, **old, "X-App-Version": ok})
        assert r.status_code == 200, (ok, r.text)
    assert (await versioned.get("/health/live", headers=old)).status_code == 200


async def test_the_check_applies_to_every_endpoint_of_the_registry(versioned: httpx.AsyncClient) -> None:
    load_apps()
    old = {"X-App-Name": "salesperson", "X-App-Version": "0.1.0"}
    for spec in REGISTRY:
        path = spec.path.replace("{id}", "1")
        r = await versioned.request(spec.method, path, headers=old)
        assert (r.status_code, r.json()["error_code"]) == (426, "UPGRADE_REQUIRED"), spec.id


async def test_without_a_version_or_with_another_app(versioned: httpx.AsyncClient) -> None:
    auth = await _token(versioned, demo("salesperson"))
    assert (await versioned.get(SALES_DASHBOARD, headers=auth)).status_code == 200
    other = {"X-App-Name": "consumer", "X-App-Version": "0.0.1"}  # no minimum for consumer
    assert (await versioned.get(SALES_DASHBOARD, headers={**auth, **other})).status_code == 200
    bad = {"X-App-Name": "salesperson", "X-App-Version": "two"}
    r = await versioned.get(SALES_DASHBOARD, headers={**auth, **bad})
    assert (r.status_code, r.json()["error_code"]) == (422, "VALIDATION_ERROR")


async def test_required_versions_refuse_old_builds_without_the_header(seeded: Settings) -> None:
    async for c in _client(seeded.model_copy(update={"require_app_version": True})):
        auth = await _token(c, demo("salesperson"))
        r = await c.get(SALES_DASHBOARD, headers=auth)
        assert (r.status_code, r.json()["error_code"]) == (426, "UPGRADE_REQUIRED")


def test_a_bad_minimum_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="not a version"):
        create_app(Settings(env="test", min_app_version={"pos": "latest"}))


async def test_a_deprecated_endpoint_says_so_on_every_answer(api) -> None:  # type: ignore[no-untyped-def]
    path = "/api/bff/mobile/probe/old-me"
    for _ in range(2):  # the miss and the cached hit
        r = await api.get(demo("cashier"), path)
        assert r.status_code == 200
        assert r.headers["Deprecation"] == "@1793491200"  # 2026-11-01T00:00:00Z
        assert r.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert r.json()["metadata"]["cached"] is True
    assert (await api.get(None, path)).headers["Deprecation"] == "@1793491200"
    doc = create_app().openapi()
    assert doc["paths"][path]["get"]["deprecated"] is True
    assert "deprecated" not in doc["paths"][SALES_DASHBOARD]["get"]
