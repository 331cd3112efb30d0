"""The two computed calls of core.md §2.1: `/api/orders/stats` and `/api/products/top-selling`.

Both aggregate in SQL (GROUP BY), never by loading rows. Stats: counts include every status;
values and the average exclude cancelled orders (money that was never owed); months are the 12
Baghdad calendar months ending with the current one. Top-selling: order lines of confirmed,
shipped or delivered orders placed in the window plus POS lines of completed sales, ranked by
pieces sold (before returns); `revenue` is Σ line totals (net, before tax) per currency.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tsh.api.legacy.access import Access
from tsh.api.legacy.computed import BAGHDAD, SOLD_STATUSES, month_bucket
from tsh.api.legacy.http import Paging, bare, parse_query, principal_of
from tsh.api.legacy.nesting import Expansion, many, one
from tsh.api.legacy.resource import Resource
from tsh.api.legacy.serialize import Record, to_dict
from tsh.domain.catalog.models import Category, PriceListItem, Product
from tsh.domain.inventory.models import StockLevel
from tsh.domain.pos.models import PosLine, PosTransaction
from tsh.domain.sales.models import ORDER_STATUSES, Order, OrderLine
from tsh.platform.db.base import utcnow
from tsh.platform.http.ids import RowIdIn
from tsh.platform.http.openapi import query_parameters

STAFF = Access(roles={"staff": "all"})
PRODUCT_EXPANSION = Expansion(
    (
        one("category", Category, "category_id"),
        many("prices", PriceListItem, "product_id"),
        many("stock", StockLevel, "product_id"),
    )
)


class StatsQuery(Paging):
    user_id: RowIdIn


class TopQuery(Paging):
    limit: int = Field(10, ge=1, le=100)
    days: int = Field(30, ge=1, le=3660)
    branch_id: RowIdIn | None = None


def last_months(n: int = 12) -> list[tuple[int, int]]:
    now = utcnow().astimezone(BAGHDAD)
    index = now.year * 12 + now.month - 1
    return [((i // 12), i % 12 + 1) for i in range(index - n + 1, index + 1)]


def _money(value: Any) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


async def order_stats(session: AsyncSession, user_id: int) -> Record:
    mine = Order.salesperson_id == user_id
    live_total = case((Order.status != "cancelled", Order.total), else_=0)
    live = case((Order.status != "cancelled", 1), else_=0)
    rows = await session.execute(
        select(
            Order.status,
            Order.currency,
            func.count(),
            func.sum(live_total),
            func.sum(live),
            func.min(Order.placed_at),
            func.max(Order.placed_at),
        )
        .where(mine)
        .group_by(Order.status, Order.currency)
    )
    by_status = dict.fromkeys(ORDER_STATUSES, 0)
    value: dict[str, Decimal] = defaultdict(Decimal)
    live_count: dict[str, int] = defaultdict(int)
    firsts: list[dt.datetime] = []
    lasts: list[dt.datetime] = []
    for status, currency, count, total, live_n, first, last in rows.all():
        by_status[status] = by_status.get(status, 0) + count
        value[currency] += Decimal(total or 0)
        live_count[currency] += int(live_n or 0)
        firsts.append(first)
        lasts.append(last)
    months = last_months()
    bucket = month_bucket(Order.placed_at, months)
    monthly = await session.execute(
        select(bucket, Order.currency, func.count(), func.sum(live_total))
        .where(mine, bucket.is_not(None))
        .group_by(bucket, Order.currency)
    )
    per_month: dict[str, dict[str, Any]] = {f"{y:04d}-{m:02d}": {"count": 0, "value": {}} for y, m in months}
    for month, currency, count, total in monthly.all():
        per_month[month]["count"] += count
        per_month[month]["value"][currency] = _money(total)
    return {
        "user_id": user_id,
        "total_count": sum(by_status.values()),
        "count_by_status": by_status,
        "total_value": {c: _money(v) for c, v in sorted(value.items())},
        "average_order_value": {
            c: _money(v / live_count[c]) for c, v in sorted(value.items()) if live_count[c]
        },
        "first_order_at": min(firsts).isoformat() if firsts else None,
        "last_order_at": max(lasts).isoformat() if lasts else None,
        "monthly": [{"month": k, **v} for k, v in per_month.items()],
    }


async def top_selling(session: AsyncSession, query: TopQuery) -> list[Record]:
    since = utcnow() - dt.timedelta(days=query.days)
    order_sales = (
        select(
            OrderLine.product_id,
            OrderLine.qty.label("qty"),
            OrderLine.line_total.label("amount"),
            Order.currency.label("currency"),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(SOLD_STATUSES), Order.placed_at >= since)
    )
    pos_sales = (
        select(
            PosLine.product_id,
            PosLine.qty.label("qty"),
            PosLine.line_total.label("amount"),
            literal("IQD").label("currency"),
        )
        .join(PosTransaction, PosTransaction.id == PosLine.transaction_id)
        .where(PosTransaction.status == "completed", PosTransaction.completed_at >= since)
    )
    if query.branch_id is not None:
        order_sales = order_sales.where(Order.branch_id == query.branch_id)
        pos_sales = pos_sales.where(PosTransaction.branch_id == query.branch_id)
    sales = union_all(order_sales, pos_sales).subquery()
    units = func.sum(sales.c.qty)
    top = (
        await session.execute(
            select(sales.c.product_id, units)
            .group_by(sales.c.product_id)
            .order_by(units.desc(), sales.c.product_id)
            .limit(query.limit)
        )
    ).all()
    ids = [pid for pid, _ in top]
    revenue: dict[int, dict[str, str]] = defaultdict(dict)
    if ids:
        rows = await session.execute(
            select(sales.c.product_id, sales.c.currency, func.sum(sales.c.amount))
            .where(sales.c.product_id.in_(ids))
            .group_by(sales.c.product_id, sales.c.currency)
        )
        for pid, currency, amount in rows.all():
            revenue[pid][currency] = _money(amount)
    products = {p.id: p for p in (await session.scalars(select(Product).where(Product.id.in_(ids)))).all()}
    records = [{**to_dict(products[pid]), "units_sold": int(n), "revenue": revenue[pid]} for pid, n in top]
    await PRODUCT_EXPANSION.apply(session, records)
    return records


def add_dashboard_routes(router: APIRouter, orders: Resource) -> None:
    async def stats(request: Request) -> Response:
        principal = await principal_of(request)
        scope = orders.access.scope_for(principal)
        query = parse_query(request, StatsQuery)
        assert isinstance(query, StatsQuery)
        async with request.app.state.ctx.db.read_session() as session:
            await orders.access.check_owner(session, principal, scope, query.user_id)
            return bare(await order_stats(session, query.user_id))

    async def top(request: Request) -> Response:
        principal = await principal_of(request)
        STAFF.scope_for(principal)
        query = parse_query(request, TopQuery)
        assert isinstance(query, TopQuery)
        async with request.app.state.ctx.db.read_session() as session:
            return bare(await top_selling(session, query))

    router.add_api_route(
        "/api/orders/stats",
        stats,
        methods=["GET"],
        tags=["orders"],
        summary="Order statistics of a salesperson",
        # The handlers parse the query themselves, so FastAPI cannot see the parameters.
        openapi_extra={"parameters": query_parameters(StatsQuery)},
    )
    router.add_api_route(
        "/api/products/top-selling",
        top,
        methods=["GET"],
        tags=["products"],
        summary="Best-selling products",
        openapi_extra={"parameters": query_parameters(TopQuery)},
    )
