"""The `orders` and `invoices` delta-sync collections (mobile.md §1).

Scope, the same for both: own orders of the customer roles (their account), of the salesperson
(orders they took) and of the partner; the branch's for the branch manager. Orders are those placed
in the last 90 days; invoices those still open (open, partial) or issued in the last 90 days. The
windows are day-aligned (from midnight UTC 90 days ago), so a page is the same all day when nothing
changes (304), and a row that ages out arrives as a tombstone through `left_window`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.sales.models import Invoice, Order
from tsh.domain.sales.models.payments import UNPAID_INVOICE_STATUSES
from tsh.domain.sync.feed import Collection
from tsh.platform.db.base import utcnow

WINDOW_DAYS = 90


def _start(day: date) -> datetime:
    """The window's first instant for `day`: midnight UTC, WINDOW_DAYS before it."""
    return datetime.combine(day - timedelta(days=WINDOW_DAYS), time.min, tzinfo=UTC)


def _today() -> date:
    return utcnow().date()


def _order_scope(actor: Actor) -> Any:
    if actor.sees_all:
        return Order.id.is_not(None)
    if actor.scope == "branch":
        return Order.branch_id == actor.branch_id
    if actor.role in ("consumer", "wholesale_client"):
        return Order.customer_id == actor.customer_id
    if actor.role == "partner":
        return Order.partner_id == actor.partner_id
    return Order.salesperson_id == actor.user_id


def _order_row(o: Order) -> tuple[int, dict[str, Any]]:
    return o.id, {
        "version": o.version,
        "data": {
            "id": o.id,
            "number": o.number,
            "channel": o.channel,
            "customer_id": o.customer_id,
            "branch_id": o.branch_id,
            "status": o.status,
            "payment_status": o.payment_status,
            "currency": o.currency,
            "subtotal": str(o.subtotal),
            "discount": str(o.discount),
            "tax": str(o.tax),
            "delivery_fee": str(o.delivery_fee),
            "total": str(o.total),
            "placed_at": o.placed_at.isoformat(),
            "delivered_at": o.delivered_at.isoformat() if o.delivered_at else None,
        },
    }


async def _order_rows(session: AsyncSession, actor: Actor, ids: list[int]) -> dict[int, dict[str, Any]]:
    found = await session.scalars(
        select(Order).where(Order.id.in_(ids), _order_scope(actor), Order.placed_at >= _start(_today()))
    )
    return dict(_order_row(o) for o in found)


async def _order_snapshot(
    session: AsyncSession, actor: Actor, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    found = await session.scalars(
        select(Order)
        .where(Order.id > after, _order_scope(actor), Order.placed_at >= _start(_today()))
        .order_by(Order.id)
        .limit(limit)
    )
    return [_order_row(o) for o in found]


async def _orders_left(
    session: AsyncSession, actor: Actor, since: date, until: date
) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(Order.id, Order.version).where(
            _order_scope(actor), Order.placed_at >= _start(since), Order.placed_at < _start(until)
        )
    )
    return [(i, v) for i, v in rows.all()]


ORDERS = Collection(
    name="orders", entity="order", rows=_order_rows, snapshot=_order_snapshot, left_window=_orders_left
)


def _invoice_scope(actor: Actor) -> Any:
    if actor.sees_all:
        return Invoice.id.is_not(None)
    if actor.scope == "branch":
        return Invoice.branch_id == actor.branch_id
    if actor.role in ("consumer", "wholesale_client"):
        return Invoice.customer_id == actor.customer_id
    owner = (
        Order.partner_id == actor.partner_id
        if actor.role == "partner"
        else Order.salesperson_id == actor.user_id
    )
    return Invoice.order_id.in_(select(Order.id).where(owner))


def _invoice_window(day: date) -> Any:
    return or_(Invoice.status.in_(UNPAID_INVOICE_STATUSES), Invoice.issue_date >= _start(day).date())


def _invoice_row(i: Invoice) -> tuple[int, dict[str, Any]]:
    return i.id, {
        "version": i.version,
        "data": {
            "id": i.id,
            "number": i.number,
            "customer_id": i.customer_id,
            "branch_id": i.branch_id,
            "order_id": i.order_id,
            "currency": i.currency,
            "issue_date": i.issue_date.isoformat(),
            "due_date": i.due_date.isoformat(),
            "total": str(i.total),
            "paid": str(i.paid),
            "balance": str(i.balance),
            "status": i.status,
        },
    }


async def _invoice_rows(session: AsyncSession, actor: Actor, ids: list[int]) -> dict[int, dict[str, Any]]:
    found = await session.scalars(
        select(Invoice).where(Invoice.id.in_(ids), _invoice_scope(actor), _invoice_window(_today()))
    )
    return dict(_invoice_row(i) for i in found)


async def _invoice_snapshot(
    session: AsyncSession, actor: Actor, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    found = await session.scalars(
        select(Invoice)
        .where(Invoice.id > after, _invoice_scope(actor), _invoice_window(_today()))
        .order_by(Invoice.id)
        .limit(limit)
    )
    return [_invoice_row(i) for i in found]


async def _invoices_left(
    session: AsyncSession, actor: Actor, since: date, until: date
) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(Invoice.id, Invoice.version).where(
            _invoice_scope(actor),
            Invoice.status.not_in(UNPAID_INVOICE_STATUSES),
            and_(Invoice.issue_date >= _start(since).date(), Invoice.issue_date < _start(until).date()),
        )
    )
    return [(i, v) for i, v in rows.all()]


INVOICES = Collection(
    name="invoices",
    entity="invoice",
    rows=_invoice_rows,
    snapshot=_invoice_snapshot,
    left_window=_invoices_left,
)
