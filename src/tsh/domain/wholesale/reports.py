"""Account home (WHO-01) and purchase report (WHO-18) of the caller's wholesale account.

Spend is what the account bought net of discounts and before tax (Σ order line_total of orders not
cancelled), in the order currency, dated by placement (Asia/Baghdad business date). Savings compare
each line with the CURRENT consumer base price of the product at the account's branch
(clarifications.md): Σ qty × consumer price − Σ line_total, over products that have one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog import pricing
from tsh.domain.catalog.models import Category, PriceListItem, Product
from tsh.domain.catalog.queries import name_col
from tsh.domain.money import round_money, wire
from tsh.domain.sales.models import UNPAID_INVOICE_STATUSES, Invoice, Order, OrderLine
from tsh.domain.shared import BUSINESS_TZ, add_months, business_today, day_start_utc
from tsh.domain.wholesale.account import account_of, credit_summary
from tsh.domain.wholesale.cart import account_price_list
from tsh.domain.wholesale.catalog import volume_breaks
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, field_error

MAX_RANGE_DAYS = 366
OPEN_ORDER_STATUSES = ("pending", "confirmed", "shipped")
PRICE_CHANGE_DAYS = 30


def check_range(date_from: dt.date, date_to: dt.date) -> None:
    """422 when `to` is before `from`; 422 RANGE_TOO_LONG above 366 days."""
    if date_to < date_from:
        raise Invalid(details=[field_error("to", "must not be before from")])
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise Invalid(
            f"The range may cover at most {MAX_RANGE_DAYS} days",
            code="RANGE_TOO_LONG",
            details=[field_error("to", f"at most {MAX_RANGE_DAYS} days after from")],
        )


async def _consumer_prices(
    session: AsyncSession, branch_id: int | None, product_ids: list[int]
) -> dict[int, Decimal]:
    if not product_ids:
        return {}
    consumer = await pricing.price_list_for(session, channel="consumer", branch_id=branch_id)
    breaks = await volume_breaks(session, consumer.id, product_ids, utcnow())
    return {pid: b[0][1] for pid, b in breaks.items() if b and b[0][0] == 1}


async def purchase_report(
    session: AsyncSession, actor: Actor, *, date_from: dt.date, date_to: dt.date, group_by: str = "month"
) -> dict[str, Any]:
    """WHO-18: spend grouped by month, category or product, top 20 products, monthly quantity
    trend and savings against current consumer prices."""
    check_range(date_from, date_to)
    customer = await account_of(session, actor)
    cur = customer.currency
    rows = (
        await session.execute(
            select(
                Order.placed_at,
                OrderLine.product_id,
                OrderLine.product_name,
                OrderLine.qty,
                OrderLine.line_total,
                Product.category_id,
                Category.name_ar if actor.language == "ar" else Category.name_en,
            )
            .join(OrderLine, OrderLine.order_id == Order.id)
            .join(Product, Product.id == OrderLine.product_id)
            .join(Category, Category.id == Product.category_id)
            .where(
                Order.customer_id == customer.id,
                Order.status != "cancelled",
                Order.currency == cur,
                Order.placed_at >= day_start_utc(date_from),
                Order.placed_at < day_start_utc(date_to + dt.timedelta(days=1)),
            )
        )
    ).all()
    consumer = await _consumer_prices(session, customer.branch_id, sorted({r[1] for r in rows}))
    groups: dict[tuple[str, Any], dict[str, Any]] = {}
    products: dict[int, dict[str, Any]] = {}
    trend: dict[str, int] = defaultdict(int)
    spend = Decimal(0)
    compared = consumer_value = Decimal(0)
    for placed_at, pid, pname, qty, line_total, cat_id, cat_name in rows:
        month = placed_at.astimezone(BUSINESS_TZ).strftime("%Y-%m")
        total = Decimal(line_total)
        spend += total
        trend[month] += qty
        key, label = {
            "month": ((month, None), month),
            "category": ((str(cat_id), cat_id), cat_name),
            "product": ((str(pid), pid), pname),
        }[group_by]
        g = groups.setdefault(
            key, {"key": key[0], "id": key[1], "label": label, "qty": 0, "spend": Decimal(0)}
        )
        g["qty"] += qty
        g["spend"] += total
        p = products.setdefault(pid, {"product_id": pid, "name": pname, "qty": 0, "spend": Decimal(0)})
        p["qty"] += qty
        p["spend"] += total
        if pid in consumer:
            compared += total
            consumer_value += consumer[pid] * qty

    def shaped(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "spend": wire(round_money(d["spend"], cur), cur)}

    ordered = (
        sorted(groups.values(), key=lambda g: g["key"])
        if group_by == "month"
        else sorted(groups.values(), key=lambda g: (-g["spend"], str(g["key"])))
    )
    top = sorted(products.values(), key=lambda p: (-p["spend"], p["product_id"]))[:20]
    return {
        "from": date_from,
        "to": date_to,
        "currency": cur,
        "group_by": group_by,
        "total_spend": wire(round_money(spend, cur), cur),
        "groups": [shaped(g) for g in ordered],
        "top_products": [shaped(p) for p in top],
        "quantity_trend": [{"month": m, "qty": q} for m, q in sorted(trend.items())],
        "savings": {
            "amount": wire(round_money(consumer_value - compared, cur), cur),
            "consumer_value": wire(round_money(consumer_value, cur), cur),
            "paid": wire(round_money(compared, cur), cur),
        },
    }


DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def dashboard_parts(session: AsyncSession, actor: Actor) -> dict[str, DashboardPart]:
    """WHO-01 as the parts the screen runs as sections, once the account and its price list are
    known (ACCOUNT_MISSING, NO_PRICE_LIST): `account` (credit and hold, open orders, unpaid
    invoices and next due date), `spend` (this month against last month), `quick_reorder` (the 10
    most frequently ordered products), `price_changes` (recent changes on what the client buys)."""
    customer = await account_of(session, actor)
    price_list = await account_price_list(session, customer)
    # Plain values: a failed section closes the session, detaching the loaded rows.
    customer_id, cur, list_id, list_cur = customer.id, customer.currency, price_list.id, price_list.currency
    language = actor.language
    today = business_today()

    async def account(s: AsyncSession) -> dict[str, Any]:
        credit = await credit_summary(s, customer)
        return await _account(s, customer_id, cur, today, credit)

    return {
        "account": account,
        "spend": lambda s: _spend(s, customer_id, cur, today),
        "quick_reorder": lambda s: _quick_reorder(s, customer_id, language),
        "price_changes": lambda s: _price_changes(s, customer_id, language, list_id, list_cur),
    }


async def _account(
    session: AsyncSession, customer_id: int, cur: str, today: dt.date, credit: dict[str, Any]
) -> dict[str, Any]:
    unpaid = (
        await session.execute(
            select(
                func.count(),
                func.min(Invoice.due_date),
                func.coalesce(func.sum(Invoice.balance).filter(Invoice.due_date < today), 0),
            ).where(
                Invoice.customer_id == customer_id,
                Invoice.status.in_(UNPAID_INVOICE_STATUSES),
                Invoice.currency == cur,
            )
        )
    ).one()
    next_due = await session.scalar(
        select(func.min(Invoice.due_date)).where(
            Invoice.customer_id == customer_id,
            Invoice.status.in_(UNPAID_INVOICE_STATUSES),
            Invoice.due_date >= today,
        )
    )
    open_orders = int(
        await session.scalar(
            select(func.count()).where(
                Order.customer_id == customer_id, Order.status.in_(OPEN_ORDER_STATUSES)
            )
        )
        or 0
    )
    return {
        "credit": {k: credit[k] for k in ("currency", "credit_limit", "credit_used", "available", "hold")},
        "overdue_amount": wire(round_money(Decimal(unpaid[2] or 0), cur), cur),
        "open_orders": open_orders,
        "unpaid_invoices": int(unpaid[0] or 0),
        "next_due_date": next_due,
    }


async def _spend(session: AsyncSession, customer_id: int, cur: str, today: dt.date) -> dict[str, Any]:
    month_start = today.replace(day=1)
    last_start = add_months(month_start, -1)

    async def spend(start: dt.date, end: dt.date) -> Decimal:
        value = await session.scalar(
            select(func.coalesce(func.sum(Order.total), 0)).where(
                Order.customer_id == customer_id,
                Order.status != "cancelled",
                Order.currency == cur,
                Order.placed_at >= day_start_utc(start),
                Order.placed_at < day_start_utc(end),
            )
        )
        return round_money(Decimal(value or 0), cur)

    this_month = await spend(month_start, today + dt.timedelta(days=1))
    # The same number of days of last month, so the comparison is like for like.
    last_same = await spend(last_start, min(add_months(today, -1) + dt.timedelta(days=1), month_start))
    last_month = await spend(last_start, month_start)
    return {
        "spend": {
            "this_month": wire(this_month, cur),
            "last_month_same_days": wire(last_same, cur),
            "last_month": wire(last_month, cur),
        }
    }


async def _quick_reorder(session: AsyncSession, customer_id: int, language: str) -> dict[str, Any]:
    frequent = (
        await session.execute(
            select(
                OrderLine.product_id,
                func.count(func.distinct(Order.id)).label("n"),
                func.max(Order.placed_at),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.customer_id == customer_id, Order.status != "cancelled")
            .group_by(OrderLine.product_id)
            .order_by(func.count(func.distinct(Order.id)).desc(), OrderLine.product_id)
            .limit(10)
        )
    ).all()
    ids = [r[0] for r in frequent]
    names: dict[int, str] = (
        dict(
            (await session.execute(select(Product.id, name_col(language)).where(Product.id.in_(ids))))
            .tuples()
            .all()
        )
        if ids
        else {}
    )
    return {
        "quick_reorder": [
            {"product_id": pid, "name": names.get(pid, ""), "times_ordered": int(n), "last_ordered_at": at}
            for pid, n, at in frequent
        ]
    }


async def _price_changes(
    session: AsyncSession, customer_id: int, language: str, list_id: int, list_cur: str
) -> dict[str, Any]:
    since = utcnow() - dt.timedelta(days=PRICE_CHANGE_DAYS)
    bought = (
        select(OrderLine.product_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id)
    )
    changes = (
        await session.execute(
            select(
                PriceListItem.product_id,
                name_col(language),
                PriceListItem.min_qty,
                PriceListItem.unit_price,
                PriceListItem.valid_from,
                PriceListItem.valid_to,
                PriceListItem.updated_at,
            )
            .join(Product, Product.id == PriceListItem.product_id)
            .where(
                PriceListItem.price_list_id == list_id,
                PriceListItem.product_id.in_(bought),
                or_(PriceListItem.updated_at >= since, PriceListItem.valid_from >= since),
            )
            .order_by(PriceListItem.updated_at.desc(), PriceListItem.id.desc())
            .limit(10)
        )
    ).all()
    return {
        "price_changes": [
            {
                "product_id": pid,
                "name": name,
                "min_qty": int(q),
                "unit_price": wire(Decimal(price), list_cur),
                "valid_from": vf,
                "valid_to": vt,
                "changed_at": at,
            }
            for pid, name, q, price, vf, vt, at in changes
        ]
    }
