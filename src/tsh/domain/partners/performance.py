"""Partner performance (PAR-15): a year of monthly sales against targets, order figures, top
products, the rank within the tier and progress to the next tier.

Sales are IQD order totals of the partner's orders not cancelled (partner prices are IQD lists).
Rank (clarifications.md): net sales (Σ subtotal − discount) of the partner's network — its own
orders and its direct sub-partners' — over the last 90 days, among the active partners of the same
tier; only the position and the number ranked are shown, never another partner's figures. Next
tier: the tier with the next rank and its min_monthly_sales against this month's sales.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.customers.models import Partner, PartnerTier
from tsh.domain.money import wire
from tsh.domain.partners.reads import partner_of
from tsh.domain.sales.models import Order, OrderLine, Target
from tsh.domain.shared import BUSINESS_TZ, business_today, day_start_utc
from tsh.platform.db.base import utcnow

RANK_DAYS = 90


async def _rank(session: AsyncSession, p: Partner) -> tuple[int | None, int]:
    if p.tier_id is None:
        return None, 0
    since = utcnow() - dt.timedelta(days=RANK_DAYS)
    own = {
        pid: Decimal(v or 0)
        for pid, v in (
            await session.execute(
                select(Order.partner_id, func.sum(Order.subtotal - Order.discount))
                .where(
                    Order.partner_id.is_not(None),
                    Order.status != "cancelled",
                    Order.placed_at >= since,
                    Order.currency == "IQD",
                )
                .group_by(Order.partner_id)
            )
        )
        .tuples()
        .all()
    }
    network: dict[int, Decimal] = defaultdict(Decimal)
    for pid, parent in (await session.execute(select(Partner.id, Partner.parent_partner_id))).tuples().all():
        network[pid] += own.get(pid, Decimal(0))
        if parent is not None:  # a sub-partner's sales are also its upline's network sales
            network[parent] += own.get(pid, Decimal(0))
    peers = (
        await session.scalars(
            select(Partner.id).where(
                Partner.tier_id == p.tier_id, or_(Partner.status == "active", Partner.id == p.id)
            )
        )
    ).all()
    ranked = sorted(peers, key=lambda pid: (-network[pid], pid))
    return ranked.index(p.id) + 1, len(ranked)


async def performance(session: AsyncSession, actor: Actor, *, year: int | None = None) -> dict[str, Any]:
    p = await partner_of(session, actor)
    today = business_today()
    year = year or today.year
    start, end = day_start_utc(dt.date(year, 1, 1)), day_start_utc(dt.date(year + 1, 1, 1))
    orders = (
        await session.execute(
            select(Order.placed_at, Order.total, Order.customer_id).where(
                Order.partner_id == p.id,
                Order.status != "cancelled",
                Order.currency == "IQD",
                Order.placed_at >= start,
                Order.placed_at < end,
            )
        )
    ).all()
    sales: dict[int, Decimal] = defaultdict(Decimal)
    counts: dict[int, int] = defaultdict(int)
    customers: set[int] = set()
    for at, total, cid in orders:
        m = at.astimezone(BUSINESS_TZ).month
        sales[m] += Decimal(total)
        counts[m] += 1
        customers.add(cid)
    targets = {
        t.month: t
        for t in (
            await session.scalars(select(Target).where(Target.partner_id == p.id, Target.year == year))
        ).all()
    }
    top = (
        await session.execute(
            select(
                OrderLine.product_id,
                func.min(OrderLine.product_name),
                func.sum(OrderLine.qty),
                func.sum(OrderLine.line_total),
            )
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                Order.partner_id == p.id,
                Order.status != "cancelled",
                Order.currency == "IQD",
                Order.placed_at >= start,
                Order.placed_at < end,
            )
            .group_by(OrderLine.product_id)
            .order_by(func.sum(OrderLine.line_total).desc(), OrderLine.product_id)
            .limit(10)
        )
    ).all()
    position, ranked = await _rank(session, p)
    tier = await session.get(PartnerTier, p.tier_id) if p.tier_id is not None else None
    next_tier = (
        await session.scalar(
            select(PartnerTier).where(PartnerTier.rank > tier.rank).order_by(PartnerTier.rank).limit(1)
        )
        if tier is not None
        else None
    )
    this_month = sales.get(today.month, Decimal(0)) if year == today.year else Decimal(0)
    total = sum(sales.values(), Decimal(0))
    n = sum(counts.values())
    return {
        "year": year,
        "months": [
            {
                "month": m,
                "sales": wire(sales.get(m, Decimal(0)), "IQD"),
                "orders": counts.get(m, 0),
                "target": wire(targets[m].revenue_target_iqd, "IQD") if m in targets else None,
            }
            for m in range(1, 13)
        ],
        "orders": n,
        "sales": wire(total, "IQD"),
        "average_order_value": wire(total / n if n else Decimal(0), "IQD"),
        "active_customers": len(customers),
        "top_products": [
            {"product_id": pid, "name": name, "qty": int(q), "sales": wire(Decimal(v), "IQD")}
            for pid, name, q, v in top
        ],
        "rank": {"position": position, "of": ranked, "tier": tier.name if tier else None},
        "next_tier": (
            {
                "name": next_tier.name,
                "min_monthly_sales": wire(next_tier.min_monthly_sales, next_tier.currency),
                "this_month_sales": wire(this_month, "IQD"),
            }
            if next_tier is not None
            else None
        ),
    }
