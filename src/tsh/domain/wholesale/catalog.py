"""The bulk catalogue at the account's price list (WHO-02, WHO-03).

A product is listed for the account when it is active and has a base price (min_qty 1, valid now)
on the account's price list. Prices are tax-exclusive list prices with their volume breaks, in the
list's currency. Availability is a band of the supplying branch's main warehouse, never a quantity:
`out` when available ≤ 0, `low` when available ≤ the reorder point, else `in_stock`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.models import Category, PriceListItem, Product
from tsh.domain.catalog.queries import base_price_expr, escape_like, first_image, name_col
from tsh.domain.inventory.models import StockLevel
from tsh.domain.money import wire
from tsh.domain.sales.models import Order, OrderLine
from tsh.domain.wholesale.account import account_of
from tsh.domain.wholesale.cart import account_price_list, warehouse_of
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, NotFound, field_error

SORTS = ("name", "price", "newest")


def band_expr(warehouse_id: int) -> Any:
    """Correlated availability band of Product in the warehouse."""
    available = func.coalesce(StockLevel.on_hand - StockLevel.reserved, 0)
    return (
        select(
            case(
                (available <= 0, "out"),
                (available <= StockLevel.reorder_point, "low"),
                else_="in_stock",
            )
        )
        .where(StockLevel.product_id == Product.id, StockLevel.warehouse_id == warehouse_id)
        .correlate(Product)
        .scalar_subquery()
    )


async def volume_breaks(
    session: AsyncSession, price_list_id: int, product_ids: list[int], at: datetime
) -> dict[int, list[tuple[int, Decimal]]]:
    """product id -> [(min_qty, unit_price)] valid at `at`; a dated price overrides an open one."""
    if not product_ids:
        return {}
    rows = await session.execute(
        select(PriceListItem.product_id, PriceListItem.min_qty, PriceListItem.unit_price)
        .where(
            PriceListItem.price_list_id == price_list_id,
            PriceListItem.product_id.in_(product_ids),
            or_(PriceListItem.valid_from.is_(None), PriceListItem.valid_from <= at),
            or_(PriceListItem.valid_to.is_(None), PriceListItem.valid_to > at),
        )
        .order_by(
            PriceListItem.product_id,
            PriceListItem.min_qty,
            PriceListItem.valid_from.is_not(None),
            PriceListItem.valid_from,
            PriceListItem.id,
        )
    )
    out: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for pid, min_qty, price in rows.tuples():
        out[pid][int(min_qty)] = Decimal(price)
    return {pid: sorted(b.items()) for pid, b in out.items()}


def _card(row: Any, breaks: list[tuple[int, Decimal]], currency: str) -> dict[str, Any]:
    pid, sku, name, brand, category_id, images, pack, carton_only, moq, band, _ = row
    return {
        "id": pid,
        "sku": sku,
        "name": name,
        "brand": brand,
        "category_id": category_id,
        "image_url": first_image(images),
        "pack_size": int(pack),
        "carton_only": bool(carton_only),
        "moq": int(moq),
        "currency": currency,
        "base_price": wire(breaks[0][1], currency) if breaks else None,
        "volume_breaks": [{"min_qty": q, "unit_price": wire(p, currency)} for q, p in breaks],
        "availability": band or "out",
    }


async def catalogue(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    q: str | None = None,
    category_id: int | None = None,
    brand: str | None = None,
    in_stock: bool | None = None,
    sort: str = "name",
) -> tuple[list[dict[str, Any]], Any]:
    """WHO-02: up to limit+1 listed products; returns (cards, position_of)."""
    customer = await account_of(session, actor)
    price_list = await account_price_list(session, customer)
    warehouse_id = await warehouse_of(session, customer)
    now = utcnow()
    price = base_price_expr(price_list.id, now)
    band = band_expr(warehouse_id)
    name = name_col(actor.language)
    key = {"name": name, "price": price, "newest": Product.created_at}[sort]
    stmt = select(
        Product.id,
        Product.sku,
        name,
        Product.brand,
        Product.category_id,
        Product.images,
        Product.pack_size,
        Product.carton_only,
        Product.wholesale_moq,
        band,
        key,
    ).where(Product.is_active.is_(True), price.is_not(None))
    if q:
        needle = f"%{escape_like(q)}%"
        stmt = stmt.where(or_(name.ilike(needle, escape="\\"), Product.sku.ilike(needle, escape="\\")))
    if category_id is not None:
        children = select(Category.id).where(Category.parent_id == category_id)
        stmt = stmt.where(or_(Product.category_id == category_id, Product.category_id.in_(children)))
    if brand:
        stmt = stmt.where(func.lower(Product.brand) == brand.lower())
    if in_stock is True:
        stmt = stmt.where(func.coalesce(band, "out") != "out")
    elif in_stock is False:
        stmt = stmt.where(func.coalesce(band, "out") == "out")
    descending = sort == "newest"
    if after is not None:
        try:
            if after.get("s") != sort:
                raise ValueError("cursor of another sort")
            raw, pid = after["k"], int(after["i"])
            value: Any = (
                datetime.fromisoformat(raw)
                if sort == "newest"
                else Decimal(raw)
                if sort == "price"
                else str(raw)
            )
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
            ) from None
        if descending:
            stmt = stmt.where(or_(key < value, and_(key == value, Product.id < pid)))
        else:
            stmt = stmt.where(or_(key > value, and_(key == value, Product.id > pid)))
    order = (key.desc(), Product.id.desc()) if descending else (key.asc(), Product.id.asc())
    rows = (await session.execute(stmt.order_by(*order).limit(limit + 1))).all()
    breaks = await volume_breaks(session, price_list.id, [r[0] for r in rows], now)
    keys = {r[0]: r[10] for r in rows}
    cards = [_card(r, breaks.get(r[0], []), price_list.currency) for r in rows]

    def position_of(card: dict[str, Any]) -> dict[str, Any]:
        k = keys[card["id"]]
        return {"k": k.isoformat() if isinstance(k, datetime) else str(k), "i": card["id"], "s": sort}

    return cards, position_of


async def product(session: AsyncSession, actor: Actor, *, product_id: int) -> dict[str, Any]:
    """WHO-03: specs, images, breaks, pack, MOQ, band and the account's last 5 purchases of it.

    404 PRODUCT_NOT_FOUND when missing, inactive or not on the account's price list."""
    customer = await account_of(session, actor)
    price_list = await account_price_list(session, customer)
    warehouse_id = await warehouse_of(session, customer)
    now = utcnow()
    row = (
        await session.execute(
            select(
                Product.id,
                Product.sku,
                name_col(actor.language),
                Product.brand,
                Product.category_id,
                Product.images,
                Product.pack_size,
                Product.carton_only,
                Product.wholesale_moq,
                band_expr(warehouse_id),
                Product.id,
                Product.description,
                Product.specs,
                Product.warranty_months,
            ).where(
                Product.id == product_id,
                Product.is_active.is_(True),
                base_price_expr(price_list.id, now).is_not(None),
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such product", code="PRODUCT_NOT_FOUND")
    breaks = await volume_breaks(session, price_list.id, [product_id], now)
    purchases = (
        await session.execute(
            select(
                Order.id, Order.number, Order.placed_at, OrderLine.qty, OrderLine.unit_price, Order.currency
            )
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(
                Order.customer_id == customer.id,
                OrderLine.product_id == product_id,
                Order.status != "cancelled",
            )
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(5)
        )
    ).all()
    return {
        **_card(row[:11], breaks.get(product_id, []), price_list.currency),
        "description": row[11],
        "specs": row[12] or {},
        "images": [i for i in (row[5] or []) if isinstance(i, str)],
        "warranty_months": int(row[13] or 0),
        "last_purchases": [
            {"order_id": oid, "order_number": number, "date": at, "qty": qty, "unit_price": wire(price, cur)}
            for oid, number, at, qty, price, cur in purchases
        ],
    }
