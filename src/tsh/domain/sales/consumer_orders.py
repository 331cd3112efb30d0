"""A consumer's orders: history, detail, reorder into the cart and return requests (CON-25/26/36/37).

Every read and write is filtered by the caller's customer id; another customer's order is a 404.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.aftersales.models import OPEN_RETURN_STATUSES, Refund, ReturnLine, ReturnRequest
from tsh.domain.catalog.models import Product, Review
from tsh.domain.catalog.queries import first_image
from tsh.domain.events import raise_event
from tsh.domain.identity.models import Media
from tsh.domain.money import round_money, wire
from tsh.domain.sales.checkout import own_order
from tsh.domain.sales.models import Invoice, Order, OrderLine, Payment, PaymentAllocation
from tsh.domain.shared import day_start_utc, new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, field_error

RETURN_WINDOW = timedelta(days=14)


async def order_list(
    session: AsyncSession,
    *,
    customer_id: int,
    status: str | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    after: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Newest first, keyset on (placed_at, id); item count and first product image per order."""
    stmt = select(Order).where(Order.customer_id == customer_id)
    if status:
        stmt = stmt.where(Order.status == status)
    if date_from:
        stmt = stmt.where(Order.placed_at >= day_start_utc(date_from))
    if date_to:
        stmt = stmt.where(Order.placed_at < day_start_utc(date_to + timedelta(days=1)))
    if after is not None:
        try:
            at, oid = datetime.fromisoformat(str(after["at"])), int(after["id"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(details=[field_error("cursor", "does not match this query")]) from None
        stmt = stmt.where((Order.placed_at < at) | ((Order.placed_at == at) & (Order.id < oid)))
    orders = list(
        (await session.scalars(stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit + 1))).all()
    )
    shown = orders[:limit]
    ids = [o.id for o in shown]
    counts: dict[int, int] = {}
    images: dict[int, str | None] = {}
    if ids:
        counts = {
            oid: int(n)
            for oid, n in (
                await session.execute(
                    select(OrderLine.order_id, func.sum(OrderLine.qty))
                    .where(OrderLine.order_id.in_(ids))
                    .group_by(OrderLine.order_id)
                )
            ).tuples()
        }
        first = select(func.min(OrderLine.id)).where(OrderLine.order_id.in_(ids)).group_by(OrderLine.order_id)
        images = {
            oid: first_image(imgs)
            for oid, imgs in (
                await session.execute(
                    select(OrderLine.order_id, Product.images)
                    .join(Product, Product.id == OrderLine.product_id)
                    .where(OrderLine.id.in_(first))
                )
            ).tuples()
        }
    items = [
        {
            "id": o.id,
            "number": o.number,
            "placed_at": o.placed_at,
            "status": o.status,
            "payment_status": o.payment_status,
            "payment_method": o.payment_method,
            "item_count": counts.get(o.id, 0),
            "total": wire(o.total, o.currency),
            "image_url": images.get(o.id),
        }
        for o in shown
    ]
    position = {"at": shown[-1].placed_at.isoformat(), "id": shown[-1].id} if len(orders) > limit else None
    return items, position


async def order_detail(session: AsyncSession, *, customer_id: int, order_id: int) -> dict[str, Any]:
    order = await own_order(session, customer_id=customer_id, order_id=order_id)
    cur = order.currency
    lines = list(
        await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
    )
    product_ids = [ln.product_id for ln in lines]
    images = dict(
        (await session.execute(select(Product.id, Product.images).where(Product.id.in_(product_ids))))
        .tuples()
        .all()
    )
    reviewed = dict(
        (
            await session.execute(
                select(Review.product_id, Review.id).where(
                    Review.customer_id == customer_id, Review.product_id.in_(product_ids)
                )
            )
        )
        .tuples()
        .all()
    )
    returns = list(
        await session.scalars(
            select(ReturnRequest).where(ReturnRequest.order_id == order.id).order_by(ReturnRequest.id)
        )
    )
    return_lines = (
        (
            await session.execute(
                select(
                    ReturnLine.return_id, ReturnLine.order_line_id, ReturnLine.qty, ReturnLine.reason
                ).where(ReturnLine.return_id.in_([r.id for r in returns]))
            )
        ).all()
        if returns
        else []
    )
    pending = _open_return_qty(returns, return_lines)
    window_open = order.delivered_at is not None and utcnow() - order.delivered_at <= RETURN_WINDOW
    invoice = await session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    payments = (
        (
            await session.execute(
                select(Payment, PaymentAllocation.amount)
                .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
                .where(PaymentAllocation.invoice_id == invoice.id)
                .order_by(Payment.id)
            )
        ).all()
        if invoice
        else []
    )
    refunds = list(
        await session.scalars(
            select(Refund)
            .where(Refund.source == "order_cancellation", Refund.source_id == order.id)
            .order_by(Refund.id)
        )
    )
    timeline = [
        {"status": s, "at": at}
        for s, at in (
            ("pending", order.placed_at),
            ("confirmed", order.confirmed_at),
            ("shipped", order.shipped_at),
            ("delivered", order.delivered_at),
            ("cancelled", order.cancelled_at),
        )
        if at is not None
    ]
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "payment_method": order.payment_method,
        "placed_at": order.placed_at,
        "delivery_option": order.delivery_option,
        "address": order.address_snapshot,
        "pickup_branch_id": order.pickup_branch_id,
        "note": order.note,
        "promo_code": order.promo_code,
        "cancel_reason": order.cancel_reason,
        "lines": [
            {
                "id": ln.id,
                "product_id": ln.product_id,
                "sku": ln.sku,
                "name": ln.product_name,
                "image_url": first_image(images.get(ln.product_id)),
                "qty": ln.qty,
                "unit_price": wire(ln.unit_price, cur),
                "discount_pct": str(ln.discount_pct),
                "tax": wire(ln.tax, cur),
                "line_total": wire(ln.line_total, cur),
                "qty_delivered": ln.qty_delivered,
                "qty_returned": ln.qty_returned,
                "review": {
                    "can_review": order.status == "delivered" and ln.product_id not in reviewed,
                    "review_id": reviewed.get(ln.product_id),
                },
                "return": {
                    "returnable_qty": (ln.qty_delivered - ln.qty_returned - pending.get(ln.id, 0))
                    if window_open
                    else 0
                },
            }
            for ln in lines
        ],
        "subtotal": wire(order.subtotal, cur),
        "discount": wire(order.discount, cur),
        "delivery_fee": wire(order.delivery_fee, cur),
        "tax": wire(order.tax, cur),
        "total": wire(order.total, cur),
        "timeline": timeline,
        "invoice": (
            {
                "id": invoice.id,
                "number": invoice.number,
                "status": invoice.status,
                "total": wire(invoice.total, invoice.currency),
                "paid": wire(invoice.paid, invoice.currency),
                "balance": wire(invoice.balance, invoice.currency),
            }
            if invoice
            else None
        ),
        "payments": [
            {
                "id": p.id,
                "number": p.number,
                "method": p.method,
                "amount": wire(amount, cur),
                "received_at": p.received_at,
                "provider_reference": p.provider_reference,
            }
            for p, amount in payments
        ],
        "refunds": [
            {
                "id": r.id,
                "number": r.number,
                "amount": wire(r.amount, r.currency),
                "method": r.method,
                "issued_at": r.issued_at,
            }
            for r in refunds
        ],
        "return_requests": [
            {
                "id": r.id,
                "number": r.number,
                "status": r.status,
                "created_at": r.created_at,
                "lines": [
                    {"order_line_id": lid, "qty": q, "reason": why}
                    for rid, lid, q, why in return_lines
                    if rid == r.id
                ],
            }
            for r in returns
        ],
    }


def _open_return_qty(returns: list[ReturnRequest], return_lines: Any) -> dict[int, int]:
    open_ids = {r.id for r in returns if r.status in OPEN_RETURN_STATUSES}
    out: dict[int, int] = defaultdict(int)
    for rid, lid, qty, _ in return_lines:
        if rid in open_ids:
            out[lid] += int(qty)
    return out


async def request_return(
    session: AsyncSession,
    *,
    customer_id: int,
    user_id: int,
    order_id: int,
    lines: list[dict[str, Any]],
    media_ids: list[int],
    note: str | None,
) -> ReturnRequest:
    """409 RETURN_WINDOW_EXPIRED, 409 QTY_EXCEEDS_RETURNABLE, 409 RETURN_ALREADY_OPEN."""
    order = await own_order(session, customer_id=customer_id, order_id=order_id, lock=True)
    by_id = {
        ln.id: ln for ln in await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
    }
    unknown = [
        field_error(f"lines[{i}].order_line_id", "not a line of this order")
        for i, ln in enumerate(lines)
        if ln["order_line_id"] not in by_id
    ]
    if unknown:
        raise Invalid(details=unknown)
    if media_ids:
        found = set(
            await session.scalars(
                select(Media.id).where(Media.id.in_(media_ids), Media.uploaded_by_id == user_id)
            )
        )
        bad = [
            field_error(f"media_ids[{i}]", "unknown media") for i, m in enumerate(media_ids) if m not in found
        ]
        if bad:
            raise Invalid(details=bad)
    if order.delivered_at is not None and utcnow() - order.delivered_at > RETURN_WINDOW:
        raise Conflict("The 14-day return window has passed", code="RETURN_WINDOW_EXPIRED")
    asked: dict[int, int] = defaultdict(int)
    for ln in lines:
        asked[ln["order_line_id"]] += ln["qty"]
    over = [
        field_error(
            f"lines[{i}].qty",
            "exceeds the returnable quantity",
            order_line_id=ln["order_line_id"],
            returnable=by_id[ln["order_line_id"]].qty_delivered - by_id[ln["order_line_id"]].qty_returned,
        )
        for i, ln in enumerate(lines)
        if order.status != "delivered"
        or asked[ln["order_line_id"]]
        > by_id[ln["order_line_id"]].qty_delivered - by_id[ln["order_line_id"]].qty_returned
    ]
    if over:
        raise Conflict("More than can be returned", code="QTY_EXCEEDS_RETURNABLE", details=over)
    open_id = await session.scalar(
        select(ReturnRequest.id).where(
            ReturnRequest.order_id == order.id, ReturnRequest.status.in_(OPEN_RETURN_STATUSES)
        )
    )
    if open_id is not None:
        raise Conflict(
            "A return request is already open for this order",
            code="RETURN_ALREADY_OPEN",
            details=[field_error("order_id", "return already open", return_request_id=open_id)],
        )
    value = sum(
        (
            round_money((by_id[lid].line_total + by_id[lid].tax) * q / by_id[lid].qty, order.currency)
            for lid, q in asked.items()
        ),
        round_money(order.total * 0, order.currency),
    )
    request = ReturnRequest(
        number=new_number("RMA"),
        order_id=order.id,
        customer_id=customer_id,
        branch_id=order.branch_id,
        channel="consumer",
        status="requested",
        note=note,
        media_ids=list(media_ids),
        currency=order.currency,
        value=value,
        requested_by_id=user_id,
        lines=[
            ReturnLine(order_line_id=ln["order_line_id"], qty=ln["qty"], reason=ln["reason"]) for ln in lines
        ],
    )
    session.add(request)
    await session.flush()
    raise_event(session, "ReturnChanged", customers=[customer_id], branches=[order.branch_id])
    return request


async def reorder(
    session: AsyncSession, *, customer_id: int, order_id: int, serving: Any, at: datetime
) -> list[dict[str, Any]]:
    """Copy the still-available lines into the cart (quantity capped by availability and the line
    limit of 99); returns the skipped products with their reason, never an error."""
    from tsh.domain.catalog.queries import available_expr, listed_products
    from tsh.domain.customers.cart import MAX_LINE_QTY, MAX_LINES, _open_cart
    from tsh.domain.customers.models import CartItem

    order = await own_order(session, customer_id=customer_id, order_id=order_id)
    wanted: dict[int, int] = defaultdict(int)
    for pid, qty in (
        await session.execute(
            select(OrderLine.product_id, OrderLine.qty)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.id)
        )
    ).tuples():
        wanted[pid] += int(qty)
    cart = await _open_cart(session, customer_id)
    listed = set(await session.scalars(listed_products(serving, at).where(Product.id.in_(list(wanted)))))
    available: dict[int, int] = dict(
        (
            await session.execute(
                select(Product.id, available_expr(serving)).where(Product.id.in_(list(wanted)))
            )
        )
        .tuples()
        .all()
    )
    items = {
        i.product_id: i for i in await session.scalars(select(CartItem).where(CartItem.cart_id == cart.id))
    }
    skipped: list[dict[str, Any]] = []
    for pid, qty in wanted.items():
        have = items[pid].qty if pid in items else 0
        room = min(MAX_LINE_QTY, int(available.get(pid) or 0)) - have
        if pid not in listed:
            skipped.append({"product_id": pid, "reason": "unavailable"})
        elif room < 1:
            skipped.append({"product_id": pid, "reason": "out_of_stock" if have == 0 else "quantity_limit"})
        elif pid in items:
            items[pid].qty = have + min(qty, room)
        elif len(items) >= MAX_LINES:
            skipped.append({"product_id": pid, "reason": "cart_limit"})
        else:
            items[pid] = CartItem(cart_id=cart.id, product_id=pid, qty=min(qty, room), unit="piece")
            session.add(items[pid])
    await session.flush()
    return skipped
