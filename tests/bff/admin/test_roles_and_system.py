"""ADM-10..13 roles and permissions, ADM-01 dashboard, ADM-21/22 activity log, ADM-25 cache clearing."""

from __future__ import annotations

from typing import get_args

from sqlalchemy import func, select

from tests.bff.admin.conftest import ADMIN, CASHIER, Admin
from tests.http import demo
from tsh.bff.apps.admin.branches import PaymentMethod
from tsh.domain.identity.models import AuditLog, Permission, Role, RolePermission, User
from tsh.domain.organisation.models import DELIVERY_PAYMENT_METHODS, Branch

BFF = "/api/bff/mobile"
ACCOUNTANT = demo("accountant")
REPORT = f"{BFF}/pos/reports/sales?from=2026-01-01&to=2026-01-02"


def test_payment_methods_match_the_model() -> None:
    assert get_args(PaymentMethod) == DELIVERY_PAYMENT_METHODS


async def test_roles_and_catalogue_match_the_database(adm: Admin) -> None:
    roles = (await adm.data(ADMIN, "/roles"))["items"]
    assert len(roles) == 15
    async with adm.db() as s:
        total = await s.scalar(select(func.count()).select_from(Permission))
        cashier = await s.scalar(select(Role).where(Role.code == "cashier"))
        assert cashier is not None
        held = await s.scalar(
            select(func.count()).select_from(RolePermission).where(RolePermission.role_id == cashier.id)
        )
        holders = await s.scalar(select(func.count()).select_from(User).where(User.role_id == cashier.id))
    by_code = {r["code"]: r for r in roles}
    assert by_code["admin"]["permissions"] == total
    assert by_code["cashier"]["permissions"] == held and by_code["cashier"]["users"] == holders
    detail = await adm.data(ADMIN, f"/roles/{cashier.id}")
    assert {p["code"] for m in detail["modules"] for p in m["permissions"]} >= {"pos.sell"}
    assert detail["users_total"] == holders and len(detail["users"]) == min(50, holders or 0)
    assert (await adm.get(ADMIN, "/roles/999999")).json()["error_code"] == "ROLE_NOT_FOUND"
    perms = (await adm.data(ADMIN, "/permissions", module="pos"))["items"]
    assert {p["module"] for p in perms} == {"pos"}
    sell = next(p for p in perms if p["code"] == "pos.sell")
    assert {"admin", "cashier", "branch_manager"} <= set(sell["roles"])
    assert (await adm.get(ADMIN, "/permissions", module="nope")).status_code == 422
    assert (await adm.get(CASHIER, "/roles")).status_code == 403


async def test_role_permission_set_applies_to_holders_on_their_next_request(adm: Admin) -> None:
    async with adm.db() as s:
        role = await s.scalar(select(Role).where(Role.code == "accountant"))
        assert role is not None
        original = sorted(
            await s.scalars(
                select(Permission.code)
                .join(RolePermission, RolePermission.permission_id == Permission.id)
                .where(RolePermission.role_id == role.id)
            )
        )
    assert "pos.sales_report" in original
    cached = await adm.get(ADMIN, f"/roles/{role.id}")
    assert (await adm.get(ADMIN, f"/roles/{role.id}")).json()["metadata"]["cached"] is True
    reduced = [c for c in original if c != "pos.sales_report"]
    old = await adm.auth.headers(ACCOUNTANT)
    assert (await adm.client.get(REPORT, headers=old)).status_code == 200
    try:
        r = await adm.send(
            ADMIN, "PUT", f"/roles/{role.id}/permissions", {"permission_codes": reduced, "reason": "t"}
        )
        assert r.status_code == 200, r.text
        fresh = await adm.get(ADMIN, f"/roles/{role.id}")
        assert fresh.json()["metadata"]["cached"] is False and fresh.json()["data"] != cached.json()["data"]
        # The holder's token is out of date at once; a new login may no longer call the screen.
        assert (await adm.client.get(REPORT, headers=old)).status_code == 401
        await adm.auth.login(ACCOUNTANT, fresh=True)
        r = await adm.client.get(REPORT, headers=await adm.auth.headers(ACCOUNTANT))
        assert r.status_code == 403
        bad = {"permission_codes": [*reduced, "nope.x"], "reason": "t"}
        r = await adm.send(ADMIN, "PUT", f"/roles/{role.id}/permissions", bad)
        assert r.status_code == 422 and r.json()["error_code"] == "UNKNOWN_PERMISSION"
    finally:
        r = await adm.send(
            ADMIN, "PUT", f"/roles/{role.id}/permissions", {"permission_codes": original, "reason": "t"}
        )
        assert r.status_code == 200
        await adm.auth.login(ACCOUNTANT, fresh=True)
    async with adm.db() as s:
        admin_role = await s.scalar(select(Role.id).where(Role.code == "admin"))
    r = await adm.send(
        ADMIN, "PUT", f"/roles/{admin_role}/permissions", {"permission_codes": [], "reason": "t"}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "ADMIN_ROLE_LOCKED"


async def test_dashboard_figures_match_the_database(adm: Admin) -> None:
    data = await adm.data(ADMIN, "/dashboard")
    async with adm.db() as s:
        users = await s.scalar(select(func.count()).select_from(User))
        branches = await s.scalar(select(func.count()).select_from(Branch))
    assert sum(x["count"] for x in data["users"]["by_role"]) == users
    assert data["branches"]["total"] == branches
    assert len(data["recent_admin_actions"]) <= 10
    assert all(a["summary"] for a in data["recent_admin_actions"])


async def test_activity_log_lists_allowed_actions_newest_first(adm: Admin) -> None:
    created = await adm.new_user()
    uid = created["user"]["id"]
    rows = (await adm.data(ADMIN, "/activity-logs", user_id=await adm.user_id(ADMIN), app="admin", limit=5))[
        "items"
    ]
    assert rows[0]["action"] == "ADM-04" and rows[0]["entity_id"] == uid
    assert "Creates a user" in rows[0]["summary"]
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    one = await adm.data(ADMIN, f"/activity-logs/{rows[0]['id']}")
    assert one["after"]["email"] == created["user"]["email"] and one["request"]["request_id"]
    async with adm.db() as s:
        denied = await s.scalar(select(AuditLog.id).where(AuditLog.decision == "denied").limit(1))
        entries = await s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity_id == uid, AuditLog.entity_type == "user", AuditLog.decision == "allowed")
        )
    if denied is not None:
        assert (await adm.get(ADMIN, f"/activity-logs/{denied}")).status_code == 404  # denials: SEC-14
    listed = (await adm.data(ADMIN, "/activity-logs", entity_type="user", entity_id=uid))["items"]
    assert len(listed) == entries
    page1 = await adm.data(ADMIN, "/activity-logs", limit=2)
    page2 = await adm.data(ADMIN, "/activity-logs", limit=2, cursor=page1["next_cursor"])
    assert page1["items"][-1]["id"] != page2["items"][0]["id"]
    assert (await adm.get(ADMIN, "/users", cursor=page1["next_cursor"])).status_code == 422
    assert (
        await adm.get(ADMIN, "/activity-logs", **{"from": "2026-02-01", "to": "2026-01-01"})
    ).status_code == 422


async def test_cache_clearing_by_category_and_app(adm: Admin) -> None:
    await adm.get(ADMIN, "/users")
    assert (await adm.get(ADMIN, "/users")).json()["metadata"]["cached"] is True
    await adm.get(ADMIN, "/roles")
    r = await adm.send(ADMIN, "POST", "/cache-invalidations", {"category": "people", "reason": "repair"})
    assert r.status_code == 200 and r.json()["data"]["tags"] == ["category:people"]
    assert (await adm.get(ADMIN, "/users")).json()["metadata"]["cached"] is False
    assert (await adm.get(ADMIN, "/roles")).json()["metadata"]["cached"] is True  # reference kept
    r = await adm.send(
        ADMIN, "POST", "/cache-invalidations", {"category": "all", "app": "admin", "reason": "repair"}
    )
    assert r.status_code == 200
    assert (await adm.get(ADMIN, "/roles")).json()["metadata"]["cached"] is False
    for body in ({"category": "bogus", "reason": "x"}, {"reason": "x"}, {"category": "people"}):
        r = await adm.send(ADMIN, "POST", "/cache-invalidations", body)
        assert r.status_code == 422, body
    assert r.json()["error_code"] == "VALIDATION_ERROR"
    r = await adm.send(ADMIN, "POST", "/cache-invalidations", {"category": "bogus", "reason": "x"})
    assert r.json()["error_code"] == "UNKNOWN_CATEGORY"
    assert await adm.count(AuditLog, AuditLog.action == "ADM-25", AuditLog.decision == "allowed") >= 2
