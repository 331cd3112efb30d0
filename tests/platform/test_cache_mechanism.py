"""Screen cache through HTTP: miss then hit, scoped keys, tag invalidation, ETag, back-end failure."""

from __future__ import annotations

import httpx2 as httpx
from sqlalchemy import select

from tests.conftest import Auth
from tsh.context import AppContext
from tsh.domain.identity.models import User
from tsh.platform.cache.redis import RedisCache

PROBE = "/api/bff/mobile/probe"
SP1, SP2 = "salesperson1@demo.tsh.iq", "salesperson2@demo.tsh.iq"


async def test_miss_then_hit(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth.headers(SP1)
    first = await client.get(f"{PROBE}/me", params={"detail": "long"}, headers=headers)
    second = await client.get(f"{PROBE}/me", params={"detail": "long"}, headers=headers)
    assert first.json()["metadata"]["cached"] is False
    assert second.json()["metadata"]["cached"] is True
    assert second.json()["data"] == first.json()["data"]
    assert second.json()["metadata"]["cache_age_s"] >= 0


async def test_two_users_never_share_an_entry(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    a = (await client.get(f"{PROBE}/me", headers=await auth.headers(SP1))).json()
    b = (await client.get(f"{PROBE}/me", headers=await auth.headers(SP2))).json()
    assert a["data"]["id"] != b["data"]["id"]
    async with ctx.db.session() as s:
        names = dict((await s.execute(select(User.email, User.name).where(User.email.in_([SP1, SP2])))).all())
    assert a["data"]["name"] == names[SP1]
    assert b["data"]["name"] == names[SP2]


async def test_event_invalidates_only_the_affected_entries(client: httpx.AsyncClient, auth: Auth) -> None:
    h1, h2 = await auth.headers(SP1), await auth.headers(SP2)
    await client.get(f"{PROBE}/me", headers=h1)
    await client.get(f"{PROBE}/me", headers=h2)
    assert (await client.get(f"{PROBE}/me", headers=h1)).json()["metadata"]["cached"] is True
    before = (await client.get(f"{PROBE}/me", headers=h1)).json()["data"]["language"]
    target = "ar" if before == "en" else "en"
    r = await client.put(f"{PROBE}/me/language", json={"language": target}, headers=h1)
    assert r.status_code == 200, r.text
    after = (await client.get(f"{PROBE}/me", headers=h1)).json()
    assert after["metadata"]["cached"] is False
    assert after["data"]["language"] == target
    # The event named only SP1, so SP2's entry survived.
    assert (await client.get(f"{PROBE}/me", headers=h2)).json()["metadata"]["cached"] is True


async def test_etag_then_304(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth.headers(SP1)
    r = await client.get(f"{PROBE}/me", headers=headers)
    etag = r.headers["etag"]
    r2 = await client.get(f"{PROBE}/me", headers={**headers, "If-None-Match": etag})
    assert r2.status_code == 304
    assert r2.content == b""
    r3 = await client.get(f"{PROBE}/me", headers={**headers, "If-None-Match": '"other"'})
    assert r3.status_code == 200


async def test_cache_backend_down_still_serves_from_database(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    headers = await auth.headers(SP1)
    dead = RedisCache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    real_cache, real_auth_cache = ctx.cache, ctx.authenticator._cache
    ctx.cache = dead
    ctx.authenticator._cache = dead
    try:
        for _ in range(2):
            r = await client.get(f"{PROBE}/me", headers=headers)
            assert r.status_code == 200, r.text
            assert r.json()["metadata"]["cached"] is False
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        metrics = (await client.get("/metrics")).text
        assert 'tsh_cache_requests_total{category="people",outcome="error"}' in metrics
    finally:
        ctx.cache, ctx.authenticator._cache = real_cache, real_auth_cache
        await dead.close()
