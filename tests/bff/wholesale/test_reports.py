"""WHO-01 account home and WHO-18 purchase report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.wholesale.conftest import W1, W2, add_line, amount, clear_cart, customer_of, pick_product
from tests.http import Api
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Order, OrderLine
from tsh.domain.shared import business_today, day_start_utc


async def test_dashboard_matches_the_database_and_refreshes_after_an_order(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    first = (await who.get(W1, "/dashboard")).json()
    data = first["data"]
    async with api.db() as s:
        open_orders = await s.scalar(
            select(func.count()).where(
                Order.customer_id == c.id, Order.status.in_(("pending", "confirmed", "shipped"))
            )
        )
        unpaid = await s.scalar(
            select(func.count()).where(
                Invoice.customer_id == c.id,
                Invoice.status.in_(UNPAID_INVOICE_STATUSES),
                Invoice.currency == c.currency,
            )
        )
        month = await s.scalar(
            select(func.coalesce(func.sum(Order.total), 0)).where(
                Order.customer_id == c.id,
                Order.status != "cancelled",
                Order.placed_at >= day_start_utc(business_today().replace(day=1)),
            )
        )
    assert data["open_orders"] == open_orders and data["unpaid_invoices"] == unpaid
    assert amount(data["spend"]["this_month"]) == Decimal(month).quantize(Decimal("0.01"))
    assert 0 < len(data["quick_reorder"]) <= 10
    counts = [q["times_ordered"] for q in data["quick_reorder"]]
    assert counts == sorted(counts, reverse=True)
    assert (await who.get(W1, "/dashboard")).json()["metadata"]["cached"] is True
    await clear_cart(api, c.id)
    p = await pick_product(api, c, carton_only=False, skip=7)
    cart = await add_line(who, W1, p["id"], 1, "carton")
    # Prepaid, not credit: how much of W1's limit earlier tests (and the seed's day) left free is
    # not this test's business, and either terms count as an open order and as spend.
    r = await who.send(
        W1,
        "POST",
        "/orders",
        {"pickup_branch_id": c.branch_id, "payment_terms": "prepaid", "expected_total": cart["total"]},
    )
    assert r.status_code == 201, r.text
    after = (await who.get(W1, "/dashboard")).json()
    assert after["metadata"]["cached"] is False
    assert after["data"]["open_orders"] == open_orders + 1
    assert amount(after["data"]["spend"]["this_month"]) == amount(data["spend"]["this_month"]) + amount(
        cart["total"]
    )
    # The other account's home is its own.
    other = await who.data(W2, "/dashboard")
    assert other["credit"]["currency"] == (await customer_of(api, W2)).currency


async def test_purchase_report_sums_lines_and_limits_the_range(who: Api, api: Api) -> None:
    c = await customer_of(api, W1)
    today = business_today()
    start = today - dt.timedelta(days=180)
    async with api.db() as s:
        spend, qty = (
            await s.execute(
                select(
                    func.coalesce(func.sum(OrderLine.line_total), 0),
                    func.coalesce(func.sum(OrderLine.qty), 0),
                )
                .join(Order, Order.id == OrderLine.order_id)
                .where(
                    Order.customer_id == c.id,
                    Order.status != "cancelled",
                    Order.currency == c.currency,
                    Order.placed_at >= day_start_utc(start),
                    Order.placed_at < day_start_utc(today + dt.timedelta(days=1)),
                )
            )
        ).one()
    params = {"from": str(start), "to": str(today)}
    report = await who.data(W1, "/reports/purchases", **params)
    assert amount(report["total_spend"]) == Decimal(spend).quantize(Decimal("0.01"))
    assert sum(g["qty"] for g in report["groups"]) == qty == sum(m["qty"] for m in report["quantity_trend"])
    assert sum(amount(g["spend"]) for g in report["groups"]) == amount(report["total_spend"])
    assert len(report["top_products"]) <= 20
    by_cat = await who.data(W1, "/reports/purchases", **params, group_by="category")
    assert sum(amount(g["spend"]) for g in by_cat["groups"]) == amount(report["total_spend"])
    savings = report["savings"]
    assert amount(savings["amount"]) == amount(savings["consumer_value"]) - amount(savings["paid"])
    r = await who.get(
        W1, "/reports/purchases", **{"from": str(today - dt.timedelta(days=400)), "to": str(today)}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "RANGE_TOO_LONG"
    assert (await who.get(W1, "/reports/purchases", **{"to": str(today)})).status_code == 422
