"""Orders and invoices of the caller's wholesale account (WHO-09, WHO-10, WHO-14, WHO-15).

Lists are keyset-paged newest first. An invoice's `overdue` status is derived, never stored: an open
or partial invoice whose due date is before today (Asia/Baghdad) is shown, and filtered, as overdue.
Every read is limited to the account's customer id: another account's order or invoice is a 404.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.queries import escape_like
from tsh.domain.money import wire
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models import (
    UNPAID_INVOICE_STATUSES,
    Invoice,
    Order,
    OrderLine,
    Payment,
    PaymentAllocation,
)
from tsh.domain.shared import business_today, day_start_utc
from tsh.domain.wholesale.account import account_of
from tsh.platform.errors import Invalid, NotFound, field_error


def _bad_cursor() -> Invalid:
    return Invalid("The cursor is not valid", details=[field_error("cursor", "does not match this list")])


def shown_status(status: str, due_date: dt.date, today: dt.date) -> str:
    return "overdue" if status in UNPAID_INVOICE_STATUSES and due_date < today else status


def order_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"t": row["placed_at"].isoformat(), "i": row["id"]}


def invoice_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"d": row["issue_date"].isoformat(), "i": row["id"]}


async def order_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    status: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    q: str | None = None,
) -> list[dict[str, Any]]:
    """WHO-09: up to limit+1 orders (placed_at desc, id desc) with the invoice status."""
    customer = await account_of(session, actor)
    stmt = (
        select(Order, Invoice.id, Invoice.status, Invoice.due_date)
        .outerjoin(Invoice, Invoice.order_id == Order.id)
        .where(Order.customer_id == customer.id)
    )
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if date_from is not None:
        stmt = stmt.where(Order.placed_at >= day_start_utc(date_from))
    if date_to is not None:
        stmt = stmt.where(Order.placed_at < day_start_utc(date_to + dt.timedelta(days=1)))
    if q:
        pattern = f"%{escape_like(q)}%"
        stmt = stmt.where(
            or_(Order.number.ilike(pattern, escape="\\"), Order.po_number.ilike(pattern, escape="\\"))
        )
    if after is not None:
        try:
            at, oid = dt.datetime.fromisoformat(after["t"]), int(after["i"])
        except (KeyError, TypeError, ValueError):
            raise _bad_cursor() from None
        stmt = stmt.where(or_(Order.placed_at < at, and_(Order.placed_at == at, Order.id < oid)))
    rows = (
        await session.execute(stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit + 1))
    ).all()
    today = business_today()
    return [
        {
            "id": o.id,
            "number": o.number,
            "po_number": o.po_number,
            "placed_at": o.placed_at,
            "status": o.status,
            "payment_terms": o.payment_terms,
            "total": wire(o.total, o.currency),
            "invoice": (
                {"id": inv_id, "status": shown_status(inv_status, due, today)} if inv_id is not None else None
            ),
        }
        for o, inv_id, inv_status, due in rows
    ]


async def order_detail(session: AsyncSession, actor: Actor, *, order_id: int) -> dict[str, Any]:
    """WHO-10: lines with ordered and delivered quantities, totals, delivery, timeline, invoice."""
    customer = await account_of(session, actor)
    order = await session.scalar(select(Order).where(Order.id == order_id, Order.customer_id == customer.id))
    if order is None:
        raise NotFound("Order not found", code="ORDER_NOT_FOUND")
    cur = order.currency
    lines = (
        await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
    ).all()
    invoice = (
        await session.execute(
            select(Invoice.id, Invoice.number, Invoice.status, Invoice.due_date, Invoice.balance).where(
                Invoice.order_id == order.id
            )
        )
    ).first()
    pickup = None
    if order.pickup_branch_id is not None:
        name = await session.scalar(
            select(Branch.name_ar if actor.language == "ar" else Branch.name_en).where(
                Branch.id == order.pickup_branch_id
            )
        )
        pickup = {"id": order.pickup_branch_id, "name": name or ""}
    steps = [
        ("placed", order.placed_at),
        ("confirmed", order.confirmed_at),
        ("shipped", order.shipped_at),
        ("delivered", order.delivered_at),
        ("cancelled", order.cancelled_at),
    ]
    snapshot = order.address_snapshot or None
    today = business_today()
    return {
        "id": order.id,
        "number": order.number,
        "po_number": order.po_number,
        "status": order.status,
        "payment_terms": order.payment_terms,
        "payment_status": order.payment_status,
        "placed_at": order.placed_at,
        "note": order.note,
        "lines": [
            {
                "id": ln.id,
                "product_id": ln.product_id,
                "sku": ln.sku,
                "name": ln.product_name,
                "qty": ln.qty,
                "qty_delivered": ln.qty_delivered,
                "unit_price": wire(ln.unit_price, cur),
                "tax": wire(ln.tax, cur),
                "line_total": wire(ln.line_total, cur),
            }
            for ln in lines
        ],
        "subtotal": wire(order.subtotal, cur),
        "discount": wire(order.discount, cur),
        "tax": wire(order.tax, cur),
        "delivery_fee": wire(order.delivery_fee, cur),
        "total": wire(order.total, cur),
        "delivery": {
            "option": order.delivery_option,
            "address": (
                {k: snapshot.get(k) for k in ("label", "city", "district", "street", "landmark", "phone")}
                if snapshot
                else None
            ),
            "pickup_branch": pickup,
        },
        "timeline": [{"status": s, "at": at} for s, at in steps if at is not None],
        "invoice": (
            {
                "id": invoice[0],
                "number": invoice[1],
                "status": shown_status(invoice[2], invoice[3], today),
                "balance": wire(Decimal(invoice[4]), cur),
            }
            if invoice is not None
            else None
        ),
    }


def _invoice_row(inv: Invoice, today: dt.date) -> dict[str, Any]:
    cur = inv.currency
    return {
        "id": inv.id,
        "number": inv.number,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "total": wire(inv.total, cur),
        "paid": wire(inv.paid, cur),
        "balance": wire(inv.balance, cur),
        "status": shown_status(inv.status, inv.due_date, today),
    }


async def invoice_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    status: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """WHO-14: up to limit+1 invoices (issue_date desc, id desc); `overdue` filters the derived status."""
    customer = await account_of(session, actor)
    today = business_today()
    stmt = select(Invoice).where(Invoice.customer_id == customer.id)
    if status == "overdue":
        stmt = stmt.where(Invoice.status.in_(UNPAID_INVOICE_STATUSES), Invoice.due_date < today)
    elif status in UNPAID_INVOICE_STATUSES:
        stmt = stmt.where(Invoice.status == status, Invoice.due_date >= today)
    elif status is not None:
        stmt = stmt.where(Invoice.status == status)
    if date_from is not None:
        stmt = stmt.where(Invoice.issue_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Invoice.issue_date <= date_to)
    if after is not None:
        try:
            day, iid = dt.date.fromisoformat(after["d"]), int(after["i"])
        except (KeyError, TypeError, ValueError):
            raise _bad_cursor() from None
        stmt = stmt.where(or_(Invoice.issue_date < day, and_(Invoice.issue_date == day, Invoice.id < iid)))
    rows = (
        await session.scalars(stmt.order_by(Invoice.issue_date.desc(), Invoice.id.desc()).limit(limit + 1))
    ).all()
    return [_invoice_row(inv, today) for inv in rows]


async def invoice_detail(session: AsyncSession, actor: Actor, *, invoice_id: int) -> dict[str, Any]:
    """WHO-15: lines, tax, totals, the payments allocated to it, balance and due date."""
    customer = await account_of(session, actor)
    inv = await session.scalar(
        select(Invoice).where(Invoice.id == invoice_id, Invoice.customer_id == customer.id)
    )
    if inv is None:
        raise NotFound("Invoice not found", code="INVOICE_NOT_FOUND")
    cur = inv.currency
    lines = []
    order_number = None
    if inv.order_id is not None:
        order_number = await session.scalar(select(Order.number).where(Order.id == inv.order_id))
        lines = [
            {
                "product_id": ln.product_id,
                "sku": ln.sku,
                "name": ln.product_name,
                "qty": ln.qty,
                "unit_price": wire(ln.unit_price, cur),
                "tax": wire(ln.tax, cur),
                "line_total": wire(ln.line_total, cur),
            }
            for ln in (
                await session.scalars(
                    select(OrderLine).where(OrderLine.order_id == inv.order_id).order_by(OrderLine.id)
                )
            ).all()
        ]
    applied = (
        await session.execute(
            select(Payment.id, Payment.number, Payment.method, Payment.received_at, PaymentAllocation.amount)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .where(PaymentAllocation.invoice_id == inv.id)
            .order_by(Payment.received_at, Payment.id)
        )
    ).all()
    return {
        **_invoice_row(inv, business_today()),
        "order": {"id": inv.order_id, "number": order_number} if inv.order_id is not None else None,
        "lines": lines,
        "subtotal": wire(inv.subtotal, cur),
        "tax": wire(inv.tax, cur),
        "payments": [
            {
                "id": pid,
                "number": number,
                "method": method,
                "received_at": at,
                "amount": wire(Decimal(a), cur),
            }
            for pid, number, method, at, a in applied
        ],
    }
