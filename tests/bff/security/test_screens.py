"""SEC-01 dashboard, SEC-02/03 threats, SEC-05 logins, SEC-06 lockouts, SEC-08 blocks, SEC-11 sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from tests.bff.security.conftest import CASHIER, CONSUMER, OFFICER
from tests.http import Api, demo

from tsh.domain.identity.models import (
    BlockedIp,
    Lockout,
    LoginAttempt,
    SecurityEvent,
    Threat,
    UserSession,
)

SEVERITY_ORDER = ("none", "low", "medium", "high", "critical")


async def test_dashboard_figures_match_the_database(sec: Api) -> None:
    r = await sec.get(OFFICER, "/dashboard")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["metadata"]["cached"] is False
    data = body["data"]
    now = datetime.now(UTC)
    async with sec.db() as s:
        live = [
            t
            for t in (
                await s.scalars(select(Threat).where(Threat.status.in_(("open", "investigating"))))
            ).all()
        ]
        recent = [t.severity for t in live if t.last_seen >= now - timedelta(hours=24)]
        expected_level = max(recent, key=SEVERITY_ORDER.index) if recent else "none"
        lockouts = await s.scalar(
            select(func.count()).select_from(Lockout).where(Lockout.lifted_at.is_(None), Lockout.until > now)
        )
        sessions = await s.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        )
        last_event = await s.scalar(select(func.max(SecurityEvent.id)))
    assert data["threat_level"] == expected_level
    assert sum(data["open_threats"].values()) == len(live)
    assert data["active_lockouts"] == lockouts
    assert sum(a["count"] for a in data["active_sessions"]) == sessions
    assert data["failed_logins"]["last_24h"] >= data["failed_logins"]["last_hour"]
    assert len(data["recent_events"]) == 20
    assert data["recent_events"][0]["id"] <= (last_event or 0)
    assert data["detectors"]["impossible_travel"] == "unavailable"
    assert data["detectors"]["mass_export"] == "active"
    # Live: never served from the cache.
    again = await sec.get(OFFICER, "/dashboard")
    assert again.json()["metadata"]["cached"] is False


async def test_other_roles_are_refused(sec: Api) -> None:
    for email in (CASHIER, CONSUMER, demo("accountant")):
        for path in ("/dashboard", "/threats", "/audit-logs", "/policies"):
            r = await sec.get(email, path)
            assert r.status_code == 403, (email, path, r.text)
    assert (await sec.get(demo("admin"), "/dashboard")).status_code == 200


async def test_threat_list_filters_and_pages(sec: Api) -> None:
    first = await sec.data(OFFICER, "/threats", limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = await sec.data(OFFICER, "/threats", limit=2, cursor=first["next_cursor"])
    seen = [t["id"] for t in first["items"] + second["items"]]
    assert len(set(seen)) == len(seen)
    stamps = [t["last_seen"] for t in first["items"] + second["items"]]
    assert stamps == sorted(stamps, reverse=True)
    open_ = await sec.data(OFFICER, "/threats", status="open", limit=100)
    async with sec.db() as s:
        count = await s.scalar(select(func.count()).select_from(Threat).where(Threat.status == "open"))
    assert len(open_["items"]) == min(count or 0, 100)
    assert all(t["status"] == "open" for t in open_["items"])
    kinds = {t["type"] for t in (await sec.data(OFFICER, "/threats", limit=100))["items"]}
    assert {"brute_force", "credential_stuffing", "token_reuse", "privilege_probe"} <= kinds
    bad = await sec.get(OFFICER, "/threats", status="closed")
    assert bad.status_code == 422
    forged = await sec.get(OFFICER, "/threats", cursor="abc")
    assert forged.status_code == 422


async def test_threat_detail(sec: Api) -> None:
    async with sec.db() as s:
        threat = (
            await s.scalars(select(Threat).where(Threat.user_id.is_not(None)).order_by(Threat.id).limit(1))
        ).one()
        events = await s.scalar(
            select(func.count()).select_from(SecurityEvent).where(SecurityEvent.threat_id == threat.id)
        )
    data = await sec.data(OFFICER, f"/threats/{threat.id}")
    assert data["id"] == threat.id and data["type"] == threat.type
    assert data["affected_user"]["id"] == threat.user_id
    assert len(data["events"]) == min(events or 0, 100)
    assert {s["ip"] for s in data["ip_states"]} == set(threat.ips)
    assert (await sec.get(OFFICER, "/threats/999999")).status_code == 404


async def test_login_attempts_with_top_failures(sec: Api) -> None:
    data = await sec.data(OFFICER, "/login-attempts", result="bad_credentials", limit=50)
    assert data["items"] and all(a["result"] == "bad_credentials" for a in data["items"])
    stamps = [a["at"] for a in data["items"]]
    assert stamps == sorted(stamps, reverse=True)
    async with sec.db() as s:
        email = data["items"][0]["email"]
        count = await s.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email)
        )
    r = await sec.client.get(
        sec.base + "/login-attempts",
        params={"email": email, "limit": 100},
        headers=await sec.auth.headers(OFFICER),
    )
    mine = r.json()["data"]
    assert len(mine["items"]) == min(count or 0, 100)
    assert all(t["failures"] > 0 for t in data["top_ips"] + data["top_accounts"])
    assert "password" not in str(data["items"][0]).lower()


async def test_lockouts_list_only_those_in_force(sec: Api) -> None:
    data = await sec.data(OFFICER, "/lockouts", limit=100)
    now = datetime.now(UTC)
    async with sec.db() as s:
        active = set(
            await s.scalars(select(Lockout.id).where(Lockout.lifted_at.is_(None), Lockout.until > now))
        )
    assert {row["id"] for row in data["items"]} == active
    accounts = await sec.data(OFFICER, "/lockouts", kind="account", limit=100)
    assert all(row["kind"] == "account" for row in accounts["items"])
    assert any(row["user"] is not None for row in accounts["items"])


async def test_blocked_ips_history_and_active_only(sec: Api) -> None:
    everything = await sec.data(OFFICER, "/blocked-ips", limit=100)
    active = await sec.data(OFFICER, "/blocked-ips", active_only="true", limit=100)
    async with sec.db() as s:
        total = await s.scalar(select(func.count()).select_from(BlockedIp))
    assert len(everything["items"]) == min(total or 0, 100)
    assert all(b["active"] for b in active["items"])
    assert any(not b["active"] for b in everything["items"])


async def test_sessions_are_the_live_ones(sec: Api) -> None:
    uid = await sec.user_id(CASHIER)
    data = await sec.data(OFFICER, "/sessions", user_id=uid, limit=100)
    now = datetime.now(UTC)
    async with sec.db() as s:
        live = set(
            await s.scalars(
                select(UserSession.id).where(
                    UserSession.user_id == uid, UserSession.revoked_at.is_(None), UserSession.expires_at > now
                )
            )
        )
    assert {row["id"] for row in data["items"]} == live
    assert all(row["user"]["id"] == uid and row["role"] == "cashier" for row in data["items"])
    by_role = await sec.data(OFFICER, "/sessions", role="partner", limit=20)
    assert by_role["items"] and all(row["role"] == "partner" for row in by_role["items"])
