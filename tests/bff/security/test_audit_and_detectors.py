"""SEC-14/15/16 audit trail and denials (by role and by scope), SEC-17/18 permission views, and
the detectors: ten failed logins raise brute_force, ten denials raise privilege_probe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2 as httpx
from sqlalchemy import delete, select
from tests.bff.security.conftest import OFFICER, bearer, login, new_user
from tests.http import Api, demo

from tsh.domain.customers.models import Customer
from tsh.domain.events import raise_event
from tsh.domain.identity.models import AuditLog, Permission, Role, RolePermission, Threat, User
from tsh.domain.pos.models import Shift
from tsh.platform.db.uow import unit_of_work


def _window(days: float = 1) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": (now - timedelta(days=days)).isoformat(), "to": (now + timedelta(minutes=5)).isoformat()}


async def test_audit_trail_lists_denials_with_their_reason(sec: Api) -> None:
    denied = await sec.data(OFFICER, "/audit-logs", decision="denied", limit=50)
    assert denied["items"] and all(a["decision"] == "denied" for a in denied["items"])
    assert {"role", "scope"} <= {
        a["reason"] for a in (await sec.data(OFFICER, "/audit-logs", decision="denied", limit=100))["items"]
    }
    page2 = await sec.data(OFFICER, "/audit-logs", limit=5)
    nxt = await sec.data(OFFICER, "/audit-logs", limit=5, cursor=page2["next_cursor"])
    assert not {a["id"] for a in page2["items"]} & {a["id"] for a in nxt["items"]}
    assert nxt["items"][0]["at"] <= page2["items"][-1]["at"]


async def test_a_role_denial_is_audited(sec: Api) -> None:
    uid = await sec.user_id(demo("hr_manager"))
    before = await sec.count(AuditLog, AuditLog.actor_id == uid, AuditLog.decision == "denied")
    assert (await sec.get(demo("hr_manager"), "/threats")).status_code == 403
    async with sec.db() as s:
        row = (
            await s.scalars(
                select(AuditLog)
                .where(AuditLog.actor_id == uid, AuditLog.decision == "denied")
                .order_by(AuditLog.id.desc())
                .limit(1)
            )
        ).one()
    assert await sec.count(AuditLog, AuditLog.actor_id == uid, AuditLog.decision == "denied") == before + 1
    assert (row.action, row.reason, row.app) == ("SEC-02", "role", "security")
    entry = await sec.data(OFFICER, f"/audit-logs/{row.id}")
    assert entry["id"] == row.id and entry["decision"] == "denied" and entry["before"] is None
    # Entries never change: the second read is served from the cache.
    again = await sec.get(OFFICER, f"/audit-logs/{row.id}")
    assert again.json()["metadata"]["cached"] is True
    assert (await sec.get(OFFICER, "/audit-logs/99999999")).status_code == 404


async def test_a_foreign_id_is_a_404_and_a_scope_denial(api: Api) -> None:
    sp1, sp2 = demo("salesperson"), demo("salesperson", 2)
    async with api.db() as s:
        foreign = await s.scalar(
            select(Customer.id).where(Customer.salesperson_id == await api.user_id(sp2)).limit(1)
        )
    assert foreign is not None
    uid = await api.user_id(sp1)
    r = await api.app("salesperson").get(sp1, f"/customers/{foreign}")
    assert r.status_code == 404
    async with api.db() as s:
        row = (
            await s.scalars(
                select(AuditLog).where(AuditLog.actor_id == uid).order_by(AuditLog.id.desc()).limit(1)
            )
        ).one()
    assert (row.decision, row.reason, row.action, row.entity_id) == ("denied", "scope", "SAL-03", foreign)


async def test_access_denials_grouped_with_top_offenders(sec: Api) -> None:
    # A denial of our own, so the window certainly holds one.
    assert (await sec.get(demo("technician"), "/dashboard")).status_code == 403
    data = await sec.data(OFFICER, "/access-denials", **_window(20))
    assert data["total"] >= sum(g["count"] for g in data["items"]) > 0
    counts = [g["count"] for g in data["items"]]
    assert counts == sorted(counts, reverse=True)
    tech = await sec.user_id(demo("technician"))
    mine = await sec.data(OFFICER, "/access-denials", user_id=tech, **_window())
    assert any(g["endpoint"] == "SEC-01" and g["reason"] == "role" for g in mine["items"])
    assert mine["top_offenders"][0]["user"]["id"] == tech
    too_long = await sec.get(OFFICER, "/access-denials", **_window(40))
    assert too_long.status_code == 422 and too_long.json()["error_code"] == "RANGE_TOO_LONG"
    assert (await sec.get(OFFICER, "/access-denials")).status_code == 422  # from and to are required
    window = _window(20)  # a cursor is bound to its list's filters: page with the same window
    small = await sec.data(OFFICER, "/access-denials", limit=1, **window)
    if small["next_cursor"]:
        more = await sec.data(OFFICER, "/access-denials", limit=1, cursor=small["next_cursor"], **window)
        assert more["items"] != small["items"]


async def test_ten_failed_logins_raise_a_brute_force_threat(sec: Api, outsider: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec)
    for k in range(10):
        r = await login(outsider, email, "not-the-password-9")
        assert r.status_code in (401, 429), r.text
        if k < 9:
            async with sec.db() as s:
                assert await s.scalar(select(Threat.id).where(Threat.user_id == uid)) is None
    async with sec.db() as s:
        threat = (await s.scalars(select(Threat).where(Threat.user_id == uid))).one()
    assert (threat.type, threat.status, threat.severity) == ("brute_force", "open", "high")
    listed = await sec.data(OFFICER, "/threats", type="brute_force", status="open", limit=100)
    assert threat.id in {t["id"] for t in listed["items"]}
    detail = await sec.data(OFFICER, f"/threats/{threat.id}")
    assert detail["affected_user"]["email"] == email and detail["events"]
    dashboard = await sec.data(OFFICER, "/dashboard")
    assert dashboard["threat_level"] in ("high", "critical")
    assert any(e["threat_id"] == threat.id for e in dashboard["recent_events"])


async def test_repeated_denials_raise_a_privilege_probe(sec: Api, client: httpx.AsyncClient) -> None:
    uid, email = await new_user(sec, "cashier")
    tokens = (await login(client, email)).json()["data"]
    for _ in range(10):
        r = await client.get(sec.base + "/audit-logs", headers=bearer(tokens))
        assert r.status_code == 403
    async with sec.db() as s:
        threat = (await s.scalars(select(Threat).where(Threat.user_id == uid))).one()
    assert threat.type == "privilege_probe" and threat.status == "open"


async def test_permissions_matrix_follows_role_permission_changes(sec: Api) -> None:
    first = await sec.get(OFFICER, "/permissions-matrix", module="security")
    assert first.status_code == 200 and first.json()["data"]["modules"][0]["module"] == "security"
    grants = {p["code"]: p["grants"] for p in first.json()["data"]["modules"][0]["permissions"]}
    assert grants["security.dashboard"]["security_officer"] is True
    assert grants["security.dashboard"]["cashier"] is False
    assert all(g["admin"] for g in grants.values())
    assert (await sec.get(OFFICER, "/permissions-matrix", module="security")).json()["metadata"][
        "cached"
    ] is True
    async with unit_of_work(sec.ctx.db, sec.ctx.bus) as s:
        role_id = await s.scalar(select(Role.id).where(Role.code == "security_officer"))
        perm_id = await s.scalar(select(Permission.id).where(Permission.code == "security.policies"))
        await s.execute(
            delete(RolePermission).where(
                RolePermission.role_id == role_id, RolePermission.permission_id == perm_id
            )
        )
        raise_event(s, "UserRoleChanged", users=[])
    try:
        after = await sec.get(OFFICER, "/permissions-matrix", module="security")
        assert after.json()["metadata"]["cached"] is False
        grants = {p["code"]: p["grants"] for p in after.json()["data"]["modules"][0]["permissions"]}
        assert grants["security.policies"]["security_officer"] is False
    finally:
        async with unit_of_work(sec.ctx.db, sec.ctx.bus) as s:
            s.add(RolePermission(role_id=role_id, permission_id=perm_id))
            raise_event(s, "UserRoleChanged", users=[])


async def test_user_permissions_with_their_source(sec: Api) -> None:
    uid = await sec.user_id(demo("cashier"))
    data = await sec.data(OFFICER, f"/users/{uid}/permissions")
    assert data["user"]["id"] == uid and data["role"] == "cashier"
    codes = {p["code"]: p["source"] for p in data["permissions"]}
    assert codes and set(codes.values()) <= {"role", "override"}
    assert "security.dashboard" not in codes
    r = await sec.get(OFFICER, "/users/99999999/permissions")
    assert r.status_code == 404 and r.json()["error_code"] == "USER_NOT_FOUND"
    assert (await sec.get(demo("cashier"), f"/users/{uid}/permissions")).status_code == 403


async def test_user_permissions_cache_drops_on_user_changed(sec: Api) -> None:
    uid, _ = await new_user(sec, "cashier")
    first = await sec.get(OFFICER, f"/users/{uid}/permissions")
    assert first.status_code == 200 and first.json()["metadata"]["cached"] is False
    assert (await sec.get(OFFICER, f"/users/{uid}/permissions")).json()["metadata"]["cached"] is True
    async with unit_of_work(sec.ctx.db, sec.ctx.bus) as s:
        user = await s.get(User, uid)
        assert user is not None
        user.status = "disabled"
        raise_event(s, "UserChanged", users=[uid])
    after = await sec.get(OFFICER, f"/users/{uid}/permissions")
    assert (
        after.json()["metadata"]["cached"] is False and after.json()["data"]["user"]["status"] == "disabled"
    )


async def test_legacy_api_denials_are_audited(api: Api) -> None:
    cashier = await api.user_id(demo("cashier"))
    headers = await api.auth.headers(demo("cashier"))
    assert (await api.client.get("/api/threats", headers=headers)).status_code == 403
    async with api.db() as s:
        foreign = await s.scalar(
            select(Shift.id).where(Shift.cashier_id == await api.user_id(demo("cashier", 2)))
        )
    assert foreign is not None
    assert (await api.client.get(f"/api/pos-shifts/{foreign}", headers=headers)).status_code == 404
    async with api.db() as s:
        rows = (
            await s.execute(
                select(AuditLog.action, AuditLog.reason, AuditLog.entity_id)
                .where(AuditLog.actor_id == cashier, AuditLog.decision == "denied")
                .order_by(AuditLog.id.desc())
                .limit(2)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("GET /api/pos-shifts", "scope", foreign),
        ("GET /api/threats", "role", None),
    ]
