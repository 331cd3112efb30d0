"""The wholesale cart (WHO-04..07, WHO-11) and placing an order from it (WHO-08).

One cart per account (channel `wholesale`), shared by the account's users. Lines hold a quantity in
pieces or cartons (Product.pack_size pieces) and never a price: every read re-prices the cart at
the account's price list (the highest volume break whose min_qty ≤ the line's pieces). Lines
failing the product's MOQ (wholesale_moq pieces) or pack rule (carton_only: whole cartons) are
flagged, not removed; placing the order refuses them. Availability is the supplying branch's main
warehouse; the cart never reserves, the order does.

Writes lock the account's customer row first, so concurrent edits of one cart serialise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog import pricing
from tsh.domain.catalog.models import PriceList, PriceListItem, Product
from tsh.domain.customers.models import Address, Cart, CartItem, Customer
from tsh.domain.inventory.models import StockLevel
from tsh.domain.money import ZERO, round_money, wire
from tsh.domain.organisation.models import Branch
from tsh.domain.sales import ordering
from tsh.domain.sales.models import Order, OrderLine
from tsh.domain.wholesale.account import account_of, credit_summary, ensure_not_on_hold
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

CHANNEL = "wholesale"
MAX_LINES = 200


@dataclass(frozen=True, slots=True)
class Offer:
    """What the account may buy of one product: pack rules, availability and whether it is listed."""

    product_id: int
    name: str
    sku: str
    pack_size: int
    carton_only: bool
    moq: int
    available: int
    listed: bool


async def account_price_list(session: AsyncSession, customer: Customer) -> PriceList:
    """The account's own price list, else the wholesale list of its branch (409 NO_PRICE_LIST)."""
    return await pricing.price_list_for(
        session, channel=CHANNEL, branch_id=customer.branch_id, customer_price_list_id=customer.price_list_id
    )


async def warehouse_of(session: AsyncSession, customer: Customer) -> int:
    if customer.branch_id is None:
        raise NotFound("The account has no supplying branch", code="ACCOUNT_MISSING")
    return await ordering.main_warehouse_id(session, customer.branch_id)


async def offers(
    session: AsyncSession, customer: Customer, product_ids: list[int], *, language: str
) -> dict[int, Offer]:
    """One statement: pack rules, availability and listing of the products for this account."""
    if not product_ids:
        return {}
    price_list = await account_price_list(session, customer)
    warehouse_id = await warehouse_of(session, customer)
    now = utcnow()
    base = (
        select(PriceListItem.id)
        .where(
            PriceListItem.price_list_id == price_list.id,
            PriceListItem.product_id == Product.id,
            PriceListItem.min_qty == 1,
            or_(PriceListItem.valid_from.is_(None), PriceListItem.valid_from <= now),
            or_(PriceListItem.valid_to.is_(None), PriceListItem.valid_to > now),
        )
        .correlate(Product)
        .exists()
    )
    stock = (
        select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0))
        .where(StockLevel.product_id == Product.id, StockLevel.warehouse_id == warehouse_id)
        .correlate(Product)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Product.id,
            Product.name_ar if language == "ar" else Product.name_en,
            Product.sku,
            Product.pack_size,
            Product.carton_only,
            Product.wholesale_moq,
            stock,
            Product.is_active & base,
        ).where(Product.id.in_(set(product_ids)))
    )
    return {
        pid: Offer(pid, name, sku, int(pack), bool(carton), int(moq), int(avail or 0), bool(listed))
        for pid, name, sku, pack, carton, moq, avail, listed in rows.tuples()
    }


def pieces(qty: int, unit: str, offer: Offer) -> int:
    return qty * offer.pack_size if unit == "carton" else qty


def _check_pack(offer: Offer, qty: int, unit: str, field: str = "qty") -> None:
    if offer.carton_only and pieces(qty, unit, offer) % offer.pack_size != 0:
        raise Invalid(
            "This product is sold in whole cartons only",
            code="NOT_PACK_MULTIPLE",
            details=[field_error(field, "not a whole number of cartons", pack_size=offer.pack_size)],
        )


def line_issues(offer: Offer, qty: int, unit: str) -> list[str]:
    """Why a line cannot be ordered as it stands (flags shown on the cart; empty when it can)."""
    if not offer.listed:
        return ["unavailable"]
    n = pieces(qty, unit, offer)
    out = []
    if n < offer.moq:
        out.append("below_moq")
    if offer.carton_only and n % offer.pack_size != 0:
        out.append("not_pack_multiple")
    if n > offer.available:
        out.append("insufficient_stock")
    return out


async def _items(session: AsyncSession, customer_id: int) -> list[CartItem]:
    return list(
        (
            await session.scalars(
                select(CartItem)
                .join(Cart, Cart.id == CartItem.cart_id)
                .where(Cart.customer_id == customer_id, Cart.channel == CHANNEL)
                .order_by(CartItem.id)
            )
        ).all()
    )


async def cart_view(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """WHO-04: lines re-priced now with their flags, totals and credit available after the order."""
    customer = await account_of(session, actor)
    return await _view(session, customer, await _items(session, customer.id), language=actor.language)


async def _view(
    session: AsyncSession, customer: Customer, items: list[CartItem], *, language: str
) -> dict[str, Any]:
    cur = customer.currency
    by_product = await offers(session, customer, [i.product_id for i in items], language=language)
    priceable = [i for i in items if by_product[i.product_id].listed]
    priced: dict[int, pricing.PricedLine] = {}
    subtotal = discount = tax = total = round_money(ZERO, cur)
    if priceable:
        price_list = await account_price_list(session, customer)
        result = await pricing.price_lines(
            session,
            price_list=price_list,
            lines=[
                (i.product_id, pieces(i.qty, i.unit, by_product[i.product_id]), Decimal(0)) for i in priceable
            ],
            channel=CHANNEL,
            branch_id=customer.branch_id,
            at=utcnow(),
        )
        cur = result.currency
        subtotal, discount, tax, total = result.subtotal, result.discount, result.tax, result.total
        priced = {pl.product_id: pl for pl in result.lines}
    lines = []
    for item in items:
        offer = by_product[item.product_id]
        pl = priced.get(item.product_id)
        lines.append(
            {
                "id": item.id,
                "product": {"id": offer.product_id, "sku": offer.sku, "name": offer.name},
                "qty": item.qty,
                "unit": item.unit,
                "pieces": pieces(item.qty, item.unit, offer),
                "pack_size": offer.pack_size,
                "carton_only": offer.carton_only,
                "moq": offer.moq,
                "unit_price": wire(pl.unit_price, cur) if pl else None,
                # Before the promotion (Σ line_total = subtotal); the promotion is `discount`.
                "line_total": wire(pl.line_total, cur) if pl else None,
                "discount": wire(pl.promo_discount, cur) if pl else None,
                "tax": wire(pl.tax, cur) if pl else None,
                "issues": line_issues(offer, item.qty, item.unit),
            }
        )
    credit = await credit_summary(session, customer)
    available = Decimal(credit["available"]["amount"])
    return {
        "lines": lines,
        "currency": cur,
        "subtotal": wire(subtotal, cur),
        "discount": wire(discount, cur),
        "tax": wire(tax, cur),
        "total": wire(total, cur),
        "credit_available": credit["available"],
        "credit_available_after": wire(
            available - total if cur == customer.currency else available, customer.currency
        ),
        "can_order": bool(lines) and all(not ln["issues"] for ln in lines) and not credit["hold"]["on_hold"],
    }


async def _open_cart(session: AsyncSession, customer: Customer) -> Cart:
    cart = await session.scalar(select(Cart).where(Cart.customer_id == customer.id, Cart.channel == CHANNEL))
    if cart is None:
        cart = Cart(customer_id=customer.id, channel=CHANNEL)
        session.add(cart)
        await session.flush()
    return cart


async def _count(session: AsyncSession, cart_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(CartItem.cart_id == cart_id)) or 0)


def _merged(existing: CartItem, qty: int, unit: str, offer: Offer) -> tuple[int, str]:
    """Same unit: add. Different units: add pieces, kept in cartons when they make whole cartons."""
    if existing.unit == unit:
        return existing.qty + qty, unit
    total = pieces(existing.qty, existing.unit, offer) + pieces(qty, unit, offer)
    if total % offer.pack_size == 0:
        return total // offer.pack_size, "carton"
    return total, "piece"


async def add_item(
    session: AsyncSession, actor: Actor, *, product_id: int, qty: int, unit: str
) -> dict[str, Any]:
    """WHO-05: add pieces or cartons, merging with the product's line; returns the cart.

    404 PRODUCT_NOT_FOUND (missing, inactive or not on the account's list); 422 NOT_PACK_MULTIPLE
    (carton-only product in loose pieces); 422 CART_LIMIT above 200 lines.
    """
    customer = await account_of(session, actor, lock=True)
    offer = (await offers(session, customer, [product_id], language=actor.language)).get(product_id)
    if offer is None or not offer.listed:
        raise NotFound("No such product", code="PRODUCT_NOT_FOUND")
    cart = await _open_cart(session, customer)
    item = await session.scalar(
        select(CartItem).where(CartItem.cart_id == cart.id, CartItem.product_id == product_id)
    )
    if item is not None:
        new_qty, new_unit = _merged(item, qty, unit, offer)
        _check_pack(offer, new_qty, new_unit)
        item.qty, item.unit = new_qty, new_unit
    else:
        _check_pack(offer, qty, unit)
        if await _count(session, cart.id) >= MAX_LINES:
            raise Invalid(f"A cart holds at most {MAX_LINES} lines", code="CART_LIMIT")
        session.add(CartItem(cart_id=cart.id, product_id=product_id, qty=qty, unit=unit))
    await session.flush()
    return await _view(session, customer, await _items(session, customer.id), language=actor.language)


async def _own_item(session: AsyncSession, customer: Customer, item_id: int) -> CartItem:
    item = await session.scalar(
        select(CartItem)
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(CartItem.id == item_id, Cart.customer_id == customer.id, Cart.channel == CHANNEL)
    )
    if item is None:
        raise NotFound("No such cart line", code="CART_ITEM_NOT_FOUND")
    return item


async def set_item(
    session: AsyncSession, actor: Actor, *, item_id: int, qty: int, unit: str | None
) -> dict[str, Any]:
    """WHO-06: set a line's quantity (and unit). 404 CART_ITEM_NOT_FOUND; 422 NOT_PACK_MULTIPLE."""
    customer = await account_of(session, actor, lock=True)
    item = await _own_item(session, customer, item_id)
    offer = (await offers(session, customer, [item.product_id], language=actor.language))[item.product_id]
    new_unit = unit or item.unit
    _check_pack(offer, qty, new_unit)
    item.qty, item.unit = qty, new_unit
    await session.flush()
    return await _view(session, customer, await _items(session, customer.id), language=actor.language)


async def remove_item(session: AsyncSession, actor: Actor, *, item_id: int) -> dict[str, Any]:
    """WHO-07: remove a line. 404 CART_ITEM_NOT_FOUND."""
    customer = await account_of(session, actor, lock=True)
    item = await _own_item(session, customer, item_id)
    await session.delete(item)
    await session.flush()
    return await _view(session, customer, await _items(session, customer.id), language=actor.language)


async def reorder(
    session: AsyncSession, actor: Actor, *, order_id: int, replace_cart: bool
) -> dict[str, Any]:
    """WHO-11: copy an own order's lines into the cart (priced today on every read).

    404 ORDER_NOT_FOUND if not own. Lines whose product is no longer listed (`unavailable`) or has
    nothing available (`out_of_stock`), or that would pass 200 lines (`cart_limit`), are skipped and
    listed. Quantities are the ordered pieces, kept in cartons when they make whole cartons; a
    carton-only product is rounded up to whole cartons.
    """
    customer = await account_of(session, actor, lock=True)
    order_lines = (
        await session.execute(
            select(OrderLine.product_id, func.sum(OrderLine.qty))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.id == order_id, Order.customer_id == customer.id)
            .group_by(OrderLine.product_id)
            .order_by(func.min(OrderLine.id))
        )
    ).all()
    if not order_lines:
        exists = await session.scalar(
            select(Order.id).where(Order.id == order_id, Order.customer_id == customer.id)
        )
        if exists is None:
            raise NotFound("Order not found", code="ORDER_NOT_FOUND")
    cart = await _open_cart(session, customer)
    if replace_cart:
        await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
    by_product = await offers(session, customer, [pid for pid, _ in order_lines], language=actor.language)
    existing = {i.product_id: i for i in await _items(session, customer.id)}
    count = len(existing)
    skipped = []
    for pid, ordered in order_lines:
        offer = by_product.get(pid)
        reason = (
            "unavailable"
            if offer is None or not offer.listed
            else "out_of_stock"
            if offer.available <= 0
            else "cart_limit"
            if pid not in existing and count >= MAX_LINES
            else None
        )
        if reason is not None or offer is None:
            skipped.append({"product_id": pid, "name": offer.name if offer else None, "reason": reason})
            continue
        n = int(ordered)
        if offer.carton_only:
            n = math.ceil(n / offer.pack_size) * offer.pack_size
        qty, unit = (
            (n // offer.pack_size, "carton")
            if offer.pack_size > 1 and n % offer.pack_size == 0
            else (n, "piece")
        )
        if pid in existing:
            item = existing[pid]
            item.qty, item.unit = _merged(item, qty, unit, offer)
        else:
            session.add(CartItem(cart_id=cart.id, product_id=pid, qty=qty, unit=unit))
            count += 1
    await session.flush()
    view = await _view(session, customer, await _items(session, customer.id), language=actor.language)
    return {**view, "skipped": skipped}


async def place_from_cart(
    session: AsyncSession,
    actor: Actor,
    *,
    payment_terms: str,
    expected_total: Decimal,
    expected_currency: str,
    address_id: int | None = None,
    pickup_branch_id: int | None = None,
    po_number: str | None = None,
    note: str | None = None,
) -> Order:
    """WHO-08: place the cart as a confirmed order with its invoice, then empty the cart.

    422 CART_EMPTY; 422 BELOW_MOQ / NOT_PACK_MULTIPLE / PRODUCT_NOT_AVAILABLE for lines that cannot
    be ordered (every such line in `details`); 404 ADDRESS_NOT_FOUND / BRANCH_NOT_FOUND; 409
    ACCOUNT_ON_HOLD (manual, overdue or over the limit: a held account cannot order, so this is
    checked before stock and credit); then ordering.place_order's 409 INSUFFICIENT_STOCK, 409
    CREDIT_LIMIT_EXCEEDED (credit terms: used + total > limit) and 409 PRICE_CHANGED. The invoice is
    due after the account's payment terms (credit) or at once (prepaid). Emits OrderCreated,
    StockChanged, OrderChanged, InvoiceIssued, CreditChanged and JournalPosted.
    """
    customer = await account_of(session, actor, lock=True)
    items = await _items(session, customer.id)
    if not items:
        raise Invalid("The cart is empty", code="CART_EMPTY")
    by_product = await offers(session, customer, [i.product_id for i in items], language=actor.language)
    failures: dict[str, list[dict[str, Any]]] = {}
    for k, item in enumerate(items):
        for issue in line_issues(by_product[item.product_id], item.qty, item.unit):
            if issue != "insufficient_stock":  # the reservation answers stock, with the figures
                failures.setdefault(issue, []).append(
                    field_error(
                        f"lines[{k}].qty",
                        issue,
                        product_id=item.product_id,
                        moq=by_product[item.product_id].moq,
                    )
                )
    for issue, code, message in (
        ("unavailable", "PRODUCT_NOT_AVAILABLE", "Some products are not available"),
        ("below_moq", "BELOW_MOQ", "Some lines are below the minimum order quantity"),
        ("not_pack_multiple", "NOT_PACK_MULTIPLE", "Some lines are not whole cartons"),
    ):
        if issue in failures:
            raise Invalid(message, code=code, details=failures[issue])
    snapshot, pickup = await _delivery(session, customer, address_id, pickup_branch_id)
    ensure_not_on_hold(await credit_summary(session, customer))
    price_list = await account_price_list(session, customer)
    if expected_currency != price_list.currency:
        raise Conflict(
            "The account is priced in another currency",
            code="PRICE_CHANGED",
            details=[field_error("expected_total.currency", "must be " + price_list.currency)],
        )
    assert customer.branch_id is not None
    order = await ordering.place_order(
        session,
        channel=CHANNEL,
        customer_id=customer.id,
        branch_id=customer.branch_id,
        lines=[(i.product_id, pieces(i.qty, i.unit, by_product[i.product_id]), Decimal(0)) for i in items],
        payment_terms=payment_terms,
        price_list_id=price_list.id,
        placed_by_user_id=actor.user_id,
        currency=price_list.currency,
        expected_total=expected_total,
        delivery_option="pickup" if pickup is not None else "standard",
        address_snapshot=snapshot,
        pickup_branch_id=pickup,
        po_number=po_number,
        note=note,
    )
    await session.execute(delete(CartItem).where(CartItem.id.in_([i.id for i in items])))
    return order


async def _delivery(
    session: AsyncSession, customer: Customer, address_id: int | None, pickup_branch_id: int | None
) -> tuple[dict[str, Any] | None, int | None]:
    if address_id is not None:
        address = await session.scalar(
            select(Address).where(Address.id == address_id, Address.customer_id == customer.id)
        )
        if address is None:
            raise NotFound("No such address", code="ADDRESS_NOT_FOUND")
        snapshot = {
            k: getattr(address, k)
            for k in (
                "label",
                "city",
                "district",
                "street",
                "landmark",
                "phone",
                "lat",
                "lng",
                "delivery_zone_id",
            )
        }
        return {**snapshot, "address_id": address.id}, None
    branch = await session.scalar(
        select(Branch.id).where(Branch.id == pickup_branch_id, Branch.status == "active")
    )
    if branch is None:
        raise NotFound("No such branch", code="BRANCH_NOT_FOUND")
    return None, branch
