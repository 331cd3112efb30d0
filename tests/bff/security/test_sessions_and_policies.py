"""SEC-12/13 revocation, SEC-19/20 policies (enforced: sessions per user, password history)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select
from tests.bff.security.conftest import OFFICER, PASSWORD, bearer, login, new_user
from tests.http import Api, demo

from tsh.domain.identity.accounts import issue_password_token
from tsh.domain.identity.models import SecurityPolicy, UserSession
from tsh.platform.db.uow import unit_of_work


async def _live(api: Api, user_id: int) -> int:
    return await api.count(UserSession, UserSession.user_id == user_id, UserSession.revoked_at.is_(None))


async def test_revoking_a_session_refuses_its_token_at_once(sec: Api, client: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec)
    tokens = (await login(client, email)).json()["data"]
    assert (await client.get("/api/auth/me", headers=bearer(tokens))).status_code == 200
    listed = await sec.data(OFFICER, "/sessions", user_id=uid)
    assert len(listed["items"]) == 1
    session_id = listed["items"][0]["id"]
    r = await sec.send(OFFICER, "DELETE", f"/sessions/{session_id}", params={"reason": "lost phone"})
    assert r.status_code == 200 and r.json()["data"] == {"sessions_revoked": 1}
    refused = await client.get("/api/auth/me", headers=bearer(tokens))
    assert refused.status_code == 401 and refused.json()["error_code"] == "SESSION_REVOKED"
    r = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401
    again = await sec.send(OFFICER, "DELETE", f"/sessions/{session_id}", params={"reason": "x"})
    assert again.status_code == 404
    assert (
        await sec.send(OFFICER, "DELETE", "/sessions/99999999", params={"reason": "x"})
    ).status_code == 404


async def test_revoking_every_session_of_a_user(sec: Api, client: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec)
    for _ in range(3):
        assert (await login(client, email)).status_code == 200
    assert await _live(sec, uid) == 3
    r = await sec.send(OFFICER, "DELETE", f"/users/{uid}/sessions", params={"reason": "compromised"})
    assert r.status_code == 200 and r.json()["data"] == {"sessions_revoked": 3}
    assert await _live(sec, uid) == 0
    r = await sec.send(OFFICER, "DELETE", "/users/99999999/sessions", params={"reason": "x"})
    assert r.status_code == 404 and r.json()["error_code"] == "USER_NOT_FOUND"
    r = await sec.send(demo("cashier"), "DELETE", f"/users/{uid}/sessions", params={"reason": "x"})
    assert r.status_code == 403


async def test_officer_revoking_own_session_is_a_logout(sec: Api, client: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec, "security_officer")
    tokens = (await login(client, email)).json()["data"]
    listed = (
        await client.get(sec.base + "/sessions", params={"user_id": uid}, headers=bearer(tokens))
    ).json()
    own = listed["data"]["items"][0]["id"]
    r = await client.delete(sec.base + f"/sessions/{own}", params={"reason": "done"}, headers=bearer(tokens))
    assert r.status_code == 200, r.text
    after = await client.get(sec.base + "/dashboard", headers=bearer(tokens))
    assert after.status_code == 401


async def test_policies_show_every_section(sec: Api) -> None:
    data = await sec.data(OFFICER, "/policies")
    assert data["password"]["values"]["min_length"] >= 8
    assert data["lockout"]["values"]["threshold"] == 5
    assert data["session"]["effective"]["access_token_ttl_s"] <= 900
    assert data["session"]["values"]["max_sessions_per_user"] >= 1


async def test_weak_policies_are_refused_and_change_nothing(sec: Api) -> None:
    before = await sec.count(SecurityPolicy)
    for body, code in (
        ({"section": "password", "values": {"min_length": 6}}, "POLICY_TOO_WEAK"),
        ({"section": "password", "values": {"require_digit": False}}, "POLICY_TOO_WEAK"),
        ({"section": "lockout", "values": {"threshold": 25}}, "POLICY_TOO_WEAK"),
        ({"section": "session", "values": {"access_token_ttl_minutes": 60}}, "POLICY_TOO_WEAK"),
        ({"section": "session", "values": {"max_sessions_per_user": 0}}, "VALIDATION_ERROR"),
        ({"section": "session", "values": {"colour": 1}}, "VALIDATION_ERROR"),
        ({"section": "lockout", "values": {"threshold": "5"}}, "VALIDATION_ERROR"),
        ({"section": "network", "values": {}}, "VALIDATION_ERROR"),
    ):
        r = await sec.send(OFFICER, "PUT", "/policies", body)
        assert r.status_code == 422 and r.json()["error_code"] == code, (body, r.text)
    assert await sec.count(SecurityPolicy) == before


async def _put(sec: Api, section: str, values: dict[str, Any]) -> dict[str, Any]:
    r = await sec.send(OFFICER, "PUT", "/policies", {"section": section, "values": values})
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_fewer_sessions_per_user_revokes_the_oldest(sec: Api, client: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec)
    for _ in range(3):
        assert (await login(client, email)).status_code == 200
    try:
        data = await _put(sec, "session", {"max_sessions_per_user": 2})
        assert data["session"]["values"]["max_sessions_per_user"] == 2 and data["sessions_revoked"] >= 1
        assert await _live(sec, uid) == 2
        newest = (await login(client, email)).json()["data"]
        assert await _live(sec, uid) == 2  # the limit also holds for new logins
        assert (await client.get("/api/auth/me", headers=bearer(newest))).status_code == 200
    finally:
        await _put(sec, "session", {})
    async with sec.db() as s:
        stored = await s.scalar(select(SecurityPolicy.values).where(SecurityPolicy.section == "session"))
        assert stored is not None and stored["max_sessions_per_user"] == 10


async def test_password_history_refuses_recent_passwords(sec: Api, client: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec)

    async def reset(new_password: str) -> httpx.Response:
        async with unit_of_work(sec.ctx.db, sec.ctx.bus) as s:
            token = await issue_password_token(s, user_id=uid)
        return await client.post(
            "/api/auth/password-resets", json={"token": token, "new_password": new_password}
        )

    same = await reset(PASSWORD)
    assert same.status_code == 422 and same.json()["error_code"] == "WEAK_PASSWORD"
    assert (await reset("Second-pass1")).status_code == 200
    back = await reset(PASSWORD)
    assert back.status_code == 422 and back.json()["error_code"] == "WEAK_PASSWORD"
    assert (await login(client, email, "Second-pass1")).status_code == 200
    async with sec.db() as s:
        from tsh.domain.identity.models import PasswordHistory

        kept = await s.scalar(
            select(func.count()).select_from(PasswordHistory).where(PasswordHistory.user_id == uid)
        )
    assert kept == 1


async def test_idle_timeout_kills_idle_sessions(sec: Api, client: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec)
    idle = (await login(client, email)).json()["data"]
    fresh = (await login(client, email)).json()["data"]
    async with sec.db() as s:
        oldest = await s.scalar(select(func.min(UserSession.id)).where(UserSession.user_id == uid))
        row = await s.get(UserSession, oldest)
        assert row is not None and row.last_seen_at is not None
        row.last_seen_at = row.last_seen_at - timedelta(hours=3)
        await s.commit()
    try:
        data = await _put(sec, "session", {"idle_timeout_minutes": 120})
        assert data["session"]["effective"]["idle_timeout_s"] == 7200 and data["sessions_revoked"] >= 1
        async with sec.db() as s:
            assert (await s.get(UserSession, oldest)).revoked_at is not None  # type: ignore[union-attr]
        r = await client.post("/api/auth/refresh", json={"refresh_token": idle["refresh_token"]})
        assert r.status_code == 401
        r = await client.post("/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
        assert r.status_code == 200, r.text
    finally:
        await _put(sec, "session", {})
