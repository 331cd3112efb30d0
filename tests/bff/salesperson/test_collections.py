"""SAL-12/13: collecting payments, allocating them, and never over-allocating."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tests.bff.salesperson.conftest import SP1, SP2, Api, amount, take_order
from tsh.domain.accounting import posting
from tsh.domain.money import round_money
from tsh.domain.sales import collections
from tsh.domain.sales.models import Invoice, Order, Payment, PaymentAllocation
from tsh.platform.db.base import utcnow
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError


async def _customer_with_invoices(api: Api, count: int = 2) -> tuple[int, list[dict[str, Any]]]:
    cid = (await api.new_customer())["profile"]["id"]
    product = await api.stocked_product(cid, qty=count)
    orders = [await take_order(api, cid, [{"product_id": product["id"], "qty": 1}]) for _ in range(count)]
    return cid, orders


async def _payments(api: Api, cid: int) -> tuple[int, Decimal]:
    async with api.db() as s:
        n = await s.scalar(select(func.count()).select_from(Payment).where(Payment.customer_id == cid))
        paid = await s.scalar(
            select(func.coalesce(func.sum(Invoice.paid), 0)).where(Invoice.customer_id == cid)
        )
    return int(n or 0), Decimal(str(paid))


async def test_payment_allocates_and_keeps_the_rest_as_credit(api: Api) -> None:
    cid, orders = await _customer_with_invoices(api)
    first, second = (o["invoice"] for o in orders)
    worklist = await api.data(SP1, "/collections", customer_id=cid)
    assert [i["id"] for i in worklist["items"]] == [first["id"], second["id"]]
    await api.get(SP1, "/collections", customer_id=cid)
    await api.get(SP1, f"/customers/{cid}")
    part = amount(first["total"]) // 2
    body = {
        "customer_id": cid,
        "amount": {"amount": str(part + 1000), "currency": "IQD"},
        "method": "cash",
        "allocations": [{"invoice_id": first["id"], "amount": {"amount": str(part), "currency": "IQD"}}],
    }
    key = uuid.uuid4().hex
    r = await api.send(SP1, "POST", "/collections", body, key=key)
    assert r.status_code == 201, r.text
    payment = r.json()["data"]
    assert amount(payment["unallocated"]) == 1000 and payment["receipt_number"] == payment["number"]
    assert amount(payment["allocations"][0]["invoice_balance"]) == amount(first["total"]) - part
    replay = await api.send(SP1, "POST", "/collections", body, key=key)
    assert replay.status_code == 201 and replay.json()["data"] == payment
    assert (await _payments(api, cid)) == (1, part)
    reused = await api.send(
        SP1, "POST", "/collections", body | {"method": "cheque", "reference": "1"}, key=key
    )
    assert reused.status_code == 422
    assert (await api.send(SP1, "POST", "/collections", body, key=None)).status_code == 400
    listed = await api.get(SP1, "/collections", customer_id=cid)
    assert listed.json()["metadata"]["cached"] is False
    assert amount(listed.json()["data"]["items"][0]["balance"]) == amount(first["total"]) - part
    detail = await api.get(SP1, f"/customers/{cid}")
    assert detail.json()["metadata"]["cached"] is False and detail.json()["data"]["last_payments"]
    # Without allocations: the oldest invoice first, then the next.
    total_left = amount(first["total"]) - part + amount(second["total"])
    r = await api.send(
        SP1,
        "POST",
        "/collections",
        {
            "customer_id": cid,
            "amount": {"amount": str(total_left), "currency": "IQD"},
            "method": "zain_cash",
            "reference": "ZC-1",
        },
    )
    assert r.status_code == 201, r.text
    assert [a["invoice_id"] for a in r.json()["data"]["allocations"]] == [first["id"], second["id"]]
    async with api.db() as s:
        statuses = (await s.execute(select(Invoice.status).where(Invoice.customer_id == cid))).scalars().all()
        assert set(statuses) == {"paid"}
        assert set(
            (await s.execute(select(Order.payment_status).where(Order.customer_id == cid))).scalars()
        ) == {"paid"}
    await api.ledger_balanced()


async def test_allocation_rules_change_nothing(api: Api) -> None:
    cid, orders = await _customer_with_invoices(api, 1)
    invoice = orders[0]["invoice"]
    total = amount(invoice["total"])
    base = {"customer_id": cid, "method": "cash"}
    cases = [
        (
            base
            | {
                "amount": {"amount": str(total + 10), "currency": "IQD"},
                "allocations": [
                    {"invoice_id": invoice["id"], "amount": {"amount": str(total + 10), "currency": "IQD"}}
                ],
            },
            422,
            "OVER_ALLOCATION",
        ),
        (
            base
            | {
                "amount": {"amount": "10", "currency": "IQD"},
                "allocations": [{"invoice_id": invoice["id"], "amount": {"amount": "20", "currency": "IQD"}}],
            },
            422,
            "OVER_ALLOCATION",
        ),
        (base | {"amount": {"amount": "0", "currency": "IQD"}}, 422, None),
        (base | {"amount": {"amount": "-5", "currency": "IQD"}}, 422, None),
        (base | {"amount": {"amount": "5", "currency": "EUR"}}, 422, None),
        (base | {"amount": {"amount": "9" * 20, "currency": "IQD"}}, 422, None),
        (base | {"amount": {"amount": "5", "currency": "IQD"}, "method": "cheque"}, 422, None),
        (base | {"amount": {"amount": "5", "currency": "IQD"}, "reference": "r" * 101}, 422, None),
        (base | {"amount": {"amount": "5", "currency": "IQD"}, "tip": 1}, 422, None),
        (
            base
            | {
                "amount": {"amount": "5", "currency": "IQD"},
                "allocations": [{"invoice_id": invoice["id"], "amount": {"amount": "5", "currency": "USD"}}],
            },
            422,
            None,
        ),
    ]
    for body, status, code in cases:
        r = await api.send(SP1, "POST", "/collections", body)
        assert r.status_code == status, (body, r.text)
        assert code is None or r.json()["error_code"] == code
    assert await _payments(api, cid) == (0, Decimal(0))
    other_cid, other = await _customer_with_invoices(api, 1)
    r = await api.send(
        SP1,
        "POST",
        "/collections",
        base
        | {
            "amount": {"amount": "5", "currency": "IQD"},
            "allocations": [
                {"invoice_id": other[0]["invoice"]["id"], "amount": {"amount": "5", "currency": "IQD"}}
            ],
        },
    )
    assert r.status_code == 404
    sp2_customer = (await api.new_customer(SP2))["profile"]["id"]
    r = await api.send(
        SP1,
        "POST",
        "/collections",
        base | {"customer_id": sp2_customer, "amount": {"amount": "5", "currency": "IQD"}},
    )
    assert r.status_code == 404
    assert other_cid != cid


async def test_usd_payment_on_iqd_invoice_uses_the_rate_in_force(api: Api) -> None:
    cid, _ = await _customer_with_invoices(api, 1)
    r = await api.send(
        SP1,
        "POST",
        "/collections",
        {"customer_id": cid, "amount": {"amount": "1.00", "currency": "USD"}, "method": "cash"},
    )
    assert r.status_code == 201, r.text
    async with api.db() as s:
        rate = await posting.rate_in_force(s, utcnow())
    data = r.json()["data"]
    assert Decimal(data["exchange_rate"]) == rate
    assert amount(data["allocations"][0]["amount"]) == round_money(rate, "IQD")
    await api.ledger_balanced()


async def test_concurrent_payments_never_over_allocate(api: Api) -> None:
    cid, orders = await _customer_with_invoices(api, 1)
    invoice_id, total = orders[0]["invoice"]["id"], amount(orders[0]["invoice"]["total"])
    share = (total * 6 / 10).quantize(Decimal(1))
    by = await api.user_id(SP1)

    async def pay() -> str:
        try:
            async with unit_of_work(api.ctx.db, api.ctx.bus) as s:
                await collections.record_payment(
                    s,
                    customer_id=cid,
                    amount=share,
                    currency="IQD",
                    method="cash",
                    reference=None,
                    channel="salesperson",
                    collected_by_id=by,
                    allocations=[(invoice_id, share)],
                )
            return "ok"
        except AppError as exc:
            return exc.code

    results = sorted(await asyncio.gather(pay(), pay()))
    assert results == ["OVER_ALLOCATION", "ok"]
    async with api.db() as s:
        inv = await s.get(Invoice, invoice_id)
        allocated = await s.scalar(
            select(func.sum(PaymentAllocation.amount)).where(PaymentAllocation.invoice_id == invoice_id)
        )
    assert inv is not None and inv.paid == share == Decimal(str(allocated)) and inv.balance == total - share
    await api.ledger_balanced()
