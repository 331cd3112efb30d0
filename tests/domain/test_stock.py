"""Stock services: all-or-nothing reservations, issues below zero, average cost, the movement ledger.

Each test creates its own branch, warehouse and products (unique codes), so seeded stock never
interferes; rejected commands must change nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tsh.context import AppContext
from tsh.domain.catalog.models import Category, Product
from tsh.domain.inventory.models import StockLevel, StockMovement
from tsh.domain.inventory.stock import (
    adjust,
    ensure_available,
    issue,
    lock_levels,
    receive,
    reserve,
    stock_invariant_violations,
)
from tsh.domain.organisation.models import Branch, Warehouse
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError

D = Decimal


async def _setup(ctx: AppContext, n: int) -> tuple[int, list[int]]:
    """A new branch with a main warehouse, and n active products."""
    tag = uuid.uuid4().hex[:8]
    async with unit_of_work(ctx.db, ctx.bus) as s:
        branch = Branch(code=f"B{tag}", name_ar="فرع", name_en="Branch", city="Baghdad", address="x")
        category = Category(name_ar="فئة", name_en=f"Cat {tag}")
        s.add_all([branch, category])
        await s.flush()
        wh = Warehouse(branch_id=branch.id, code=f"W{tag}", name_ar="مخزن", name_en="Main", type="main")
        products = [
            Product(sku=f"T-{tag}-{i}", name_ar="منتج", name_en=f"Product {i}", category_id=category.id)
            for i in range(n)
        ]
        s.add_all([wh, *products])
        await s.flush()
        return wh.id, [p.id for p in products]


async def _level(ctx: AppContext, wh: int, pid: int) -> StockLevel | None:
    async with ctx.db.session() as s:
        return await s.scalar(
            select(StockLevel).where(StockLevel.warehouse_id == wh, StockLevel.product_id == pid)
        )


async def _movements(ctx: AppContext, wh: int) -> int:
    async with ctx.db.session() as s:
        return int(await s.scalar(select(func.count()).where(StockMovement.warehouse_id == wh)) or 0)


async def _receive(ctx: AppContext, wh: int, pid: int, qty: int, cost: str, kind: str = "receipt") -> None:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await receive(
            s,
            warehouse_id=wh,
            product_id=pid,
            qty=qty,
            unit_cost=D(cost),
            movement_type=kind,
            source_type="goods_receipt",
            source_id=None,
            by_id=None,
        )


async def test_average_cost_is_reweighted_on_receipts_only(ctx: AppContext) -> None:
    wh, (p,) = await _setup(ctx, 1)
    await _receive(ctx, wh, p, 10, "1000")
    await _receive(ctx, wh, p, 10, "2000")
    level = await _level(ctx, wh, p)
    assert level is not None and (level.on_hand, level.avg_cost) == (20, D(1500))
    async with unit_of_work(ctx.db, ctx.bus) as s:
        cost = await issue(
            s,
            warehouse_id=wh,
            product_id=p,
            qty=5,
            movement_type="sale",
            source_type="order",
            source_id=None,
            by_id=None,
        )
    assert cost == D(1500)
    await _receive(ctx, wh, p, 1, "9999", kind="refund")  # comes back at the current average cost
    await _receive(ctx, wh, p, 4, "3000", kind="transfer_in")  # (16 x 1500 + 4 x 3000) / 20 = 1800
    level = await _level(ctx, wh, p)
    assert level is not None and (level.on_hand, level.avg_cost) == (20, D(1800))
    async with ctx.db.session() as s:
        moves = (
            await s.execute(
                select(
                    StockMovement.type,
                    StockMovement.qty,
                    StockMovement.unit_cost,
                    StockMovement.on_hand_after,
                )
                .where(StockMovement.warehouse_id == wh)
                .order_by(StockMovement.id)
            )
        ).all()
    assert [tuple(m) for m in moves] == [
        ("receipt", 10, D(1000), 10),
        ("receipt", 10, D(2000), 20),
        ("sale", -5, D(1500), 15),
        ("refund", 1, D(1500), 16),
        ("transfer_in", 4, D(3000), 20),
    ]


async def test_issue_below_zero_is_refused(ctx: AppContext) -> None:
    wh, (p,) = await _setup(ctx, 1)
    await _receive(ctx, wh, p, 3, "500")
    before = await _movements(ctx, wh)
    with pytest.raises(AppError) as exc:
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await issue(
                s,
                warehouse_id=wh,
                product_id=p,
                qty=4,
                movement_type="pos_sale",
                source_type="pos_transaction",
                source_id=None,
                by_id=None,
                field="lines[0].qty",
            )
    assert (exc.value.status, exc.value.code) == (409, "INSUFFICIENT_STOCK")
    assert exc.value.details == [
        {"field": "lines[0].qty", "issue": "insufficient stock", "product_id": p, "available": 3}
    ]
    level = await _level(ctx, wh, p)
    assert level is not None and level.on_hand == 3 and await _movements(ctx, wh) == before


async def test_reserve_is_all_or_nothing_and_lists_every_short_line(ctx: AppContext) -> None:
    wh, (a, b, c) = await _setup(ctx, 3)
    await _receive(ctx, wh, a, 5, "100")
    await _receive(ctx, wh, b, 2, "100")
    with pytest.raises(AppError) as exc:
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await reserve(s, warehouse_id=wh, lines=[(a, 3), (b, 5), (c, 1)])
    assert (exc.value.status, exc.value.code) == (409, "INSUFFICIENT_STOCK")
    assert exc.value.details == [
        {"field": "lines[1].qty", "issue": "insufficient stock", "product_id": b, "available": 2},
        {"field": "lines[2].qty", "issue": "insufficient stock", "product_id": c, "available": 0},
    ]
    level_a = await _level(ctx, wh, a)
    assert level_a is not None and level_a.reserved == 0
    assert await _level(ctx, wh, c) is None  # the zero row created while checking was rolled back
    # Two lines of one product are checked together.
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await reserve(s, warehouse_id=wh, lines=[(a, 3), (a, 2)])
    level_a = await _level(ctx, wh, a)
    assert level_a is not None and (level_a.on_hand, level_a.reserved) == (5, 5)
    with pytest.raises(AppError) as exc:
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await ensure_available(s, warehouse_id=wh, lines=[(a, 1)], field_prefix="items")
    assert exc.value.details and exc.value.details[0]["field"] == "items[0].qty"
    # Shipping a reserved quantity needs on hand only.
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await issue(
            s,
            warehouse_id=wh,
            product_id=a,
            qty=5,
            movement_type="sale",
            source_type="order",
            source_id=None,
            by_id=None,
            from_reserved=5,
        )
    level_a = await _level(ctx, wh, a)
    assert level_a is not None and (level_a.on_hand, level_a.reserved) == (0, 0)


async def test_adjust_signed_and_never_negative(ctx: AppContext) -> None:
    wh, (p,) = await _setup(ctx, 1)
    await _receive(ctx, wh, p, 4, "250")
    async with unit_of_work(ctx.db, ctx.bus) as s:
        assert await adjust(
            s,
            warehouse_id=wh,
            product_id=p,
            qty_delta=-1,
            movement_type="adjustment",
            source_type="adjustment",
            source_id=None,
            by_id=None,
        ) == D(250)
        await adjust(
            s,
            warehouse_id=wh,
            product_id=p,
            qty_delta=2,
            movement_type="count",
            source_type="adjustment",
            source_id=None,
            by_id=None,
        )
    before = await _movements(ctx, wh)
    with pytest.raises(AppError) as exc:
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await adjust(
                s,
                warehouse_id=wh,
                product_id=p,
                qty_delta=-6,
                movement_type="adjustment",
                source_type="adjustment",
                source_id=None,
                by_id=None,
            )
    assert (exc.value.status, exc.value.code) == (409, "NEGATIVE_STOCK")
    level = await _level(ctx, wh, p)
    assert level is not None and (level.on_hand, level.avg_cost) == (5, D(250))
    assert await _movements(ctx, wh) == before


async def test_lock_levels_creates_missing_rows(ctx: AppContext) -> None:
    wh, (a, b) = await _setup(ctx, 2)
    await _receive(ctx, wh, b, 1, "10")
    async with unit_of_work(ctx.db, ctx.bus) as s:
        levels = await lock_levels(s, warehouse_id=wh, product_ids=[b, a, b])
        assert sorted(levels) == sorted([a, b])
        assert (levels[a].on_hand, levels[a].reserved, levels[b].on_hand) == (0, 0, 1)


async def test_stock_invariant_holds(ctx: AppContext) -> None:
    wh, (p,) = await _setup(ctx, 1)
    await _receive(ctx, wh, p, 2, "10")
    async with ctx.db.session() as s:
        assert await stock_invariant_violations(s) == []


async def test_concurrent_reservations_never_oversell(ctx: AppContext) -> None:
    wh, (p,) = await _setup(ctx, 1)
    await _receive(ctx, wh, p, 5, "100")

    async def one() -> bool:
        try:
            async with unit_of_work(ctx.db, ctx.bus) as s:
                await reserve(s, warehouse_id=wh, lines=[(p, 1)])
                await asyncio.sleep(0.005)  # hold the lock while the others queue
        except AppError as exc:
            assert exc.code == "INSUFFICIENT_STOCK"
            return False
        return True

    results = await asyncio.gather(*(one() for _ in range(8)))
    level = await _level(ctx, wh, p)
    assert sum(results) == 5 and level is not None and level.reserved == 5
