"""Consumer catalogue search (CON-02): filters, sorts, keyset pagination and facet counts.

Text search covers English and Arabic names (substring), SKU (substring) and barcode (exact).
On PostgreSQL `ILIKE '%q%'` on name_en, name_ar and sku is served by the pg_trgm GIN indexes of
migration 0003 (a BitmapOr of index scans, plus the barcode btree); on SQLite it is a LIKE scan,
which is fine for an embedded catalogue. Relevance is a portable CASE rank: exact SKU/barcode,
then name prefix, then word prefix, then substring.

Prices filtered and sorted on are the card `price`: the base consumer price (min_qty 1) including
the product's tax rate, rounded to the currency unit, before promotions. Facets each ignore their
own filter (category counts under the brand/price/stock filters, and so on), so the app can show
the alternatives of a chosen value. Statements per call: page, total, 3 facets, cards (2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.models import TaxRate
from tsh.domain.catalog.models import Category, Product
from tsh.domain.catalog.queries import (
    Serving,
    base_price_expr,
    escape_like,
    product_cards,
)
from tsh.domain.inventory.models import StockLevel
from tsh.domain.sales.daily_sales import sold_qty
from tsh.platform.errors import Invalid, field_error

Sort = Literal["relevance", "price_asc", "price_desc", "newest", "best_selling"]
# Upper bounds of the price bands (IQD, tax included); the last band is open-ended.
PRICE_BANDS: tuple[int, ...] = (25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)
BEST_SELLING_DAYS = 30


@dataclass(frozen=True, slots=True)
class SearchFilters:
    q: str | None = None
    category_id: int | None = None
    brand: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None


def _band_label(i: int) -> dict[str, Any]:
    lo = PRICE_BANDS[i - 1] if i > 0 else 0
    hi = PRICE_BANDS[i] if i < len(PRICE_BANDS) else None
    return {
        "min": str(Decimal(lo).quantize(Decimal("0.01"))),
        "max": str(Decimal(hi).quantize(Decimal("0.01"))) if hi is not None else None,
    }


async def search_products(
    session: AsyncSession,
    *,
    filters: SearchFilters,
    sort: Sort,
    serving: Serving,
    language: str,
    at: datetime,
    limit: int,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """One page of product cards plus `total` and `facets`; `after` is a decoded cursor."""
    if (
        filters.min_price is not None
        and filters.max_price is not None
        and filters.min_price > filters.max_price
    ):
        raise Invalid(
            "min_price is above max_price",
            code="INVALID_PRICE_RANGE",
            details=[field_error("min_price", "must not exceed max_price")],
        )
    unit_price = base_price_expr(serving.price_list_id, at)
    rate = func.coalesce(TaxRate.rate, 0)
    price = func.round(unit_price * (100 + rate) / 100, 0 if serving.currency == "IQD" else 2)
    available = func.coalesce(StockLevel.on_hand - StockLevel.reserved, 0)

    base = (
        select(Product.id)
        .outerjoin(TaxRate, TaxRate.id == Product.tax_rate_id)
        .outerjoin(
            StockLevel,
            (StockLevel.product_id == Product.id) & (StockLevel.warehouse_id == (serving.warehouse_id or -1)),
        )
        .where(Product.is_active.is_(True), unit_price.is_not(None))
    )
    conditions: dict[str, Any] = {}
    q = (filters.q or "").strip()
    rank: Any = literal(0)
    if q:
        needle = escape_like(q)
        contains = f"%{needle}%"
        conditions["q"] = or_(
            Product.name_en.ilike(contains, escape="\\"),
            Product.name_ar.ilike(contains, escape="\\"),
            Product.sku.ilike(contains, escape="\\"),
            Product.barcode == q,
        )
        name = Product.name_ar if language == "ar" else Product.name_en
        rank = case(
            (or_(func.lower(Product.sku) == q.lower(), Product.barcode == q), 0),
            (name.ilike(f"{needle}%", escape="\\"), 1),
            (name.ilike(f"% {needle}%", escape="\\"), 2),
            else_=3,
        )
    if filters.category_id is not None:
        children = select(Category.id).where(Category.parent_id == filters.category_id)
        conditions["category"] = or_(
            Product.category_id == filters.category_id, Product.category_id.in_(children)
        )
    if filters.brand:
        conditions["brand"] = func.lower(Product.brand) == filters.brand.lower()
    price_conditions = []
    if filters.min_price is not None:
        price_conditions.append(price >= filters.min_price)
    if filters.max_price is not None:
        price_conditions.append(price <= filters.max_price)
    if price_conditions:
        conditions["price"] = (
            price_conditions[0] if len(price_conditions) == 1 else (price_conditions[0] & price_conditions[1])
        )
    if filters.in_stock:
        conditions["in_stock"] = available >= 1

    def filtered(*, without: str | None = None) -> Any:
        return base.where(*(c for k, c in conditions.items() if k != without))

    # -- the page, keyset on (sort key, id) ------------------------------------------------------
    page = filtered()
    key: Any
    descending: bool
    if sort == "relevance":
        key, descending = rank, False
    elif sort == "price_asc":
        key, descending = price, False
    elif sort == "price_desc":
        key, descending = price, True
    elif sort == "newest":
        key, descending = Product.created_at, True
    else:
        sold = (await sold_qty(session, since=at - timedelta(days=BEST_SELLING_DAYS))).subquery("sold")
        page = page.outerjoin(sold, sold.c.product_id == Product.id)
        key, descending = func.coalesce(sold.c.qty, 0), True
    page = page.add_columns(key.label("k"))
    if after is not None:
        ck, cid = _cursor_values(after, sort)
        if descending:
            page = page.where(or_(key < ck, (key == ck) & (Product.id < cid)))
        else:
            page = page.where(or_(key > ck, (key == ck) & (Product.id > cid)))
    order = (key.desc(), Product.id.desc()) if descending else (key.asc(), Product.id.asc())
    rows = (await session.execute(page.order_by(*order).limit(limit + 1))).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    cards = await product_cards(session, [r[0] for r in rows], serving=serving, language=language, at=at)
    next_position = None
    if has_more and rows:
        last_id, last_key = rows[-1][0], rows[-1][1]
        next_position = {"s": sort, "k": _encode_key(last_key), "id": last_id}

    total = await session.scalar(select(func.count()).select_from(filtered().subquery()))
    return {
        "items": cards,
        "next_position": next_position,
        "total": int(total or 0),
        "facets": await _facets(session, filtered, price, language),
    }


def _encode_key(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return str(value)
    return value


def _cursor_values(after: dict[str, Any], sort: str) -> tuple[Any, int]:
    try:
        if after.get("s") != sort:
            raise ValueError("cursor of another sort")
        cid = int(after["id"])
        raw = after["k"]
        if sort == "newest":
            return datetime.fromisoformat(str(raw)), cid
        if sort in ("price_asc", "price_desc"):
            return Decimal(str(raw)), cid
        return int(raw), cid
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise Invalid(
            "The cursor is not valid", details=[field_error("cursor", "does not match this query")]
        ) from None


async def _facets(session: AsyncSession, filtered: Any, price: Any, language: str) -> dict[str, Any]:
    by_category = filtered(without="category").add_columns(Product.category_id.label("cid")).subquery()
    cat_name = Category.name_ar if language == "ar" else Category.name_en
    categories = (
        await session.execute(
            select(Category.id, cat_name, func.count())
            .join(by_category, by_category.c.cid == Category.id)
            .group_by(Category.id, cat_name)
            .order_by(func.count().desc(), Category.id)
        )
    ).all()
    by_brand = filtered(without="brand").add_columns(Product.brand.label("brand")).subquery()
    brands = (
        await session.execute(
            select(by_brand.c.brand, func.count())
            .where(by_brand.c.brand.is_not(None))
            .group_by(by_brand.c.brand)
            .order_by(func.count().desc(), by_brand.c.brand)
        )
    ).all()
    band = case(*((price < hi, i) for i, hi in enumerate(PRICE_BANDS)), else_=len(PRICE_BANDS))
    by_band = filtered(without="price").add_columns(band.label("band")).subquery()
    bands: dict[int, int] = dict(
        (await session.execute(select(by_band.c.band, func.count()).group_by(by_band.c.band))).tuples().all()
    )
    return {
        "categories": [{"id": cid, "name": name, "count": int(n)} for cid, name, n in categories],
        "brands": [{"brand": b, "count": int(n)} for b, n in brands],
        "price_bands": [
            {**_band_label(i), "count": int(bands.get(i, 0))}
            for i in range(len(PRICE_BANDS) + 1)
            if bands.get(i, 0)
        ],
    }
