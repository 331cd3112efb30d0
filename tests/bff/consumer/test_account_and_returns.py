"""Password change, push token, account closure, reorder, return requests and the 30-minute expiry
of unpaid online orders, through HTTP. Every test works on consumers it registers itself, so the
shared demo consumers are never changed (they are only used to prove another consumer gets 404)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from tests.bff.consumer.conftest import BASE, Consumer, consumer, key, ok, stocked_products
from tests.bff.consumer.test_orders import _cancel, _prepare
from tsh.context import AppContext
from tsh.domain.aftersales.models import ReturnLine, ReturnRequest
from tsh.domain.catalog.models import PriceListItem, Product, WishlistItem
from tsh.domain.customers.consumer import CLOSED_NAME
from tsh.domain.customers.models import Address, Cart, CartItem, Customer
from tsh.domain.identity.models import Role, User, UserSession
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import DeliveryZone
from tsh.domain.sales.fulfilment import deliver_order, ship_order
from tsh.domain.sales.models import Invoice, Order, OrderLine
from tsh.platform.db.base import utcnow
from tsh.platform.db.uow import unit_of_work

PASSWORD = "Start1234"


def bearer(data: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {data['access_token']}"}


async def register(client, ctx: AppContext) -> tuple[Consumer, dict[str, Any]]:
    """A brand-new consumer (core.md §1 register) and the token pair of its first session."""
    tag = uuid.uuid4().hex
    phone = "+9647" + str(int(tag[:12], 16))[-9:].rjust(9, "0")
    email = f"t-{tag[:12]}@example.test"
    body = {"name": "Test Buyer", "phone": phone, "email": email, "password": PASSWORD, "language": "en"}
    tokens = await ok(await client.post("/api/auth/register", json=body), 201)
    return await consumer(ctx, email), tokens


async def login(client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    return await ok(await client.post("/api/auth/login", json={"email": email, "password": password}))


async def session_id(client, headers: dict[str, str]) -> int:
    me = await ok(await client.get("/api/auth/me", headers=headers))
    return int(me["session"]["id"])


async def admin_id(ctx: AppContext) -> int:
    async with ctx.db.session() as s:
        uid = await s.scalar(
            select(User.id).join(Role, Role.id == User.role_id).where(Role.code == "admin").limit(1)
        )
    assert uid is not None
    return int(uid)


async def deliver(ctx: AppContext, order_id: int) -> None:
    by = await admin_id(ctx)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await ship_order(s, order_id=order_id, by_user_id=by)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await deliver_order(s, order_id=order_id, by_user_id=by)


async def place(
    client, headers, c: Consumer, lines: list[tuple[int, int]], method: str = "cash_on_delivery"
) -> dict[str, Any]:
    """Places a pickup order for `lines` [(product_id, qty)] at the consumer's serving branch."""
    body = await _prepare(client, headers, lines[0][0], lines[0][1], c.serving.branch_id)
    # _prepare empties the cart and adds the first line: add the others and re-read the total.
    for pid, qty in lines[1:]:
        r = await client.post(f"{BASE}/cart/items", json={"product_id": pid, "qty": qty}, headers=headers)
        await ok(r)
    params = {"delivery_option": "pickup", "pickup_branch_id": c.serving.branch_id}
    summary = await ok(await client.get(f"{BASE}/checkout", params=params, headers=headers))
    body = {**body, "expected_total": summary["total"], "payment_method": method}
    return await ok(await client.post(f"{BASE}/orders", json=body, headers={**headers, **key()}), 201)


async def sessions_of(ctx: AppContext, user_id: int) -> dict[int, tuple[Any, str | None, str | None]]:
    async with ctx.db.session() as s:
        rows = await s.execute(
            select(UserSession.id, UserSession.revoked_at, UserSession.revoke_reason, UserSession.push_token)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.id)
        )
        return {r.id: (r.revoked_at, r.revoke_reason, r.push_token) for r in rows}


async def password_hash(ctx: AppContext, user_id: int) -> str | None:
    async with ctx.db.session() as s:
        return await s.scalar(select(User.password_hash).where(User.id == user_id))


# -- CON-18 -----------------------------------------------------------------------------------


async def test_password_change_revokes_every_other_session(client, ctx) -> None:
    c, first = await register(client, ctx)
    h = bearer(first)
    other = await login(client, c.email)
    third = await login(client, c.email)
    mine = await session_id(client, h)
    await ok(
        await client.put(
            f"{BASE}/profile/push-token",
            json={"token": "tok-other", "platform": "ios"},
            headers=bearer(other),
        )
    )
    before_hash = await password_hash(ctx, c.user_id)
    before_sessions = await sessions_of(ctx, c.user_id)
    assert len(before_sessions) == 3 and all(v[0] is None for v in before_sessions.values())

    url = f"{BASE}/profile/password"
    r = await client.put(url, json={"current_password": "Wrong9999", "new_password": "Brand9876"}, headers=h)
    assert r.status_code == 422 and r.json()["error_code"] == "WRONG_PASSWORD"
    assert r.json()["details"][0]["field"] == "current_password"
    r = await client.put(url, json={"current_password": PASSWORD, "new_password": "short"}, headers=h)
    assert r.status_code == 422 and r.json()["error_code"] == "WEAK_PASSWORD"
    assert {d["field"] for d in r.json()["details"]} == {"new_password"}
    r = await client.put(url, json={"current_password": PASSWORD, "new_password": "lettersonly"}, headers=h)
    assert r.status_code == 422 and r.json()["error_code"] == "WEAK_PASSWORD"
    r = await client.put(url, json={"current_password": PASSWORD}, headers=h)
    assert r.status_code == 422
    # The refusals changed nothing: same hash, every session alive, the other device still works.
    assert await password_hash(ctx, c.user_id) == before_hash
    assert await sessions_of(ctx, c.user_id) == before_sessions
    assert (await client.get(f"{BASE}/profile", headers=bearer(other))).status_code == 200

    r = await client.put(url, json={"current_password": PASSWORD, "new_password": "Brand9876"}, headers=h)
    body = r.json()
    assert r.status_code == 200, r.text
    assert body["data"] == {"password_changed": True} and body["success"] is True
    assert await password_hash(ctx, c.user_id) != before_hash
    after = await sessions_of(ctx, c.user_id)
    assert after[mine][0] is None
    for sid, (revoked_at, reason, push) in after.items():
        if sid != mine:
            assert revoked_at is not None and reason == "password_change" and push is None
    # The calling session stays valid; the others are dead for access and refresh alike.
    assert (await client.get(f"{BASE}/profile", headers=h)).status_code == 200
    for tokens in (other, third):
        r = await client.get(f"{BASE}/profile", headers=bearer(tokens))
        assert r.status_code == 401 and r.json()["error_code"] == "SESSION_REVOKED"
        r = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 401
    r = await client.post("/api/auth/login", json={"email": c.email, "password": PASSWORD})
    assert r.status_code == 401
    await login(client, c.email, "Brand9876")


# -- CON-19 -----------------------------------------------------------------------------------


async def test_push_token_is_stored_on_the_calling_session(client, ctx, h2) -> None:
    c, first = await register(client, ctx)
    h = bearer(first)
    other = await login(client, c.email)
    mine, theirs = await session_id(client, h), await session_id(client, bearer(other))
    url = f"{BASE}/profile/push-token"

    async def tokens() -> dict[int, tuple[str | None, str | None]]:
        async with ctx.db.session() as s:
            rows = await s.execute(
                select(UserSession.id, UserSession.push_token, UserSession.platform).where(
                    UserSession.user_id == c.user_id
                )
            )
            return {r.id: (r.push_token, r.platform) for r in rows}

    r = await client.put(url, json={"token": "fcm-1", "platform": "web"}, headers=h)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "platform"
    r = await client.put(url, json={"token": "", "platform": "android"}, headers=h)
    assert r.status_code == 422
    r = await client.put(url, json={"token": "fcm-1", "platform": "android", "extra": 1}, headers=h)
    assert r.status_code == 422
    assert await tokens() == {mine: (None, None), theirs: (None, None)}

    data = await ok(await client.put(url, json={"token": "fcm-1", "platform": "android"}, headers=h))
    assert data == {"session_id": mine, "platform": "android", "registered": True}
    assert await tokens() == {mine: ("fcm-1", "android"), theirs: (None, None)}
    # Replaced, not added; still only on the calling session.
    data = await ok(await client.put(url, json={"token": "apns-2", "platform": "ios"}, headers=h))
    assert data["platform"] == "ios"
    assert await tokens() == {mine: ("apns-2", "ios"), theirs: (None, None)}
    # A demo consumer's call touches only its own session.
    await ok(await client.put(url, json={"token": "x", "platform": "ios"}, headers=h2))
    assert await tokens() == {mine: ("apns-2", "ios"), theirs: (None, None)}
    # Dropped at logout.
    await ok(await client.post("/api/auth/logout", json={}, headers=h))
    assert (await tokens())[mine][0] is None


# -- CON-20 -----------------------------------------------------------------------------------


async def _closure_state(ctx: AppContext, c: Consumer) -> dict[str, Any]:
    async with ctx.db.session() as s:
        cust = await s.get(Customer, c.customer_id)
        user = await s.get(User, c.user_id)
        assert cust is not None and user is not None

        async def count(model: Any) -> int:
            return int(await s.scalar(select(func.count()).where(model.customer_id == c.customer_id)) or 0)

        return {
            "customer": (cust.name, cust.phone, cust.email, cust.status, cust.marketing_opt_in),
            "user": (user.name, user.email, user.phone, user.status, user.password_hash is None),
            "addresses": await count(Address),
            "carts": await count(Cart),
            "wishlist": await count(WishlistItem),
            "orders": await count(Order),
            "invoices": await count(Invoice),
            "live_sessions": await s.scalar(
                select(func.count()).where(UserSession.user_id == c.user_id, UserSession.revoked_at.is_(None))
            ),
        }


async def _city(ctx: AppContext) -> str:
    async with ctx.db.session() as s:
        cities = (await s.scalars(select(DeliveryZone.cities).where(DeliveryZone.status == "active"))).first()
    assert cities
    return str(cities[0])


async def test_account_closure(client, ctx) -> None:
    c, first = await register(client, ctx)
    h = bearer(first)
    other = await login(client, c.email)
    await ok(
        await client.post(
            f"{BASE}/addresses", json={"label": "Home", "city": await _city(ctx), "district": "D"}, headers=h
        ),
        201,
    )
    c = await consumer(ctx, c.email)  # the address may move the serving branch
    pid, other_pid = await stocked_products(ctx, c.serving, n=2)
    await client.post(f"{BASE}/wishlist/items", json={"product_id": pid}, headers=h)
    # A card order, paid and delivered (kept), and a cash-on-delivery order still open.
    paid = await place(client, h, c, [(pid, 1)], method="card")
    minor = int(Decimal(paid["total"]["amount"]) * 100)
    pay = {
        "method": "card",
        "provider_reference": f"SANDBOX-{paid['number']}-{minor}",
        "amount": paid["total"],
    }
    await ok(await client.post(f"{BASE}/orders/{paid['id']}/payments", json=pay, headers={**h, **key()}))
    await deliver(ctx, paid["id"])
    cod = await place(client, h, c, [(other_pid, 1)])
    await ok(await client.post(f"{BASE}/cart/items", json={"product_id": pid, "qty": 1}, headers=h))
    before = await _closure_state(ctx, c)
    assert before["addresses"] == 1 and before["carts"] == 1 and before["wishlist"] == 1
    assert before["orders"] == 2 and before["live_sessions"] == 2

    url = f"{BASE}/profile/closure"
    r = await client.post(url, json={"password": "Wrong9999"}, headers=h)
    assert r.status_code == 422 and r.json()["error_code"] == "WRONG_PASSWORD"
    r = await client.post(url, json={"password": PASSWORD}, headers=h)
    assert r.status_code == 409 and r.json()["error_code"] == "OPEN_ORDERS"
    assert await _closure_state(ctx, c) == before

    # Delivered but unpaid: the cash-on-delivery invoice is still open.
    await deliver(ctx, cod["id"])
    r = await client.post(url, json={"password": PASSWORD}, headers=h)
    assert r.status_code == 409 and r.json()["error_code"] == "BALANCE_DUE"
    assert await _closure_state(ctx, c) == before
    assert (await client.get(f"{BASE}/profile", headers=bearer(other))).status_code == 200

    # Settle that invoice in the database (the back office records cash collection) and close.
    async with ctx.db.session() as s:
        await s.execute(
            update(Invoice)
            .where(Invoice.order_id == cod["id"])
            .values(status="paid", paid=Invoice.total, balance=Decimal("0"))
        )
        await s.commit()
    r = await client.post(url, json={"password": PASSWORD, "reason": "moving abroad"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"closed": True}
    after = await _closure_state(ctx, c)
    assert after["customer"] == (CLOSED_NAME, None, None, "closed", False)
    assert after["user"] == (CLOSED_NAME, f"closed-{c.user_id}@closed.invalid", None, "disabled", True)
    assert (after["addresses"], after["carts"], after["wishlist"], after["live_sessions"]) == (0, 0, 0, 0)
    assert (after["orders"], after["invoices"]) == (before["orders"], before["invoices"])
    async with ctx.db.session() as s:
        notes = await s.scalar(select(Customer.notes).where(Customer.id == c.customer_id))
        statuses = set(await s.scalars(select(Order.status).where(Order.customer_id == c.customer_id)))
    assert notes is not None and "moving abroad" in notes
    assert statuses == {"delivered"}
    for tokens in (first, other):
        r = await client.get(f"{BASE}/profile", headers=bearer(tokens))
        assert r.status_code == 401
    r = await client.post("/api/auth/login", json={"email": c.email, "password": PASSWORD})
    assert r.status_code == 401


# -- CON-36 -----------------------------------------------------------------------------------


async def test_reorder_copies_available_lines_at_todays_prices(client, ctx, h2) -> None:
    c, tokens = await register(client, ctx)
    h = bearer(tokens)
    repriced, gone, inactive = await stocked_products(ctx, c.serving, n=3)
    order = await place(client, h, c, [(repriced, 2), (gone, 1), (inactive, 1)])
    old_cart_price = Decimal(
        next(ln for ln in order["lines"] if ln["product_id"] == repriced)["unit_price"]["amount"]
    )
    await _cancel(client, h, order["id"])
    assert (await ok(await client.get(f"{BASE}/cart", headers=h)))["lines"] == []
    # Another consumer gets 404 and its cart is untouched.
    theirs = await ok(await client.get(f"{BASE}/cart", headers=h2))
    r = await client.post(f"{BASE}/orders/{order['id']}/reorder", headers=h2)
    assert r.status_code == 404
    assert (await ok(await client.get(f"{BASE}/cart", headers=h2)))["lines"] == theirs["lines"]
    r = await client.post(f"{BASE}/orders/999999999/reorder", headers=h)
    assert r.status_code == 404

    async with ctx.db.session() as s:
        prices = dict(
            (
                await s.execute(
                    select(PriceListItem.id, PriceListItem.unit_price).where(
                        PriceListItem.price_list_id == c.serving.price_list_id,
                        PriceListItem.product_id == repriced,
                        PriceListItem.min_qty == 1,
                    )
                )
            )
            .tuples()
            .all()
        )
        on_hand = await s.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.product_id == gone, StockLevel.warehouse_id == c.serving.warehouse_id
            )
        )
        await s.execute(
            update(PriceListItem)
            .where(PriceListItem.id.in_(list(prices)))
            .values(unit_price=PriceListItem.unit_price + Decimal("1000"))
        )
        await s.execute(
            update(StockLevel)
            .where(StockLevel.product_id == gone, StockLevel.warehouse_id == c.serving.warehouse_id)
            .values(on_hand=StockLevel.reserved)
        )
        await s.execute(update(Product).where(Product.id == inactive).values(is_active=False))
        await s.commit()
    try:
        r = await client.post(f"{BASE}/orders/{order['id']}/reorder", headers=h)
        assert r.status_code == 200, r.text
        cart = r.json()["data"]
        skipped = {(x["product_id"], x["reason"]) for x in cart["skipped"]}
        assert len(cart["skipped"]) == 2
        assert skipped == {(gone, "out_of_stock"), (inactive, "unavailable")}
        [line] = cart["lines"]
        assert line["product"]["id"] == repriced and line["qty"] == 2
        assert Decimal(line["unit_price"]["amount"]) >= old_cart_price + 1000
        fresh = await ok(await client.get(f"{BASE}/cart", headers=h))
        assert {k: v for k, v in cart.items() if k != "skipped"} == fresh
        async with ctx.db.session() as s:
            rows = (
                await s.execute(
                    select(CartItem.product_id, CartItem.qty)
                    .join(Cart)
                    .where(Cart.customer_id == c.customer_id)
                )
            ).all()
        assert [tuple(x) for x in rows] == [(repriced, 2)]
        # A second reorder raises the existing line instead of adding one.
        again = await ok(await client.post(f"{BASE}/orders/{order['id']}/reorder", headers=h))
        assert [(ln["product"]["id"], ln["qty"]) for ln in again["lines"]] == [(repriced, 4)]
    finally:
        async with ctx.db.session() as s:
            for item_id, price in prices.items():
                await s.execute(
                    update(PriceListItem).where(PriceListItem.id == item_id).values(unit_price=price)
                )
            await s.execute(
                update(StockLevel)
                .where(StockLevel.product_id == gone, StockLevel.warehouse_id == c.serving.warehouse_id)
                .values(on_hand=on_hand)
            )
            await s.execute(update(Product).where(Product.id == inactive).values(is_active=True))
            await s.commit()


# -- CON-37 -----------------------------------------------------------------------------------


async def _returns(ctx: AppContext, order_id: int) -> list[tuple[int, str, list[tuple[Any, ...]]]]:
    async with ctx.db.session() as s:
        requests = (
            await s.execute(
                select(ReturnRequest.id, ReturnRequest.status).where(ReturnRequest.order_id == order_id)
            )
        ).all()
        out: list[tuple[int, str, list[tuple[Any, ...]]]] = []
        for rid, status in requests:
            lines = (
                await s.execute(
                    select(ReturnLine.order_line_id, ReturnLine.qty, ReturnLine.reason).where(
                        ReturnLine.return_id == rid
                    )
                )
            ).all()
            out.append((rid, status, [tuple(x) for x in lines]))
        return out


async def test_return_requests(client, ctx, h2) -> None:
    c, tokens = await register(client, ctx)
    h = bearer(tokens)
    [pid] = await stocked_products(ctx, c.serving)
    order = await place(client, h, c, [(pid, 2)])
    async with ctx.db.session() as s:
        line_id = await s.scalar(select(OrderLine.id).where(OrderLine.order_id == order["id"]))
    url = f"{BASE}/orders/{order['id']}/return-requests"
    one = {"lines": [{"order_line_id": line_id, "qty": 1, "reason": "defective"}], "note": "broken"}
    # Not delivered yet: nothing is returnable.
    r = await client.post(url, json=one, headers=h)
    assert r.status_code == 409 and r.json()["error_code"] == "QTY_EXCEEDS_RETURNABLE"
    await deliver(ctx, order["id"])

    r = await client.post(url, json=one, headers=h2)
    assert r.status_code == 404
    r = await client.post(
        url, json={"lines": [{"order_line_id": line_id, "qty": 3, "reason": "defective"}]}, headers=h
    )
    assert r.status_code == 409 and r.json()["error_code"] == "QTY_EXCEEDS_RETURNABLE"
    assert r.json()["details"][0]["returnable"] == 2
    two_lines = {
        "lines": [
            {"order_line_id": line_id, "qty": 1, "reason": "defective"},
            {"order_line_id": line_id, "qty": 2, "reason": "changed_mind"},
        ]
    }
    r = await client.post(url, json=two_lines, headers=h)
    assert r.status_code == 409 and r.json()["error_code"] == "QTY_EXCEEDS_RETURNABLE"
    r = await client.post(
        url, json={"lines": [{"order_line_id": line_id, "qty": 1, "reason": "bored"}]}, headers=h
    )
    assert r.status_code == 422
    r = await client.post(
        url, json={"lines": [{"order_line_id": 999999999, "qty": 1, "reason": "defective"}]}, headers=h
    )
    assert r.status_code == 422
    assert await _returns(ctx, order["id"]) == []

    made = await ok(await client.post(url, json=one, headers=h), 201)
    assert made["order_id"] == order["id"] and made["status"] == "requested"
    assert made["number"] and made["lines"] == one["lines"]
    assert Decimal(made["value"]["amount"]) > 0 and made["value"]["currency"] == "IQD"
    [(rid, status, lines)] = await _returns(ctx, order["id"])
    assert (rid, status, lines) == (made["id"], "requested", [(line_id, 1, "defective")])

    r = await client.post(url, json=one, headers=h)
    assert r.status_code == 409 and r.json()["error_code"] == "RETURN_ALREADY_OPEN"
    # 15 days after delivery the window is closed.
    async with ctx.db.session() as s:
        delivered_at = await s.scalar(select(Order.delivered_at).where(Order.id == order["id"]))
        assert delivered_at is not None
        await s.execute(
            update(Order).where(Order.id == order["id"]).values(delivered_at=utcnow() - timedelta(days=15))
        )
        await s.commit()
    try:
        r = await client.post(url, json=one, headers=h)
        assert r.status_code == 409 and r.json()["error_code"] == "RETURN_WINDOW_EXPIRED"
    finally:
        async with ctx.db.session() as s:
            await s.execute(update(Order).where(Order.id == order["id"]).values(delivered_at=delivered_at))
            await s.commit()
    assert [x[0] for x in await _returns(ctx, order["id"])] == [made["id"]]
    detail = await ok(await client.get(f"{BASE}/orders/{order['id']}", headers=h))
    assert made["id"] in [x["id"] for x in detail["return_requests"]]


# -- 30-minute expiry of unpaid online orders --------------------------------------------------


async def _age(ctx: AppContext, order_id: int, minutes: int) -> None:
    async with ctx.db.session() as s:
        await s.execute(
            update(Order).where(Order.id == order_id).values(placed_at=utcnow() - timedelta(minutes=minutes))
        )
        await s.commit()


async def _expiring_order(client, ctx) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """A fresh consumer's unpaid card order, aged 29 minutes and already seen (cached) as pending;
    then aged 31 minutes. Returns the order, the headers and a reader of the reserved quantity."""
    c, tokens = await register(client, ctx)
    h = bearer(tokens)
    [pid] = await stocked_products(ctx, c.serving)

    async def reserved() -> int:
        async with ctx.db.session() as s:
            level = await s.scalar(
                select(StockLevel.reserved).where(
                    StockLevel.product_id == pid, StockLevel.warehouse_id == c.serving.warehouse_id
                )
            )
        return int(level or 0)

    before = await reserved()
    order = await place(client, h, c, [(pid, 1)], method="card")
    assert order["status"] == "pending" and await reserved() == before + 1
    await _age(ctx, order["id"], 29)
    for _ in range(2):
        assert (await ok(await client.get(f"{BASE}/orders/{order['id']}", headers=h)))["status"] == "pending"
    async with ctx.db.session() as s:
        assert await s.scalar(select(Order.status).where(Order.id == order["id"])) == "pending"
    await _age(ctx, order["id"], 31)
    return order, h, (reserved, before)


async def test_unpaid_online_order_is_cancelled_after_30_minutes(client, ctx) -> None:
    order, h, (reserved, before) = await _expiring_order(client, ctx)
    # Any order screen of the customer runs the sweep.
    await client.get(f"{BASE}/orders", params={"limit": 100}, headers=h)
    async with ctx.db.session() as s:
        status, reason = (
            await s.execute(select(Order.status, Order.cancel_reason).where(Order.id == order["id"]))
        ).one()
    assert (status, reason) == ("cancelled", "payment_timeout")
    assert await reserved() == before
    # Too late to pay now.
    minor = int(Decimal(order["total"]["amount"]) * 100)
    pay = {
        "method": "card",
        "provider_reference": f"SANDBOX-{order['number']}-{minor}",
        "amount": order["total"],
    }
    r = await client.post(f"{BASE}/orders/{order['id']}/payments", json=pay, headers={**h, **key()})
    assert r.status_code == 409 and r.json()["error_code"] == "ORDER_NOT_PENDING"


async def test_expired_order_screens_show_the_cancellation(client, ctx) -> None:
    order, h, _ = await _expiring_order(client, ctx)
    detail = await client.get(f"{BASE}/orders/{order['id']}", headers=h)
    assert detail.json()["data"]["status"] == "cancelled"
    listed = await ok(await client.get(f"{BASE}/orders", params={"limit": 100}, headers=h))
    assert [(o["id"], o["status"]) for o in listed["items"]] == [(order["id"], "cancelled")]
    again = await client.get(f"{BASE}/orders/{order['id']}", headers=h)
    assert again.json()["data"]["status"] == "cancelled"


async def test_profile_update_answers_the_profile(client, ctx) -> None:
    buyer, tokens = await register(client, ctx)
    changes = {"name": "Renamed Buyer", "language": "ar", "marketing_opt_in": True}
    data = await ok(await client.patch(f"{BASE}/profile", json=changes, headers=bearer(tokens)))
    assert data["name"] == "Renamed Buyer" and data["language"] == "ar" and data["marketing_opt_in"] is True
    async with ctx.db.session() as s:
        name, language = (
            await s.execute(select(User.name, User.language).where(User.id == buyer.user_id))
        ).one()
    assert (name, language) == ("Renamed Buyer", "ar")
    assert data == await ok(await client.get(f"{BASE}/profile", headers=bearer(tokens)))
