"""WHO-02 bulk catalogue and WHO-03 product."""

from __future__ import annotations

from sqlalchemy import select

from tests.bff.wholesale.conftest import (
    W1,
    W2,
    add_line,
    amount,
    breaks,
    clear_cart,
    customer_of,
    pick_product,
)
from tests.http import Api
from tsh.domain.catalog.models import Product
from tsh.domain.inventory.models import StockLevel


def _band(available: int, reorder_point: int) -> str:
    return "out" if available <= 0 else "low" if available <= reorder_point else "in_stock"


async def test_catalogue_pages_at_the_account_price_list_with_bands(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    page = await who.data(W1, "/catalog", limit=30)
    assert len(page["items"]) == 30 and page["next_cursor"]
    names = [i["name"] for i in page["items"]]
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    nxt = await who.data(W1, "/catalog", limit=30, cursor=page["next_cursor"])
    assert not {i["id"] for i in page["items"]} & {i["id"] for i in nxt["items"]}
    card = page["items"][0]
    table = await breaks(api, c.price_list_id or 0, card["id"])
    assert [(b["min_qty"], amount(b["unit_price"])) for b in card["volume_breaks"]] == table
    assert card["currency"] == c.currency and amount(card["base_price"]) == table[0][1]
    async with api.db() as s:
        product = await s.get(Product, card["id"])
        assert product is not None
        assert (card["pack_size"], card["moq"], card["carton_only"]) == (
            product.pack_size,
            product.wholesale_moq,
            product.carton_only,
        )
    # Bands, never quantities: check them against the branch's main warehouse.
    p = await pick_product(api, c, carton_only=False)
    found = await who.data(W1, "/catalog", q=p["sku"], limit=100)
    assert p["id"] in [i["id"] for i in found["items"]]
    async with api.db() as s:
        level = (
            await s.execute(
                select(StockLevel).where(
                    StockLevel.product_id == p["id"], StockLevel.warehouse_id == p["warehouse_id"]
                )
            )
        ).scalar_one()
    detail = await who.data(W1, f"/catalog/{p['id']}")
    assert detail["availability"] == _band(level.on_hand - level.reserved, level.reorder_point)
    assert "available" not in detail
    in_stock = await who.data(W1, "/catalog", in_stock="true", limit=100)
    assert all(i["availability"] != "out" for i in in_stock["items"])
    by_price = await who.data(W1, "/catalog", sort="price", limit=50)
    prices = [amount(i["base_price"]) for i in by_price["items"]]
    assert prices == sorted(prices)
    # A cursor of one sort is refused by another.
    r = await who.get(W1, "/catalog", sort="newest", cursor=page["next_cursor"])
    assert r.status_code == 422
    # A USD account sees USD prices; the product page of an unknown product is a 404.
    r = await who.get(W1, "/catalog/2000000")
    assert r.status_code == 404 and r.json()["error_code"] == "PRODUCT_NOT_FOUND"
    assert (await who.data(W2, "/catalog", limit=5))["items"][0]["currency"] == (
        await customer_of(api, W2)
    ).currency


async def test_product_page_is_cached_and_refreshed_by_an_order(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    await clear_cart(api, c.id)
    p = await pick_product(api, c, carton_only=False, skip=5)
    first = (await who.get(W1, f"/catalog/{p['id']}")).json()
    assert (await who.get(W1, f"/catalog/{p['id']}")).json()["metadata"]["cached"] is True
    cart = await add_line(who, W1, p["id"], 1, "carton")
    r = await who.send(
        W1,
        "POST",
        "/orders",
        {"pickup_branch_id": c.branch_id, "payment_terms": "prepaid", "expected_total": cart["total"]},
    )
    assert r.status_code == 201, r.text
    after = (await who.get(W1, f"/catalog/{p['id']}")).json()
    assert after["metadata"]["cached"] is False
    last = after["data"]["last_purchases"][0]
    assert last["order_id"] == r.json()["data"]["id"] and last["qty"] == p["pack"]
    assert len(after["data"]["last_purchases"]) <= 5
    assert first["data"]["id"] == p["id"]
