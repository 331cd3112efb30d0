"""Catalogue screens: cards equal the database, search, paging, caching and invalidation."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from tests.bff.consumer.conftest import BASE, Consumer, ok, stocked_products
from tsh.domain.catalog.models import Product
from tsh.domain.catalog.queries import listed_products, product_cards
from tsh.platform.db.base import utcnow
from tsh.platform.events import DomainEvent


async def test_product_cards_equal_the_database(client, ctx, c1: Consumer, h1) -> None:
    data = await ok(await client.get(f"{BASE}/products", params={"limit": 10, "sort": "newest"}, headers=h1))
    assert data["items"] and data["total"] >= len(data["items"])
    assert set(data["items"][0]) == {
        "id",
        "name",
        "image_url",
        "price",
        "promo_price",
        "in_stock",
        "rating_avg",
        "rating_count",
    }
    async with ctx.db.session() as s:
        expected = await product_cards(
            s, [c["id"] for c in data["items"]], serving=c1.serving, language="en", at=utcnow()
        )
        rows = dict((await s.execute(select(Product.id, Product.created_at))).tuples().all())
    assert data["items"] == expected
    stamps = [rows[c["id"]] for c in data["items"]]
    assert stamps == sorted(stamps, reverse=True)


async def test_search_by_english_arabic_sku_and_barcode(client, ctx, c1: Consumer, h1) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    async with ctx.db.session() as s:
        p = await s.get(Product, pid)
        assert p is not None
    for term in (p.name_en[:12], p.name_ar[:8], p.sku, p.barcode):
        if not term:
            continue
        data = await ok(await client.get(f"{BASE}/products", params={"q": term, "limit": 100}, headers=h1))
        assert pid in [c["id"] for c in data["items"]], term


async def test_pagination_and_tampered_cursor(client, h1) -> None:
    seen: list[int] = []
    params: dict[str, object] = {"limit": 7, "sort": "price_asc"}
    prices: list[Decimal] = []
    for _ in range(3):
        data = await ok(await client.get(f"{BASE}/products", params=params, headers=h1))
        seen += [c["id"] for c in data["items"]]
        prices += [Decimal(c["price"]["amount"]) for c in data["items"]]
        params["cursor"] = data["next_cursor"]
    assert len(seen) == len(set(seen)) == 21
    assert prices == sorted(prices)
    bad = str(params["cursor"])[:-2] + "xx"
    r = await client.get(f"{BASE}/products", params={**params, "cursor": bad}, headers=h1)
    assert r.status_code == 422 and r.json()["error_code"] == "VALIDATION_ERROR"


async def test_invalid_inputs(client, h1) -> None:
    r = await client.get(f"{BASE}/products", params={"min_price": 10, "max_price": 5}, headers=h1)
    assert r.status_code == 422 and r.json()["error_code"] == "INVALID_PRICE_RANGE"
    r = await client.get(f"{BASE}/products", params={"limit": 500}, headers=h1)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "limit"
    r = await client.get(f"{BASE}/search/suggestions", params={"q": "a"}, headers=h1)
    assert r.status_code == 422 and r.json()["error_code"] == "QUERY_TOO_SHORT"
    r = await client.get(f"{BASE}/home", params={"branch_id": 999999}, headers=h1)
    assert r.status_code == 404 and r.json()["error_code"] == "BRANCH_NOT_FOUND"
    r = await client.get(f"{BASE}/products/999999", headers=h1)
    assert r.status_code == 404 and r.json()["error_code"] == "PRODUCT_NOT_FOUND"


async def test_home_categories_promotions(client, h1) -> None:
    home = await ok(await client.get(f"{BASE}/home", headers=h1))
    for section in ("featured", "best_sellers", "new_arrivals"):
        assert len(home[section]) <= 10
    assert home["categories"]
    tree = await ok(await client.get(f"{BASE}/categories", headers=h1))
    assert all(n["product_count"] > 0 for n in tree["items"])
    promos = await ok(await client.get(f"{BASE}/promotions", headers=h1))
    for p in promos["items"]:
        page = await ok(await client.get(f"{BASE}/promotions/{p['id']}", headers=h1))
        assert page["eligible_products"] == p["eligible_products"]
    r = await client.get(f"{BASE}/promotions/999999", headers=h1)
    assert r.status_code == 404 and r.json()["error_code"] == "PROMOTION_NOT_FOUND"


async def test_product_page_cached_and_invalidated_by_price_change(client, ctx, c1: Consumer, h1) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    first = await client.get(f"{BASE}/products/{pid}", headers=h1)
    second = await client.get(f"{BASE}/products/{pid}", headers=h1)
    assert second.json()["metadata"]["cached"] is True
    assert second.json()["data"] == first.json()["data"]
    async with ctx.db.session() as s:
        await s.execute(
            update(Product).where(Product.id == pid).values(warranty_months=Product.warranty_months + 1)
        )
        await s.commit()
    try:
        await ctx.bus.publish([DomainEvent("ProductChanged")])
        third = await client.get(f"{BASE}/products/{pid}", headers=h1)
        assert third.json()["metadata"]["cached"] is False
        assert third.json()["data"]["warranty_months"] == first.json()["data"]["warranty_months"] + 1
    finally:
        async with ctx.db.session() as s:
            await s.execute(
                update(Product).where(Product.id == pid).values(warranty_months=Product.warranty_months - 1)
            )
            await s.commit()
        await ctx.bus.publish([DomainEvent("ProductChanged")])


async def test_product_page_keeps_counts_and_yes_no_specs(client, ctx, c1: Consumer, h1) -> None:
    """A TV's sheet says `smart_tv: true, hdmi_ports: 3`; the page must answer them as typed, not
    fail its response model (which it did while specs were declared as text only)."""
    async with ctx.db.session() as s:
        listed = (
            await s.execute(
                listed_products(c1.serving, utcnow()).with_only_columns(Product.id, Product.specs)
            )
        ).all()
    pid, specs = next((i, sp) for i, sp in listed if any(not isinstance(v, str) for v in (sp or {}).values()))
    data = await ok(await client.get(f"{BASE}/products/{pid}", headers=h1))
    assert data["specs"] == specs


async def test_admin_without_customer_record_gets_profile_missing(client, auth) -> None:
    headers = await auth.headers("admin1@demo.tsh.iq")
    for path in ("/cart", "/profile", "/orders", "/addresses", "/wishlist"):
        r = await client.get(BASE + path, headers=headers)
        assert r.status_code == 404 and r.json()["error_code"] == "CUSTOMER_PROFILE_MISSING", path
    assert (await client.get(BASE + "/home", headers=headers)).status_code == 200


async def test_catalogue_is_cached_per_resolved_serving_branch(client, ctx, c1: Consumer, h1) -> None:
    from sqlalchemy import select as sel

    from tsh.domain.organisation.models import Branch

    async with ctx.db.session() as s:
        branches = list(await s.scalars(sel(Branch.id).where(Branch.status == "active").order_by(Branch.id)))
    default = await ok(await client.get(f"{BASE}/home", headers=h1))
    assert default["serving_branch_id"] == c1.serving.branch_id
    explicit = await client.get(f"{BASE}/home", params={"branch_id": c1.serving.branch_id}, headers=h1)
    assert explicit.json()["data"] == default
    other = next((b for b in branches if b != c1.serving.branch_id), None)
    if other is not None:
        data = await ok(await client.get(f"{BASE}/home", params={"branch_id": other}, headers=h1))
        assert data["serving_branch_id"] == other


async def test_suggestions_match_the_prefix(client, ctx, c1: Consumer, h1) -> None:
    [pid] = await stocked_products(ctx, c1.serving)
    async with ctx.db.session() as s:
        name, brand = (await s.execute(select(Product.name_en, Product.brand).where(Product.id == pid))).one()
    data = await ok(await client.get(f"{BASE}/search/suggestions", params={"q": name[:4]}, headers=h1))
    assert set(data) == {"products", "categories", "brands"}
    assert len(data["products"]) <= 8 and len(data["categories"]) <= 3 and len(data["brands"]) <= 3
    assert all(
        p["name"].lower().startswith(name[:4].lower()) or name[:4].lower() in p["name"].lower()
        for p in data["products"]
    )
    if brand:
        by_brand = await ok(
            await client.get(f"{BASE}/search/suggestions", params={"q": brand[:3]}, headers=h1)
        )
        assert brand in by_brand["brands"]
