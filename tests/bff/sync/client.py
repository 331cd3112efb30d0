"""The Flutter client's sync loop (docs/mobile.md), as the tests run it."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from tests.http import Api
from tsh.domain.customers.models import Customer

BASE = "/api/bff/mobile/sync/"


async def sync(
    api: Api, email: str, collection: str, local: dict[int, Any], since: str | None = None, limit: int = 7
) -> str:
    """Pages until has_more is false, applying each change to `local`; returns the last cursor."""
    while True:
        params: dict[str, Any] = {"limit": limit}
        if since is not None:
            params["since"] = since
        r = await api.get(email, BASE + collection, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["success"] is True and body["metadata"]["request_id"]
        data = body["data"]
        assert data["schema_version"] == 1
        for change in data["changes"]:
            if change["op"] == "upsert":
                local[change["id"]] = change["data"] | {"_version": change["version"]}
            else:
                assert change["data"] is None
                local.pop(change["id"], None)
        since = data["next_cursor"]
        if not data["has_more"]:
            return since


async def new_customer(api: Api, email: str, prefix: str = "SYNC") -> int:
    """A retail shop of the salesperson `email`, written straight to the database (a change-log row),
    with the shop name and city SAL-04 always writes (SAL-02's rows require them)."""
    tag = secrets.token_hex(4)
    async with api.db() as s:
        c = Customer(
            code=f"{prefix}-{tag}",
            type="retail_shop",
            name=f"{prefix.title()} shop {tag}",
            shop_name=f"{prefix.title()} Store {tag}",
            city="Baghdad",
            phone=f"+96477{secrets.randbelow(10**8):08d}",
            salesperson_id=await api.user_id(email),
            branch_id=(
                await s.scalars(select(Customer.branch_id).where(Customer.branch_id.is_not(None)))
            ).first(),
        )
        s.add(c)
        await s.commit()
        return c.id
