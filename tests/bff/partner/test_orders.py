"""PAR-07 partner orders and PAR-08 cancellation: network check, rules, commission, nothing changed."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, update

from tests.bff.partner.test_self_service import P1, P2, _partner
from tests.http import Api
from tsh.domain.catalog.models import PriceList, PriceListItem, Product
from tsh.domain.customers.models import Address, Customer, Partner
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import Warehouse
from tsh.domain.sales.models import Commission, Order


async def _setup(api: Api, p: Partner) -> dict[str, Any]:
    async with api.db() as s:
        customer, address = (
            await s.execute(
                select(Customer.id, Address.id)
                .join(Address, Address.customer_id == Customer.id)
                .where(Customer.partner_id == p.id, Customer.on_hold.is_(False))
                .order_by(Customer.id)
                .limit(1)
            )
        ).one()
        product = await s.scalar(
            select(Product.id)
            .join(StockLevel, StockLevel.product_id == Product.id)
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .join(PriceListItem, PriceListItem.product_id == Product.id)
            .join(PriceList, PriceList.id == PriceListItem.price_list_id)
            .where(
                Warehouse.branch_id == p.branch_id,
                Warehouse.type == "main",
                StockLevel.on_hand - StockLevel.reserved >= 20,
                Product.is_active.is_(True),
                Product.is_serialised.is_(False),
                PriceList.channel == "partner",
                PriceList.partner_tier_id == p.tier_id,
                PriceListItem.min_qty == 1,
                PriceListItem.valid_to.is_(None),
            )
            .order_by(Product.id)
            .limit(1)
        )
    return {"customer_id": customer, "address_id": address, "product_id": product}


def _body(setup: dict[str, Any], total: str, qty: int = 4) -> dict[str, Any]:
    return {
        "customer_id": setup["customer_id"],
        "address_id": setup["address_id"],
        "lines": [{"product_id": setup["product_id"], "qty": qty}],
        "expected_total": {"amount": total, "currency": "IQD"},
    }


async def _orders(api: Api, partner_id: int) -> int:
    return await api.count(Order, Order.partner_id == partner_id)


async def test_partner_order_commission_and_cancellation(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    setup = await _setup(api, p)
    before = await _orders(api, p.id)
    # A stale total: 409 PRICE_CHANGED with the actual one; nothing placed.
    r = await par.send(P1, "POST", "/orders", _body(setup, "1.00"))
    assert r.status_code == 409 and r.json()["error_code"] == "PRICE_CHANGED", r.text
    actual = r.json()["details"][0]["actual"]
    assert await _orders(api, p.id) == before
    # Another partner's customer: 404, nothing placed.
    r = await par.send(P2, "POST", "/orders", _body(setup, actual))
    assert r.status_code == 404 and r.json()["error_code"] == "CUSTOMER_NOT_FOUND"
    # Suspended: 409 and nothing placed.
    async with api.db() as s:
        await s.execute(update(Partner).where(Partner.id == p.id).values(status="suspended"))
        await s.commit()
    try:
        r = await par.send(P1, "POST", "/orders", _body(setup, actual))
        assert r.status_code == 409 and r.json()["error_code"] == "PARTNER_SUSPENDED", r.text
    finally:
        async with api.db() as s:
            await s.execute(update(Partner).where(Partner.id == p.id).values(status=p.status))
            await s.commit()
    assert await _orders(api, p.id) == before
    r = await par.send(P1, "POST", "/orders", _body(setup, actual), key="par-order-1")
    assert r.status_code == 201, r.text
    placed = r.json()["data"]
    again = await par.send(P1, "POST", "/orders", _body(setup, actual), key="par-order-1")
    assert again.json()["data"]["id"] == placed["id"] and await _orders(api, p.id) == before + 1
    async with api.db() as s:
        order = await s.get(Order, placed["id"])
        assert order is not None and order.channel == "partner" and order.payment_terms == "cash_on_delivery"
        rows = (await s.scalars(select(Commission).where(Commission.order_id == order.id))).all()
    net = order.subtotal - order.discount
    direct = [c for c in rows if c.partner_id == p.id and c.kind == "direct"]
    assert len(direct) == 1
    assert direct[0].amount == (net * p.commission_rate / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    if p.parent_partner_id is None:
        assert all(c.kind == "direct" for c in rows)
    assert [c["kind"] for c in placed["commissions"]] == ["direct"]
    # Cancel: only the owner, only once.
    r = await par.send(
        P2, "POST", f"/orders/{placed['id']}/cancellation", {"reason": "Customer changed mind"}
    )
    assert r.status_code == 404 and r.json()["error_code"] == "ORDER_NOT_FOUND"
    r = await par.send(
        P1, "POST", f"/orders/{placed['id']}/cancellation", {"reason": "Customer changed mind"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "cancelled"
    async with api.db() as s:
        statuses = (
            await s.scalars(select(Commission.status).where(Commission.order_id == placed["id"]))
        ).all()
    assert statuses and all(st == "reversed" for st in statuses)
    r = await par.send(P1, "POST", f"/orders/{placed['id']}/cancellation", {"reason": "Again"})
    assert r.status_code == 409 and r.json()["error_code"] == "ORDER_NOT_CANCELLABLE"


async def test_below_minimum_order_changes_nothing(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    setup = await _setup(api, p)
    r = await par.send(P1, "POST", "/orders", _body(setup, "1.00", qty=1))
    actual = r.json()["details"][0]["actual"]
    before = await _orders(api, p.id)
    async with api.db() as s:
        await s.execute(
            update(Partner)
            .where(Partner.id == p.id)
            .values(min_order_amount=Decimal(actual) * 10, min_order_currency="IQD")
        )
        await s.commit()
    try:
        r = await par.send(P1, "POST", "/orders", _body(setup, actual, qty=1))
        assert r.status_code == 422 and r.json()["error_code"] == "BELOW_MIN_ORDER", r.text
        assert await _orders(api, p.id) == before
    finally:
        async with api.db() as s:
            await s.execute(
                update(Partner)
                .where(Partner.id == p.id)
                .values(min_order_amount=p.min_order_amount, min_order_currency=p.min_order_currency)
            )
            await s.commit()
