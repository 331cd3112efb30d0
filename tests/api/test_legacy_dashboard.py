"""The eight legacy calls of core.md §2.1, compared with what the database holds."""

from __future__ import annotations

from decimal import Decimal

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from tests.api.helpers import CONSUMER, SP1, SP2, branch_manager, count, scalar, user
from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.context import AppContext
from tsh.domain.customers.models import Customer
from tsh.domain.sales.models import Order, Payment, Target, Visit


async def test_user_get_own_with_role_branch_and_employee(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    me = await user(ctx, SP1)
    r = await client.get(f"/api/users/{me.id}", headers=await auth.headers(SP1))
    assert r.status_code == 200, r.text
    body = r.json()
    assert "success" not in body  # bare record, no envelope
    assert body["id"] == me.id and body["email"] == SP1
    assert "password_hash" not in body
    assert body["role"]["code"] == "salesperson" and isinstance(body["role"]["permissions"], list)
    assert body["role"]["permissions"] and "code" in body["role"]["permissions"][0]
    assert body["branch"]["id"] == me.branch_id
    assert "employee" in body
    if body["employee"] is not None:
        assert body["employee"]["department"]["id"] == body["employee"]["department_id"]


async def test_user_get_scope(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    sp1, sp2 = await user(ctx, SP1), await user(ctx, SP2)
    r = await client.get(f"/api/users/{sp2.id}", headers=await auth.headers(SP1))
    assert_error(r, 404, "NOT_FOUND")
    same = await branch_manager(ctx, sp1.branch_id, same=True)
    assert (await client.get(f"/api/users/{sp1.id}", headers=await auth.headers(same))).status_code == 200
    r = await client.get("/api/users/abc", headers=await auth.headers(SP1))
    assert_error(r, 404, "NOT_FOUND")  # a path id that is no id names no row


async def test_orders_of_salesperson_match_database(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    sp1 = await user(ctx, SP1)
    total = await count(ctx, Order, Order.salesperson_id == sp1.id)
    assert total > 0
    r = await client.get(f"/api/orders?salesperson_id={sp1.id}&limit=500", headers=await auth.headers(SP1))
    assert r.status_code == 200, r.text
    orders = r.json()
    assert isinstance(orders, list)
    assert int(r.headers["x-total-count"]) == total
    assert len(orders) == min(total, 500)
    assert all(o["salesperson_id"] == sp1.id for o in orders)
    placed = [o["placed_at"] for o in orders]
    assert placed == sorted(placed, reverse=True)  # newest first
    if total <= 500:
        db_sum = await scalar(ctx, select(func.sum(Order.total)).where(Order.salesperson_id == sp1.id))
        assert sum(Decimal(o["total"]) for o in orders) == Decimal(db_sum)
    first = orders[0]
    assert first["customer"]["id"] == first["customer_id"]
    assert isinstance(first["customer"]["addresses"], list)
    assert first["lines"] and first["lines"][0]["product"]["category"]["id"]
    assert "invoice" in first and isinstance(first["payments"], list)
    with_payment = [o for o in orders if o["payments"]]
    if with_payment:
        assert "allocations" in with_payment[0]["payments"][0]


async def test_orders_default_page_and_bounds(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    sp1 = await user(ctx, SP1)
    headers = await auth.headers(SP1)
    r = await client.get(f"/api/orders?salesperson_id={sp1.id}", headers=headers)
    assert len(r.json()) == min(int(r.headers["x-total-count"]), 100)
    r2 = await client.get(f"/api/orders?salesperson_id={sp1.id}&skip=1&limit=1", headers=headers)
    assert [o["id"] for o in r2.json()] == [o["id"] for o in r.json()[1:2]]
    for bad in ("limit=0", "limit=501", "skip=-1", "limit=x", "bogus=1"):
        assert_error(
            await client.get(f"/api/orders?salesperson_id={sp1.id}&{bad}", headers=headers),
            422,
            "VALIDATION_ERROR",
        )


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders?salesperson_id={id}",
        "/api/orders/stats?user_id={id}",
        "/api/customers?salesperson_id={id}",
        "/api/payments?salesperson_id={id}",
        "/api/visits?user_id={id}",
        "/api/targets?salesperson_id={id}",
    ],
)
async def test_scope_of_salesperson_calls(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext, path: str
) -> None:
    sp1, sp2 = await user(ctx, SP1), await user(ctx, SP2)
    assert (await client.get(path.format(id=sp1.id), headers=await auth.headers(SP1))).status_code == 200
    assert_error(await client.get(path.format(id=sp2.id), headers=await auth.headers(SP1)), 404, "NOT_FOUND")
    assert_error(
        await client.get(path.format(id=sp1.id), headers=await auth.headers(CONSUMER)), 403, "FORBIDDEN"
    )
    same = await branch_manager(ctx, sp1.branch_id, same=True)
    assert (await client.get(path.format(id=sp1.id), headers=await auth.headers(same))).status_code == 200
    other = await branch_manager(ctx, sp1.branch_id, same=False)
    assert_error(
        await client.get(path.format(id=sp1.id), headers=await auth.headers(other)), 404, "NOT_FOUND"
    )


async def test_order_stats_match_database(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    sp1 = await user(ctx, SP1)
    r = await client.get(f"/api/orders/stats?user_id={sp1.id}", headers=await auth.headers(SP1))
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["total_count"] == await count(ctx, Order, Order.salesperson_id == sp1.id)
    for status, n in stats["count_by_status"].items():
        assert n == await count(ctx, Order, Order.salesperson_id == sp1.id, Order.status == status)
    for currency, value in stats["total_value"].items():
        db = await scalar(
            ctx,
            select(func.sum(Order.total)).where(
                Order.salesperson_id == sp1.id, Order.currency == currency, Order.status != "cancelled"
            ),
        )
        assert Decimal(value) == Decimal(db or 0)
    assert len(stats["monthly"]) == 12
    assert_error(
        await client.get("/api/orders/stats", headers=await auth.headers(SP1)), 422, "VALIDATION_ERROR"
    )


async def test_customers_payments_visits_targets_match_database(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    sp1 = await user(ctx, SP1)
    h = await auth.headers(SP1)
    cases = [
        (f"/api/customers?salesperson_id={sp1.id}&limit=500", Customer, Customer.salesperson_id == sp1.id),
        (f"/api/payments?salesperson_id={sp1.id}&limit=500", Payment, Payment.collected_by_id == sp1.id),
        (f"/api/visits?user_id={sp1.id}&limit=500", Visit, Visit.salesperson_id == sp1.id),
        (f"/api/targets?salesperson_id={sp1.id}&limit=500", Target, Target.salesperson_id == sp1.id),
    ]
    for path, model, where in cases:
        r = await client.get(path, headers=h)
        assert r.status_code == 200, r.text
        assert int(r.headers["x-total-count"]) == await count(ctx, model, where), path
        assert len(r.json()) == min(int(r.headers["x-total-count"]), 500)
    customers = (await client.get(cases[0][0], headers=h)).json()
    assert customers and {"balance", "overdue_amount", "credit_limit", "on_hold"} <= set(customers[0])
    assert customers[0]["salesperson"]["id"] == sp1.id and "password_hash" not in customers[0]["salesperson"]
    assert isinstance(customers[0]["addresses"], list) and "price_list" in customers[0]
    payments = (await client.get(cases[1][0], headers=h)).json()
    if payments:
        assert payments[0]["customer"]["id"] == payments[0]["customer_id"]
        for a in payments[0]["allocations"]:
            assert a["invoice"]["id"] == a["invoice_id"]
    visits = (await client.get(cases[2][0], headers=h)).json()
    assert [v["date"] for v in visits] == sorted((v["date"] for v in visits), reverse=True)
    assert all(v["customer"]["id"] == v["customer_id"] for v in visits)
    targets = (await client.get(cases[3][0], headers=h)).json()
    for t in targets:
        assert {
            "achieved_revenue_iqd",
            "achieved_revenue_usd",
            "achieved_orders",
            "achieved_new_customers",
            "progress_pct",
        } <= set(t)


async def test_top_selling(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get("/api/products/top-selling?limit=5&days=3650", headers=await auth.headers(SP1))
    assert r.status_code == 200, r.text
    top = r.json()
    assert len(top) <= 5
    units = [p["units_sold"] for p in top]
    assert units == sorted(units, reverse=True)
    for p in top:
        assert p["category"]["id"] == p["category_id"]
        assert (
            isinstance(p["prices"], list) and isinstance(p["stock"], list) and isinstance(p["revenue"], dict)
        )
    assert_error(
        await client.get("/api/products/top-selling", headers=await auth.headers(CONSUMER)), 403, "FORBIDDEN"
    )
    assert_error(
        await client.get("/api/products/top-selling?limit=101", headers=await auth.headers(SP1)),
        422,
        "VALIDATION_ERROR",
    )
