"""ADM-02..09: user administration through HTTP, checked against the database."""

from __future__ import annotations

from sqlalchemy import select

from tests.bff.admin.conftest import ADMIN, ADMIN2, CASHIER, CONSUMER, SECURITY, Admin
from tsh.domain.identity.models import (
    AuditLog,
    Notification,
    PasswordResetToken,
    User,
    UserPermissionOverride,
    UserSession,
)

BFF = "/api/bff/mobile"


async def test_other_roles_are_refused(adm: Admin) -> None:
    for email in (CASHIER, SECURITY, CONSUMER):
        assert (await adm.get(email, "/users")).status_code == 403
        r = await adm.send(email, "POST", "/users", {"name": "x", "email": "x@y.iq", "role": "consumer"})
        assert r.status_code == 403
    # A denial by role is audited too.
    assert await adm.count(AuditLog, AuditLog.action == "ADM-04", AuditLog.decision == "denied") >= 1


async def test_user_list_and_detail_match_the_database(adm: Admin) -> None:
    data = await adm.data(ADMIN, "/users", role="cashier", limit=100)
    async with adm.db() as s:
        expected = sorted(
            (
                await s.execute(
                    select(User.name, User.id).join(User.role).where(User.role.has(code="cashier"))
                )
            ).all()
        )
    assert [(u["name"], u["id"]) for u in data["items"]] == expected
    assert all(u["role"] == "cashier" for u in data["items"])
    one = await adm.data(ADMIN, f"/users/{await adm.user_id(CASHIER)}")
    assert one["email"] == CASHIER and one["role"]["code"] == "cashier"
    assert {p["code"] for p in one["permissions"]} >= {"pos.sell", "pos.shifts"}
    assert one["links"]["employee"] is not None
    r = await adm.get(ADMIN, "/users/999999")
    assert r.status_code == 404 and r.json()["error_code"] == "USER_NOT_FOUND"


async def test_paging_and_search(adm: Admin) -> None:
    first = await adm.data(ADMIN, "/users", limit=3)
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = await adm.data(ADMIN, "/users", limit=3, cursor=first["next_cursor"])
    assert {u["id"] for u in first["items"]}.isdisjoint({u["id"] for u in second["items"]})
    found = await adm.data(ADMIN, "/users", q="Kareem Al-Hash")
    assert [u["email"] for u in found["items"]] == [ADMIN]
    assert ADMIN in [
        u["email"] for u in (await adm.data(ADMIN, "/users", q="ADMIN1@demo", limit=100))["items"]
    ]
    bad = await adm.get(ADMIN, "/branches", cursor=first["next_cursor"])
    assert bad.status_code == 422


async def test_create_user_sends_a_setup_link_and_is_cached_then_invalidated(adm: Admin) -> None:
    listed = await adm.get(ADMIN, "/users", role="consumer", limit=100)
    again = await adm.get(ADMIN, "/users", role="consumer", limit=100)
    assert again.json()["metadata"]["cached"] is True
    created = await adm.new_user()
    uid = created["user"]["id"]
    async with adm.db() as s:
        user = await s.get(User, uid)
        assert user is not None and user.password_hash is None and user.status == "active"
        note = await s.get(Notification, created["setup_link"]["notification_id"])
        assert note is not None and note.status == "pending" and note.recipient == user.email
        assert note.template == "account_setup"
        assert (
            await s.scalar(select(PasswordResetToken.purpose).where(PasswordResetToken.user_id == uid))
            == "setup"
        )
    after = await adm.get(ADMIN, "/users", role="consumer", limit=100)
    assert after.json()["metadata"]["cached"] is False
    assert len(after.json()["data"]["items"]) == len(listed.json()["data"]["items"]) + 1
    tokens = await adm.activate(created)
    assert await adm.me(tokens) == 200


async def test_create_user_rules_change_nothing(adm: Admin) -> None:
    before = await adm.count(User)
    cases = [
        ({"name": "A", "email": CASHIER.upper(), "role": "consumer"}, 409, "EMAIL_TAKEN"),
        ({"name": "A", "email": "new1@test.tsh.iq", "role": "cashier"}, 422, "BRANCH_REQUIRED"),
        ({"name": "A", "email": "new1@test.tsh.iq", "role": "cashier", "branch_id": 1}, 422, "LINK_REQUIRED"),
        ({"name": "A", "email": "new1@test.tsh.iq", "role": "partner"}, 422, "LINK_REQUIRED"),
        ({"name": "A", "email": "new1@test.tsh.iq", "role": "wholesale_client", "customer_id": 1}, 422, None),
        ({"name": "A", "email": "not-an-email", "role": "consumer"}, 422, "VALIDATION_ERROR"),
        ({"name": "A", "email": "new1@test.tsh.iq", "role": "wizard"}, 422, "VALIDATION_ERROR"),
    ]
    for body, status, code in cases:
        r = await adm.send(ADMIN, "POST", "/users", body)
        assert r.status_code == status, (body, r.text)
        if code:
            assert r.json()["error_code"] == code, (body, r.text)
    cashier = await adm.data(ADMIN, f"/users/{await adm.user_id(CASHIER)}")
    taken = {
        "name": "A",
        "email": "new2@test.tsh.iq",
        "role": "cashier",
        "branch_id": cashier["branch"]["id"],
        "employee_id": cashier["links"]["employee"]["id"],
    }
    r = await adm.send(ADMIN, "POST", "/users", taken)
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_LINKED"
    assert await adm.count(User) == before


async def test_update_user_and_branch_change(adm: Admin) -> None:
    created = await adm.new_user()
    uid = created["user"]["id"]
    r = await adm.send(ADMIN, "PATCH", f"/users/{uid}", {"name": "Renamed User", "language": "ar"})
    assert r.status_code == 200 and r.json()["data"]["name"] == "Renamed User"
    async with adm.db() as s:
        user = await s.get(User, uid)
        assert user is not None and user.name == "Renamed User" and user.language == "ar"
    r = await adm.send(ADMIN, "PATCH", f"/users/{uid}", {"email": ADMIN})
    assert r.status_code == 409 and r.json()["error_code"] == "EMAIL_TAKEN"
    r = await adm.send(ADMIN, "PATCH", f"/users/{uid}", {"branch_id": 999999})
    assert r.status_code == 404 and r.json()["error_code"] == "BRANCH_NOT_FOUND"
    r = await adm.send(ADMIN, "PATCH", "/users/999999", {"name": "x"})
    assert r.status_code == 404
    entry = await adm.data(ADMIN, "/activity-logs", action="ADM-05", entity_id=uid)
    assert entry["items"] and entry["items"][0]["entity_type"] == "user"
    detail = await adm.data(ADMIN, f"/activity-logs/{entry['items'][-1]['id']}")
    assert detail["before"]["name"] == created["user"]["name"] and detail["after"]["name"] == "Renamed User"


async def test_disabling_revokes_at_once_and_enabling_restores_login(adm: Admin) -> None:
    created = await adm.new_user()
    uid = created["user"]["id"]
    tokens = await adm.activate(created)
    r = await adm.send(
        ADMIN, "PUT", f"/users/{uid}/status", {"status": "disabled", "reason": "left the company"}
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "disabled"
    assert await adm.me(tokens) == 401
    assert (await adm.refresh(tokens)).status_code == 401
    login = await adm.client.post(
        "/api/auth/login", json={"email": created["user"]["email"], "password": "x" * 9}
    )
    assert login.status_code == 401
    assert await adm.count(UserSession, UserSession.user_id == uid, UserSession.revoked_at.is_(None)) == 0
    r = await adm.send(ADMIN, "PUT", f"/users/{uid}/status", {"status": "active", "reason": "rehired"})
    assert r.status_code == 200
    assert await adm.me(await adm.login(created["user"]["email"])) == 200


async def test_self_disable_and_missing_reason(adm: Admin) -> None:
    me = await adm.user_id(ADMIN)
    r = await adm.send(ADMIN, "PUT", f"/users/{me}/status", {"status": "disabled", "reason": "x"})
    assert r.status_code == 409 and r.json()["error_code"] == "SELF_DISABLE"
    r = await adm.send(ADMIN, "PUT", f"/users/{me}/status", {"status": "disabled"})
    assert r.status_code == 422
    r = await adm.send(ADMIN, "PUT", f"/users/{me}/role", {"role": "cashier", "reason": "x"})
    assert r.status_code == 409 and r.json()["error_code"] == "SELF_ROLE_CHANGE"


async def test_last_admin_cannot_be_disabled_or_demoted(adm: Admin) -> None:
    from tsh.domain.actor import Actor
    from tsh.domain.identity.administration import change_role, set_status
    from tsh.platform.errors import Conflict

    a1, a2 = await adm.user_id(ADMIN), await adm.user_id(ADMIN2)
    async with adm.db() as s:
        # Inside one transaction that is rolled back: admin2 disabled, admin1 is then the last one.
        await set_status(s, Actor.system(), user_id=a2, status="disabled", reason="t")
        for attempt in (
            set_status(s, Actor.system(), user_id=a1, status="disabled", reason="t"),
            change_role(
                s, Actor.system(), user_id=a1, role="consumer", branch_id=None, branch_given=True, reason="t"
            ),
        ):
            try:
                await attempt
                raise AssertionError("the last admin was changed")
            except Conflict as exc:
                assert exc.code == "LAST_ADMIN"
        await s.rollback()
    async with adm.db() as s:
        assert (await s.get(User, a2)).status == "active"  # type: ignore[union-attr]


async def test_password_reset_revokes_and_issues_a_link(adm: Admin) -> None:
    created = await adm.new_user()
    uid = created["user"]["id"]
    tokens = await adm.activate(created)
    r = await adm.send(ADMIN, "POST", f"/users/{uid}/password-reset", {"channel": "email"})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["sessions_revoked"] == 1 and "token=" in data["reset_link"]["url"]
    assert "password" not in r.text.replace("password-reset", "").replace("reset", "")
    assert await adm.me(tokens) == 401
    async with adm.db() as s:
        assert (await s.get(User, uid)).password_hash is None  # type: ignore[union-attr]
    r = await adm.send(ADMIN, "POST", f"/users/{uid}/password-reset", {"channel": "sms"})
    assert r.status_code == 422  # no phone number to send to
    await adm.send(ADMIN, "PUT", f"/users/{uid}/status", {"status": "disabled", "reason": "t"})
    r = await adm.send(ADMIN, "POST", f"/users/{uid}/password-reset", {"channel": "email"})
    assert r.status_code == 409 and r.json()["error_code"] == "USER_DISABLED"


async def test_role_change_revokes_and_applies_the_new_role(adm: Admin) -> None:
    created = await adm.new_user()
    uid = created["user"]["id"]
    tokens = await adm.activate(created)
    r = await adm.send(ADMIN, "PUT", f"/users/{uid}/role", {"role": "cashier", "branch_id": 1, "reason": "x"})
    assert r.status_code == 422 and r.json()["error_code"] == "LINK_REQUIRED"
    r = await adm.send(ADMIN, "PUT", f"/users/{uid}/role", {"role": "admin", "reason": "promoted"})
    assert r.status_code == 422 and r.json()["error_code"] == "BRANCH_REQUIRED"
    assert await adm.me(tokens) == 200  # refused changes changed nothing
    r = await adm.send(
        ADMIN, "PUT", f"/users/{uid}/role", {"role": "admin", "branch_id": 1, "reason": "promoted"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["role"]["code"] == "admin"
    detail = await adm.data(ADMIN, f"/users/{uid}")
    assert (
        detail["role_history"][0]["to_role"] == "admin" and detail["role_history"][0]["reason"] == "promoted"
    )
    assert detail["role_history"][0]["from_role"] == "consumer"
    assert await adm.me(tokens) == 401
    assert (await adm.refresh(tokens)).status_code == 401
    fresh = await adm.login(created["user"]["email"])
    assert fresh["user"]["role"] == "admin"
    r = await adm.client.get(
        f"{BFF}/admin/roles", headers={"Authorization": f"Bearer {fresh['access_token']}"}
    )
    assert r.status_code == 200
    r = await adm.send(
        ADMIN, "PUT", f"/users/{uid}/role", {"role": "consumer", "branch_id": None, "reason": "back"}
    )
    assert r.status_code == 200


async def test_overrides_take_effect_on_the_next_request(adm: Admin) -> None:
    created = await adm.new_user()
    uid = created["user"]["id"]
    tokens = await adm.activate(created)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await adm.client.get(f"{BFF}/categories", headers=headers)).status_code == 200
    body = {"overrides": [{"permission_code": "consumer.catalog", "effect": "deny"}], "reason": "fraud check"}
    r = await adm.send(ADMIN, "PUT", f"/users/{uid}/permissions", body)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["overrides"] == [{"permission_code": "consumer.catalog", "effect": "deny"}]
    assert "consumer.catalog" not in {p["code"] for p in r.json()["data"]["permissions"]}
    # The old token carries the old permission version: refused, and the refreshed one is denied.
    assert (await adm.client.get(f"{BFF}/categories", headers=headers)).status_code == 401
    new = (await adm.refresh(tokens)).json()["data"]
    r = await adm.client.get(f"{BFF}/categories", headers={"Authorization": f"Bearer {new['access_token']}"})
    assert r.status_code == 403
    assert await adm.count(UserPermissionOverride, UserPermissionOverride.user_id == uid) == 1
    bad = {"overrides": [{"permission_code": "nope.nothing", "effect": "grant"}], "reason": "x"}
    r = await adm.send(ADMIN, "PUT", f"/users/{uid}/permissions", bad)
    assert r.status_code == 422 and r.json()["error_code"] == "UNKNOWN_PERMISSION"
    assert await adm.count(UserPermissionOverride, UserPermissionOverride.user_id == uid) == 1
    r = await adm.send(ADMIN, "PUT", f"/users/{await adm.user_id(ADMIN2)}/permissions", body)
    assert r.status_code == 422 and r.json()["error_code"] == "ADMIN_HAS_ALL"
