"""Quick-sale catalogue and barcode lookup of a terminal (POS-02): active products priced in the
branch POS price list, their tax-inclusive price and promotion price, availability (on hand −
reserved) in the terminal's warehouse, and the category tiles. Four statements per page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog.models import Category, PriceListItem, Product
from tsh.domain.catalog.pricing import catalogue_prices, price_list_for
from tsh.domain.inventory.models import StockLevel
from tsh.domain.money import wire
from tsh.domain.pos.common import Actor, scoped_terminal
from tsh.platform.errors import Invalid, NotFound, field_error


def _after_id(after: dict[str, Any] | None) -> int | None:
    if after is None:
        return None
    try:
        return int(after["p"])
    except (KeyError, TypeError, ValueError):
        raise Invalid(
            "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
        ) from None


async def pos_products(
    session: AsyncSession,
    actor: Actor,
    *,
    terminal_id: int,
    limit: int,
    after: dict[str, Any] | None,
    q: str | None,
    barcode: str | None,
    category_id: int | None,
) -> dict[str, Any]:
    """Up to limit+1 items (paged on `id`) plus the terminal and category tiles; 404
    PRODUCT_NOT_FOUND for an unknown barcode, 404 for a terminal outside the caller's branch."""
    terminal = await scoped_terminal(session, actor, terminal_id)
    price_list = await price_list_for(session, channel="pos", branch_id=terminal.branch_id)
    listed = (
        select(PriceListItem.id)
        .where(PriceListItem.price_list_id == price_list.id, PriceListItem.product_id == Product.id)
        .exists()
    )
    stmt = select(Product).where(Product.is_active.is_(True), listed)
    if barcode is not None:
        stmt = stmt.where(Product.barcode == barcode)
    if q:
        pattern = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Product.name_en).like(pattern),
                Product.name_ar.like(f"%{q}%"),
                func.lower(Product.sku).like(pattern),
                Product.barcode == q,
            )
        )
    if category_id is not None:
        children = select(Category.id).where(Category.parent_id == category_id)
        stmt = stmt.where(or_(Product.category_id == category_id, Product.category_id.in_(children)))
    last = _after_id(after)
    if last is not None:
        stmt = stmt.where(Product.id > last)
    products = list(await session.scalars(stmt.order_by(Product.id).limit(limit + 1)))
    if barcode is not None and not products and last is None:
        raise NotFound("No product has this barcode", code="PRODUCT_NOT_FOUND")
    ids = [p.id for p in products]
    prices = await catalogue_prices(
        session,
        price_list_id=price_list.id,
        product_ids=ids,
        channel="pos",
        branch_id=terminal.branch_id,
        at=datetime.now(UTC),
    )
    stock = {
        pid: on_hand - reserved
        for pid, on_hand, reserved in await session.execute(
            select(StockLevel.product_id, StockLevel.on_hand, StockLevel.reserved).where(
                StockLevel.warehouse_id == terminal.warehouse_id, StockLevel.product_id.in_(ids)
            )
        )
    }
    tiles = await session.execute(
        select(Category.id, Category.name_en, Category.name_ar, Category.icon_url)
        .where(Category.parent_id.is_(None), Category.is_active.is_(True))
        .order_by(Category.sort, Category.id)
    )
    items = []
    for p in products:
        price = prices.get(p.id)
        available = max(stock.get(p.id, 0), 0)
        items.append(
            {
                "id": p.id,
                "sku": p.sku,
                "barcode": p.barcode,
                "name_en": p.name_en,
                "name_ar": p.name_ar,
                "image": p.images[0] if p.images else None,
                "category_id": p.category_id,
                "is_serialised": p.is_serialised,
                "price": wire(price.price_incl_tax, price.currency) if price else None,
                "promo_price": (
                    wire(price.promo_price_incl_tax, price.currency)
                    if price and price.promo_price_incl_tax is not None
                    else None
                ),
                "available": available,
                "in_stock": available > 0,
            }
        )
    return {
        "items": items,
        "terminal": {"id": terminal.id, "code": terminal.code, "name": terminal.name},
        "categories": [
            {"id": cid, "name_en": en, "name_ar": ar, "icon_url": icon} for cid, en, ar, icon in tiles
        ],
    }
