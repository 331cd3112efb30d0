"""The one HTTP test client every app's tests use: requests as a demo user, and database reads.

api = Api(client, auth, ctx)          # the `api` fixture of tests/conftest.py
pos = api.app("pos")                  # paths relative to /api/bff/mobile/pos
r = await pos.get(CASHIER1, "/shifts/current")
data = await pos.data(CASHIER1, "/dashboard")               # asserts 200, returns `data`
r = await pos.send(CASHIER1, "POST", "/shifts", body)       # a fresh Idempotency-Key
r = await pos.send(CASHIER1, "POST", "/shifts", body, key="k1")   # a chosen key; None = none
async with api.db() as s: ...                               # read what the database holds
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.context import AppContext
from tsh.domain.apps import SEGMENTS
from tsh.domain.identity.models import User

BFF = "/api/bff/mobile"
DEMO_PASSWORD = "demo1234"


def demo(role: str, n: int = 1) -> str:
    """The e-mail of a demo user: `<role><n>@demo.tsh.iq` (n = 1 or 2, on different branches)."""
    return f"{role}{n}@demo.tsh.iq"


class Auth:
    """Logs demo users in once per run and hands out their bearer headers."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, dict[str, Any]] = {}

    async def login(
        self, email: str, password: str = DEMO_PASSWORD, *, fresh: bool = False
    ) -> dict[str, Any]:
        if fresh or email not in self.tokens:
            r = await self.client.post("/api/auth/login", json={"email": email, "password": password})
            assert r.status_code == 200, r.text
            self.tokens[email] = r.json()["data"]
        return self.tokens[email]

    async def headers(self, email: str, **extra: str) -> dict[str, str]:
        data = await self.login(email)
        return {"Authorization": f"Bearer {data['access_token']}", **extra}


class Api:
    """HTTP calls as demo users under `base`, and reads of the database behind them."""

    def __init__(self, client: httpx.AsyncClient, auth: Auth, ctx: AppContext, base: str = "") -> None:
        self.client, self.auth, self.ctx, self.base = client, auth, ctx, base
        self._ids: dict[str, int] = {}

    def app(self, name: str) -> Api:
        """The same client with paths relative to an app's prefix (`/api/bff/mobile/<segment>`)."""
        segment = SEGMENTS[name]  # type: ignore[index]
        return Api(self.client, self.auth, self.ctx, BFF + (f"/{segment}" if segment else ""))

    async def get(self, email: str | None, path: str, **params: Any) -> httpx.Response:
        headers = await self.auth.headers(email) if email else {}
        return await self.client.get(self.base + path, params=params, headers=headers)

    async def data(self, email: str, path: str, **params: Any) -> Any:
        r = await self.get(email, path, **params)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    async def send(
        self,
        email: str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = "new",
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        extra = {} if key is None else {"Idempotency-Key": uuid.uuid4().hex if key == "new" else key}
        extra.update(headers or {})
        all_headers = await self.auth.headers(email, **extra) if email else extra
        return await self.client.request(
            method, self.base + path, json=body, params=params, headers=all_headers
        )

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        async with self.ctx.db.session() as s:
            yield s

    async def user_id(self, email: str) -> int:
        if email not in self._ids:
            async with self.db() as s:
                self._ids[email] = (await s.execute(select(User.id).where(User.email == email))).scalar_one()
        return self._ids[email]

    async def count(self, model: Any, *where: Any) -> int:
        """Rows of `model` matching `where`: compare before and after a request."""
        async with self.db() as s:
            return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)
