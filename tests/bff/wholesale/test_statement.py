"""WHO-17 account statement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.wholesale.conftest import W1, W2, amount, customer_of
from tests.http import Api
from tsh.domain.sales.models import Invoice, Payment
from tsh.domain.shared import business_today


async def test_statement_running_balance_pages_and_range(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    today = business_today()
    start = today - dt.timedelta(days=365)
    params = {"from": str(start), "to": str(today)}
    items: list[dict] = []
    first = await who.data(W1, "/statement", **params, limit=25)
    page = first
    while True:
        items += page["items"]
        if not page["next_cursor"]:
            break
        page = await who.data(W1, "/statement", **params, limit=25, cursor=page["next_cursor"])
    balance = amount(first["opening_balance"])
    for e in items:
        balance += amount(e["debit"]) - amount(e["credit"])
        assert amount(e["balance"]) == balance
    assert balance == amount(first["closing_balance"]) == amount(page["closing_balance"])
    async with api.db() as s:
        invoices = await s.scalar(
            select(func.count()).where(
                Invoice.customer_id == c.id,
                Invoice.currency == c.currency,
                Invoice.issue_date >= start,
                Invoice.issue_date <= today,
            )
        )
        paid = await s.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.customer_id == c.id, Payment.currency == c.currency
            )
        )
        billed = await s.scalar(
            select(func.coalesce(func.sum(Invoice.total), 0)).where(
                Invoice.customer_id == c.id, Invoice.currency == c.currency, Invoice.status != "void"
            )
        )
    assert sum(1 for e in items if e["kind"] == "invoice") == invoices
    # Whole history: closing = non-void invoices − payments (± refunds, none on this account).
    whole = await who.data(W1, "/statement", **{"from": "2000-01-01", "to": "2000-12-31"})
    assert whole["items"] == [] and amount(whole["opening_balance"]) == 0
    if not any(e["kind"] in ("refund", "return", "credit_note") for e in items):
        assert amount(first["closing_balance"]) == (Decimal(billed) - Decimal(paid)).quantize(Decimal("0.01"))
    assert (await who.get(W1, "/statement", **params, limit=25)).json()["metadata"]["cached"] is True
    r = await who.get(W1, "/statement", **{"from": str(today - dt.timedelta(days=366)), "to": str(today)})
    assert r.status_code == 422 and r.json()["error_code"] == "RANGE_TOO_LONG"
    other = await who.data(W2, "/statement", **params)
    assert other["currency"] == (await customer_of(api, W2)).currency
    assert not {e["number"] for e in other["items"]} & {e["number"] for e in items}
