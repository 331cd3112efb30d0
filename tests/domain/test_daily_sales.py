"""The product-sales read model (tsh.domain.sales.daily_sales): built by the seed and the job,
idempotent, and read back it gives the same pieces sold as scanning the order lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update

from tsh.context import AppContext
from tsh.domain.catalog.queries import BEST_SELLER_DAYS, best_seller_ids, listed_products, serving_branch
from tsh.domain.catalog.search import SearchFilters, search_products
from tsh.domain.jobs import job_named
from tsh.domain.sales.daily_sales import (
    HORIZON_DAYS,
    ROLLUP,
    _lines_since,
    rolled_up_through,
    sold_qty,
)
from tsh.domain.sales.models import Order, OrderLine, ProductDailySales, SalesRollup
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.db.base import utcnow
from tsh.platform.scheduler import run_job

CENT = Decimal("0.01")


async def _run(ctx: AppContext, now: dt.datetime) -> int:
    result = await run_job(job_named(ctx.settings, "roll_up_product_sales"), db=ctx.db, bus=ctx.bus, now=now)
    assert result.outcome == "ok", result.error
    return result.changed


def _windows(now: dt.datetime) -> list[dt.datetime]:
    # 30 days back (the readers' window), a day-aligned start, and one before the horizon.
    return [
        now - dt.timedelta(days=30),
        day_start_utc(business_today(now) - dt.timedelta(days=10)),
        now - dt.timedelta(days=HORIZON_DAYS + 20, hours=5),
        now - dt.timedelta(hours=2),
    ]


async def _assert_same_as_lines(ctx: AppContext, now: dt.datetime) -> None:
    async with ctx.db.session() as s:
        for since in _windows(now):
            model = dict((await s.execute(await sold_qty(s, since=since))).tuples().all())
            lines = dict((await s.execute(_lines_since(since))).tuples().all())
            assert {p: int(q) for p, q in model.items()} == {p: int(q) for p, q in lines.items()}, since
            assert lines, "the seed has sales in every window"


async def _rows(ctx: AppContext) -> list[tuple[Any, ...]]:
    async with ctx.db.session() as s:
        cols = [c for c in ProductDailySales.__table__.c if c.name not in {"id", "created_at", "updated_at"}]
        return [tuple(r) for r in (await s.execute(select(*cols).order_by(*cols))).all()]


async def test_the_seed_builds_the_read_model_and_it_answers_like_the_lines(ctx: AppContext) -> None:
    now = utcnow()
    async with ctx.db.session() as s:
        through = await rolled_up_through(s)
        assert through is not None and through >= business_today(now) - dt.timedelta(days=2)
        first_order = await s.scalar(select(Order.placed_at).order_by(Order.placed_at).limit(1))
        first_day = await s.scalar(select(ProductDailySales.day).order_by(ProductDailySales.day).limit(1))
    assert first_order is not None and first_day == business_today(first_order), "every day is built"
    # After the suite's own orders and cancellations: run the job, then both answers agree.
    await _run(ctx, now)
    await _assert_same_as_lines(ctx, now)


async def test_the_job_is_idempotent_and_sums_the_lines_of_each_day(ctx: AppContext) -> None:
    now = utcnow()
    assert await _run(ctx, now) == HORIZON_DAYS
    before = await _rows(ctx)
    assert await _run(ctx, now) == HORIZON_DAYS
    assert await _rows(ctx) == before
    # Each day holds Σ qty, Σ line_total and the distinct orders of that day's lines.
    for back in (1, 3, 20):
        day = business_today(now) - dt.timedelta(days=back)
        async with ctx.db.session() as s:
            model = (
                await s.execute(
                    select(
                        func.sum(ProductDailySales.qty),
                        func.sum(ProductDailySales.revenue),
                        func.sum(ProductDailySales.orders),
                    ).where(ProductDailySales.day == day)
                )
            ).one()
            of_day = (
                select(Order.id.label("order_id"), OrderLine.product_id, OrderLine.qty, OrderLine.line_total)
                .join(Order, Order.id == OrderLine.order_id)
                .where(
                    Order.status != "cancelled",
                    Order.placed_at >= day_start_utc(day),
                    Order.placed_at < day_start_utc(day + dt.timedelta(days=1)),
                )
                .subquery()
            )
            pairs = select(of_day.c.order_id, of_day.c.product_id).distinct().subquery()
            lines = (
                await s.execute(
                    select(
                        func.sum(of_day.c.qty),
                        func.sum(of_day.c.line_total),
                        select(func.count()).select_from(pairs).scalar_subquery(),
                    )
                )
            ).one()
        assert int(model[0] or 0) == int(lines[0] or 0)
        assert Decimal(str(model[1] or 0)).quantize(CENT) == Decimal(str(lines[1] or 0)).quantize(CENT)
        assert int(model[2] or 0) == int(lines[2] or 0)


async def test_a_gap_longer_than_the_horizon_is_filled_and_without_a_mark_the_lines_answer(
    ctx: AppContext,
) -> None:
    now = utcnow()
    yesterday = business_today(now) - dt.timedelta(days=1)
    old = yesterday - dt.timedelta(days=HORIZON_DAYS + 15)
    async with ctx.db.session() as s, s.begin():
        await s.execute(delete(ProductDailySales).where(ProductDailySales.day > old))
        await s.execute(update(SalesRollup).where(SalesRollup.name == ROLLUP).values(through_day=old))
    await _assert_same_as_lines(ctx, now)  # days after the mark come from the lines
    assert await _run(ctx, now) == HORIZON_DAYS + 15
    async with ctx.db.session() as s:
        assert await rolled_up_through(s) == yesterday
    await _assert_same_as_lines(ctx, now)
    full = await _rows(ctx)
    async with ctx.db.session() as s, s.begin():
        await s.execute(delete(SalesRollup))
    await _assert_same_as_lines(ctx, now)  # not built: all from the lines
    await _run(ctx, now)  # no mark: every day since the first order
    assert await _rows(ctx) == full


async def test_best_sellers_and_the_best_selling_sort_equal_the_line_scan(ctx: AppContext) -> None:
    now = utcnow()
    await _run(ctx, now)
    async with ctx.db.session() as s:
        serving = await serving_branch(s, branch_id=None, customer_id=None)
        sold = _lines_since(now - dt.timedelta(days=BEST_SELLER_DAYS)).subquery()
        expected = list(
            (
                await s.scalars(
                    select(sold.c.product_id)
                    .where(sold.c.product_id.in_(listed_products(serving, now)))
                    .order_by(sold.c.qty.desc(), sold.c.product_id)
                    .limit(10)
                )
            ).all()
        )
        assert expected and await best_seller_ids(s, serving=serving, at=now, limit=10) == expected
        qty = dict((await s.execute(select(sold.c.product_id, sold.c.qty))).tuples().all())
        page = await search_products(
            s,
            filters=SearchFilters(),
            sort="best_selling",
            serving=serving,
            language="en",
            at=now,
            limit=20,
            after=None,
        )
    ids = [card["id"] for card in page["items"]]
    keys = [(int(qty.get(i, 0)), i) for i in ids]
    assert keys == sorted(keys, reverse=True) and keys[0][0] == max(int(q) for q in qty.values() if q)
