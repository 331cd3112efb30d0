"""WHO-12 credit position, WHO-13 credit requests, WHO-09/10 orders, WHO-14/15 invoices."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.wholesale.conftest import ADMIN, W1, W2, amount, customer_of, money, set_customer
from tests.http import Api
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Order
from tsh.domain.shared import business_today
from tsh.domain.wholesale.models import CreditRequest


async def _unpaid(api: Api, customer_id: int) -> tuple[Decimal, int]:
    async with api.db() as s:
        total, overdue = (
            await s.execute(
                select(
                    func.coalesce(func.sum(Invoice.balance), 0),
                    func.count().filter(Invoice.due_date < business_today()),
                ).where(Invoice.customer_id == customer_id, Invoice.status.in_(UNPAID_INVOICE_STATUSES))
            )
        ).one()
    return Decimal(total).quantize(Decimal("0.01")), int(overdue)


async def test_credit_position_matches_the_database_and_is_cached(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    r = await who.get(W1, "/credit")
    assert r.status_code == 200, r.text
    body = r.json()
    data = body["data"]
    used, overdue_count = await _unpaid(api, c.id)
    assert data["currency"] == c.currency
    assert amount(data["credit_limit"]) == c.credit_limit
    assert amount(data["credit_used"]) == used
    assert amount(data["available"]) == max(c.credit_limit - used, Decimal(0))
    assert sum(amount(b["amount"]) for b in data["aging"]) == used
    assert len(data["overdue_invoices"]) == overdue_count
    assert data["payment_terms_days"] == c.payment_terms_days
    assert (await who.get(W1, "/credit")).json()["metadata"]["cached"] is True
    # Another account sees its own figures, never these.
    other = await who.data(W2, "/credit")
    c2 = await customer_of(api, W2)
    assert amount(other["credit_limit"]) == c2.credit_limit
    assert {r["status"] for r in other["credit_requests"]} >= {"pending"}


async def test_manual_hold_is_shown_and_blocks_credit_requests(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    await set_customer(api, c.id, on_hold=True, hold_reason="Cheque returned")
    try:
        before = await api.count(CreditRequest, CreditRequest.customer_id == c.id)
        r = await who.send(
            W1,
            "POST",
            "/credit-requests",
            {"requested_limit": money(c.credit_limit + 1_000_000), "reason": "More stock for Ramadan"},
        )
        assert r.status_code == 409 and r.json()["error_code"] == "ACCOUNT_ON_HOLD", r.text
        assert await api.count(CreditRequest, CreditRequest.customer_id == c.id) == before
    finally:
        await set_customer(api, c.id, on_hold=False, hold_reason=None)


async def test_credit_request_rules_and_invalidation(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    assert (await who.get(W1, "/credit")).status_code == 200
    before = await api.count(CreditRequest, CreditRequest.customer_id == c.id)
    # Not higher than the current limit, or in another currency: 422, nothing written.
    for body in (
        {"requested_limit": money(c.credit_limit), "reason": "Same limit"},
        {
            "requested_limit": money(c.credit_limit * 2, "USD" if c.currency == "IQD" else "IQD"),
            "reason": "Wrong currency",
        },
    ):
        r = await who.send(W1, "POST", "/credit-requests", body)
        assert r.status_code == 422 and r.json()["error_code"] == "NOT_HIGHER", r.text
    assert await api.count(CreditRequest, CreditRequest.customer_id == c.id) == before
    wanted = c.credit_limit + 10_000_000
    r = await who.send(
        W1, "POST", "/credit-requests", {"requested_limit": money(wanted), "reason": "Opening a second shop"}
    )
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    try:
        assert created["status"] == "pending" and amount(created["requested_limit"]) == wanted
        async with api.db() as s:
            row = await s.get(CreditRequest, created["id"])
            assert row is not None and row.customer_id == c.id and row.current_limit == c.credit_limit
        # CreditChanged dropped the cached credit screen; the request is listed.
        after = (await who.get(W1, "/credit")).json()
        assert after["metadata"]["cached"] is False
        assert after["data"]["credit_requests"][0]["id"] == created["id"]
        # One open request at a time.
        r = await who.send(
            W1, "POST", "/credit-requests", {"requested_limit": money(wanted + 1_000_000), "reason": "Again"}
        )
        assert r.status_code == 409 and r.json()["error_code"] == "REQUEST_PENDING"
        assert await api.count(CreditRequest, CreditRequest.customer_id == c.id) == before + 1
    finally:
        async with api.db() as s:
            row = await s.get(CreditRequest, created["id"])
            assert row is not None
            row.status = "rejected"
            await s.commit()


async def test_admin_without_an_account_is_404(who: Api) -> None:
    r = await who.get(ADMIN, "/credit")
    assert r.status_code == 404 and r.json()["error_code"] == "ACCOUNT_MISSING"


async def test_orders_list_detail_and_scope(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    async with api.db() as s:
        count = int(await s.scalar(select(func.count()).where(Order.customer_id == c.id)) or 0)
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 50} | ({"cursor": cursor} if cursor else {})
        page = await who.data(W1, "/orders", **params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == count == len({o["id"] for o in seen}) and count > 0
    assert [o["placed_at"] for o in seen] == sorted((o["placed_at"] for o in seen), reverse=True)
    first = seen[0]
    found = await who.data(W1, "/orders", q=first["number"][-6:])
    assert first["id"] in [o["id"] for o in found["items"]]
    detail = await who.data(W1, f"/orders/{first['id']}")
    async with api.db() as s:
        order = await s.get(Order, first["id"])
        assert order is not None
    assert detail["number"] == order.number and amount(detail["total"]) == order.total
    assert sum(amount(ln["line_total"]) for ln in detail["lines"]) == order.subtotal
    assert detail["timeline"][0]["status"] == "placed"
    # Basra's account cannot open a Baghdad order: 404, no oracle.
    r = await who.get(W2, f"/orders/{first['id']}")
    assert r.status_code == 404 and r.json()["error_code"] == "ORDER_NOT_FOUND"
    r = await who.get(W1, "/orders", status="lost")
    assert r.status_code == 422


async def test_invoices_derive_overdue_and_stay_own(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    today = business_today()
    async with api.db() as s:
        invoices = list((await s.scalars(select(Invoice).where(Invoice.customer_id == c.id))).all())
    assert invoices
    page = await who.data(W1, "/invoices", limit=100)
    assert len(page["items"]) == min(len(invoices), 100)
    by_id = {i.id: i for i in invoices}
    for row in page["items"]:
        inv = by_id[row["id"]]
        overdue = inv.status in UNPAID_INVOICE_STATUSES and inv.due_date < today
        assert row["status"] == ("overdue" if overdue else inv.status)
        assert amount(row["balance"]) == inv.balance
    overdue = await who.data(W1, "/invoices", status="overdue", limit=100)
    expected = {i.id for i in invoices if i.status in UNPAID_INVOICE_STATUSES and i.due_date < today}
    assert {r["id"] for r in overdue["items"]} <= expected
    assert len(overdue["items"]) == min(len(expected), 100)
    ranged = await who.data(
        W1, "/invoices", **{"from": str(today - timedelta(days=30)), "to": str(today)}, limit=100
    )
    assert all(str(today - timedelta(days=30)) <= r["issue_date"] <= str(today) for r in ranged["items"])
    inv = invoices[0]
    detail = await who.data(W1, f"/invoices/{inv.id}")
    assert amount(detail["total"]) == inv.total and amount(detail["paid"]) == inv.paid
    assert sum((amount(p["amount"]) for p in detail["payments"]), Decimal(0)) == inv.paid
    assert (await who.get(W1, f"/invoices/{inv.id}")).json()["metadata"]["cached"] is True
    r = await who.get(W2, f"/invoices/{inv.id}")
    assert r.status_code == 404 and r.json()["error_code"] == "INVOICE_NOT_FOUND"
