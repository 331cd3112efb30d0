"""The salesperson screens show exactly what the database holds, within the caller's scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.salesperson.conftest import BM1, BM2, SP1, SP2, Api, amount
from tsh.domain.catalog.models import PriceListItem
from tsh.domain.customers.models import Customer
from tsh.domain.inventory.models import StockLevel
from tsh.domain.organisation.models import Warehouse
from tsh.domain.sales.models import Commission, Invoice, Order, Visit
from tsh.domain.shared import business_today, day_start_utc


async def _customer_ids(api: Api, email: str) -> set[int]:
    async with api.db() as s:
        uid = await api.user_id(email)
        return set((await s.execute(select(Customer.id).where(Customer.salesperson_id == uid))).scalars())


async def _pages(api: Api, email: str, path: str, **params: object) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        extra: dict[str, object] = {"cursor": cursor} if cursor else {}
        data = await api.data(email, path, limit=7, **params, **extra)
        items += data["items"]
        cursor = data["next_cursor"]
        if cursor is None:
            return items


async def test_dashboard_matches_the_database(api: Api) -> None:
    sp1 = await api.user_id(SP1)
    today = business_today()
    data = await api.data(SP1, "/dashboard", date_range="week")
    async with api.db() as s:
        since = day_start_utc(today - dt.timedelta(days=6))
        orders = await s.scalar(
            select(func.count()).where(
                Order.salesperson_id == sp1, Order.status != "cancelled", Order.placed_at >= since
            )
        )
        pending = await s.scalar(
            select(func.count()).where(
                Order.salesperson_id == sp1, Order.status.in_(("confirmed", "shipped"))
            )
        )
        outstanding = await s.scalar(
            select(func.coalesce(func.sum(Invoice.balance), 0))
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(
                Customer.salesperson_id == sp1,
                Invoice.status.in_(("open", "partial")),
                Invoice.currency == "IQD",
            )
        )
        visits = await s.scalar(select(func.count()).where(Visit.salesperson_id == sp1, Visit.date == today))
        commission = await s.scalar(
            select(func.coalesce(func.sum(Commission.amount), 0)).where(
                Commission.salesperson_id == sp1,
                Commission.status != "reversed",
                Commission.currency == "IQD",
                Commission.created_at >= day_start_utc(today.replace(day=1)),
            )
        )
    assert data["profile"]["id"] == sp1
    assert data["orders"]["count"] == orders
    assert data["pending_orders"]["count"] == pending
    assert amount(data["receivables"]["outstanding"][0]) == Decimal(str(outstanding)).quantize(
        Decimal("0.01")
    )
    assert data["visits_today"]["planned"] == visits
    assert amount(data["commission_month"][0]) == Decimal(str(commission)).quantize(Decimal("0.01"))
    assert len(data["top_customers"]) <= 5 and len(data["top_products"]) <= 5
    assert [c["currency"] for c in data["receivables"]["overdue"]] == ["IQD", "USD"]
    again = await api.get(SP1, "/dashboard", date_range="week")
    assert again.json()["metadata"]["cached"] is True


async def test_customer_list_is_the_owners_customers(api: Api) -> None:
    own, other = await _customer_ids(api, SP1), await _customer_ids(api, SP2)
    async with api.db() as s:
        by_name = list(
            (
                await s.execute(
                    select(Customer.id).where(Customer.id.in_(own)).order_by(Customer.name, Customer.id)
                )
            ).scalars()
        )
    rows = await _pages(api, SP1, "/customers")
    assert [r["id"] for r in rows] == by_name
    branch = {r["id"] for r in await _pages(api, BM1, "/customers")}
    assert own <= branch and not branch & other
    by_balance = await api.data(SP1, "/customers", sort="balance", limit=100)
    balances = [amount(r["balance"]) for r in by_balance["items"]]
    assert balances == sorted(balances, reverse=True)
    again = await api.get(SP1, "/customers", sort="balance", limit=100)
    assert again.json()["metadata"]["cached"] is True


async def test_customer_360_matches_the_database(api: Api) -> None:
    sp1 = await api.user_id(SP1)
    async with api.db() as s:
        cid = await s.scalar(
            select(Customer.id)
            .join(Invoice, Invoice.customer_id == Customer.id)
            .where(Customer.salesperson_id == sp1, Invoice.status.in_(("open", "partial")))
            .order_by(Customer.id)
            .limit(1)
        ) or min(await _customer_ids(api, SP1))
        open_ids = list(
            (
                await s.execute(
                    select(Invoice.id)
                    .where(Invoice.customer_id == cid, Invoice.status.in_(("open", "partial")))
                    .order_by(Invoice.due_date, Invoice.id)
                )
            ).scalars()
        )
        orders = await s.scalar(select(func.count()).where(Order.customer_id == cid))
    data = await api.data(SP1, f"/customers/{cid}")
    assert data["profile"]["id"] == cid
    assert [i["id"] for i in data["open_invoices"]] == open_ids
    assert len(data["last_orders"]) == min(orders or 0, 10)
    aging = sum(amount(v) for v in data["aging"].values())
    assert aging == amount(data["credit"]["used"])
    assert (await api.data(BM1, f"/customers/{cid}"))["profile"]["id"] == cid
    for email in (SP2, BM2):
        r = await api.get(email, f"/customers/{cid}")
        assert r.status_code == 404 and r.json()["error_code"] != "FORBIDDEN"


async def test_orders_newest_first_and_only_own(api: Api) -> None:
    sp1 = await api.user_id(SP1)
    async with api.db() as s:
        expected = list(
            (
                await s.execute(
                    select(Order.id)
                    .where(Order.salesperson_id == sp1)
                    .order_by(Order.placed_at.desc(), Order.id.desc())
                )
            ).scalars()
        )
        confirmed = await s.scalar(
            select(func.count()).where(Order.salesperson_id == sp1, Order.status == "confirmed")
        )
    rows = await _pages(api, SP1, "/orders")
    assert [r["id"] for r in rows] == expected
    assert len(await _pages(api, SP1, "/orders", status="confirmed")) == confirmed
    sp2_rows = {r["id"] for r in await _pages(api, SP2, "/orders")}
    assert not sp2_rows & set(expected)
    bad = await api.get(SP1, "/orders", cursor="forged")
    assert bad.status_code == 422


async def test_collections_worklist_matches_the_database(api: Api) -> None:
    sp1 = await api.user_id(SP1)
    today = business_today()
    async with api.db() as s:
        rows = (
            await s.execute(
                select(Invoice.id, Invoice.balance, Invoice.currency, Invoice.due_date)
                .join(Customer, Customer.id == Invoice.customer_id)
                .where(Customer.salesperson_id == sp1, Invoice.status.in_(("open", "partial")))
                .order_by(Invoice.due_date, Invoice.id)
            )
        ).all()
    items = await _pages(api, SP1, "/collections")
    assert [i["id"] for i in items] == [r.id for r in rows]
    data = await api.data(SP1, "/collections")
    iqd = sum((Decimal(str(r.balance)) for r in rows if r.currency == "IQD"), Decimal(0))
    assert amount(data["totals"]["outstanding"][0]) == iqd.quantize(Decimal("0.01"))
    overdue = await _pages(api, SP1, "/collections", overdue_only="true")
    assert [i["id"] for i in overdue] == [r.id for r in rows if r.due_date < today]
    assert not {i["id"] for i in await _pages(api, SP2, "/collections")} & {r.id for r in rows}


async def test_products_show_the_customer_price_and_stock(api: Api) -> None:
    cid = min(await _customer_ids(api, SP1))
    data = await api.data(SP1, "/products", customer_id=cid, limit=10)
    assert data["items"]
    async with api.db() as s:
        customer = await s.get(Customer, cid)
        assert customer is not None
        wid = await s.scalar(
            select(Warehouse.id).where(Warehouse.branch_id == customer.branch_id, Warehouse.type == "main")
        )
        for item in data["items"][:5]:
            price = await s.scalar(
                select(func.min(PriceListItem.unit_price)).where(
                    PriceListItem.price_list_id == customer.price_list_id,
                    PriceListItem.product_id == item["id"],
                    PriceListItem.min_qty == 1,
                )
            )
            level = await s.scalar(
                select(StockLevel.on_hand - StockLevel.reserved).where(
                    StockLevel.warehouse_id == wid, StockLevel.product_id == item["id"]
                )
            )
            assert amount(item["unit_price"]) == Decimal(str(price)).quantize(Decimal("0.01"))
            assert item["available"] == max(level or 0, 0)
    other = min(await _customer_ids(api, SP2))
    assert (await api.get(SP1, "/products", customer_id=other)).status_code == 404
    assert (await api.get(SP1, "/products", customer_id=cid, limit=10)).json()["metadata"]["cached"] is True


async def test_route_of_today_matches_the_database(api: Api) -> None:
    sp1 = await api.user_id(SP1)
    async with api.db() as s:
        expected = list(
            (
                await s.execute(
                    select(Visit.id)
                    .where(Visit.salesperson_id == sp1, Visit.date == business_today())
                    .order_by(Visit.sequence, Visit.id)
                )
            ).scalars()
        )
    data = await api.data(SP1, "/route")
    assert [s["visit_id"] for s in data["stops"]] == expected
    legs = [s["distance_from_previous_m"] or 0 for s in data["stops"]]
    assert abs(sum(legs) - data["total_distance_m"]) <= len(legs)
    assert len(data["due_customers"]) <= 20
    assert not {c["customer"]["id"] for c in data["due_customers"]} - await _customer_ids(api, SP1)
