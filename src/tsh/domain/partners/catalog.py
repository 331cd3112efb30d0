"""Partner catalogue (PAR-04): products at the caller's tier partner price.

Listed: active products with a base price (min_qty 1, valid now) on the partner list of the
caller's tier (the same for every partner of the tier). Shown per product: the partner price
(tax-exclusive), the suggested consumer price (the consumer list's base price at the partner's
supplying branch), the commission per unit at the caller's own rate on the partner price, and the
availability band of the supplying branch's main warehouse (`out` / `low` / `in_stock`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog import pricing
from tsh.domain.catalog.models import Category, Product
from tsh.domain.catalog.queries import base_price_expr, escape_like, first_image, name_col
from tsh.domain.money import round_money, wire
from tsh.domain.partners.reads import partner_of
from tsh.domain.sales.ordering import main_warehouse_id
from tsh.domain.wholesale.catalog import band_expr, volume_breaks
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, field_error


def position(row: dict[str, Any]) -> dict[str, Any]:
    return {"n": row["name"], "i": row["id"]}


async def partner_products(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    q: str | None = None,
    category_id: int | None = None,
    in_stock: bool | None = None,
) -> list[dict[str, Any]]:
    """PAR-04: up to limit+1 products by name. 409 NO_PRICE_LIST without a partner list."""
    partner = await partner_of(session, actor)
    price_list = await pricing.price_list_for(
        session, channel="partner", branch_id=partner.branch_id, partner_tier_id=partner.tier_id
    )
    consumer = await pricing.price_list_for(session, channel="consumer", branch_id=partner.branch_id)
    warehouse_id = await main_warehouse_id(session, partner.branch_id)
    now = utcnow()
    price = base_price_expr(price_list.id, now)
    band = band_expr(warehouse_id)
    name = name_col(actor.language)
    stmt = select(Product.id, Product.sku, name, Product.images, Product.pack_size, band).where(
        Product.is_active.is_(True), price.is_not(None)
    )
    if q:
        needle = f"%{escape_like(q)}%"
        stmt = stmt.where(or_(name.ilike(needle, escape="\\"), Product.sku.ilike(needle, escape="\\")))
    if category_id is not None:
        children = select(Category.id).where(Category.parent_id == category_id)
        stmt = stmt.where(or_(Product.category_id == category_id, Product.category_id.in_(children)))
    if in_stock is True:
        stmt = stmt.where(func.coalesce(band, "out") != "out")
    elif in_stock is False:
        stmt = stmt.where(func.coalesce(band, "out") == "out")
    if after is not None:
        try:
            n, pid = str(after["n"]), int(after["i"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
            ) from None
        stmt = stmt.where(or_(name > n, and_(name == n, Product.id > pid)))
    rows = (await session.execute(stmt.order_by(name, Product.id).limit(limit + 1))).all()
    ids = [r[0] for r in rows]
    partner_prices = await volume_breaks(session, price_list.id, ids, now)
    consumer_prices = await volume_breaks(session, consumer.id, ids, now)
    cur = price_list.currency
    rate = Decimal(partner.commission_rate)
    out = []
    for pid, sku, pname, images, pack, availability in rows:
        base = partner_prices[pid][0][1]
        suggested = consumer_prices.get(pid)
        out.append(
            {
                "id": pid,
                "sku": sku,
                "name": pname,
                "image_url": first_image(images),
                "pack_size": int(pack),
                "partner_price": wire(base, cur),
                "suggested_consumer_price": (
                    wire(suggested[0][1], consumer.currency) if suggested and suggested[0][0] == 1 else None
                ),
                "commission_per_unit": wire(round_money(base * rate / 100, cur), cur),
                "availability": availability or "out",
            }
        )
    return out
