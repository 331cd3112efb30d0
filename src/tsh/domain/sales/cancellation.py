"""Cancelling an order that has not shipped: reservations released, invoice voided by a reversal
entry, commissions reversed, allocated payments returned to customer credit."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.events import raise_event
from tsh.domain.inventory import stock
from tsh.domain.money import convert
from tsh.domain.sales.models import (
    CANCELLABLE_ORDER_STATUSES,
    Commission,
    Invoice,
    Order,
    Payment,
    PaymentAllocation,
)
from tsh.domain.sales.ordering import ZERO, locked_order, order_owners
from tsh.domain.shared import business_today
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, field_error


async def _return_allocations_to_credit(
    session: AsyncSession, invoice: Invoice, by_user_id: int | None
) -> None:
    """A voided invoice's payments become customer credit again (Payment.unallocated)."""
    allocations = (
        (
            await session.execute(
                select(PaymentAllocation)
                .where(PaymentAllocation.invoice_id == invoice.id)
                .order_by(PaymentAllocation.payment_id)
            )
        )
        .scalars()
        .all()
    )
    if not allocations:
        return
    payments = {
        p.id: p
        for p in (
            await session.execute(
                select(Payment)
                .where(Payment.id.in_([a.payment_id for a in allocations]))
                .order_by(Payment.id)
                .with_for_update()
            )
        ).scalars()
    }
    for alloc in allocations:
        pay = payments[alloc.payment_id]
        back = (
            alloc.amount
            if pay.currency == invoice.currency
            else convert(alloc.amount, invoice.currency, pay.currency, pay.exchange_rate or Decimal(1))
        )
        pay.unallocated = min(pay.amount, pay.unallocated + back)
        await session.delete(alloc)
    await posting.post_entry(
        session,
        journal="CSH",
        entry_date=business_today(),
        currency=invoice.currency,
        lines=[
            posting.Line("receivable", debit=invoice.paid, customer_id=invoice.customer_id),
            posting.Line("customer_credit", credit=invoice.paid, customer_id=invoice.customer_id),
        ],
        memo=f"Payments on voided invoice {invoice.number} kept as customer credit",
        source_type="invoice",
        source_id=invoice.id,
        branch_id=invoice.branch_id,
        posted_by_id=by_user_id,
        reference=invoice.number,
    )


async def cancel_order(session: AsyncSession, *, order_id: int, reason: str, by_user_id: int | None) -> Order:
    """Cancel a pending or confirmed order (409 ORDER_NOT_CANCELLABLE otherwise).

    Releases its reservations, voids its invoice with a reversal entry (payments already allocated
    to it become customer credit; refunds are the caller's business) and reverses its unpaid
    commissions. Emits OrderChanged, StockChanged, and CreditChanged / CommissionChanged /
    JournalPosted where they apply.
    """
    order = await locked_order(session, order_id)
    if order.status not in CANCELLABLE_ORDER_STATUSES:
        raise Conflict(
            f"An order that is {order.status} cannot be cancelled",
            code="ORDER_NOT_CANCELLABLE",
            details=[field_error("status", "not pending or confirmed", status=order.status)],
        )
    await stock.release(session, order_line_ids=[ln.id for ln in order.lines])
    owners = order_owners(order)
    invoice = order.invoice
    if invoice is not None and invoice.status != "void":
        if invoice.paid > 0:
            await _return_allocations_to_credit(session, invoice, by_user_id)
        if invoice.journal_entry_id is not None:
            await posting.reverse_entry(
                session,
                entry_id=invoice.journal_entry_id,
                entry_date=business_today(),
                memo=f"Void invoice {invoice.number}: order {order.number} cancelled",
                posted_by_id=by_user_id,
            )
            raise_event(session, "JournalPosted", branches=[order.branch_id])
        invoice.status, invoice.paid, invoice.balance, invoice.voided_at = "void", ZERO, ZERO, utcnow()
        raise_event(session, "CreditChanged", **owners)
    commissions = (
        (
            await session.execute(
                select(Commission).where(
                    Commission.order_id == order.id, Commission.status.in_(("accrued", "payable"))
                )
            )
        )
        .scalars()
        .all()
    )
    for c in commissions:
        c.status, c.reversed_at = "reversed", utcnow()
    if commissions:
        raise_event(
            session,
            "CommissionChanged",
            users=[order.salesperson_id],
            branches=[order.branch_id],
            partners=[c.partner_id for c in commissions],
        )
    order.status, order.cancelled_at, order.cancel_reason = "cancelled", utcnow(), reason
    raise_event(session, "OrderChanged", **owners)
    raise_event(session, "StockChanged", branches=[order.branch_id])
    return order
