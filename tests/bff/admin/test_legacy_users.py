"""Legacy `PATCH /api/users/{id}` (issue 18 item 1): the ADM-05/06/08 services and their rules."""

from __future__ import annotations

from tests.bff.admin.conftest import ADMIN, CASHIER, Admin
from tsh.domain.identity.models import User


async def test_legacy_patch_follows_the_admin_rules(adm: Admin) -> None:
    created = await adm.new_user()
    uid = created["user"]["id"]
    tokens = await adm.activate(created)
    legacy = f"/api/users/{uid}"
    headers = await adm.auth.headers(ADMIN)
    r = await adm.client.patch(legacy, json={"name": "Legacy Name"}, headers=headers)
    assert r.status_code == 200, r.text
    async with adm.db() as s:
        assert (await s.get(User, uid)).name == "Legacy Name"  # type: ignore[union-attr]
    assert await adm.me(tokens) == 200
    r = await adm.client.patch(legacy, json={"status": "disabled"}, headers=headers)
    assert r.status_code == 422  # a reason is required, as in ADM-06
    r = await adm.client.patch(legacy, json={"status": "disabled", "reason": "left"}, headers=headers)
    assert r.status_code == 200, r.text
    assert await adm.me(tokens) == 401  # sessions revoked at once
    r = await adm.client.patch(
        legacy, json={"role": "cashier", "branch_id": 1, "reason": "x"}, headers=headers
    )
    assert r.status_code == 422 and r.json()["error_code"] == "LINK_REQUIRED"
    me = await adm.user_id(ADMIN)
    r = await adm.client.patch(
        f"/api/users/{me}", json={"status": "disabled", "reason": "x"}, headers=headers
    )
    assert r.status_code == 409 and r.json()["error_code"] == "SELF_DISABLE"
    r = await adm.client.patch(legacy, json={"email": CASHIER}, headers=headers)
    assert r.status_code == 409 and r.json()["error_code"] == "EMAIL_TAKEN"
    r = await adm.client.patch(legacy, json={"password_hash": "x"}, headers=headers)
    assert r.status_code == 422
    r = await adm.client.patch(legacy, json={"name": "x"}, headers=await adm.auth.headers(CASHIER))
    assert r.status_code in (403, 404)
    async with adm.db() as s:
        user = await s.get(User, uid)
        assert user is not None and user.status == "disabled" and user.email == created["user"]["email"]
