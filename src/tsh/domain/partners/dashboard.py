"""Partner dashboard (PAR-01): this month against last month, commission, orders by status,
network size, the month's target and the latest order activity.

Sales are order totals of the partner's orders not cancelled, per currency, by placement in the
Asia/Baghdad month. Commission: accrued this month (not reversed), the payable balance, paid this
month. Target progress compares this month with the partner's Target row for the month, if any.
The screen runs the figures as sections (`dashboard_parts`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer, Partner
from tsh.domain.money import wire
from tsh.domain.partners.reads import partner_of
from tsh.domain.sales.models import Commission, Order, Target
from tsh.domain.shared import add_months, business_today, day_start_utc

CURRENCIES = ("IQD", "USD")


def _both(amounts: dict[str, Decimal]) -> list[dict[str, Any] | None]:
    return [wire(amounts.get(c, Decimal(0)), c) for c in CURRENCIES]


DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def dashboard_parts(session: AsyncSession, actor: Actor) -> dict[str, DashboardPart]:
    """PAR-01 as the parts the screen runs as sections, once the partner is known
    (PARTNER_PROFILE_MISSING): `month` (this month against last, the month's target),
    `commission`, `network` (orders by status, customers and sub-partners), `activity`."""
    partner_id = (await partner_of(session, actor)).id
    today = business_today()
    this_start = day_start_utc(today.replace(day=1))
    return {
        "month": lambda s: _month(s, partner_id, today),
        "commission": lambda s: _commission(s, partner_id, this_start),
        "network": lambda s: _network(s, partner_id),
        "activity": lambda s: _activity(s, partner_id),
    }


async def _month(session: AsyncSession, partner_id: int, today: date) -> dict[str, Any]:
    this_start = day_start_utc(today.replace(day=1))
    last_start = day_start_utc(add_months(today.replace(day=1), -1))

    async def month(start: Any, end: Any | None) -> tuple[dict[str, Decimal], int]:
        where = [Order.partner_id == partner_id, Order.status != "cancelled", Order.placed_at >= start]
        if end is not None:
            where.append(Order.placed_at < end)
        rows = (
            await session.execute(
                select(Order.currency, func.sum(Order.total), func.count())
                .where(*where)
                .group_by(Order.currency)
            )
        ).all()
        return {cur: Decimal(total) for cur, total, _ in rows}, sum(int(n) for _, _, n in rows)

    this_sales, this_count = await month(this_start, None)
    last_sales, last_count = await month(last_start, this_start)
    target = await session.scalar(
        select(Target).where(
            Target.partner_id == partner_id, Target.year == today.year, Target.month == today.month
        )
    )
    iqd = this_sales.get("IQD", Decimal(0))
    return {
        "month": {
            "sales": _both(this_sales),
            "orders": this_count,
            "last_month_sales": _both(last_sales),
            "last_month_orders": last_count,
        },
        "target": (
            {
                "revenue_target": wire(target.revenue_target_iqd, "IQD"),
                "revenue": wire(iqd, "IQD"),
                "progress_pct": (
                    str((iqd * 100 / target.revenue_target_iqd).quantize(Decimal("0.1")))
                    if target.revenue_target_iqd > 0
                    else None
                ),
                "orders_target": target.orders_target,
                "orders": this_count,
            }
            if target is not None
            else None
        ),
    }


async def _commission(session: AsyncSession, partner_id: int, this_start: Any) -> dict[str, Any]:
    commission: dict[str, dict[str, Decimal]] = {"accrued": {}, "payable": {}, "paid": {}}
    for cur, amount in (
        await session.execute(
            select(Commission.currency, func.sum(Commission.amount))
            .where(
                Commission.partner_id == partner_id,
                Commission.status != "reversed",
                Commission.created_at >= this_start,
            )
            .group_by(Commission.currency)
        )
    ).tuples():
        commission["accrued"][cur] = Decimal(amount)
    for cur, amount in (
        await session.execute(
            select(Commission.currency, func.sum(Commission.amount))
            .where(Commission.partner_id == partner_id, Commission.status == "payable")
            .group_by(Commission.currency)
        )
    ).tuples():
        commission["payable"][cur] = Decimal(amount)
    for cur, amount in (
        await session.execute(
            select(Commission.currency, func.sum(Commission.amount))
            .where(
                Commission.partner_id == partner_id,
                Commission.status == "paid",
                Commission.paid_at >= this_start,
            )
            .group_by(Commission.currency)
        )
    ).tuples():
        commission["paid"][cur] = Decimal(amount)
    return {"commission": {k: _both(v) for k, v in commission.items()}}


async def _network(session: AsyncSession, partner_id: int) -> dict[str, Any]:
    by_status = {
        st: int(n)
        for st, n in (
            await session.execute(
                select(Order.status, func.count())
                .where(Order.partner_id == partner_id)
                .group_by(Order.status)
            )
        ).tuples()
    }
    customers = int(await session.scalar(select(func.count()).where(Customer.partner_id == partner_id)) or 0)
    subs = int(await session.scalar(select(func.count()).where(Partner.parent_partner_id == partner_id)) or 0)
    return {
        "orders_by_status": [{"status": st, "count": n} for st, n in sorted(by_status.items())],
        "network": {"customers": customers, "sub_partners": subs},
    }


async def _activity(session: AsyncSession, partner_id: int) -> dict[str, Any]:
    recent = (
        await session.execute(
            select(
                Order.id,
                Order.number,
                Order.status,
                Order.updated_at,
                Order.total,
                Order.currency,
                Customer.name,
            )
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.partner_id == partner_id)
            .order_by(Order.updated_at.desc(), Order.id.desc())
            .limit(10)
        )
    ).all()
    return {
        "activity": [
            {
                "order_id": oid,
                "number": number,
                "status": st,
                "at": at,
                "total": wire(total, cur),
                "customer": name,
            }
            for oid, number, st, at, total, cur, name in recent
        ]
    }
