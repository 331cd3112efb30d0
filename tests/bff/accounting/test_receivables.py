"""ACC-14 cash flow, ACC-15 aged receivables, ACC-16 office payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.bff.accounting.conftest import ACCOUNTANT, BM1, Books, amount, iqd
from tsh.domain.accounting.models import Account, FiscalPeriod, JournalEntry
from tsh.domain.sales.models import Invoice, Payment
from tsh.domain.shared import add_months, business_today


async def test_cash_flow_ties_out_to_the_cash_accounts(books: Books) -> None:
    today = business_today()
    start = add_months(today.replace(day=1), -2)
    data = await books.acc.data(ACCOUNTANT, "/reports/cash-flow", **{"from": str(start), "to": str(today)})
    assert amount(data["inter_branch"]) == 0
    total = amount(data["net_operating"]) + amount(data["net_investing"]) + amount(data["net_financing"])
    assert total == amount(data["net_change"])
    assert amount(data["closing_cash"]) == amount(data["opening_cash"]) + amount(data["net_change"])
    async with books.api.db() as s:
        cash_ids = list(await s.scalars(select(Account.id).where(Account.cash_flow_class == "cash")))
    closing = Decimal(0)
    for aid in cash_ids:
        d, c = await books.base_sums(aid, JournalEntry.date <= today)
        closing += d - c
    assert amount(data["closing_cash"]) == closing
    assert data["operating"] and amount(data["net_profit"]) != 0
    r = await books.acc.get(ACCOUNTANT, "/reports/cash-flow", **{"from": str(today), "to": str(start)})
    assert r.status_code == 422 and r.json()["error_code"] == "INVALID_PERIOD"
    assert (
        await books.acc.get(BM1, "/reports/cash-flow", **{"from": str(start), "to": str(today)})
    ).status_code == 403


async def _customer_with_open_invoices(books: Books) -> tuple[int, list[Invoice]]:
    async with books.api.db() as s:
        cid = await s.scalar(
            select(Invoice.customer_id)
            .where(Invoice.status.in_(("open", "partial")), Invoice.currency == "IQD")
            .group_by(Invoice.customer_id)
            .having(func.count() >= 2)
            .order_by(func.count().desc(), Invoice.customer_id)
            .limit(1)
        )
        assert cid is not None
        invoices = list(
            await s.scalars(
                select(Invoice)
                .where(Invoice.customer_id == cid, Invoice.status.in_(("open", "partial")))
                .order_by(Invoice.due_date, Invoice.issue_date, Invoice.id)
            )
        )
    return int(cid), invoices


async def _aging_in_iqd(books: Books, as_of: dt.date) -> list[dict[str, Any]]:
    """Every row of ACC-15 in IQD as of `as_of`, paging to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {
            "as_of": str(as_of),
            "currency": "IQD",
            "limit": 100,
            **({"cursor": cursor} if cursor else {}),
        }
        page = await books.acc.data(ACCOUNTANT, "/reports/aged-receivables", **params)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def test_aging_matches_open_invoice_balances(books: Books) -> None:
    today = business_today()
    items = await _aging_in_iqd(books, today)
    async with books.api.db() as s:
        rows = await s.execute(
            select(Invoice.customer_id, func.sum(Invoice.balance))
            .where(Invoice.status.in_(("open", "partial")), Invoice.currency == "IQD")
            .group_by(Invoice.customer_id)
        )
        expected = {c: v for c, v in rows.all()}
    got = {r["customer"]["id"]: amount(r["total"]) for r in items}
    assert got == {c: Decimal(str(v)).quantize(Decimal("0.01")) for c, v in expected.items()}
    for r in items:
        buckets = sum(amount(r[k]) for k in ("current", "days_1_30", "days_31_60", "days_61_90", "over_90"))
        assert buckets == amount(r["total"])
    # A branch manager sees their branch's invoices only.
    bm = await books.acc.data(BM1, "/reports/aged-receivables", as_of=str(today), limit=100)
    async with books.api.db() as s:
        from tsh.domain.identity.models import User

        branch = await s.scalar(select(User.branch_id).where(User.email == BM1))
        branch_customers = set(
            await s.scalars(
                select(Invoice.customer_id).where(
                    Invoice.branch_id == branch, Invoice.status.in_(("open", "partial"))
                )
            )
        )
    assert {r["customer"]["id"] for r in bm["items"]} <= branch_customers


async def test_office_payment_settles_oldest_first_and_posts(books: Books) -> None:
    cid, invoices = await _customer_with_open_invoices(books)
    bank = await books.account("bank_iqd")
    oldest = invoices[0]
    part = min(oldest.balance, Decimal(1000))
    body = {
        "customer_id": cid,
        "amount": iqd(part),
        "method": "bank_transfer",
        "deposit_account_id": bank.id,
        "received_on": str(business_today()),
        "reference": "TRF-TEST-1",
    }
    r = await books.acc.send(ACCOUNTANT, "POST", "/customer-payments", body)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["allocations"] == [{"invoice_id": oldest.id, "amount": iqd(part)}]
    async with books.api.db() as s:
        inv = await s.get(Invoice, oldest.id)
        pay = await s.get(Payment, data["id"])
        assert inv is not None and inv.balance == oldest.balance - part
        assert pay is not None and pay.channel == "office" and pay.deposit_account_id == bank.id
        entry = await s.get(JournalEntry, data["journal_entry_id"])
        assert entry is not None and entry.date == business_today()
    await books.assert_sound()


async def test_office_payment_rules_change_nothing(books: Books) -> None:
    cid, invoices = await _customer_with_open_invoices(books)
    bank = await books.account("bank_iqd")
    rent = await books.api_account_by_code("5320")
    async with books.api.db() as s:
        closed = (await s.scalars(select(FiscalPeriod).where(FiscalPeriod.status == "closed"))).first()
    assert closed is not None
    base = {
        "customer_id": cid,
        "amount": iqd(1000),
        "method": "cheque",
        "deposit_account_id": bank.id,
        "received_on": str(business_today()),
    }
    cases = [
        ({**base, "deposit_account_id": rent}, 422, "NOT_A_CASH_ACCOUNT"),
        ({**base, "deposit_account_id": (await books.account("bank_usd")).id}, 422, "NOT_A_CASH_ACCOUNT"),
        ({**base, "received_on": str(closed.ends_on)}, 409, "PERIOD_CLOSED"),
        (
            {**base, "allocations": [{"invoice_id": invoices[0].id, "amount": iqd(2000)}]},
            422,
            "OVER_ALLOCATION",
        ),
        ({**base, "allocations": [{"invoice_id": 999999, "amount": iqd(10)}]}, 404, "INVOICE_NOT_FOUND"),
        ({**base, "customer_id": 999999}, 404, "CUSTOMER_NOT_FOUND"),
        ({**base, "received_on": str(business_today() + dt.timedelta(days=2))}, 422, "VALIDATION_ERROR"),
        ({**base, "method": "card"}, 422, "VALIDATION_ERROR"),
    ]
    before = (await books.api.count(Payment), await books.entries())
    for payload, status, code in cases:
        r = await books.acc.send(ACCOUNTANT, "POST", "/customer-payments", payload)
        assert (r.status_code, r.json()["error_code"]) == (status, code), (payload, r.text)
    assert (await books.api.count(Payment), await books.entries()) == before
    assert (await books.acc.send(BM1, "POST", "/customer-payments", base)).status_code == 403


async def test_aging_at_a_past_date_counts_what_was_paid_by_then(books: Books) -> None:
    """As of 40 days ago an invoice was open for its total less the payments received by then
    (later payments and later voids do not count), recomputed here from the allocations."""
    from tsh.domain.finance.receivables import end_of_day
    from tsh.domain.sales.models import PaymentAllocation

    as_of = business_today() - dt.timedelta(days=40)
    cutoff = end_of_day(as_of)
    items = await _aging_in_iqd(books, as_of)
    async with books.api.db() as s:
        invoices = (
            await s.execute(
                select(
                    Invoice.id, Invoice.customer_id, Invoice.total, Invoice.status, Invoice.voided_at
                ).where(Invoice.issue_date <= as_of, Invoice.currency == "IQD")
            )
        ).all()
        paid_by = dict(
            (
                await s.execute(
                    select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount))
                    .join(Payment, Payment.id == PaymentAllocation.payment_id)
                    .where(Payment.received_at < cutoff)
                    .group_by(PaymentAllocation.invoice_id)
                )
            ).all()
        )
    expected: dict[int, Decimal] = {}
    for iid, cid, total, status, voided_at in invoices:
        if status == "void" and (voided_at is None or voided_at < cutoff):
            continue
        still = Decimal(total) - Decimal(paid_by.get(iid) or 0)
        if still > 0:
            expected[cid] = expected.get(cid, Decimal(0)) + still
    got = {r["customer"]["id"]: amount(r["total"]) for r in items}
    assert got == {c: v.quantize(Decimal("0.01")) for c, v in expected.items()}
    assert got, "the demo data has receivables open 40 days ago"
