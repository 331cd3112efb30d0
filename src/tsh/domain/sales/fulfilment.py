"""Fulfilment: shipping (stock issued from the reservation, cost of goods sold posted) and delivery
(commissions payable, warranties for serialised lines)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.aftersales.models import Warranty
from tsh.domain.catalog.models import Product
from tsh.domain.events import raise_event
from tsh.domain.inventory import stock
from tsh.domain.money import round_money
from tsh.domain.sales.models import (
    Commission,
    Order,
)
from tsh.domain.sales.ordering import ZERO, locked_order, order_owners
from tsh.domain.shared import add_months, business_today
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict


async def ship_order(
    session: AsyncSession,
    *,
    order_id: int,
    by_user_id: int,
    serial_numbers: Mapping[int, Sequence[str]] | None = None,
) -> Order:
    """Ship a confirmed order: issue its reserved stock and post cost of goods sold (INV journal).

    `serial_numbers` maps order line id → the serials shipped on it (serialised products).
    409 ORDER_NOT_CONFIRMED unless confirmed; 409 PREPAID_UNPAID for a prepaid order whose invoice
    is not paid yet. Emits OrderChanged, StockChanged, JournalPosted.
    """
    order = await locked_order(session, order_id)
    if order.status != "confirmed":
        raise Conflict("Only a confirmed order can be shipped", code="ORDER_NOT_CONFIRMED")
    if order.payment_terms == "prepaid" and order.payment_status != "paid":
        raise Conflict("A prepaid order ships once its invoice is paid", code="PREPAID_UNPAID")
    # Releasing first and then issuing keeps StockLevel.reserved equal to Σ reservations throughout.
    await stock.release(session, order_line_ids=[ln.id for ln in order.lines])
    cost = ZERO
    for ln in sorted(order.lines, key=lambda x: x.product_id):
        unit_cost = await stock.issue(
            session,
            warehouse_id=order.warehouse_id,
            product_id=ln.product_id,
            qty=ln.qty,
            movement_type="sale",
            source_type="order",
            source_id=order.id,
            by_id=by_user_id,
        )
        cost += unit_cost * ln.qty
        if serial_numbers and ln.id in serial_numbers:
            ln.serial_numbers = list(serial_numbers[ln.id])
    cost = round_money(cost, "IQD")
    if cost > 0:
        await posting.post_entry(
            session,
            journal="INV",
            entry_date=business_today(),
            currency="IQD",
            lines=[posting.Line("cogs", debit=cost), posting.Line("inventory", credit=cost)],
            memo=f"Cost of goods sold, order {order.number}",
            source_type="order",
            source_id=order.id,
            branch_id=order.branch_id,
            posted_by_id=by_user_id,
            reference=order.number,
        )
        raise_event(session, "JournalPosted", branches=[order.branch_id])
    order.status, order.shipped_at = "shipped", utcnow()
    raise_event(session, "OrderChanged", **order_owners(order))
    raise_event(session, "StockChanged", branches=[order.branch_id])
    return order


async def deliver_order(session: AsyncSession, *, order_id: int, by_user_id: int) -> Order:
    """Mark a shipped order delivered: commissions become payable, serialised lines get warranties.

    409 ORDER_NOT_SHIPPED unless shipped. Emits OrderChanged, CommissionChanged, WarrantyChanged.
    """
    order = await locked_order(session, order_id)
    if order.status != "shipped":
        raise Conflict("Only a shipped order can be delivered", code="ORDER_NOT_SHIPPED")
    now, today = utcnow(), business_today()
    order.status, order.delivered_at = "delivered", now
    for ln in order.lines:
        ln.qty_delivered = ln.qty
    commissions = (
        (
            await session.execute(
                select(Commission).where(Commission.order_id == order.id, Commission.status == "accrued")
            )
        )
        .scalars()
        .all()
    )
    for c in commissions:
        c.status, c.payable_at = "payable", now
    months = dict(
        (
            await session.execute(
                select(Product.id, Product.warranty_months).where(
                    Product.id.in_([ln.product_id for ln in order.lines if ln.serial_numbers]),
                    Product.is_serialised.is_(True),
                )
            )
        )
        .tuples()
        .all()
    )
    warranties = [
        Warranty(
            product_id=ln.product_id,
            serial_number=serial,
            customer_id=order.customer_id,
            order_line_id=ln.id,
            starts_on=today,
            ends_on=add_months(today, months[ln.product_id]),
        )
        for ln in order.lines
        if ln.product_id in months
        for serial in ln.serial_numbers
    ]
    session.add_all(warranties)
    owners = order_owners(order)
    raise_event(session, "OrderChanged", **owners)
    if commissions:
        raise_event(
            session,
            "CommissionChanged",
            users=[order.salesperson_id],
            branches=[order.branch_id],
            partners=[c.partner_id for c in commissions],
        )
    if warranties:
        raise_event(session, "WarrantyChanged", customers=[order.customer_id], branches=[order.branch_id])
    return order
