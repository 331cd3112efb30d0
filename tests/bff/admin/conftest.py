"""Helpers of the admin-app tests: test-owned users made through ADM-04 (never the demo users,
whose tokens other tests keep), their first password set through the setup link, and logins."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.http import Api, demo

ADMIN, ADMIN2 = demo("admin"), demo("admin", 2)
CASHIER, SECURITY, CONSUMER = demo("cashier"), demo("security_officer"), demo("consumer")
PASSWORD = "Admin-test-pass-2026"


class Admin(Api):
    async def new_user(self, role: str = "consumer", **extra: Any) -> dict[str, Any]:
        """A fresh user of `role`, created by admin1 through ADM-04; returns the 201 data."""
        body = {
            "name": f"Test {role} {uuid.uuid4().hex[:6]}",
            "email": f"t{uuid.uuid4().hex[:10]}@test.tsh.iq",
            "role": role,
            **extra,
        }
        r = await self.send(ADMIN, "POST", "/users", body)
        assert r.status_code == 201, r.text
        return dict(r.json()["data"])

    async def activate(self, created: dict[str, Any]) -> dict[str, Any]:
        """Set the first password from the setup link, then log in; returns the token pair."""
        token = parse_qs(urlparse(created["setup_link"]["url"]).query)["token"][0]
        r = await self.client.post(
            "/api/auth/password-resets", json={"token": token, "new_password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return await self.login(created["user"]["email"])

    async def login(self, email: str) -> dict[str, Any]:
        r = await self.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return dict(r.json()["data"])

    async def me(self, tokens: dict[str, Any]) -> int:
        r = await self.client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        return r.status_code

    async def refresh(self, tokens: dict[str, Any]) -> Any:
        return await self.client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})


@pytest.fixture
def adm(api: Api) -> Admin:
    base = api.app("admin")
    return Admin(base.client, base.auth, base.ctx, base.base)
