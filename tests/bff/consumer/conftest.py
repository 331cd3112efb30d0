"""Helpers of the consumer-app tests: the demo consumers, products that are listed and in stock at a
branch, and a way to read what the database holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Auth
from tsh.context import AppContext
from tsh.domain.catalog.models import Product
from tsh.domain.catalog.queries import Serving, listed_products, serving_branch
from tsh.domain.identity.models import User
from tsh.domain.inventory.models import StockLevel
from tsh.platform.db.base import utcnow

C1 = "consumer1@demo.tsh.iq"
C2 = "consumer2@demo.tsh.iq"
BASE = "/api/bff/mobile"


@dataclass
class Consumer:
    email: str
    user_id: int
    customer_id: int
    serving: Serving


async def consumer(ctx: AppContext, email: str) -> Consumer:
    async with ctx.db.session() as s:
        user_id, cid = (await s.execute(select(User.id, User.customer_id).where(User.email == email))).one()
        assert cid is not None
        where = await serving_branch(s, branch_id=None, customer_id=cid)
    return Consumer(email, user_id, cid, where)


async def stocked_products(
    ctx: AppContext, where: Serving, *, n: int = 1, min_available: int = 5
) -> list[int]:
    """Listed products with at least `min_available` pieces free in the branch main warehouse."""
    async with ctx.db.session() as s:
        ids = (
            await s.scalars(
                listed_products(where, utcnow())
                .join(StockLevel, StockLevel.product_id == Product.id)
                .where(
                    StockLevel.warehouse_id == where.warehouse_id,
                    StockLevel.on_hand - StockLevel.reserved >= min_available,
                )
                .order_by(func.random())
                .limit(n)
            )
        ).all()
    assert len(ids) == n, "the demo seed must stock some consumer products"
    return list(ids)


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


@pytest.fixture
async def c1(ctx: AppContext) -> Consumer:
    return await consumer(ctx, C1)


@pytest.fixture
async def c2(ctx: AppContext) -> Consumer:
    return await consumer(ctx, C2)


@pytest.fixture
async def h1(auth: Auth) -> dict[str, str]:
    return await auth.headers(C1)


@pytest.fixture
async def h2(auth: Auth) -> dict[str, str]:
    return await auth.headers(C2)
