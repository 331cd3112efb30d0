"""Helpers of the salesperson-app tests: requests as a demo user, test-owned customers, DB reads."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Auth
from tsh.context import AppContext
from tsh.domain.accounting import posting
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import User

BASE = "/api/bff/mobile/salesperson"
SP1, SP2 = "salesperson1@demo.tsh.iq", "salesperson2@demo.tsh.iq"
BM1, BM2 = "branch_manager1@demo.tsh.iq", "branch_manager2@demo.tsh.iq"
CASHIER, ACCOUNTANT, CONSUMER = "cashier1@demo.tsh.iq", "accountant1@demo.tsh.iq", "consumer1@demo.tsh.iq"
# Baghdad city centre; the test customers are registered here.
SHOP = {"lat": 33.3152, "lng": 44.3661, "accuracy_m": 8}


class Api:
    def __init__(self, client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
        self.client, self.auth, self.ctx = client, auth, ctx
        self._ids: dict[str, int] = {}

    async def get(self, email: str, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(BASE + path, params=params, headers=await self.auth.headers(email))

    async def send(
        self, email: str, method: str, path: str, body: Any, *, key: str | None = "new"
    ) -> httpx.Response:
        extra = {} if key is None else {"Idempotency-Key": uuid.uuid4().hex if key == "new" else key}
        headers = await self.auth.headers(email, **extra)
        return await self.client.request(method, BASE + path, json=body, headers=headers)

    async def data(self, email: str, path: str, **params: Any) -> Any:
        r = await self.get(email, path, **params)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    async def user_id(self, email: str) -> int:
        if email not in self._ids:
            async with self.db() as s:
                self._ids[email] = (await s.execute(select(User.id).where(User.email == email))).scalar_one()
        return self._ids[email]

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        async with self.ctx.db.session() as s:
            yield s

    async def new_customer(self, email: str = SP1, **extra: Any) -> dict[str, Any]:
        """Registers a test-owned shop customer through SAL-04 and returns its 360 view."""
        body = {
            "name": "Test Shop " + secrets.token_hex(3),
            "shop_name": "Shop " + secrets.token_hex(3),
            "phone": "+96477" + "".join(secrets.choice("0123456789") for _ in range(8)),
            "city": "Baghdad",
            "address": "Karrada, street 62",
            "geo": SHOP,
            **extra,
        }
        r = await self.send(email, "POST", "/customers", body, key=None)
        assert r.status_code == 201, r.text
        return r.json()["data"] | {"phone": body["phone"]}

    async def set_customer(self, customer_id: int, **values: Any) -> None:
        async with self.db() as s:
            await s.execute(update(Customer).where(Customer.id == customer_id).values(**values))
            await s.commit()

    async def stocked_product(self, customer_id: int, qty: int = 5) -> dict[str, Any]:
        """A product of the customer's catalogue with at least `qty` available (SAL-09)."""
        data = await self.data(SP1, "/products", customer_id=customer_id, in_stock="true", limit=100)
        for item in data["items"]:
            if item["available"] >= qty and item["unit_price"] is not None:
                return dict(item)
        raise AssertionError("no stocked product in the demo catalogue")

    async def ledger_balanced(self) -> None:
        async with self.db() as s:
            assert await posting.unbalanced_entries(s) == []


def amount(m: dict[str, str]) -> Decimal:
    return Decimal(m["amount"])


@pytest.fixture
def api(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> Api:
    return Api(client, auth, ctx)


async def order_body(
    api: Api, customer_id: int, lines: list[dict[str, Any]], terms: str = "cash"
) -> dict[str, Any]:
    """An SAL-10 body with the server's current total (learnt from a PRICE_CHANGED answer)."""
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "lines": lines,
        "payment_terms": terms,
        "expected_total": {"amount": "1", "currency": "IQD"},
    }
    r = await api.send(SP1, "POST", "/orders", body)
    assert r.status_code == 409 and r.json()["error_code"] == "PRICE_CHANGED", r.text
    detail = r.json()["details"][0]
    body["expected_total"] = {"amount": detail["actual"], "currency": detail["currency"]}
    return body


async def take_order(
    api: Api, customer_id: int, lines: list[dict[str, Any]], terms: str = "cash"
) -> dict[str, Any]:
    r = await api.send(SP1, "POST", "/orders", await order_body(api, customer_id, lines, terms))
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])
