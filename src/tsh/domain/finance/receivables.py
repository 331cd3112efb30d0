"""Receivables aging as of a date (ACC-15) and payments received at the office (ACC-16).

Aging is rebuilt for the date, not read from today's balances: an invoice counts when issued on
or before the date (and not voided before it), less the allocations of payments received by the
end of that day. Buckets by days past due: current (not yet due), 1-30, 31-60, 61-90, over 90.
Amounts are in the invoice currency when a `currency` filter is given, else in base IQD at the
rate of the invoice's own journal entry (documents are never revalued).

Office payments reuse the sales context's payment service (allocation, oldest-first settlement,
customer credit, posting); this module adds the office rules: the deposit account must be a
cash or bank account in the payment's currency, and the received date's period must be open.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.models import Account, FiscalPeriod, JournalEntry
from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer
from tsh.domain.finance.queries import ZERO, dec
from tsh.domain.money import BASE_CURRENCY, wire
from tsh.domain.sales.collections import record_payment
from tsh.domain.sales.models import Invoice, Payment, PaymentAllocation
from tsh.domain.sales.models.payments import UNPAID_INVOICE_STATUSES
from tsh.domain.shared import BUSINESS_TZ, business_today
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), BUSINESS_TZ)


async def aged_receivables(
    session: AsyncSession,
    actor: Actor,
    *,
    as_of: date,
    customer_type: str | None,
    salesperson_id: int | None,
    branch_id: int | None,
    currency: str | None,
    limit: int,
    after_id: int | None,
) -> list[dict[str, Any]]:
    """One row per customer with an open balance on the date, by customer id; limit + 1 rows."""
    if not actor.sees_all:
        if branch_id is not None and branch_id != actor.branch_id:
            raise NotFound("Branch not found", code="NOT_FOUND")
        branch_id = actor.branch_id
    cutoff = end_of_day(as_of)
    # What was open at the cutoff = what is open now + what was paid after it. Only invoices
    # open now, paid after the cutoff or voided after it can have been open then, so the
    # query reads those instead of every invoice and allocation of the history (seconds at the
    # `large` profile). `Invoice.paid` is the sum of the invoice's allocations.
    later = (
        select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount).label("paid"))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.received_at >= cutoff)
        .group_by(PaymentAllocation.invoice_id)
        .subquery()
    )
    open_then = Invoice.total - Invoice.paid + func.coalesce(later.c.paid, 0)
    rate = 1 if currency else func.coalesce(JournalEntry.exchange_rate, 1)
    open_amount = open_then * rate
    bucket = case(
        (Invoice.due_date >= as_of, "current"),
        (Invoice.due_date >= as_of - timedelta(days=30), "days_1_30"),
        (Invoice.due_date >= as_of - timedelta(days=60), "days_31_60"),
        (Invoice.due_date >= as_of - timedelta(days=90), "days_61_90"),
        else_="over_90",
    )
    stmt = (
        select(Invoice.customer_id, bucket.label("bucket"), func.sum(open_amount))
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(later, later.c.invoice_id == Invoice.id)
        .outerjoin(JournalEntry, JournalEntry.id == Invoice.journal_entry_id)
        .where(
            Invoice.issue_date <= as_of,
            or_(
                Invoice.status.in_(UNPAID_INVOICE_STATUSES),
                later.c.invoice_id.is_not(None),
                and_(Invoice.status == "void", Invoice.voided_at >= cutoff),
            ),
            open_then > 0,
        )
        .group_by(Invoice.customer_id, bucket)
    )
    if currency:
        stmt = stmt.where(Invoice.currency == currency)
    if customer_type:
        stmt = stmt.where(Customer.type == customer_type)
    if salesperson_id is not None:
        stmt = stmt.where(Customer.salesperson_id == salesperson_id)
    if branch_id is not None:
        stmt = stmt.where(Invoice.branch_id == branch_id)
    # Page over customers first (keyset on id), then fetch the buckets of that page only.
    grouped = stmt.subquery()
    ids_stmt = select(grouped.c.customer_id).distinct()
    if after_id is not None:
        ids_stmt = ids_stmt.where(grouped.c.customer_id > after_id)
    page_ids = list(await session.scalars(ids_stmt.order_by(grouped.c.customer_id).limit(limit + 1)))
    if not page_ids:
        return []
    figures: dict[int, dict[str, Decimal]] = {cid: dict.fromkeys(BUCKETS, ZERO) for cid in page_ids}
    for cid, name, value in await session.execute(stmt.where(Invoice.customer_id.in_(page_ids))):
        figures[cid][name] += dec(value).quantize(
            Decimal("1") if not currency or currency == "IQD" else Decimal("0.01")
        )
    customers = {c.id: c for c in await session.scalars(select(Customer).where(Customer.id.in_(page_ids)))}
    last_rows = await session.execute(
        select(Payment.customer_id, func.max(Payment.received_at))
        .where(Payment.customer_id.in_(page_ids), Payment.received_at < cutoff)
        .group_by(Payment.customer_id)
    )
    latest = dict(last_rows.all())
    last_payments: dict[int, tuple[datetime, Decimal, str]] = {}
    if latest:
        for cid, at, amount, cur in await session.execute(
            select(Payment.customer_id, Payment.received_at, Payment.amount, Payment.currency).where(
                or_(*(and_(Payment.customer_id == c, Payment.received_at == t) for c, t in latest.items()))
            )
        ):
            last_payments[cid] = (at, amount, cur)
    shown = currency or BASE_CURRENCY
    out = []
    for cid in page_ids:
        c = customers[cid]
        f = figures[cid]
        last = last_payments.get(cid)
        out.append(
            {
                "customer": {"id": c.id, "code": c.code, "name": c.name, "type": c.type},
                "branch_id": c.branch_id,
                "salesperson_id": c.salesperson_id,
                **{k: wire(v, shown) for k, v in f.items()},
                "total": wire(sum(f.values(), ZERO), shown),
                "credit_limit": wire(c.credit_limit, c.currency),
                "last_payment": None
                if last is None
                else {"received_at": last[0], "amount": wire(last[1], last[2])},
            }
        )
    return out


async def office_payment(
    session: AsyncSession,
    actor: Actor,
    *,
    customer_id: int,
    amount: Decimal,
    currency: str,
    method: str,
    deposit_account_id: int,
    received_on: date,
    reference: str | None,
    allocations: list[tuple[int, Decimal, str]] | None,
) -> Payment:
    """Record a payment received at the office. 422 VALIDATION_ERROR for a future date; 422
    NOT_A_CASH_ACCOUNT (deposit account not a cash or bank account, inactive, or in another
    currency); 409 PERIOD_CLOSED; then the payment service's 404 CUSTOMER_NOT_FOUND,
    INVOICE_NOT_FOUND, 422 OVER_ALLOCATION, 409 NO_EXCHANGE_RATE, TAX_PERIOD_FILED; 422
    VALIDATION_ERROR for an allocation not in its invoice's currency. `allocations` =
    [(invoice_id, amount, currency)]. Emits PaymentReceived, CreditChanged, JournalPosted.
    Never commits."""
    if received_on > business_today():
        raise Invalid(details=[field_error("received_on", "in the future")])
    account = await session.get(Account, deposit_account_id)
    if (
        account is None
        or account.cash_flow_class != "cash"
        or not account.is_postable
        or not account.is_active
        or (account.currency is not None and account.currency != currency)
    ):
        raise Invalid(
            "Deposit into a cash or bank account in the payment's currency",
            code="NOT_A_CASH_ACCOUNT",
            details=[field_error("deposit_account_id", "not a cash or bank account in this currency")],
        )
    closed = await session.scalar(
        select(FiscalPeriod.id).where(
            FiscalPeriod.year == received_on.year,
            FiscalPeriod.month == received_on.month,
            FiscalPeriod.status == "closed",
        )
    )
    if closed is not None:
        raise Conflict(f"The period {received_on:%Y-%m} is closed", code="PERIOD_CLOSED")
    if allocations:
        currencies = dict(
            (
                await session.execute(
                    select(Invoice.id, Invoice.currency).where(
                        Invoice.id.in_([a[0] for a in allocations]), Invoice.customer_id == customer_id
                    )
                )
            ).all()
        )
        if any(a[0] not in currencies for a in allocations):
            raise NotFound("Invoice not found", code="INVOICE_NOT_FOUND")
        wrong = [
            field_error(f"allocations[{i}].amount.currency", f"must be {currencies[a[0]]}")
            for i, a in enumerate(allocations)
            if a[2] != currencies[a[0]]
        ]
        if wrong:
            raise Invalid(details=wrong)
    return await record_payment(
        session,
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        method=method,
        reference=reference,
        channel="office",
        collected_by_id=actor.user_id,
        allocations=None if allocations is None else [(a[0], a[1]) for a in allocations],
        deposit_account=deposit_account_id,
        received_on=received_on,
    )


async def payment_row(session: AsyncSession, payment: Payment, received_on: date) -> dict[str, Any]:
    """ACC-16's answer: the payment with its allocations in their invoices' currencies."""
    allocations = list(
        await session.execute(
            select(PaymentAllocation.invoice_id, PaymentAllocation.amount, Invoice.currency)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(PaymentAllocation.payment_id == payment.id)
            .order_by(PaymentAllocation.id)
        )
    )
    return {
        "id": payment.id,
        "number": payment.number,
        "customer_id": payment.customer_id,
        "amount": wire(payment.amount, payment.currency),
        "method": payment.method,
        "deposit_account_id": payment.deposit_account_id,
        "received_on": received_on,
        "reference": payment.reference,
        "unallocated": wire(payment.unallocated, payment.currency),
        "allocations": [{"invoice_id": i, "amount": wire(a, c)} for i, a, c in allocations],
        "journal_entry_id": payment.journal_entry_id,
    }
