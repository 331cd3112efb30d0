"""Consumer catalogue screens: home, products and search, product page, suggestions, categories,
promotions (CON-01 … CON-07). Cached per resolved serving branch and language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.consumer.common import (
    CATALOG_EVENTS,
    CONSUMER,
    app,
    cards,
    cursor_position,
    language,
    next_cursor,
    now,
    serving,
    serving_branch_key,
)
from tsh.bff.apps.consumer.views import (
    ConCategoryNode,
    ConHome,
    ConProductList,
    ConProductPage,
    ConPromotionPage,
    ConPromotions,
    ConSuggestions,
)
from tsh.bff.call import Call, Section
from tsh.bff.schemas import Id, Page, Query
from tsh.bff.views import Page as PageOf
from tsh.domain.catalog import queries
from tsh.domain.catalog.reviews import newest_reviews, rating_summary
from tsh.domain.catalog.search import SearchFilters, search_products
from tsh.domain.money import wire
from tsh.platform.db import Session
from tsh.platform.errors import Invalid, NotFound, field_error

CATALOG = {
    "roles": CONSUMER,
    "scope": "all",
    "cache": "catalog",
    "vary_by_language": True,
    "key_part": serving_branch_key,
}


class BranchQuery(Query):
    branch_id: Id | None = None


class ProductsQuery(Page):
    q: str | None = Field(default=None, max_length=100)
    category_id: Id | None = None
    brand: str | None = Field(default=None, max_length=100)
    min_price: Decimal | None = Field(default=None, ge=0, le=10**12)
    max_price: Decimal | None = Field(default=None, ge=0, le=10**12)
    in_stock: bool | None = None
    sort: Literal["relevance", "price_asc", "price_desc", "newest", "best_selling"] = "relevance"
    branch_id: Id | None = None


class SuggestQuery(Query):
    # The 2-character minimum is documented; the handler enforces it (after trimming) with its own
    # code, QUERY_TOO_SHORT, rather than a VALIDATION_ERROR.
    q: str = Field(max_length=100, json_schema_extra={"minLength": 2})


class PromotionsQuery(Page):
    branch_id: Id | None = None


@app.screen(
    "CON-01",
    "/home",
    events=CATALOG_EVENTS,
    **CATALOG,
    errors=("BRANCH_NOT_FOUND", "SECTION_TIMEOUT"),
    response=ConHome,
)
async def home(call: Call, *, query: BranchQuery) -> dict[str, Any]:
    """Home: promotion banners, featured, best sellers, new arrivals, top-level categories.

    Sections: `categories` (required), `promotions` (banners and featured), `best_sellers`,
    `new_arrivals`: a late or failed one is its last good value (stale) or null.
    """
    where, at, lang = await serving(call, query.branch_id), now(), language(call)

    async def in_order(ids: list[int]) -> list[dict[str, Any]]:
        found = {c["id"]: c for c in await cards(call, ids, where)}
        return [found[i] for i in ids if i in found]

    async def promotions(session: Session) -> dict[str, Any]:
        promos = await queries.running_promotions(session, serving=where, at=at)
        featured = await queries.promotion_product_ids(
            session, [p.id for p in promos if p.is_featured], serving=where, at=at
        )
        return {
            "banners": [queries.promotion_brief(p, lang) for p in promos if p.banner_url][:10],
            "featured": await in_order(featured),
        }

    async def best_sellers(session: Session) -> list[dict[str, Any]]:
        return await in_order(await queries.best_seller_ids(session, serving=where, at=at))

    async def new_arrivals(session: Session) -> list[dict[str, Any]]:
        return await in_order(await queries.new_arrival_ids(session, serving=where, at=at))

    async def categories(session: Session) -> list[dict[str, Any]]:
        tree = await queries.category_tree(session, language=lang)
        return [{k: c[k] for k in ("id", "name", "icon_url")} for c in tree]

    got = await call.sections(
        {
            "categories": Section(categories, budget_ms=5000, required=True),
            "promotions": Section(promotions, budget_ms=1500),
            "best_sellers": Section(best_sellers, budget_ms=1500),
            "new_arrivals": Section(new_arrivals, budget_ms=1500),
        }
    )
    promoted = got["promotions"] or {"banners": None, "featured": None}
    return {
        "serving_branch_id": where.branch_id,
        "banners": promoted["banners"],
        "featured": promoted["featured"],
        "best_sellers": got["best_sellers"],
        "new_arrivals": got["new_arrivals"],
        "categories": got["categories"],
    }


@app.screen(
    "CON-02",
    "/products",
    events=CATALOG_EVENTS,
    **CATALOG,
    errors=("INVALID_PRICE_RANGE",),
    response=ConProductList,
)
async def products(call: Call, *, query: ProductsQuery) -> dict[str, Any]:
    """Catalogue list and search: product cards, facets and total count."""
    if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
        raise Invalid(
            "min_price is above max_price",
            code="INVALID_PRICE_RANGE",
            details=[field_error("min_price", "must not exceed max_price")],
        )
    where = await serving(call, query.branch_id)
    result = await search_products(
        call.session,
        filters=SearchFilters(
            q=query.q,
            category_id=query.category_id,
            brand=query.brand,
            min_price=query.min_price,
            max_price=query.max_price,
            in_stock=query.in_stock,
        ),
        sort=query.sort,
        serving=where,
        language=language(call),
        at=now(),
        limit=query.limit,
        after=cursor_position(query.cursor),
    )
    return {
        "items": result["items"],
        "next_cursor": next_cursor(result["next_position"]),
        "total": result["total"],
        "facets": result["facets"],
        "serving_branch_id": where.branch_id,
    }


@app.screen(
    "CON-03",
    "/products/{id}",
    events=CATALOG_EVENTS,
    **CATALOG,
    errors=("PRODUCT_NOT_FOUND",),
    response=ConProductPage,
)
async def product_page(call: Call, *, id: int, query: BranchQuery) -> dict[str, Any]:
    """Product page: details, price and promotion, availability, ratings, reviews, related cards."""
    where, at, lang = await serving(call, query.branch_id), now(), language(call)
    product = await queries.listed_product(call.session, id)
    card = (await cards(call, [id], where, include_inactive=True))[0]
    if card["price"] is None:
        raise NotFound("No such product", code="PRODUCT_NOT_FOUND")
    promotion = None
    price = await queries.card_price(call.session, product.id, serving=where, at=at)
    if price is not None and price.promotion_id is not None:
        promo = await queries.promotion_by_id(call.session, price.promotion_id)
        promotion = queries.promotion_brief(promo, lang) if promo is not None else None
    available = await queries.availability(call.session, id, serving=where)
    related = await queries.related_ids(call.session, product, serving=where, at=at)
    return {
        "id": product.id,
        "sku": product.sku,
        "barcode": product.barcode,
        "name": card["name"],
        "name_ar": product.name_ar,
        "name_en": product.name_en,
        "description": product.description,
        "brand": product.brand,
        "category_id": product.category_id,
        "images": list(product.images or []),
        "specs": product.specs or {},
        "price": card["price"],
        "promo_price": card["promo_price"],
        "promotion": promotion,
        "availability": {
            "branch_id": where.branch_id,
            "in_stock": available >= 1,
            "available": max(available, 0),
        },
        "warranty_months": product.warranty_months,
        "rating": await rating_summary(call.session, id),
        "reviews": await newest_reviews(call.session, product_id=id, limit=3),
        "related": await cards(call, related, where),
    }


@app.screen(
    "CON-04",
    "/search/suggestions",
    roles=CONSUMER,
    scope="all",
    cache="catalog",
    events=("ProductChanged",),
    vary_by_language=True,
    key_part=serving_branch_key,
    errors=("QUERY_TOO_SHORT",),
    response=ConSuggestions,
)
async def suggestions(call: Call, *, query: SuggestQuery) -> dict[str, Any]:
    """Type-ahead: up to 8 product names, 3 categories and 3 brands matching a prefix."""
    q = query.q.strip()
    if len(q) < 2:
        raise Invalid(
            "Type at least 2 characters",
            code="QUERY_TOO_SHORT",
            details=[field_error("q", "at least 2 characters")],
        )
    where = await serving(call)
    return await queries.suggestions(call.session, q=q, language=language(call), serving=where, at=now())


@app.screen(
    "CON-05",
    "/categories",
    roles=CONSUMER,
    scope="all",
    cache="reference",
    events=("ProductChanged",),
    vary_by_language=True,
    response=PageOf[ConCategoryNode],
)
async def categories(call: Call) -> dict[str, Any]:
    """Category tree (two levels) with icon and number of active products per node."""
    return {"items": await queries.category_tree(call.session, language=language(call)), "next_cursor": None}


@app.screen(
    "CON-06",
    "/promotions",
    events=("PriceChanged", "ProductChanged"),
    **CATALOG,
    response=ConPromotions,
)
async def promotions(call: Call, *, query: PromotionsQuery) -> dict[str, Any]:
    """Running promotions for the serving branch with their number of eligible products."""
    where, at, lang = await serving(call, query.branch_id), now(), language(call)
    running = await queries.running_promotions(call.session, serving=where, at=at)
    after = cursor_position(query.cursor)
    if after is not None:
        start = _after_index(running, after)
        running = running[start:]
    shown, more = running[: query.limit], len(running) > query.limit
    counts = await queries.eligible_counts(call.session, [p.id for p in shown], serving=where, at=at)
    items = [queries.promotion_brief(p, lang, counts.get(p.id, 0)) for p in shown]
    position = {"e": shown[-1].ends_at.isoformat(), "id": shown[-1].id} if more and shown else None
    return {"items": items, "next_cursor": next_cursor(position), "serving_branch_id": where.branch_id}


def _after_index(running: list[Any], after: dict[str, Any]) -> int:
    try:
        key = (str(after["e"]), int(after["id"]))
    except (KeyError, TypeError, ValueError):
        raise Invalid(details=[field_error("cursor", "does not match this query")]) from None
    for i, p in enumerate(running):
        if (p.ends_at.isoformat(), p.id) > key:
            return i
    return len(running)


@app.screen(
    "CON-07",
    "/promotions/{id}",
    events=("PriceChanged", "ProductChanged", "StockChanged"),
    **CATALOG,
    errors=("PROMOTION_NOT_FOUND",),
    response=ConPromotionPage,
)
async def promotion_page(call: Call, *, id: int, query: PromotionsQuery) -> dict[str, Any]:
    """Promotion page: terms, period, code and eligible product cards."""
    where, at, lang = await serving(call, query.branch_id), now(), language(call)
    promo = next(
        (p for p in await queries.running_promotions(call.session, serving=where, at=at) if p.id == id), None
    )
    if promo is None:
        raise NotFound("No such running promotion", code="PROMOTION_NOT_FOUND")
    after = cursor_position(query.cursor)
    try:
        after_id = int(after["id"]) if after is not None else 0
    except (KeyError, TypeError, ValueError):
        raise Invalid(details=[field_error("cursor", "does not match this query")]) from None
    ids = await queries.promotion_product_ids(
        call.session, [promo.id], serving=where, at=at, after_id=after_id, limit=query.limit + 1
    )
    shown = ids[: query.limit]
    count = (await queries.eligible_counts(call.session, [promo.id], serving=where, at=at)).get(promo.id, 0)
    return {
        **queries.promotion_brief(promo, lang, count),
        "terms": promo.terms_ar if lang == "ar" else promo.terms_en,
        "starts_at": promo.starts_at,
        "value": wire(promo.value, promo.currency)
        if promo.type == "amount" and promo.currency
        else str(promo.value),
        "items": await cards(call, shown, where),
        "next_cursor": next_cursor({"id": shown[-1]}) if len(ids) > query.limit and shown else None,
    }
