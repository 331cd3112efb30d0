"""Account statement (WHO-17): opening balance, documents with a running balance, closing balance.

Balance = what the account owes (debit raises it, credit lowers it), in the account currency; only
documents in that currency take part. Entries, dated by the Asia/Baghdad business date:
- invoice (issue date): debit its total; a voided invoice also gets a `void` credit on its void date;
- payment (received): credit its amount (allocated or kept as customer credit);
- return refunds: a credit note is a credit; a refund paid out (original method, bank transfer,
  cash) shows the returned goods as a `return` credit and the money paid back as a `refund` debit;
- other refunds (a cancelled paid order): money paid back is a `refund` debit (the void already
  credited the invoice); a credit note there only restates the void's credit, so it is not repeated.
Ordered by date, then invoices before voids, payments, returns, credit notes and refunds, then id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.aftersales.models import Refund
from tsh.domain.money import round_money, wire
from tsh.domain.sales.models import Invoice, Payment
from tsh.domain.shared import business_today, day_start_utc
from tsh.domain.wholesale.account import account_of
from tsh.domain.wholesale.reports import check_range
from tsh.platform.errors import Invalid, field_error

RANK = {"invoice": 0, "void": 1, "payment": 2, "return": 3, "credit_note": 4, "refund": 5}
ZERO = Decimal(0)


async def _entries(
    session: AsyncSession, customer_id: int, currency: str, until: dt.datetime, last_day: dt.date
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(day: dt.date, kind: str, doc_id: int, number: str, debit: Decimal, credit: Decimal) -> None:
        out.append(
            {
                "date": day,
                "kind": kind,
                "document_id": doc_id,
                "number": number,
                "debit": debit,
                "credit": credit,
            }
        )

    invoices = await session.execute(
        select(
            Invoice.id, Invoice.number, Invoice.issue_date, Invoice.total, Invoice.status, Invoice.voided_at
        ).where(
            Invoice.customer_id == customer_id,
            Invoice.currency == currency,
            Invoice.issue_date <= last_day,
        )
    )
    for iid, number, issued, total, status, voided_at in invoices.tuples():
        add(issued, "invoice", iid, number, Decimal(total), ZERO)
        if status == "void" and voided_at is not None and voided_at < until:
            add(business_today(voided_at), "void", iid, number, ZERO, Decimal(total))
    payments = await session.execute(
        select(Payment.id, Payment.number, Payment.received_at, Payment.amount).where(
            Payment.customer_id == customer_id, Payment.currency == currency, Payment.received_at < until
        )
    )
    for pid, number, at, amount in payments.tuples():
        add(business_today(at), "payment", pid, number, ZERO, Decimal(amount))
    refunds = await session.execute(
        select(Refund.id, Refund.number, Refund.issued_at, Refund.amount, Refund.method, Refund.source).where(
            Refund.customer_id == customer_id, Refund.currency == currency, Refund.issued_at < until
        )
    )
    for rid, number, at, amount, method, source in refunds.tuples():
        day, value = business_today(at), Decimal(amount)
        if source == "return":
            if method == "credit_note":
                add(day, "credit_note", rid, number, ZERO, value)
            else:
                add(day, "return", rid, number, ZERO, value)
                add(day, "refund", rid, number, value, ZERO)
        elif method != "credit_note":
            add(day, "refund", rid, number, value, ZERO)
    out.sort(key=lambda e: (e["date"], RANK[e["kind"]], e["document_id"]))
    return out


def _key(e: dict[str, Any]) -> list[Any]:
    return [e["date"].isoformat(), RANK[e["kind"]], e["document_id"]]


async def account_statement(
    session: AsyncSession,
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    limit: int,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """WHO-17. 422 RANGE_TOO_LONG above 366 days. The page holds up to `limit` entries after the
    cursor; opening and closing balances always describe the whole period."""
    check_range(date_from, date_to)
    customer = await account_of(session, actor)
    cur = customer.currency
    until = day_start_utc(date_to + dt.timedelta(days=1))
    entries = await _entries(session, customer.id, cur, until, date_to)
    opening = ZERO
    period = []
    for e in entries:
        if e["date"] < date_from:
            opening += e["debit"] - e["credit"]
        elif e["date"] <= date_to:
            period.append(e)
    balance = opening
    for e in period:
        balance += e["debit"] - e["credit"]
        e["balance"] = balance
    closing = balance
    start = 0
    if after is not None:
        try:
            key = [str(after["k"][0]), int(after["k"][1]), int(after["k"][2])]
        except (KeyError, TypeError, ValueError, IndexError):
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
            ) from None
        start = next((i for i, e in enumerate(period) if _key(e) > key), len(period))
    shown = period[start : start + limit]
    more = start + limit < len(period)

    def money(v: Decimal) -> dict[str, Any] | None:
        return wire(round_money(v, cur), cur)

    return {
        "from": date_from,
        "to": date_to,
        "currency": cur,
        "opening_balance": money(opening),
        "closing_balance": money(closing),
        "items": [
            {
                "date": e["date"],
                "kind": e["kind"],
                "document_id": e["document_id"],
                "number": e["number"],
                "debit": money(e["debit"]),
                "credit": money(e["credit"]),
                "balance": money(e["balance"]),
            }
            for e in shown
        ],
        "next_position": {"k": _key(shown[-1])} if more and shown else None,
    }
