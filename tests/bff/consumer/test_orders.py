"""Checkout and orders: idempotency, re-pricing, atomic stock reservation, payment, cancellation,
reviews. Every test restores what it changed (it cancels the orders it placed)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from tests.bff.consumer.conftest import BASE, Consumer, key, ok, stocked_products
from tsh.domain.aftersales.models import Refund
from tsh.domain.catalog.models import Product, Review
from tsh.domain.inventory.models import StockLevel
from tsh.domain.sales.models import Order, OrderLine


async def _prepare(client, headers, pid: int, qty: int, branch_id: int) -> dict[str, Any]:
    await ok(await client.delete(f"{BASE}/cart", headers=headers))
    await ok(await client.post(f"{BASE}/cart/items", json={"product_id": pid, "qty": qty}, headers=headers))
    params = {"delivery_option": "pickup", "pickup_branch_id": branch_id}
    summary = await ok(await client.get(f"{BASE}/checkout", params=params, headers=headers))
    return {
        "pickup_branch_id": branch_id,
        "delivery_option": "pickup",
        "payment_method": "cash_on_delivery",
        "expected_total": summary["total"],
    }


async def _state(ctx, c: Consumer, pid: int) -> tuple[int, int, int]:
    async with ctx.db.session() as s:
        orders = await s.scalar(select(func.count()).where(Order.customer_id == c.customer_id))
        on_hand, reserved = (
            await s.execute(
                select(StockLevel.on_hand, StockLevel.reserved).where(
                    StockLevel.product_id == pid, StockLevel.warehouse_id == c.serving.warehouse_id
                )
            )
        ).one()
    return int(orders or 0), on_hand, reserved


async def _cancel(client, headers, order_id: int) -> dict[str, Any]:
    r = await client.post(
        f"{BASE}/orders/{order_id}/cancellation", json={"reason": "test"}, headers={**headers, **key()}
    )
    return await ok(r)


async def test_rejected_orders_change_nothing(client, ctx, c1: Consumer, h1) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    body = await _prepare(client, h1, pid, 1, c1.serving.branch_id)
    before = await _state(ctx, c1, pid)
    r = await client.post(f"{BASE}/orders", json=body, headers=h1)
    assert r.status_code == 400 and r.json()["error_code"] == "IDEMPOTENCY_KEY_REQUIRED"
    wrong = {**body, "expected_total": {"amount": "1.00", "currency": "IQD"}}
    r = await client.post(f"{BASE}/orders", json=wrong, headers={**h1, **key()})
    assert r.status_code == 409 and r.json()["error_code"] == "PRICE_CHANGED"
    r = await client.post(
        f"{BASE}/orders", json={**body, "promo_code": "NO-SUCH-CODE"}, headers={**h1, **key()}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "PROMO_INVALID"
    r = await client.post(f"{BASE}/orders", json={**body, "address_id": 1}, headers={**h1, **key()})
    assert r.status_code == 422
    assert await _state(ctx, c1, pid) == before
    assert (await ok(await client.get(f"{BASE}/cart", headers=h1)))["item_count"] == 1


async def test_cash_on_delivery_order_and_cancellation(
    client, ctx, c1: Consumer, c2: Consumer, h1, h2
) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    body = await _prepare(client, h1, pid, 2, c1.serving.branch_id)
    page = await ok(
        await client.get(f"{BASE}/products/{pid}", params={"branch_id": c1.serving.branch_id}, headers=h1)
    )
    before = await _state(ctx, c1, pid)
    order = await ok(await client.post(f"{BASE}/orders", json=body, headers={**h1, **key()}), 201)
    try:
        assert order["status"] == "confirmed" and order["invoice"]["status"] == "open"
        assert order["total"] == body["expected_total"]
        after = await _state(ctx, c1, pid)
        assert after == (before[0] + 1, before[1], before[2] + 2)
        assert (await ok(await client.get(f"{BASE}/cart", headers=h1)))["lines"] == []
        # The product page was invalidated by StockChanged.
        fresh = await client.get(
            f"{BASE}/products/{pid}", params={"branch_id": c1.serving.branch_id}, headers=h1
        )
        assert fresh.json()["metadata"]["cached"] is False
        assert fresh.json()["data"]["availability"]["available"] == page["availability"]["available"] - 2
        # Private to its customer.
        listed = await ok(await client.get(f"{BASE}/orders", params={"limit": 100}, headers=h1))
        assert order["id"] in [o["id"] for o in listed["items"]]
        theirs = await ok(await client.get(f"{BASE}/orders", params={"limit": 100}, headers=h2))
        assert order["id"] not in [o["id"] for o in theirs["items"]]
        assert (await client.get(f"{BASE}/orders/{order['id']}", headers=h2)).status_code == 404
        r = await client.post(
            f"{BASE}/orders/{order['id']}/cancellation", json={"reason": "x"}, headers={**h2, **key()}
        )
        assert r.status_code == 404
    finally:
        cancelled = await _cancel(client, h1, order["id"])
    assert cancelled["status"] == "cancelled" and cancelled["invoice"]["status"] == "void"
    assert (await _state(ctx, c1, pid))[1:] == before[1:]
    r = await client.post(
        f"{BASE}/orders/{order['id']}/cancellation", json={"reason": "x"}, headers={**h1, **key()}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "ORDER_NOT_CANCELLABLE"


async def test_online_payment_and_refund(client, ctx, c1: Consumer, h1) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    body = {**await _prepare(client, h1, pid, 1, c1.serving.branch_id), "payment_method": "card"}
    order = await ok(await client.post(f"{BASE}/orders", json=body, headers={**h1, **key()}), 201)
    try:
        assert order["status"] == "pending" and order["invoice"] is None
        pay = {"method": "card", "provider_reference": "SANDBOX-bogus", "amount": order["total"]}
        r = await client.post(f"{BASE}/orders/{order['id']}/payments", json=pay, headers={**h1, **key()})
        assert r.status_code == 422 and r.json()["error_code"] == "PAYMENT_NOT_VERIFIED"
        minor = int(Decimal(order["total"]["amount"]) * 100)
        pay["provider_reference"] = f"SANDBOX-{order['number']}-{minor}"
        r = await client.post(
            f"{BASE}/orders/{order['id']}/payments",
            json={**pay, "amount": {"amount": "1.00", "currency": "IQD"}},
            headers={**h1, **key()},
        )
        assert r.status_code == 422 and r.json()["error_code"] == "AMOUNT_MISMATCH"
        paid = await ok(
            await client.post(f"{BASE}/orders/{order['id']}/payments", json=pay, headers={**h1, **key()})
        )
        assert paid["status"] == "confirmed" and paid["payment_status"] == "paid"
        assert paid["invoice"]["balance"]["amount"] == "0.00"
        r = await client.post(f"{BASE}/orders/{order['id']}/payments", json=pay, headers={**h1, **key()})
        assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_PAID"
    finally:
        cancelled = await _cancel(client, h1, order["id"])
    assert cancelled["payment_status"] == "refunded" and len(cancelled["refunds"]) == 1
    async with ctx.db.session() as s:
        refund = await s.scalar(
            select(Refund).where(Refund.source_id == order["id"], Refund.source == "order_cancellation")
        )
        assert refund is not None and refund.amount == Decimal(order["total"]["amount"])


async def test_two_consumers_race_for_the_last_unit(client, ctx, c1: Consumer, c2: Consumer, h1, h2) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    branch = c1.serving.branch_id
    async with ctx.db.session() as s:
        level = (
            await s.execute(
                select(StockLevel.on_hand, StockLevel.reserved).where(
                    StockLevel.product_id == pid, StockLevel.warehouse_id == c1.serving.warehouse_id
                )
            )
        ).one()
        await s.execute(
            update(StockLevel)
            .where(StockLevel.product_id == pid, StockLevel.warehouse_id == c1.serving.warehouse_id)
            .values(on_hand=level.reserved + 1)
        )
        await s.commit()
    orders: list[int] = []
    try:
        b1 = await _prepare(client, h1, pid, 1, branch)
        b2 = await _prepare(client, h2, pid, 1, branch)
        r1, r2 = await asyncio.gather(
            client.post(f"{BASE}/orders", json=b1, headers={**h1, **key()}),
            client.post(f"{BASE}/orders", json=b2, headers={**h2, **key()}),
        )
        codes = sorted([r1.status_code, r2.status_code])
        assert codes == [201, 409], (r1.text, r2.text)
        loser = r1 if r1.status_code == 409 else r2
        assert loser.json()["error_code"] == "INSUFFICIENT_STOCK"
        orders = [r.json()["data"]["id"] for r in (r1, r2) if r.status_code == 201]
        winner_headers = h1 if r1.status_code == 201 else h2
    finally:
        for oid in orders:
            await _cancel(client, winner_headers, oid)
        await client.delete(f"{BASE}/cart", headers=h1)
        await client.delete(f"{BASE}/cart", headers=h2)
        async with ctx.db.session() as s:
            await s.execute(
                update(StockLevel)
                .where(StockLevel.product_id == pid, StockLevel.warehouse_id == c1.serving.warehouse_id)
                .values(on_hand=level.on_hand)
            )
            await s.commit()


async def test_reviews_need_a_delivered_purchase(client, ctx, c1: Consumer, c2: Consumer, h1, h2) -> None:
    async with ctx.db.session() as s:
        delivered = set(
            (
                await s.scalars(
                    select(OrderLine.product_id)
                    .join(Order)
                    .where(Order.customer_id == c1.customer_id, Order.status == "delivered")
                )
            ).all()
        )
        reviewed = set(
            (await s.scalars(select(Review.product_id).where(Review.customer_id == c1.customer_id))).all()
        )
        never = await s.scalar(
            select(Product.id)
            .where(Product.is_active.is_(True), Product.id.not_in(delivered or {0}))
            .limit(1)
        )
    r = await client.post(f"{BASE}/products/{never}/reviews", json={"rating": 5}, headers=h1)
    assert r.status_code == 422 and r.json()["error_code"] == "NOT_A_VERIFIED_PURCHASE"
    r = await client.post(f"{BASE}/products/{never}/reviews", json={"rating": 9}, headers=h1)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "rating"
    candidates = sorted(delivered - reviewed)
    assert candidates, "the demo seed gives consumer1 delivered orders"
    pid = candidates[0]
    review = await ok(
        await client.post(f"{BASE}/products/{pid}/reviews", json={"rating": 4, "title": "Good"}, headers=h1),
        201,
    )
    try:
        assert review["verified_purchase"] is True
        r = await client.post(f"{BASE}/products/{pid}/reviews", json={"rating": 3}, headers=h1)
        assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_REVIEWED"
        assert (
            await client.patch(f"{BASE}/reviews/{review['id']}", json={"rating": 1}, headers=h2)
        ).status_code == 404
        assert (await client.delete(f"{BASE}/reviews/{review['id']}", headers=h2)).status_code == 404
        r = await client.post(f"{BASE}/reviews/{review['id']}/helpful-votes", headers=h1)
        assert r.status_code == 422 and r.json()["error_code"] == "OWN_REVIEW"
        assert (
            await client.post(f"{BASE}/reviews/{review['id']}/helpful-votes", headers=h2)
        ).status_code == 201
        r = await client.post(f"{BASE}/reviews/{review['id']}/helpful-votes", headers=h2)
        assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_VOTED"
        listed = await ok(
            await client.get(f"{BASE}/products/{pid}/reviews", params={"limit": 100}, headers=h2)
        )
        mine = next(i for i in listed["items"] if i["id"] == review["id"])
        assert mine["helpful_count"] == 1 and mine["rating"] == 4
        edited = await ok(
            await client.patch(f"{BASE}/reviews/{review['id']}", json={"rating": 5}, headers=h1)
        )
        assert edited["rating"] == 5 and edited["edited_at"]
    finally:
        await ok(await client.delete(f"{BASE}/reviews/{review['id']}", headers=h1))
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count()).where(Review.customer_id == c1.customer_id)) == len(
            reviewed
        )
