"""WHO-04..07 cart, WHO-08 placing orders, WHO-11 reorder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.bff.wholesale.conftest import (
    ADMIN,
    W1,
    W2,
    amount,
    breaks,
    cart_count,
    clear_cart,
    customer_of,
    pick_product,
    reserved,
    set_customer,
)
from tests.http import Api
from tsh.domain.catalog.models import Product
from tsh.domain.customers.models import Address
from tsh.domain.sales import fulfilment
from tsh.domain.sales.models import Invoice, Order
from tsh.domain.shared import business_today
from tsh.platform.errors import Conflict


def _unit_price(table: list[tuple[int, Decimal]], pieces: int) -> Decimal:
    return [p for q, p in table if q <= pieces][-1]


async def _add(who: Api, email: str, product_id: int, qty: int, unit: str) -> Any:
    return await who.send(
        email, "POST", "/cart/items", {"product_id": product_id, "qty": qty, "unit": unit}, key=None
    )


async def test_cart_lines_cartons_pieces_and_volume_breaks(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    await clear_cart(api, c.id)
    carton = await pick_product(api, c, carton_only=True)
    loose = await pick_product(api, c, carton_only=False)
    # Loose pieces of a carton-only product: 422, nothing added.
    r = await _add(who, W1, carton["id"], carton["pack"] + 1, "piece")
    assert r.status_code == 422 and r.json()["error_code"] == "NOT_PACK_MULTIPLE", r.text
    assert await cart_count(api, c.id) == 0
    r = await _add(who, W1, carton["id"], 2, "carton")
    assert r.status_code == 200, r.text
    # A whole carton in pieces merges into the carton line.
    cart = (await _add(who, W1, carton["id"], carton["pack"], "piece")).json()["data"]
    line = next(ln for ln in cart["lines"] if ln["product"]["id"] == carton["id"])
    assert (line["qty"], line["unit"], line["pieces"]) == (3, "carton", 3 * carton["pack"])
    table = await breaks(api, c.price_list_id or 0, carton["id"])
    assert amount(line["unit_price"]) == _unit_price(table, 3 * carton["pack"])
    # Loose pieces of another product; then set and remove its line.
    cart = (await _add(who, W1, loose["id"], 1, "piece")).json()["data"]
    loose_line = next(ln for ln in cart["lines"] if ln["product"]["id"] == loose["id"])
    assert amount(loose_line["unit_price"]) == _unit_price(
        await breaks(api, c.price_list_id or 0, loose["id"]), 1
    )
    r = await who.send(W1, "PATCH", f"/cart/items/{loose_line['id']}", {"qty": 5, "unit": "carton"}, key=None)
    assert r.status_code == 200, r.text
    patched = next(ln for ln in r.json()["data"]["lines"] if ln["id"] == loose_line["id"])
    assert patched["pieces"] == 5 * loose["pack"]
    assert amount(patched["unit_price"]) == _unit_price(
        await breaks(api, c.price_list_id or 0, loose["id"]), 5 * loose["pack"]
    )
    cart = await who.data(W1, "/cart")
    assert sum(amount(ln["line_total"]) for ln in cart["lines"]) == amount(cart["subtotal"])
    assert amount(cart["total"]) == amount(cart["subtotal"]) - amount(cart["discount"]) + amount(cart["tax"])
    assert amount(cart["credit_available_after"]) == amount(cart["credit_available"]) - amount(cart["total"])
    # Another account's line is a 404, and its cart is untouched.
    c2 = await customer_of(api, W2)
    w2_lines = await cart_count(api, c2.id)
    for method, body in (("PATCH", {"qty": 1}), ("DELETE", None)):
        r = await who.send(W2, method, f"/cart/items/{loose_line['id']}", body, key=None)
        assert r.status_code == 404 and r.json()["error_code"] == "CART_ITEM_NOT_FOUND"
    assert await cart_count(api, c2.id) == w2_lines
    r = await who.send(W1, "DELETE", f"/cart/items/{loose_line['id']}", key=None)
    assert r.status_code == 200 and loose_line["id"] not in [ln["id"] for ln in r.json()["data"]["lines"]]
    assert await cart_count(api, c.id) == 1
    # Unknown and inactive products: 404.
    r = await _add(who, W1, 2_000_000, 1, "piece")
    assert r.status_code == 404 and r.json()["error_code"] == "PRODUCT_NOT_FOUND"
    await clear_cart(api, c.id)


async def test_below_moq_is_flagged_and_refused_at_placement(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    await clear_cart(api, c.id)
    p = await pick_product(api, c, carton_only=False, skip=3)
    async with api.db() as s:
        product = await s.get(Product, p["id"])
        assert product is not None
        product.wholesale_moq = p["pack"] * 4
        await s.commit()
    try:
        cart = (await _add(who, W1, p["id"], 1, "carton")).json()["data"]
        assert cart["lines"][0]["issues"] == ["below_moq"] and cart["can_order"] is False
        orders = await api.count(Order, Order.customer_id == c.id)
        r = await who.send(W1, "POST", "/orders", _order_body(c, cart))
        assert r.status_code == 422 and r.json()["error_code"] == "BELOW_MOQ", r.text
        assert await api.count(Order, Order.customer_id == c.id) == orders
        assert await cart_count(api, c.id) == 1
    finally:
        async with api.db() as s:
            product = await s.get(Product, p["id"])
            assert product is not None
            product.wholesale_moq = p["moq"]
            await s.commit()
        await clear_cart(api, c.id)


def _order_body(c: Any, cart: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "pickup_branch_id": c.branch_id,
        "payment_terms": "credit",
        "expected_total": cart["total"],
        **extra,
    }


async def test_place_order_credit_terms_reserves_invoices_and_empties_the_cart(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    await clear_cart(api, c.id)
    r = await who.send(
        W1, "POST", "/orders", _order_body(c, {"total": {"amount": "1.00", "currency": c.currency}})
    )
    assert r.status_code == 422 and r.json()["error_code"] == "CART_EMPTY"
    p = await pick_product(api, c, carton_only=False, skip=1)
    cart = (await _add(who, W1, p["id"], 2, "carton")).json()["data"]
    assert cart["can_order"] is True, cart
    orders = await api.count(Order, Order.customer_id == c.id)
    held = await reserved(api, p["id"], p["warehouse_id"])
    # A stale expected total: 409 PRICE_CHANGED, nothing changed.
    stale = {"amount": str(amount(cart["total"]) + 1000), "currency": c.currency}
    r = await who.send(W1, "POST", "/orders", _order_body(c, cart, expected_total=stale))
    assert r.status_code == 409 and r.json()["error_code"] == "PRICE_CHANGED"
    assert await api.count(Order, Order.customer_id == c.id) == orders
    assert await reserved(api, p["id"], p["warehouse_id"]) == held
    assert await cart_count(api, c.id) == 1
    orders_page = (await who.get(W1, "/orders")).json()
    assert (await who.get(W1, "/orders")).json()["metadata"]["cached"] is True
    async with api.db() as s:
        address = (await s.execute(select(Address).where(Address.customer_id == c.id).limit(1))).scalar_one()
    body = {
        "address_id": address.id,
        "payment_terms": "credit",
        "expected_total": cart["total"],
        "po_number": "PO-7781",
    }
    r = await who.send(W1, "POST", "/orders", body, key="who-order-1")
    assert r.status_code == 201, r.text
    placed = r.json()["data"]
    assert placed["po_number"] == "PO-7781" and placed["status"] == "confirmed"
    assert placed["delivery"]["address"]["city"] == address.city
    # Replaying the key answers the same order and places nothing new.
    again = await who.send(W1, "POST", "/orders", body, key="who-order-1")
    assert again.status_code == 201 and again.json()["data"]["id"] == placed["id"]
    assert await api.count(Order, Order.customer_id == c.id) == orders + 1
    async with api.db() as s:
        order = await s.get(Order, placed["id"])
        invoice = (await s.execute(select(Invoice).where(Invoice.order_id == placed["id"]))).scalar_one()
    assert order is not None and order.channel == "wholesale" and order.total == amount(cart["total"])
    assert invoice.due_date == business_today() + dt.timedelta(days=c.payment_terms_days)
    assert await reserved(api, p["id"], p["warehouse_id"]) == held + 2 * p["pack"]
    assert await cart_count(api, c.id) == 0
    # OrderCreated dropped the cached order list.
    fresh = (await who.get(W1, "/orders")).json()
    assert fresh["metadata"]["cached"] is False
    assert fresh["data"]["items"][0]["id"] == placed["id"] != orders_page["data"]["items"][0]["id"]
    # Reorder copies its lines into the cart; another account cannot reorder it.
    r = await who.send(W2, "POST", f"/orders/{placed['id']}/reorder", {}, key=None)
    assert r.status_code == 404 and r.json()["error_code"] == "ORDER_NOT_FOUND"
    r = await who.send(W1, "POST", f"/orders/{placed['id']}/reorder", {"replace_cart": True}, key=None)
    assert r.status_code == 200, r.text
    copied = r.json()["data"]
    assert [(ln["product"]["id"], ln["pieces"]) for ln in copied["lines"]] == [(p["id"], 2 * p["pack"])]
    assert copied["skipped"] == []
    await clear_cart(api, c.id)


async def test_credit_limit_and_hold_change_nothing(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    await clear_cart(api, c.id)
    p = await pick_product(api, c, carton_only=False, skip=2)
    cart = (await _add(who, W1, p["id"], 3, "carton")).json()["data"]
    credit = await who.data(W1, "/credit")
    used = amount(credit["credit_used"])
    orders = await api.count(Order, Order.customer_id == c.id)
    held = await reserved(api, p["id"], p["warehouse_id"])
    try:
        # Limit just below used + total: 409 CREDIT_LIMIT_EXCEEDED (prepaid terms are not limited).
        await set_customer(api, c.id, credit_limit=used + amount(cart["total"]) - 1)
        r = await who.send(W1, "POST", "/orders", _order_body(c, cart))
        assert r.status_code == 409 and r.json()["error_code"] == "CREDIT_LIMIT_EXCEEDED", r.text
        await set_customer(api, c.id, on_hold=True, hold_reason="Manual review")
        r = await who.send(W1, "POST", "/orders", _order_body(c, cart, payment_terms="prepaid"))
        assert r.status_code == 409 and r.json()["error_code"] == "ACCOUNT_ON_HOLD", r.text
        assert await api.count(Order, Order.customer_id == c.id) == orders
        assert await reserved(api, p["id"], p["warehouse_id"]) == held
        assert await cart_count(api, c.id) == 1
        await set_customer(api, c.id, on_hold=False, hold_reason=None)
        r = await who.send(W1, "POST", "/orders", _order_body(c, cart, payment_terms="prepaid"))
        assert r.status_code == 201, r.text
        async with api.db() as s:
            invoice = (
                await s.execute(select(Invoice).where(Invoice.order_id == r.json()["data"]["id"]))
            ).scalar_one()
        assert invoice.due_date == invoice.issue_date == business_today()
        # A prepaid order ships only once its invoice is paid.
        order_id = r.json()["data"]["id"]
        async with api.db() as s:
            with pytest.raises(Conflict) as refused:
                await fulfilment.ship_order(s, order_id=order_id, by_user_id=await api.user_id(ADMIN))
            assert refused.value.code == "PREPAID_UNPAID"
        total = invoice.total
        pay = {
            "amount": {"amount": str(total), "currency": invoice.currency},
            "method": "card",
            "provider_reference": f"SANDBOX-{c.code}-{int(total * 100)}",
            "allocations": [
                {"invoice_id": invoice.id, "amount": {"amount": str(total), "currency": invoice.currency}}
            ],
        }
        assert (await who.send(W1, "POST", "/payments", pay)).status_code == 201
        async with api.db() as s:
            shipped = await fulfilment.ship_order(s, order_id=order_id, by_user_id=await api.user_id(ADMIN))
            assert shipped.status == "shipped"
            await s.commit()
    finally:
        await set_customer(api, c.id, credit_limit=c.credit_limit, on_hold=False, hold_reason=None)
        await clear_cart(api, c.id)
