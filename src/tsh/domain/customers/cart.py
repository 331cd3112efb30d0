"""Consumer cart and wishlist.

The cart stores product and quantity only; every read re-prices it at the serving branch through
`pricing.price_lines` (automatic promotions included). Lines whose product became inactive or
lost its consumer price are flagged `unavailable` and left out of the totals; lines asking for
more than the serving main warehouse holds carry a `stock_warning`. Adding never reserves stock.
"Created empty on first use": a read of a customer without a cart answers an empty cart without
writing; the row is created by the first write.

Writes lock the customer row first, so concurrent adds of one customer serialise.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog import pricing
from tsh.domain.catalog.models import PriceList, Product, Promotion, WishlistItem
from tsh.domain.catalog.queries import (
    CHANNEL,
    Serving,
    available_expr,
    first_image,
    listed_products,
    name_col,
    product_cards,
)
from tsh.domain.customers.consumer import customer_of
from tsh.domain.customers.models import Cart, CartItem
from tsh.domain.money import ZERO, round_money, wire
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

MAX_LINE_QTY = 99
MAX_LINES = 50
MAX_WISHLIST = 200


async def cart_lines(
    session: AsyncSession, *, customer_id: int, serving: Serving, language: str, at: datetime
) -> list[dict[str, Any]]:
    """The raw lines: item id, product, qty, availability, and whether the product is listed."""
    listed = listed_products(serving, at).subquery("listed")
    rows = (
        await session.execute(
            select(
                CartItem.id,
                CartItem.qty,
                Product.id,
                name_col(language),
                Product.images,
                available_expr(serving),
                listed.c.id,
            )
            .join(Cart, Cart.id == CartItem.cart_id)
            .join(Product, Product.id == CartItem.product_id)
            .outerjoin(listed, listed.c.id == Product.id)
            .where(Cart.customer_id == customer_id, Cart.channel == CHANNEL)
            .order_by(CartItem.id)
        )
    ).all()
    return [
        {
            "id": item_id,
            "qty": qty,
            "product": {"id": pid, "name": name, "image_url": first_image(images)},
            "available": int(available or 0),
            "listed": listed_id is not None,
        }
        for item_id, qty, pid, name, images, available, listed_id in rows
    ]


async def price_cart(
    session: AsyncSession,
    lines: list[dict[str, Any]],
    *,
    serving: Serving,
    language: str,
    at: datetime,
    promo_code: str | None = None,
) -> dict[str, Any]:
    """Re-price raw lines; returns the cart payload (lines, promotions, totals, item_count)."""
    priced_lines = [ln for ln in lines if ln["listed"]]
    currency = serving.currency
    subtotal = discount = tax = total = ZERO
    by_product: dict[int, pricing.PricedLine] = {}
    promotion_ids: set[int] = set()
    if priced_lines and serving.price_list_id is not None:
        price_list = await session.get(PriceList, serving.price_list_id)
        assert price_list is not None
        priced = await pricing.price_lines(
            session,
            price_list=price_list,
            lines=[(ln["product"]["id"], ln["qty"], Decimal(0)) for ln in priced_lines],
            channel=CHANNEL,
            branch_id=serving.branch_id,
            at=at,
            promo_code=promo_code,
        )
        currency = priced.currency
        subtotal, discount, tax, total = priced.subtotal, priced.discount, priced.tax, priced.total
        for pl in priced.lines:
            by_product[pl.product_id] = pl
            if pl.promotion_id is not None:
                promotion_ids.add(pl.promotion_id)
    promotions = await _promotion_titles(session, promotion_ids, language)
    out_lines = []
    for ln in lines:
        priced_line = by_product.get(ln["product"]["id"]) if ln["listed"] else None
        line: dict[str, Any] = {
            "id": ln["id"],
            "product": ln["product"],
            "qty": ln["qty"],
            "unavailable": priced_line is None,
            "unit_price": None,
            "line_total": None,
            "promotion": None,
            "stock_warning": None,
        }
        if priced_line is not None:
            pl = priced_line
            unit_incl = pl.unit_price + round_money(pl.unit_price * pl.tax_rate / 100, currency)
            line["unit_price"] = wire(unit_incl, currency)
            line["discount"] = wire(pl.promo_discount, currency)
            line["tax"] = wire(pl.tax, currency)
            line["line_total"] = wire(pl.line_total - pl.promo_discount + pl.tax, currency)
            line["promotion"] = promotions.get(pl.promotion_id) if pl.promotion_id else None
            if ln["available"] < ln["qty"]:
                line["stock_warning"] = {
                    "code": "INSUFFICIENT_STOCK" if ln["available"] > 0 else "OUT_OF_STOCK",
                    "available": max(ln["available"], 0),
                }
        out_lines.append(line)
    return {
        "lines": out_lines,
        "promotions": [promotions[i] for i in sorted(promotion_ids) if i in promotions],
        "subtotal": wire(subtotal, currency),
        "discount": wire(discount, currency),
        "tax": wire(tax, currency),
        "estimated_total": wire(total, currency),
        "item_count": sum(ln["qty"] for ln in lines if ln["listed"]),
        "currency": currency,
    }


async def _promotion_titles(session: AsyncSession, ids: set[int], language: str) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(
                Promotion.id, Promotion.title_ar if language == "ar" else Promotion.title_en, Promotion.code
            ).where(Promotion.id.in_(ids))
        )
    ).all()
    return {pid: {"id": pid, "title": title, "code": code} for pid, title, code in rows}


async def cart_view(
    session: AsyncSession, *, customer_id: int, serving: Serving, language: str, at: datetime
) -> dict[str, Any]:
    lines = await cart_lines(session, customer_id=customer_id, serving=serving, language=language, at=at)
    return await price_cart(session, lines, serving=serving, language=language, at=at)


async def _open_cart(session: AsyncSession, customer_id: int | None) -> Cart:
    customer = await customer_of(session, customer_id, lock=True)
    cart = await session.scalar(select(Cart).where(Cart.customer_id == customer.id, Cart.channel == CHANNEL))
    if cart is None:
        cart = Cart(customer_id=customer.id, channel=CHANNEL)
        session.add(cart)
        await session.flush()
    return cart


async def _check_qty(session: AsyncSession, product_id: int, qty: int, *, serving: Serving) -> None:
    if qty > MAX_LINE_QTY:
        raise Invalid(details=[field_error("qty", f"the line quantity may not exceed {MAX_LINE_QTY}")])
    available = int(
        await session.scalar(
            select(available_expr(serving)).select_from(Product).where(Product.id == product_id)
        )
        or 0
    )
    if qty > available:
        raise Conflict(
            "Not enough stock",
            code="INSUFFICIENT_STOCK",
            details=[
                field_error("qty", "insufficient stock", product_id=product_id, available=max(available, 0))
            ],
        )


async def add_item(
    session: AsyncSession,
    *,
    customer_id: int | None,
    product_id: int,
    qty: int,
    serving: Serving,
    at: datetime,
) -> None:
    """404 PRODUCT_NOT_FOUND, 422 line qty > 99, 409 INSUFFICIENT_STOCK, 422 CART_LIMIT."""
    cart = await _open_cart(session, customer_id)
    listed = await session.scalar(listed_products(serving, at).where(Product.id == product_id))
    if listed is None:
        raise NotFound("No such product", code="PRODUCT_NOT_FOUND")
    item = await session.scalar(
        select(CartItem).where(CartItem.cart_id == cart.id, CartItem.product_id == product_id)
    )
    new_qty = qty + (item.qty if item else 0)
    await _check_qty(session, product_id, new_qty, serving=serving)
    if item is not None:
        item.qty = new_qty
        await session.flush()
        return
    count = int(await session.scalar(select(func.count()).where(CartItem.cart_id == cart.id)) or 0)
    if count >= MAX_LINES:
        raise Invalid(f"A cart holds at most {MAX_LINES} lines", code="CART_LIMIT")
    session.add(CartItem(cart_id=cart.id, product_id=product_id, qty=new_qty, unit="piece"))
    await session.flush()


async def _own_item(session: AsyncSession, cart: Cart, item_id: int) -> CartItem:
    item = await session.scalar(select(CartItem).where(CartItem.id == item_id, CartItem.cart_id == cart.id))
    if item is None:
        raise NotFound("No such cart line", code="CART_ITEM_NOT_FOUND")
    return item


async def set_item_qty(
    session: AsyncSession, *, customer_id: int | None, item_id: int, qty: int, serving: Serving
) -> None:
    cart = await _open_cart(session, customer_id)
    item = await _own_item(session, cart, item_id)
    await _check_qty(session, item.product_id, qty, serving=serving)
    item.qty = qty
    await session.flush()


async def remove_item(session: AsyncSession, *, customer_id: int | None, item_id: int) -> None:
    cart = await _open_cart(session, customer_id)
    item = await _own_item(session, cart, item_id)
    await session.delete(item)
    await session.flush()


async def empty_cart(session: AsyncSession, *, customer_id: int | None) -> None:
    cart = await _open_cart(session, customer_id)
    await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))


# -- wishlist ----------------------------------------------------------------------------------


async def wishlist_page(
    session: AsyncSession,
    *,
    customer_id: int,
    serving: Serving,
    language: str,
    at: datetime,
    limit: int,
    after: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Saved products newest first, as cards; inactive ones stay, flagged `unavailable`."""
    stmt = select(WishlistItem.id, WishlistItem.product_id, WishlistItem.added_at).where(
        WishlistItem.customer_id == customer_id
    )
    if after is not None:
        try:
            cid = int(after["id"])
            at_key = datetime.fromisoformat(str(after["at"]))
        except (KeyError, TypeError, ValueError):
            raise Invalid(details=[field_error("cursor", "does not match this query")]) from None
        stmt = stmt.where(
            (WishlistItem.added_at < at_key) | ((WishlistItem.added_at == at_key) & (WishlistItem.id < cid))
        )
    rows = (
        await session.execute(
            stmt.order_by(WishlistItem.added_at.desc(), WishlistItem.id.desc()).limit(limit + 1)
        )
    ).all()
    shown = rows[:limit]
    cards = await product_cards(
        session, [r[1] for r in shown], serving=serving, language=language, at=at, include_inactive=True
    )
    added = {r[1]: r[2] for r in shown}
    for card in cards:
        card["added_at"] = added[card["id"]]
    position = None
    if len(rows) > limit and shown:
        position = {"id": shown[-1][0], "at": shown[-1][2].isoformat()}
    return cards, position


async def save_to_wishlist(session: AsyncSession, *, customer_id: int | None, product_id: int) -> bool:
    """True when newly saved; saving a saved product changes nothing. 404, 422 WISHLIST_FULL."""
    customer = await customer_of(session, customer_id, lock=True)
    if (
        await session.scalar(select(Product.id).where(Product.id == product_id, Product.is_active.is_(True)))
        is None
    ):
        raise NotFound("No such product", code="PRODUCT_NOT_FOUND")
    if await session.scalar(
        select(WishlistItem.id).where(
            WishlistItem.customer_id == customer.id, WishlistItem.product_id == product_id
        )
    ):
        return False
    count = int(
        await session.scalar(select(func.count()).where(WishlistItem.customer_id == customer.id)) or 0
    )
    if count >= MAX_WISHLIST:
        raise Invalid(f"A wishlist holds at most {MAX_WISHLIST} products", code="WISHLIST_FULL")
    session.add(WishlistItem(customer_id=customer.id, product_id=product_id))
    await session.flush()
    return True


async def remove_from_wishlist(session: AsyncSession, *, customer_id: int | None, product_id: int) -> None:
    customer = await customer_of(session, customer_id)
    await session.execute(
        delete(WishlistItem).where(
            WishlistItem.customer_id == customer.id, WishlistItem.product_id == product_id
        )
    )
