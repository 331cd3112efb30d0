"""The salesperson dashboard (SAL-01) in six statements, replacing eight legacy calls, in three
parts the screen runs as sections (`dashboard_parts`, `assemble_dashboard`).

Windows (Asia/Baghdad business dates): `today` = today, `week` = the last 7 days, `month` = the last
30 days, each compared with the window of the same length just before it. Orders count when not
cancelled, valued at their total (tax included) per currency. Target progress uses the calendar
month: confirmed (or later) orders net of cancellations, at their net value before tax.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.catalog.models import Product
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import User
from tsh.domain.money import CURRENCIES
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models import Order, OrderLine, Target, Visit
from tsh.domain.sales.queries import Sellers, dec, money, money_facts, per_currency, sum_if
from tsh.domain.shared import day_start_utc
from tsh.platform.db.base import utcnow

WINDOW_DAYS = {"today": 1, "week": 7, "month": 30}
ACHIEVED = ("confirmed", "shipped", "delivered")


def _pct(achieved: Decimal, target: Decimal) -> float | None:
    return None if target <= 0 else round(float(achieved * 100 / target), 1)


async def _profile(
    session: AsyncSession, sellers: Sellers, profile_user_id: int, today: dt.date, language: str
) -> dict[str, Any]:
    """Profile, branch, visits today, targets and new customers this month: one statement."""
    month = (today.year, today.month)
    visits = select(func.count()).where(sellers.clause(Visit.salesperson_id), Visit.date == today)
    target = select(Target).where(
        sellers.clause(Target.salesperson_id), Target.year == month[0], Target.month == month[1]
    )
    t = target.subquery()
    new_customers = select(func.count()).where(
        sellers.clause(Customer.salesperson_id), Customer.created_at >= day_start_utc(today.replace(day=1))
    )
    row = (
        await session.execute(
            select(
                User.id,
                User.name,
                User.phone,
                Branch.id.label("branch_id"),
                (Branch.name_ar if language == "ar" else Branch.name_en).label("branch_name"),
                visits.scalar_subquery().label("planned"),
                visits.where(Visit.status == "completed").scalar_subquery().label("done"),
                visits.where(Visit.status == "checked_in").scalar_subquery().label("in_progress"),
                visits.where(Visit.verified.is_(False), Visit.status.in_(("checked_in", "completed")))
                .scalar_subquery()
                .label("unverified"),
                select(func.coalesce(func.sum(t.c.revenue_target_iqd), 0)).scalar_subquery().label("t_iqd"),
                select(func.coalesce(func.sum(t.c.revenue_target_usd), 0)).scalar_subquery().label("t_usd"),
                select(func.coalesce(func.sum(t.c.orders_target), 0)).scalar_subquery().label("t_orders"),
                select(func.coalesce(func.sum(t.c.new_customers_target), 0)).scalar_subquery().label("t_new"),
                new_customers.scalar_subquery().label("new_customers"),
            )
            .outerjoin(Branch, Branch.id == User.branch_id)
            .where(User.id == profile_user_id)
        )
    ).one()
    return {
        "profile": {
            "id": row.id,
            "name": row.name,
            "phone": row.phone,
            "branch": {"id": row.branch_id, "name": row.branch_name},
        },
        "visits_today": {
            "planned": row.planned,
            "done": row.done,
            "in_progress": row.in_progress,
            "unverified": row.unverified,
        },
        "targets": {
            "IQD": dec(row.t_iqd),
            "USD": dec(row.t_usd),
            "orders": int(row.t_orders),
            "new_customers": int(row.t_new),
            "achieved_new_customers": int(row.new_customers),
        },
    }


async def _orders(
    session: AsyncSession,
    sellers: Sellers,
    cur: tuple[dt.datetime, dt.datetime],
    prev_start: dt.datetime,
    month_start: dt.datetime,
) -> dict[str, tuple[int, Decimal, int, Decimal, int, Decimal, int, Decimal]]:
    live = Order.status != "cancelled"
    in_cur = and_(live, Order.placed_at >= cur[0], Order.placed_at < cur[1])
    in_prev = and_(live, Order.placed_at >= prev_start, Order.placed_at < cur[0])
    pending = Order.status.in_(("confirmed", "shipped"))
    in_month = and_(Order.status.in_(ACHIEVED), Order.confirmed_at >= month_start)
    stmt = (
        select(
            Order.currency,
            sum_if(in_cur, 1),
            sum_if(in_cur, Order.total),
            sum_if(in_prev, 1),
            sum_if(in_prev, Order.total),
            sum_if(pending, 1),
            sum_if(pending, Order.total),
            sum_if(in_month, 1),
            sum_if(in_month, Order.subtotal - Order.discount),
        )
        .where(sellers.clause(Order.salesperson_id))
        .where(
            (Order.placed_at >= min(prev_start, month_start)) | pending | (Order.confirmed_at >= month_start)
        )
        .group_by(Order.currency)
    )
    return {
        r[0]: (int(r[1]), dec(r[2]), int(r[3]), dec(r[4]), int(r[5]), dec(r[6]), int(r[7]), dec(r[8]))
        for r in (await session.execute(stmt)).tuples()
    }


async def _tops(
    session: AsyncSession, sellers: Sellers, cur: tuple[dt.datetime, dt.datetime], language: str
) -> dict[str, Any]:
    rate = await posting.rate_in_force(session, utcnow())
    in_cur = and_(
        sellers.clause(Order.salesperson_id),
        Order.status != "cancelled",
        Order.placed_at >= cur[0],
        Order.placed_at < cur[1],
    )
    base_total = case((Order.currency == "USD", Order.total * rate), else_=Order.total)
    value = func.sum(base_total).label("value")
    customers = (
        (
            await session.execute(
                select(Customer.id, Customer.name, func.count(Order.id), value)
                .join(Order, Order.customer_id == Customer.id)
                .where(in_cur)
                .group_by(Customer.id, Customer.name)
                .order_by(value.desc(), Customer.id)
                .limit(5)
            )
        )
        .tuples()
        .all()
    )
    base_line = case((Order.currency == "USD", OrderLine.line_total * rate), else_=OrderLine.line_total)
    qty = func.sum(OrderLine.qty).label("qty")
    # Aggregate the window's lines first (orders by salesperson and date, lines by order), then
    # name the five products: joining products first made PostgreSQL scan the lines table.
    top = (
        select(OrderLine.product_id, qty, func.sum(base_line).label("value"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(in_cur)
        .group_by(OrderLine.product_id)
        .order_by(qty.desc(), OrderLine.product_id)
        .limit(5)
        .subquery()
    )
    name = Product.name_ar if language == "ar" else Product.name_en
    products = (
        (
            await session.execute(
                select(Product.id, Product.sku, name, top.c.qty, top.c.value)
                .join(top, top.c.product_id == Product.id)
                .order_by(top.c.qty.desc(), Product.id)
            )
        )
        .tuples()
        .all()
    )
    return {
        "top_customers": [
            {"id": i, "name": n, "orders": c, "value_iqd": money(v, "IQD")} for i, n, c, v in customers
        ],
        "top_products": [
            {"id": i, "sku": s, "name": n, "qty": int(q), "value_iqd": money(v, "IQD")}
            for i, s, n, q, v in products
        ],
    }


# SAL-01's parts, each answerable on its own (a partial screen, mobile.md §3): the figures the
# screen is about, the top-five lists (the costly scan of order lines), the money side.
TOP_LISTS = ("top_customers", "top_products")
MONEY = ("payments_collected", "receivables", "commission_month")
DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class _Window:
    sellers: Sellers
    profile_user_id: int
    date_range: str
    today: dt.date
    language: str

    @property
    def days(self) -> int:
        return WINDOW_DAYS[self.date_range]

    @property
    def cur(self) -> tuple[dt.datetime, dt.datetime]:
        return (
            day_start_utc(self.today - dt.timedelta(days=self.days - 1)),
            day_start_utc(self.today + dt.timedelta(days=1)),
        )

    @property
    def month_start(self) -> dt.datetime:
        return day_start_utc(self.today.replace(day=1))


async def _figures(session: AsyncSession, w: _Window) -> dict[str, Any]:
    """Profile, visits today, the period's orders, pending orders and the month's target."""
    today, days, cur = w.today, w.days, w.cur
    prev_start = day_start_utc(today - dt.timedelta(days=2 * days - 1))
    head = await _profile(session, w.sellers, w.profile_user_id, today, w.language)
    orders = await _orders(session, w.sellers, cur, prev_start, w.month_start)

    def col(i: int) -> dict[str, Decimal]:
        return {c: v[i] for c, v in orders.items()}  # type: ignore[misc]

    count, prev_count = sum(v[0] for v in orders.values()), sum(v[2] for v in orders.values())
    targets = head.pop("targets")
    achieved = col(7)
    return {
        **head,
        "period": {"range": w.date_range, "from": today - dt.timedelta(days=days - 1), "to": today},
        "orders": {
            "count": count,
            "previous_count": prev_count,
            "change_pct": None if prev_count == 0 else round((count - prev_count) * 100 / prev_count, 1),
            "value": per_currency(col(1)),
            "previous_value": per_currency(col(3)),
        },
        "pending_orders": {"count": sum(v[4] for v in orders.values()), "value": per_currency(col(5))},
        "target": {
            "month": f"{today:%Y-%m}",
            "revenue": [
                {
                    "target": money(targets[c], c),
                    "achieved": money(achieved.get(c, 0), c),
                    "progress_pct": _pct(dec(achieved.get(c, 0)), targets[c]),
                }
                for c in CURRENCIES
            ],
            "orders": {"target": targets["orders"], "achieved": sum(v[6] for v in orders.values())},
            "new_customers": {
                "target": targets["new_customers"],
                "achieved": targets["achieved_new_customers"],
            },
        },
    }


async def _money(session: AsyncSession, w: _Window) -> dict[str, Any]:
    """Payments collected in the period, receivables today, commission this month."""
    cur = w.cur
    facts = await money_facts(
        session, sellers=w.sellers, since=cur[0], until=cur[1], month_start=w.month_start, today=w.today
    )
    return {
        "payments_collected": {
            "count": sum(n for n, _, _ in facts["payments"].values()),
            "amount": per_currency({c: a for c, (_, a, _) in facts["payments"].items()}),
        },
        "receivables": {
            "outstanding": per_currency({c: a for c, (_, a, _) in facts["receivables"].items()}),
            "overdue": per_currency({c: b for c, (_, _, b) in facts["receivables"].items()}),
        },
        "commission_month": per_currency({c: a for c, (_, a, _) in facts["commission"].items()}),
    }


def dashboard_parts(
    *, sellers: Sellers, profile_user_id: int, date_range: str, today: dt.date, language: str
) -> dict[str, DashboardPart]:
    """SAL-01 as three parts to run (in this order): `figures`, `top_lists`, `money`."""
    w = _Window(sellers, profile_user_id, date_range, today, language)
    return {
        "figures": lambda session: _figures(session, w),
        "top_lists": lambda session: _tops(session, w.sellers, w.cur, w.language),
        "money": lambda session: _money(session, w),
    }


def assemble_dashboard(
    figures: dict[str, Any], top_lists: dict[str, Any] | None, money: dict[str, Any] | None
) -> dict[str, Any]:
    """The SAL-01 data from its parts; a part that could not be had leaves its fields null."""
    tops = top_lists or dict.fromkeys(TOP_LISTS)
    cash = money or dict.fromkeys(MONEY)
    return {
        **{k: figures[k] for k in ("profile", "visits_today", "period", "orders", "pending_orders")},
        **{k: tops[k] for k in TOP_LISTS},
        "payments_collected": cash["payments_collected"],
        "receivables": cash["receivables"],
        "target": figures["target"],
        "commission_month": cash["commission_month"],
    }
