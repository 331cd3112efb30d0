"""Product sales per business day: the read model behind "best sellers" and the best-selling sort.

`roll_up_product_sales` (a scheduled job, nightly after midnight Baghdad time and at start-up)
rewrites the last HORIZON_DAYS complete business days from the order lines, one day at a time
(delete + insert, inside the job's one transaction), and moves `SalesRollup.through_day` to
yesterday. Re-running it changes nothing. A day older than the horizon is frozen: a cancellation
of an order placed more than HORIZON_DAYS ago no longer changes the read model (the readers use
30-day windows, so they never look that far back). Without a mark yet (a new or migrated
database) it builds every day since the first order; if the job has not run for longer than the
horizon it fills the gap from the day after the mark.

`sold_qty` answers "pieces sold per product since an instant" from the read model's complete
days plus the lines of the partial first day and of every day after `through_day` (today, and
any day the job has not reached yet), so it equals the line scan whenever the job has run since
the last cancellation of a recent order; between runs a cancelled order of a rolled-up day
still counts until the next night.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Select, delete, func, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.sales.models import Order, OrderLine, ProductDailySales, SalesRollup
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.db.base import utcnow

ROLLUP = "product_daily_sales"
HORIZON_DAYS = 35


async def rolled_up_through(session: AsyncSession) -> date | None:
    """The last business day the read model holds completely (None: not built yet)."""
    return await session.scalar(select(SalesRollup.through_day).where(SalesRollup.name == ROLLUP))


async def _replace_day(session: AsyncSession, day: date) -> None:
    await session.execute(delete(ProductDailySales).where(ProductDailySales.day == day))
    now = literal(utcnow(), ProductDailySales.created_at.type)
    source = (
        select(
            literal(day, ProductDailySales.day.type),
            OrderLine.product_id,
            Order.branch_id,
            Order.channel,
            Order.currency,
            func.sum(OrderLine.qty),
            func.count(func.distinct(Order.id)),
            func.sum(OrderLine.line_total),
            now,
            now,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.status != "cancelled",
            Order.placed_at >= day_start_utc(day),
            Order.placed_at < day_start_utc(day + timedelta(days=1)),
        )
        .group_by(OrderLine.product_id, Order.branch_id, Order.channel, Order.currency)
    )
    columns = [
        "day",
        "product_id",
        "branch_id",
        "channel",
        "currency",
        "qty",
        "orders",
        "revenue",
        "created_at",
        "updated_at",
    ]
    await session.execute(insert(ProductDailySales).from_select(columns, source))


async def roll_up_product_sales(session: AsyncSession, *, now: datetime, days: int = HORIZON_DAYS) -> int:
    """Rewrite the last `days` complete business days before `now` (and any gap since the last
    run) from the order lines; returns the number of days rewritten. Never commits."""
    yesterday = business_today(now) - timedelta(days=1)
    mark = await session.scalar(select(SalesRollup).where(SalesRollup.name == ROLLUP).with_for_update())
    start = yesterday - timedelta(days=days - 1)
    if mark is None:
        first = await session.scalar(select(func.min(Order.placed_at)))
        start = min(start, business_today(first)) if first is not None else start
    else:
        start = min(start, mark.through_day + timedelta(days=1))
    day = start
    while day <= yesterday:
        await _replace_day(session, day)
        day += timedelta(days=1)
    if mark is None:
        session.add(SalesRollup(name=ROLLUP, through_day=yesterday))
    else:
        mark.through_day = max(mark.through_day, yesterday)
    await session.flush()
    return max((yesterday - start).days + 1, 0)


def _lines_since(since: datetime, until: datetime | None = None) -> Select[int, int]:
    stmt = (
        select(OrderLine.product_id.label("product_id"), func.sum(OrderLine.qty).label("qty"))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status != "cancelled", Order.placed_at >= since)
        .group_by(OrderLine.product_id)
    )
    return stmt if until is None else stmt.where(Order.placed_at < until)


async def sold_qty(session: AsyncSession, *, since: datetime) -> Select[int, int]:
    """(product_id, qty): pieces sold in non-cancelled orders placed at or after `since`, as the
    line scan would count them. Use it as a subquery."""
    through = await rolled_up_through(session)
    first_full = business_today(since) + timedelta(days=1)
    if through is None or through < first_full:
        return _lines_since(since)
    days = (
        select(
            ProductDailySales.product_id.label("product_id"),
            func.sum(ProductDailySales.qty).label("qty"),
        )
        .where(ProductDailySales.day >= first_full, ProductDailySales.day <= through)
        .group_by(ProductDailySales.product_id)
    )
    parts = union_all(
        _lines_since(since, day_start_utc(first_full)),
        days,
        _lines_since(day_start_utc(through + timedelta(days=1))),
    ).subquery("parts")
    return select(parts.c.product_id, func.sum(parts.c.qty).label("qty")).group_by(parts.c.product_id)
