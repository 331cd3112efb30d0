"""Figures the legacy records carry beside their columns, computed in SQL for a whole page.

- customers: `balance` (open invoice balances − unallocated payments − unallocated credit notes)
  and `overdue_amount` (open balances past due, Asia/Baghdad date), domain.md §4/§5;
- targets: `achieved_*` and `progress_pct`: confirmed orders net of cancellations (status
  confirmed/shipped/delivered), revenue net of tax (subtotal − discount) per currency, placed in
  the target month (Asia/Baghdad), and customers assigned to the salesperson created that month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.serialize import Record
from tsh.domain.aftersales.models import Refund
from tsh.domain.customers.models import Customer
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Order, Payment
from tsh.platform.db.base import utcnow

BAGHDAD = ZoneInfo("Asia/Baghdad")
SOLD_STATUSES = ("confirmed", "shipped", "delivered")
ZERO = Decimal("0.00")


def today() -> dt.date:
    return utcnow().astimezone(BAGHDAD).date()


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a Baghdad calendar month, as aware datetimes."""
    start = dt.datetime(year, month, 1, tzinfo=BAGHDAD)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=BAGHDAD)
    return start, end


def month_bucket(column: Any, months: list[tuple[int, int]]) -> ColumnElement[Any]:
    """A portable SQL expression naming the month ('YYYY-MM') a timestamp falls in, else NULL."""
    whens = []
    for year, month in months:
        start, end = month_bounds(year, month)
        whens.append((and_(column >= start, column < end), literal(f"{year:04d}-{month:02d}")))
    return case(*whens, else_=None)


def _money(value: Any) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


async def _sums(session: AsyncSession, stmt: Any) -> dict[int, Decimal]:
    return {k: Decimal(v or 0) for k, v in (await session.execute(stmt)).all()}


async def customer_balances(session: AsyncSession, records: list[Record]) -> None:
    ids = [r["id"] for r in records]
    if not ids:
        return
    unpaid = and_(Invoice.customer_id.in_(ids), Invoice.status.in_(UNPAID_INVOICE_STATUSES))
    open_ = await _sums(
        session,
        select(Invoice.customer_id, func.sum(Invoice.balance)).where(unpaid).group_by(Invoice.customer_id),
    )
    overdue = await _sums(
        session,
        select(Invoice.customer_id, func.sum(Invoice.balance))
        .where(unpaid, Invoice.due_date < today())
        .group_by(Invoice.customer_id),
    )
    credit = await _sums(
        session,
        select(Payment.customer_id, func.sum(Payment.unallocated))
        .where(Payment.customer_id.in_(ids))
        .group_by(Payment.customer_id),
    )
    notes = await _sums(
        session,
        select(Refund.customer_id, func.sum(Refund.unallocated))
        .where(Refund.customer_id.in_(ids), Refund.method == "credit_note")
        .group_by(Refund.customer_id),
    )
    for r in records:
        cid = r["id"]
        r["balance"] = _money(open_.get(cid, ZERO) - credit.get(cid, ZERO) - notes.get(cid, ZERO))
        r["overdue_amount"] = _money(overdue.get(cid, ZERO))


def _pct(achieved: Decimal, target: Decimal) -> Decimal | None:
    return None if target <= 0 else achieved * 100 / target


async def target_achievements(session: AsyncSession, records: list[Record]) -> None:
    people = sorted({r["salesperson_id"] for r in records if r.get("salesperson_id")})
    partners = sorted({r["partner_id"] for r in records if r.get("partner_id")})
    months = sorted({(r["year"], r["month"]) for r in records})
    if not months:
        return
    o_bucket = month_bucket(Order.placed_at, months)
    owner = or_(Order.salesperson_id.in_(people), Order.partner_id.in_(partners))
    orders = await session.execute(
        select(
            Order.salesperson_id,
            Order.partner_id,
            o_bucket,
            Order.currency,
            func.count(),
            func.sum(Order.subtotal - Order.discount),
        )
        .where(owner, Order.status.in_(SOLD_STATUSES), o_bucket.is_not(None))
        .group_by(Order.salesperson_id, Order.partner_id, o_bucket, Order.currency)
    )
    revenue: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for sp, pa, month, currency, count, value in orders.all():
        key = ("s", sp) if sp is not None else ("p", pa)
        revenue[(*key, month, currency)] += Decimal(value or 0)
        counts[(*key, month)] += count
    c_bucket = month_bucket(Customer.created_at, months)
    new = await session.execute(
        select(Customer.salesperson_id, Customer.partner_id, c_bucket, func.count())
        .where(
            or_(Customer.salesperson_id.in_(people), Customer.partner_id.in_(partners)), c_bucket.is_not(None)
        )
        .group_by(Customer.salesperson_id, Customer.partner_id, c_bucket)
    )
    new_customers = {(("s", sp) if sp is not None else ("p", pa)) + (m,): n for sp, pa, m, n in new.all()}
    for r in records:
        key = ("s", r["salesperson_id"]) if r.get("salesperson_id") else ("p", r["partner_id"])
        month = f"{r['year']:04d}-{r['month']:02d}"
        iqd, usd = revenue[(*key, month, "IQD")], revenue[(*key, month, "USD")]
        r["achieved_revenue_iqd"] = _money(iqd)
        r["achieved_revenue_usd"] = _money(usd)
        r["achieved_orders"] = counts[(*key, month)]
        r["achieved_new_customers"] = new_customers.get((*key, month), 0)
        parts = [
            _pct(iqd, Decimal(r["revenue_target_iqd"])),
            _pct(usd, Decimal(r["revenue_target_usd"])),
            _pct(Decimal(r["achieved_orders"]), Decimal(r["orders_target"])),
            _pct(Decimal(r["achieved_new_customers"]), Decimal(r["new_customers_target"])),
        ]
        set_parts = [p for p in parts if p is not None]
        # Mean progress over the figures that have a target; null when nothing is targeted.
        r["progress_pct"] = _money(sum(set_parts) / len(set_parts)) if set_parts else None
