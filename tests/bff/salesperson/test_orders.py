"""SAL-10 taking an order (and the order services behind it): pricing, stock, credit, ledger."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.bff.salesperson.conftest import SP1, SP2, Api, amount, order_body, take_order
from tsh.domain.inventory.models import StockLevel, StockReservation
from tsh.domain.money import round_money
from tsh.domain.sales import cancellation, fulfilment
from tsh.domain.sales.models import Commission, Invoice, Order, OrderLine
from tsh.platform.db.uow import unit_of_work


async def _state(api: Api, customer_id: int, product_id: int) -> tuple[Any, ...]:
    async with api.db() as s:
        return (
            await s.scalar(select(func.count()).select_from(Order).where(Order.customer_id == customer_id)),
            await s.scalar(
                select(func.count()).select_from(Invoice).where(Invoice.customer_id == customer_id)
            ),
            await s.scalar(select(func.sum(StockLevel.reserved)).where(StockLevel.product_id == product_id)),
        )


async def test_order_is_priced_reserved_invoiced_and_commissioned(api: Api) -> None:
    customer = await api.new_customer()
    cid = customer["profile"]["id"]
    product = await api.stocked_product(cid)
    lines = [{"product_id": product["id"], "qty": 2, "discount_pct": "1.5"}]
    orders_before = await api.get(SP1, "/orders")
    dash_before = await api.data(SP1, "/dashboard")
    await api.get(SP1, "/dashboard")
    body = await order_body(api, cid, lines)
    key = uuid.uuid4().hex
    r = await api.send(SP1, "POST", "/orders", body, key=key)
    assert r.status_code == 201, r.text
    order = r.json()["data"]
    assert order["status"] == "confirmed" and order["invoice"]["number"]
    assert amount(order["total"]) == Decimal(body["expected_total"]["amount"])
    async with api.db() as s:
        row = await s.get(Order, order["id"])
        assert row is not None and row.salesperson_id == await api.user_id(SP1)
        commission = (await s.execute(select(Commission).where(Commission.order_id == row.id))).scalar_one()
        assert commission.rate == Decimal("2.25")
        assert commission.amount == round_money((row.subtotal - row.discount) * Decimal("2.25") / 100, "IQD")
        reserved = await s.scalar(
            select(func.sum(StockReservation.qty))
            .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
            .where(OrderLine.order_id == row.id)
        )
        assert reserved == 2
    await api.ledger_balanced()
    # Replay: the same answer and no second order; another body under the key: 422.
    state = await _state(api, cid, product["id"])
    replay = await api.send(SP1, "POST", "/orders", body, key=key)
    assert replay.status_code == 201 and replay.json()["data"] == order
    assert await _state(api, cid, product["id"]) == state
    reused = await api.send(SP1, "POST", "/orders", body | {"note": "other"}, key=key)
    assert reused.status_code == 422 and reused.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    missing = await api.send(SP1, "POST", "/orders", body, key=None)
    assert missing.status_code == 400 and missing.json()["error_code"] == "IDEMPOTENCY_KEY_REQUIRED"
    # Screens listing OrderCreated show the order at once.
    assert orders_before.status_code == 200
    listed = await api.get(SP1, "/orders")
    assert (
        listed.json()["metadata"]["cached"] is False
        and listed.json()["data"]["items"][0]["id"] == order["id"]
    )
    dash = await api.get(SP1, "/dashboard")
    assert dash.json()["metadata"]["cached"] is False
    assert dash.json()["data"]["orders"]["count"] == dash_before["orders"]["count"] + 1
    # Cancelling (service) releases the stock, voids the invoice, reverses the commission.
    await _cancel(api, order["id"])
    assert (await _state(api, cid, product["id"]))[2] == state[2] - 2
    async with api.db() as s:
        assert (
            await s.execute(select(Invoice.status).where(Invoice.order_id == order["id"]))
        ).scalar_one() == "void"
        assert (
            await s.execute(select(Commission.status).where(Commission.order_id == order["id"]))
        ).scalar_one() == "reversed"
    await api.ledger_balanced()


async def _cancel(api: Api, order_id: int) -> None:
    async with unit_of_work(api.ctx.db, api.ctx.bus) as s:
        await cancellation.cancel_order(
            s, order_id=order_id, reason="test", by_user_id=await api.user_id(SP1)
        )


async def test_ship_and_deliver(api: Api) -> None:
    customer = await api.new_customer()
    cid = customer["profile"]["id"]
    product = await api.stocked_product(cid)
    order = await take_order(api, cid, [{"product_id": product["id"], "qty": 1}])
    by = await api.user_id(SP1)
    async with unit_of_work(api.ctx.db, api.ctx.bus) as s:
        await fulfilment.ship_order(s, order_id=order["id"], by_user_id=by)
    async with unit_of_work(api.ctx.db, api.ctx.bus) as s:
        await fulfilment.deliver_order(s, order_id=order["id"], by_user_id=by)
    async with api.db() as s:
        row = await s.get(Order, order["id"])
        assert row is not None and row.status == "delivered" and row.delivered_at is not None
        assert (
            await s.execute(select(Commission.status).where(Commission.order_id == row.id))
        ).scalar_one() == "payable"
        left = await s.scalar(
            select(func.count())
            .select_from(StockReservation)
            .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
            .where(OrderLine.order_id == row.id)
        )
        assert left == 0
    r = await api.send(SP1, "POST", "/orders", {}, key=None)
    assert r.status_code == 400
    await api.ledger_balanced()


async def _rejected(api: Api, body: dict[str, Any], status: int, code: str, cid: int, pid: int) -> None:
    before = await _state(api, cid, pid)
    r = await api.send(SP1, "POST", "/orders", body)
    assert r.status_code == status, r.text
    assert r.json()["error_code"] == code
    assert await _state(api, cid, pid) == before


async def test_business_rules_change_nothing(api: Api) -> None:
    customer = await api.new_customer()
    cid = customer["profile"]["id"]
    product = await api.stocked_product(cid)
    pid = product["id"]
    body = await order_body(api, cid, [{"product_id": pid, "qty": 1}])
    huge = body | {"lines": [{"product_id": pid, "qty": 100_000}]}
    await _rejected(api, huge, 409, "INSUFFICIENT_STOCK", cid, pid)
    await _rejected(api, body | {"payment_terms": "credit"}, 409, "CREDIT_LIMIT_EXCEEDED", cid, pid)
    await _rejected(
        api,
        body | {"lines": [{"product_id": pid, "qty": 1, "discount_pct": "10"}]},
        409,
        "PRICE_CHANGED",
        cid,
        pid,
    )
    over = await order_body(api, cid, [{"product_id": pid, "qty": 1, "discount_pct": "10"}])
    await _rejected(api, over, 422, "DISCOUNT_OVER_LIMIT", cid, pid)
    await api.set_customer(cid, on_hold=True)
    await _rejected(api, body, 409, "CUSTOMER_ON_HOLD", cid, pid)
    await api.set_customer(cid, on_hold=False)
    for bad in (
        body | {"lines": [{"product_id": pid, "qty": 0}]},
        body | {"lines": [{"product_id": pid, "qty": -1}]},
        body | {"lines": []},
        body | {"extra": 1},
        body | {"expected_total": {"amount": "10", "currency": "EUR"}},
        body | {"expected_total": {"amount": "1" + "0" * 20, "currency": "IQD"}},
        body | {"expected_total": {"amount": "10.5", "currency": "IQD"}},
        body | {"note": "x" * 3000},
        body | {"payment_terms": "barter"},
    ):
        r = await api.send(SP1, "POST", "/orders", bad)
        assert r.status_code == 422, (bad, r.text)
    usd = body | {"expected_total": {"amount": body["expected_total"]["amount"], "currency": "USD"}}
    await _rejected(api, usd, 422, "VALIDATION_ERROR", cid, pid)
    other = (await api.new_customer(SP2))["profile"]["id"]
    r = await api.send(SP1, "POST", "/orders", body | {"customer_id": other})
    assert r.status_code == 404
