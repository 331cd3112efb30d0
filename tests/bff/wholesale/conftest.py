"""Helpers of the wholesale-app tests: the demo accounts and database reads about them.

wholesale_client1 (Baghdad) and wholesale_client2 (Basra) are two different accounts; their rows
must never cross.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select

from tests.http import Api, demo
from tsh.domain.catalog.models import PriceListItem, Product
from tsh.domain.customers.models import Cart, CartItem, Customer
from tsh.domain.identity.models import User
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import Warehouse

W1, W2 = demo("wholesale_client", 1), demo("wholesale_client", 2)
CONSUMER, ADMIN = demo("consumer", 1), demo("admin", 1)


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


def money(value: Decimal | int | str, currency: str = "IQD") -> dict[str, str]:
    return {"amount": str(Decimal(value).quantize(Decimal("0.01"))), "currency": currency}


async def customer_of(api: Api, email: str) -> Customer:
    async with api.db() as s:
        return (
            await s.execute(
                select(Customer).join(User, User.customer_id == Customer.id).where(User.email == email)
            )
        ).scalar_one()


async def set_customer(api: Api, customer_id: int, **values: Any) -> None:
    """Change an account directly (what the back office would do) for a test's setup."""
    async with api.db() as s:
        customer = await s.get(Customer, customer_id)
        assert customer is not None
        for k, v in values.items():
            setattr(customer, k, v)
        await s.commit()


@pytest.fixture
def who(api: Api) -> Api:
    return api.app("wholesale")


async def clear_cart(api: Api, customer_id: int) -> None:
    async with api.db() as s:
        carts = select(Cart.id).where(Cart.customer_id == customer_id, Cart.channel == "wholesale")
        await s.execute(delete(CartItem).where(CartItem.cart_id.in_(carts)))
        await s.commit()


async def cart_count(api: Api, customer_id: int) -> int:
    return await api.count(
        CartItem,
        CartItem.cart_id.in_(
            select(Cart.id).where(Cart.customer_id == customer_id, Cart.channel == "wholesale")
        ),
    )


async def pick_product(
    api: Api, customer: Customer, *, carton_only: bool, min_available: int = 30, skip: int = 0
) -> dict[str, Any]:
    """An active product on the account's list with stock in its branch's main warehouse."""
    async with api.db() as s:
        row = (
            await s.execute(
                select(Product, StockLevel.on_hand - StockLevel.reserved, StockLevel.warehouse_id)
                .join(StockLevel, StockLevel.product_id == Product.id)
                .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                .join(PriceListItem, PriceListItem.product_id == Product.id)
                .where(
                    Warehouse.branch_id == customer.branch_id,
                    Warehouse.type == "main",
                    StockLevel.on_hand - StockLevel.reserved >= min_available,
                    Product.is_active.is_(True),
                    Product.carton_only.is_(carton_only),
                    Product.pack_size > (1 if carton_only else 0),
                    PriceListItem.price_list_id == customer.price_list_id,
                    PriceListItem.min_qty == 1,
                    PriceListItem.valid_to.is_(None),
                )
                .order_by(Product.id)
                .offset(skip)
                .limit(1)
            )
        ).one()
    p = row[0]
    return {
        "id": p.id,
        "sku": p.sku,
        "pack": p.pack_size,
        "moq": p.wholesale_moq,
        "available": int(row[1]),
        "warehouse_id": row[2],
    }


async def breaks(api: Api, price_list_id: int, product_id: int) -> list[tuple[int, Decimal]]:
    async with api.db() as s:
        rows = await s.execute(
            select(PriceListItem.min_qty, PriceListItem.unit_price)
            .where(
                PriceListItem.price_list_id == price_list_id,
                PriceListItem.product_id == product_id,
                PriceListItem.valid_to.is_(None),
            )
            .order_by(PriceListItem.min_qty, PriceListItem.valid_from.is_not(None), PriceListItem.valid_from)
        )
        # A dated price overrides the open-ended one of the same break (pricing.py's rule).
        return sorted({int(q): Decimal(p) for q, p in rows}.items())


async def reserved(api: Api, product_id: int, warehouse_id: int) -> int:
    async with api.db() as s:
        return int(
            await s.scalar(
                select(StockLevel.reserved).where(
                    StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id
                )
            )
            or 0
        )


async def add_line(who: Api, email: str, product_id: int, qty: int, unit: str) -> dict[str, Any]:
    r = await who.send(
        email, "POST", "/cart/items", {"product_id": product_id, "qty": qty, "unit": unit}, key=None
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["data"])
