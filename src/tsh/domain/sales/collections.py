"""Customer payments and their allocation to open invoices (domain.md §5).

- Allocations are in the invoice's currency. A payment in another currency is converted at the
  exchange rate in force when it is received, and that rate is stored on the payment.
- Invoice rows are locked FOR UPDATE in id order before any balance is read, so two concurrent
  payments on one invoice serialise and never over-allocate (the CHECK constraints are the backstop).
- Without explicit allocations the amount settles the oldest invoices first (due date, then issue
  date, then id); what is left stays on the payment as `unallocated` customer credit.
- Posting (CSH journal, payment currency): Dr cash / bank / payment clearing = amount;
  Cr receivable = the allocated part; Cr customer_credit = the unallocated part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.customers.models import Customer
from tsh.domain.events import raise_event
from tsh.domain.identity.models import Media
from tsh.domain.money import convert, round_money
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Order, Payment, PaymentAllocation
from tsh.domain.shared import business_today, new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, NotFound, field_error

ZERO = Decimal(0)
_CLEARING_METHODS = ("card", "zain_cash", "fastpay")


def deposit_key(method: str, currency: str) -> str:
    """The system account a payment method lands in (chart.py keys)."""
    if method in _CLEARING_METHODS:
        return "payment_clearing"
    if method == "cash":
        return f"cash_{currency.lower()}"
    return f"bank_{currency.lower()}"


async def _lock_invoices(
    session: AsyncSession, customer_id: int, invoice_ids: Sequence[int] | None
) -> list[Invoice]:
    where = [Invoice.customer_id == customer_id]
    if invoice_ids is None:
        where.append(Invoice.status.in_(UNPAID_INVOICE_STATUSES))
    else:
        where.append(Invoice.id.in_(invoice_ids))
    stmt = (
        select(Invoice)
        .where(*where)
        .order_by(Invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


class _Rates:
    """Fetches the rate in force at most once, only when a conversion is needed."""

    def __init__(self, session: AsyncSession, at: dt.datetime) -> None:
        self.session, self.at = session, at
        self.rate: Decimal | None = None

    async def convert(self, amount: Decimal, from_cur: str, to_cur: str) -> Decimal:
        if from_cur == to_cur:
            return amount
        if self.rate is None:
            self.rate = await posting.rate_in_force(self.session, self.at)
        rate: Decimal = self.rate
        return convert(amount, from_cur, to_cur, rate)


async def _explicit(
    invoices: list[Invoice],
    allocations: Sequence[tuple[int, Decimal]],
    amount: Decimal,
    currency: str,
    rates: _Rates,
) -> list[tuple[Invoice, Decimal, Decimal]]:
    """(invoice, amount in invoice currency, cost in payment currency) or 422 OVER_ALLOCATION."""
    by_id = {inv.id: inv for inv in invoices}
    missing = [iid for iid, _ in allocations if iid not in by_id]
    if missing:
        raise NotFound("Invoice not found", code="INVOICE_NOT_FOUND")
    seen: set[int] = set()
    over, out = [], []
    for i, (iid, alloc) in enumerate(allocations):
        if iid in seen:
            raise Invalid(details=[field_error(f"allocations[{i}].invoice_id", "listed twice")])
        seen.add(iid)
        inv = by_id[iid]
        balance = inv.balance if inv.status in UNPAID_INVOICE_STATUSES else ZERO
        if alloc > balance:
            over.append(
                field_error(
                    f"allocations[{i}].amount",
                    "exceeds the invoice balance",
                    invoice_id=iid,
                    balance=str(balance),
                    currency=inv.currency,
                )
            )
        out.append((inv, alloc, await rates.convert(alloc, inv.currency, currency)))
    allocated = sum((cost for _, _, cost in out), ZERO)
    if allocated > amount:
        over.append(
            field_error(
                "allocations",
                "allocations exceed the payment amount",
                allocated=str(allocated),
                amount=str(amount),
                currency=currency,
            )
        )
    if over:
        raise Invalid("The allocations exceed what can be allocated", code="OVER_ALLOCATION", details=over)
    return out


async def _oldest_first(
    invoices: list[Invoice], amount: Decimal, currency: str, rates: _Rates
) -> list[tuple[Invoice, Decimal, Decimal]]:
    out = []
    remaining = amount
    for inv in sorted(invoices, key=lambda x: (x.due_date, x.issue_date, x.id)):
        if remaining <= 0:
            break
        capacity = round_money(await rates.convert(remaining, currency, inv.currency), inv.currency)
        alloc = min(inv.balance, capacity)
        if alloc <= 0:
            continue
        cost = (
            remaining
            if alloc == capacity
            else min(remaining, await rates.convert(alloc, inv.currency, currency))
        )
        out.append((inv, alloc, cost))
        remaining -= cost
    return out


async def _check_media(session: AsyncSession, media_ids: Sequence[int], by_id: int | None) -> None:
    found = set(
        (
            await session.execute(
                select(Media.id).where(Media.id.in_(media_ids), Media.uploaded_by_id == by_id)
            )
        ).scalars()
    )
    bad = [field_error(f"media_ids[{i}]", "unknown media") for i, m in enumerate(media_ids) if m not in found]
    if bad:
        raise Invalid(details=bad)


async def record_payment(
    session: AsyncSession,
    *,
    customer_id: int,
    amount: Decimal,
    currency: str,
    method: str,
    reference: str | None,
    channel: str,
    collected_by_id: int | None,
    allocations: Sequence[tuple[int, Decimal]] | None,
    visit_id: int | None = None,
    geo: Mapping[str, float] | None = None,
    media_ids: Sequence[int] | None = None,
    device_time: dt.datetime | None = None,
    deposit_account: str | int | None = None,
    received_on: dt.date | None = None,
) -> Payment:
    """Record a customer payment, allocate it and post it; returns the payment with `allocations` loaded.

    `allocations` = [(invoice_id, amount in the invoice currency)] (404 INVOICE_NOT_FOUND for an
    invoice of another customer; 422 OVER_ALLOCATION when an allocation exceeds the invoice balance
    or their sum the amount), None = oldest invoices first. Emits PaymentReceived, CreditChanged,
    JournalPosted and, when an order's payment state changes, OrderChanged.
    `received_on` (office payments, ACC-16): an earlier business day the money came in; the
    payment is dated and posted on it, at the rate in force by the end of that day.
    """
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    if media_ids:
        await _check_media(session, media_ids, collected_by_id)
    now = utcnow()
    if received_on is not None and received_on < business_today(now):
        now = posting.end_of_business_day(received_on)
    rates = _Rates(session, now)
    wanted = None if allocations is None else sorted({iid for iid, _ in allocations})
    invoices = await _lock_invoices(session, customer_id, wanted) if wanted != [] else []
    plan = (
        await _oldest_first(invoices, amount, currency, rates)
        if allocations is None
        else await _explicit(invoices, allocations, amount, currency, rates)
    )
    allocated = sum((cost for _, _, cost in plan), ZERO)
    payment = Payment(
        number=new_number("RCT"),
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        method=method,
        reference=reference,
        channel=channel,
        collected_by_id=collected_by_id,
        visit_id=visit_id,
        lat=geo["lat"] if geo else None,
        lng=geo["lng"] if geo else None,
        geo_accuracy_m=geo.get("accuracy_m") if geo else None,
        receipt_media_id=media_ids[0] if media_ids else None,
        exchange_rate=rates.rate,
        received_at=now,
        device_time=device_time,
        unallocated=amount - allocated,
        allocations=[PaymentAllocation(invoice_id=inv.id, amount=alloc) for inv, alloc, _ in plan],
    )
    payment.deposit_account_id = (
        deposit_account
        if isinstance(deposit_account, int)
        else await posting.account_id(session, deposit_account or deposit_key(method, currency))
    )
    session.add(payment)
    order_ids = []
    for inv, alloc, _ in plan:
        inv.paid += alloc
        inv.balance -= alloc
        inv.status = "paid" if inv.balance == 0 else "partial"
        if inv.order_id is not None:
            order_ids.append((inv.order_id, "paid" if inv.balance == 0 else "partial"))
    orders = await _update_orders(session, order_ids)
    await session.flush()
    entry = await posting.post_entry(
        session,
        journal="CSH",
        entry_date=business_today(now),
        currency=currency,
        lines=[
            ln
            for ln in (
                posting.Line(payment.deposit_account_id, debit=amount, branch_id=customer.branch_id),
                posting.Line("receivable", credit=allocated, customer_id=customer_id),
                posting.Line("customer_credit", credit=amount - allocated, customer_id=customer_id),
            )
            if ln.debit or ln.credit
        ],
        memo=f"Payment {payment.number} ({method})",
        source_type="payment",
        source_id=payment.id,
        branch_id=customer.branch_id,
        posted_by_id=collected_by_id,
        reference=reference or payment.number,
    )
    payment.journal_entry_id = entry.id
    for name in ("PaymentReceived", "CreditChanged"):
        raise_event(
            session,
            name,
            users=[collected_by_id, customer.salesperson_id],
            branches=[customer.branch_id],
            customers=[customer_id],
            partners=[customer.partner_id],
        )
    raise_event(session, "JournalPosted", branches=[customer.branch_id])
    for order in orders:
        raise_event(
            session,
            "OrderChanged",
            users=[order.salesperson_id],
            branches=[order.branch_id],
            customers=[order.customer_id],
            partners=[order.partner_id],
        )
    return payment


async def _update_orders(session: AsyncSession, states: list[tuple[int, str]]) -> list[Order]:
    if not states:
        return []
    wanted = dict(states)
    orders = list(
        (await session.execute(select(Order).where(Order.id.in_(wanted)).order_by(Order.id))).scalars()
    )
    for order in orders:
        order.payment_status = wanted[order.id]
    return orders
