"""WHO-16 online payments: verification, allocation, idempotency, scope and invalidation."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.bff.wholesale.conftest import W1, W2, amount, customer_of, money
from tests.http import Api
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Payment


def _ref(code: str, value: Decimal) -> str:
    return f"SANDBOX-{code}-{int(value * 100)}"


async def _unpaid(api: Api, customer_id: int) -> list[Invoice]:
    async with api.db() as s:
        return list(
            (
                await s.scalars(
                    select(Invoice)
                    .where(Invoice.customer_id == customer_id, Invoice.status.in_(UNPAID_INVOICE_STATUSES))
                    .order_by(Invoice.due_date, Invoice.issue_date, Invoice.id)
                )
            ).all()
        )


async def test_payment_is_verified_allocated_and_idempotent(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    invoices = await _unpaid(api, c.id)
    assert invoices, "the demo account has open invoices"
    target = invoices[-1]
    part = min(target.balance, Decimal(250_000) if target.currency == "IQD" else Decimal(100))
    payments = await api.count(Payment, Payment.customer_id == c.id)
    # Unverified reference: 422 and nothing recorded.
    body = {
        "amount": money(part, target.currency),
        "method": "zain_cash",
        "provider_reference": "SANDBOX-WRONG-1",
        "allocations": [{"invoice_id": target.id, "amount": money(part, target.currency)}],
    }
    r = await who.send(W1, "POST", "/payments", body)
    assert r.status_code == 422 and r.json()["error_code"] == "PAYMENT_NOT_VERIFIED", r.text
    # An invoice of another account: 404, nothing recorded.
    c2 = await customer_of(api, W2)
    foreign = (await _unpaid(api, c2.id)) or []
    if foreign:
        body2 = {
            **body,
            "provider_reference": _ref(c.code, part),
            "allocations": [{"invoice_id": foreign[0].id, "amount": money(part, target.currency)}],
        }
        r = await who.send(W1, "POST", "/payments", body2)
        assert r.status_code == 404 and r.json()["error_code"] == "INVOICE_NOT_FOUND", r.text
    # More than the invoice balance: 422 OVER_ALLOCATION.
    over = target.balance + 1000
    r = await who.send(
        W1,
        "POST",
        "/payments",
        {
            "amount": money(over, target.currency),
            "method": "card",
            "provider_reference": _ref(c.code, over),
            "allocations": [{"invoice_id": target.id, "amount": money(over, target.currency)}],
        },
    )
    assert r.status_code == 422 and r.json()["error_code"] == "OVER_ALLOCATION", r.text
    assert await api.count(Payment, Payment.customer_id == c.id) == payments
    before = (await who.get(W1, "/invoices")).json()
    assert (await who.get(W1, "/invoices")).json()["metadata"]["cached"] is True
    good = {**body, "provider_reference": _ref(c.code, part)}
    r = await who.send(W1, "POST", "/payments", good, key="who-pay-1")
    assert r.status_code == 201, r.text
    paid = r.json()["data"]
    assert paid["allocations"] == [
        {"invoice_id": target.id, "invoice_number": target.number, "amount": money(part, target.currency)}
    ]
    again = await who.send(W1, "POST", "/payments", good, key="who-pay-1")
    assert again.status_code == 201 and again.json()["data"]["id"] == paid["id"]
    r = await who.send(W1, "POST", "/payments", good)
    assert r.status_code == 409 and r.json()["error_code"] == "DUPLICATE"
    assert await api.count(Payment, Payment.customer_id == c.id) == payments + 1
    async with api.db() as s:
        inv = await s.get(Invoice, target.id)
        payment = await s.get(Payment, paid["id"])
    assert inv is not None and inv.balance == target.balance - part and inv.paid == target.paid + part
    assert (
        payment is not None
        and payment.channel == "wholesale"
        and payment.provider_reference == good["provider_reference"]
    )
    after = (await who.get(W1, "/invoices")).json()
    assert after["metadata"]["cached"] is False and before["data"] is not None


async def test_without_allocations_the_oldest_invoice_is_settled_first(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    invoices = [i for i in await _unpaid(api, c.id) if i.currency == c.currency]
    oldest = invoices[0]
    part = min(oldest.balance, Decimal(100_000) if c.currency == "IQD" else Decimal(50))
    r = await who.send(
        W1,
        "POST",
        "/payments",
        {"amount": money(part, c.currency), "method": "fastpay", "provider_reference": _ref(c.code, part)},
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["allocations"][0]["invoice_id"] == oldest.id
    assert amount(data["allocations"][0]["amount"]) == part and amount(data["unallocated"]) == 0
