"""Bearer tokens through HTTP: every way a token can be wrong, refresh rotation, revocation."""

from __future__ import annotations

import base64
import time

import httpx2 as httpx
import jwt
import orjson
from sqlalchemy import update

from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.context import AppContext
from tsh.domain.identity.models import User
from tsh.platform.events import DomainEvent

ME = "/api/bff/mobile/probe/me"
SP1 = "salesperson1@demo.tsh.iq"


def _claims(settings, **over) -> dict:  # type: ignore[no-untyped-def]
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "1",
        "role": "admin",
        "branch_id": None,
        "sid": 1,
        "pv": 1,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(over)
    return claims


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


async def _get(client: httpx.AsyncClient, token: str | None, raw_header: str | None = None) -> httpx.Response:
    headers = {}
    if raw_header is not None:
        headers["Authorization"] = raw_header
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.get(ME, headers=headers)


async def test_missing_and_malformed(client: httpx.AsyncClient) -> None:
    r = await _get(client, None)
    assert_error(r, 401, "AUTH_REQUIRED")
    assert r.headers["www-authenticate"] == "Bearer"
    assert_error(await _get(client, None, "Basic abc"), 401, "INVALID_TOKEN")
    assert_error(await _get(client, "not.a.jwt"), 401, "INVALID_TOKEN")


async def test_expired_token(client: httpx.AsyncClient, ctx: AppContext) -> None:
    s = ctx.settings
    token = jwt.encode(
        _claims(s, iat=int(time.time()) - 3600, exp=int(time.time()) - 60), s.secret_key, "HS256"
    )
    assert_error(await _get(client, token), 401, "TOKEN_EXPIRED")


async def test_tampered_payload(client: httpx.AsyncClient, auth: Auth) -> None:
    token = (await auth.login(SP1))["access_token"]
    header, payload, sig = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    assert_error(await _get(client, f"{header}.{_b64(claims)}.{sig}"), 401, "INVALID_TOKEN")


async def test_alg_none_and_other_algorithms(client: httpx.AsyncClient, ctx: AppContext) -> None:
    s = ctx.settings
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(s))}."
    assert_error(await _get(client, unsigned), 401, "INVALID_TOKEN")
    hs512 = jwt.encode(_claims(s), s.secret_key, "HS512")
    assert_error(await _get(client, hs512), 401, "INVALID_TOKEN")


async def test_wrong_typ_and_audience(client: httpx.AsyncClient, ctx: AppContext) -> None:
    s = ctx.settings
    for over in ({"typ": "refresh"}, {"aud": "someone-else"}, {"iss": "evil"}):
        token = jwt.encode(_claims(s, **over), s.secret_key, "HS256")
        assert_error(await _get(client, token), 401, "INVALID_TOKEN")


async def test_refresh_rotation_and_reuse_revokes_family(client: httpx.AsyncClient, auth: Auth) -> None:
    first = await auth.login("salesperson2@demo.tsh.iq", fresh=True)
    r = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()["data"]
    assert second["refresh_token"] != first["refresh_token"]
    assert (await _get(client, second["access_token"])).status_code == 200
    # Reusing the consumed token revokes the whole session, the new tokens included.
    r = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(r, 401, "REFRESH_TOKEN_REUSED")
    assert_error(await _get(client, second["access_token"]), 401, "SESSION_REVOKED")
    r = await client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    auth.tokens.pop("salesperson2@demo.tsh.iq", None)


async def test_logout_takes_effect_at_once(client: httpx.AsyncClient, auth: Auth) -> None:
    data = await auth.login("cashier1@demo.tsh.iq", fresh=True)
    token = data["access_token"]
    assert (await _get(client, token)).status_code == 200
    r = await client.post("/api/auth/logout", json={}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert_error(await _get(client, token), 401, "SESSION_REVOKED")
    auth.tokens.pop("cashier1@demo.tsh.iq", None)


async def test_disabled_user_rejected_at_once(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    email = "cashier2@demo.tsh.iq"
    data = await auth.login(email, fresh=True)
    token = data["access_token"]
    assert (await _get(client, token)).status_code == 200
    async with ctx.db.session() as s:
        await s.execute(update(User).where(User.email == email).values(status="disabled"))
        await s.commit()
    await ctx.bus.publish([DomainEvent("UserChanged", frozenset({f"user:{data['user']['id']}"}))])
    try:
        assert (await _get(client, token)).status_code == 401
        r = await client.post("/api/auth/login", json={"email": email, "password": "demo1234"})
        assert_error(r, 401, "INVALID_CREDENTIALS")
    finally:
        async with ctx.db.session() as s:
            await s.execute(update(User).where(User.email == email).values(status="active"))
            await s.commit()
        auth.tokens.pop(email, None)


async def test_unknown_email_and_wrong_password_answer_alike(client: httpx.AsyncClient) -> None:
    a = await client.post("/api/auth/login", json={"email": "nobody@demo.tsh.iq", "password": "demo1234"})
    b = await client.post("/api/auth/login", json={"email": SP1, "password": "wrong-pass-1"})
    body_a, body_b = assert_error(a, 401, "INVALID_CREDENTIALS"), assert_error(b, 401, "INVALID_CREDENTIALS")
    assert body_a["error"] == body_b["error"]
