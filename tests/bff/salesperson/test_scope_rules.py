"""Rules that moved from the salesperson handlers into `tsh.domain.sales.field*`, through HTTP:
each answers its own code and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from tests.bff.salesperson.conftest import BM1, SHOP, SP1, SP2, Api, amount, order_body, take_order
from tsh.domain.customers.models import Customer
from tsh.domain.sales.models import Order, Payment, Visit

NO_SUCH_ID = 2_000_000_000


async def _counts(api: Api, customer_id: int) -> tuple[int, int]:
    async with api.db() as s:
        orders = await s.scalar(
            select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
        )
        payments = await s.scalar(
            select(func.count()).select_from(Payment).where(Payment.customer_id == customer_id)
        )
    return int(orders or 0), int(payments or 0)


async def _refused(api: Api, path: str, body: dict[str, Any], status: int, code: str, cid: int) -> Any:
    before = await _counts(api, cid)
    r = await api.send(SP1, "POST", path, body)
    assert r.status_code == status, r.text
    assert r.json()["error_code"] == code, r.text
    assert await _counts(api, cid) == before
    return r.json()


async def _visit(api: Api, customer_id: int) -> int:
    """A completed visit of SP1 at `customer_id` (checked out, so SP1 has no open visit after)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    r = await api.send(SP1, "POST", "/visits", {"customer_id": customer_id, "geo": SHOP, "device_time": now})
    assert r.status_code == 201, r.text
    vid = int(r.json()["data"]["id"])
    out = {"geo": SHOP, "device_time": now, "outcome": "no_order"}
    assert (await api.send(SP1, "POST", f"/visits/{vid}/check-out", out)).status_code == 200
    return vid


async def test_order_scope_visit_and_price_list_rules(api: Api) -> None:
    cid = (await api.new_customer())["profile"]["id"]
    pid = (await api.stocked_product(cid))["id"]
    body = await order_body(api, cid, [{"product_id": pid, "qty": 1}])

    other = (await api.new_customer(SP2))["profile"]["id"]
    await _refused(api, "/orders", body | {"customer_id": other}, 404, "CUSTOMER_NOT_FOUND", other)

    # A visit is only linked when it is the caller's, at this customer.
    elsewhere = (await api.new_customer())["profile"]["id"]
    visit_id = await _visit(api, elsewhere)
    await _refused(api, "/orders", body | {"visit_id": visit_id}, 404, "VISIT_NOT_FOUND", cid)
    await _refused(api, "/orders", body | {"visit_id": NO_SUCH_ID}, 404, "VISIT_NOT_FOUND", cid)
    own_visit = await _visit(api, cid)
    async with api.db() as s:
        assert await s.scalar(select(Visit.customer_id).where(Visit.id == own_visit)) == cid

    async with api.db() as s:
        price_list_id = await s.scalar(select(Customer.price_list_id).where(Customer.id == cid))
    assert price_list_id is not None
    await api.set_customer(cid, price_list_id=None)
    try:
        await _refused(api, "/orders", body, 409, "NO_PRICE_LIST", cid)
    finally:
        await api.set_customer(cid, price_list_id=price_list_id)

    r = await api.send(SP1, "POST", "/orders", body | {"visit_id": own_visit})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["visit_id"] == own_visit


async def test_payment_scope_invoice_and_currency_rules(api: Api) -> None:
    cid = (await api.new_customer())["profile"]["id"]
    product = await api.stocked_product(cid)
    invoice = (await take_order(api, cid, [{"product_id": product["id"], "qty": 1}]))["invoice"]
    total = str(amount(invoice["total"]))
    base = {"customer_id": cid, "method": "cash", "amount": {"amount": total, "currency": "IQD"}}

    other = (await api.new_customer(SP2))["profile"]["id"]
    await _refused(api, "/collections", base | {"customer_id": other}, 404, "CUSTOMER_NOT_FOUND", other)
    missing = [{"invoice_id": NO_SUCH_ID, "amount": {"amount": total, "currency": "IQD"}}]
    await _refused(api, "/collections", base | {"allocations": missing}, 404, "INVOICE_NOT_FOUND", cid)
    usd = [{"invoice_id": invoice["id"], "amount": {"amount": "1", "currency": "USD"}}]
    err = await _refused(api, "/collections", base | {"allocations": usd}, 422, "VALIDATION_ERROR", cid)
    assert [d["field"] for d in err["details"]] == ["allocations[0].amount.currency"]
    await _refused(api, "/collections", base | {"visit_id": NO_SUCH_ID}, 404, "VISIT_NOT_FOUND", cid)

    r = await api.send(SP1, "POST", "/collections", base)
    assert r.status_code == 201, r.text
    assert await _counts(api, cid) == (1, 1)


async def test_screens_resolve_whose_rows_from_the_actor(api: Api) -> None:
    other = (await api.new_customer(SP2))["profile"]["id"]
    r = await api.get(SP1, "/collections", customer_id=other)
    assert r.status_code == 404 and r.json()["error_code"] == "CUSTOMER_NOT_FOUND"
    sp2 = await api.user_id(SP2)
    for path in ("/orders", "/customers", "/collections", "/dashboard", "/route"):
        r = await api.get(SP1, path, salesperson_id=sp2)
        assert r.status_code == 404 and r.json()["error_code"] == "SALESPERSON_NOT_FOUND", (path, r.text)
    # A manager must name the salesperson whose route it reads.
    r = await api.get(BM1, "/route")
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["details"]] == ["salesperson_id"]
