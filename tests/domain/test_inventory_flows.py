"""Inventory flows through the domain: goods receipts, transfers, adjustments and counts.

Each test creates its own branch, warehouses, products and supplier (unique codes), so seeded data
and other tests never interfere. Rejected commands must change nothing; after every flow the stock
ledger matches on hand and the general ledger balances.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.context import AppContext
from tsh.domain.accounting.models import JournalEntry, JournalLine
from tsh.domain.accounting.posting import account_id, rate_in_force, trial_balance, unbalanced_entries
from tsh.domain.catalog.models import Category, Product
from tsh.domain.identity.models import User
from tsh.domain.inventory import stock
from tsh.domain.inventory.adjustments import apply_adjustment
from tsh.domain.inventory.counts import complete_count, record_counts, start_count
from tsh.domain.inventory.models import (
    Adjustment,
    Count,
    CountLine,
    GoodsReceipt,
    StockLevel,
    StockMovement,
    Supplier,
    Transfer,
    TransferLine,
)
from tsh.domain.inventory.receipts import receive_goods
from tsh.domain.inventory.transfers import (
    cancel_transfer,
    dispatch_transfer,
    receive_transfer,
    request_transfer,
)
from tsh.domain.organisation.models import Branch, Warehouse
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError

D = Decimal


@dataclass
class World:
    branch: int
    main: int
    shop: int
    products: list[int]
    category: int
    supplier: int
    user: int


async def _world(ctx: AppContext, n: int = 3, *, limit: str | None = "100000") -> World:
    tag = uuid.uuid4().hex[:8]
    async with unit_of_work(ctx.db, ctx.bus) as s:
        branch = Branch(
            code=f"B{tag}",
            name_ar="فرع",
            name_en="Branch",
            city="Baghdad",
            address="x",
            adjustment_value_limit=None if limit is None else D(limit),
        )
        category = Category(name_ar="فئة", name_en=f"Cat {tag}")
        s.add_all([branch, category])
        await s.flush()
        main = Warehouse(branch_id=branch.id, code=f"M{tag}", name_ar="مخزن", name_en="Main", type="main")
        shop = Warehouse(branch_id=branch.id, code=f"S{tag}", name_ar="معرض", name_en="Shop", type="shop")
        products = [
            Product(sku=f"F-{tag}-{i}", name_ar="منتج", name_en=f"Product {i}", category_id=category.id)
            for i in range(n)
        ]
        supplier = Supplier(
            name=f"Supplier {tag}",
            currency="IQD",
            payable_account_id=await account_id(s, "payable_suppliers"),
        )
        s.add_all([main, shop, supplier, *products])
        await s.flush()
        user = await s.scalar(select(User.id).order_by(User.id).limit(1))
        assert user is not None
        return World(branch.id, main.id, shop.id, [p.id for p in products], category.id, supplier.id, user)


async def _stock_in(ctx: AppContext, w: World, wh: int, lines: list[tuple[int, int, str]]) -> None:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await receive_goods(
            s,
            supplier_id=w.supplier,
            warehouse_id=wh,
            lines=[(p, q, D(c), "IQD") for p, q, c in lines],
            received_by_id=w.user,
        )


async def _level(ctx: AppContext, wh: int, pid: int) -> StockLevel:
    async with ctx.db.session() as s:
        level = await s.scalar(
            select(StockLevel).where(StockLevel.warehouse_id == wh, StockLevel.product_id == pid)
        )
        assert level is not None
        return level


async def _state(ctx: AppContext, w: World) -> tuple[Any, ...]:
    """Everything a rejected command could have touched."""
    whs = (w.main, w.shop)
    async with ctx.db.session() as s:

        async def n(stmt: Any) -> Any:
            return await s.scalar(stmt)

        levels = (
            await s.execute(
                select(StockLevel.product_id, StockLevel.warehouse_id, StockLevel.on_hand)
                .add_columns(StockLevel.reserved, StockLevel.in_transit_in, StockLevel.avg_cost)
                .where(StockLevel.warehouse_id.in_(whs))
                .order_by(StockLevel.id)
            )
        ).all()
        transfers = (
            await s.execute(
                select(Transfer.id, Transfer.status, TransferLine.qty_dispatched, TransferLine.qty_received)
                .join(TransferLine)
                .where(Transfer.from_warehouse_id.in_(whs))
                .order_by(TransferLine.id)
            )
        ).all()
        counts = (
            await s.execute(
                select(Count.id, Count.status, CountLine.counted_qty)
                .join(CountLine)
                .where(Count.warehouse_id.in_(whs))
                .order_by(CountLine.id)
            )
        ).all()
        return (
            levels,
            transfers,
            counts,
            await n(
                select(func.count()).select_from(StockMovement).where(StockMovement.warehouse_id.in_(whs))
            ),
            await n(select(func.count()).select_from(JournalEntry)),
            await n(select(func.count()).select_from(Adjustment).where(Adjustment.warehouse_id.in_(whs))),
            await n(select(func.count()).select_from(GoodsReceipt).where(GoodsReceipt.warehouse_id.in_(whs))),
        )


async def _invariants(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        assert await stock.stock_invariant_violations(s) == []
        assert await unbalanced_entries(s) == []
        assert abs(await trial_balance(s)) < D("0.01")


async def _rejected(
    ctx: AppContext, w: World, code: str, command: Callable[[AsyncSession], Awaitable[Any]]
) -> AppError:
    """Run a command that must fail with `code` and leave everything as it was."""
    before = await _state(ctx, w)
    with pytest.raises(AppError) as err:
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await command(s)
    assert err.value.code == code, (err.value.code, err.value.details)
    assert await _state(ctx, w) == before
    return err.value


def _events(s: AsyncSession) -> set[str]:
    return {e.name for e in s.info.get("tsh_events", [])}


async def _entry_lines(ctx: AppContext, entry_id: int | None) -> dict[str, tuple[Decimal, Decimal]]:
    assert entry_id is not None
    keys = {"inventory", "inventory_adjustments", "payable_suppliers"}
    async with ctx.db.session() as s:
        ids = {await account_id(s, k): k for k in keys}
        rows = (
            await s.execute(
                select(JournalLine.account_id, JournalLine.base_debit, JournalLine.base_credit).where(
                    JournalLine.entry_id == entry_id
                )
            )
        ).all()
        return {ids[a]: (d, c) for a, d, c in rows}


# --- goods receipts ---------------------------------------------------------------------------------
async def test_receipt_in_iqd_raises_stock_reweighs_cost_and_posts_payable(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, _ = w.products
    await _stock_in(ctx, w, w.main, [(p0, 10, "1000")])
    async with unit_of_work(ctx.db, ctx.bus) as s:
        receipt = await receive_goods(
            s,
            supplier_id=w.supplier,
            warehouse_id=w.main,
            lines=[(p1, 5, D("200"), "IQD"), (p0, 10, D("2000"), "IQD")],
            received_by_id=w.user,
            reference="INV-778",
        )
        assert {"StockChanged", "JournalPosted"} <= _events(s)
        rid, entry_id = receipt.id, receipt.journal_entry_id
    assert receipt.total == D("21000.00") and receipt.currency == "IQD"
    level = await _level(ctx, w.main, p0)
    assert (level.on_hand, level.avg_cost) == (20, D("1500.00"))
    assert (await _level(ctx, w.main, p1)).on_hand == 5
    assert await _entry_lines(ctx, entry_id) == {
        "inventory": (D("21000.00"), D("0.00")),
        "payable_suppliers": (D("0.00"), D("21000.00")),
    }
    async with ctx.db.session() as s:
        entry = await s.get(JournalEntry, entry_id)
        assert entry is not None and entry.reference == "INV-778" and entry.source_id == rid
        moves = await s.scalar(
            select(func.count()).where(
                StockMovement.source_type == "goods_receipt", StockMovement.source_id == rid
            )
        )
        assert moves == 2
    await _invariants(ctx)


async def test_receipt_in_usd_converts_cost_at_rate_in_force(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0 = w.products[0]
    async with unit_of_work(ctx.db, ctx.bus) as s:
        rate = await rate_in_force(s, datetime.now(UTC))
        receipt = await receive_goods(
            s,
            supplier_id=w.supplier,
            warehouse_id=w.main,
            lines=[(p0, 4, D("12.50"), "USD")],
            received_by_id=w.user,
        )
        entry_id = receipt.journal_entry_id
    assert (receipt.currency, receipt.total, receipt.exchange_rate) == ("USD", D("50.00"), rate)
    level = await _level(ctx, w.main, p0)
    assert level.avg_cost == (D("12.50") * rate).quantize(D("0.01"))
    async with ctx.db.session() as s:
        entry = await s.get(JournalEntry, entry_id)
        assert entry is not None and entry.currency == "USD" and entry.total == D("50.00")
    await _invariants(ctx)


async def test_receipt_rejections_change_nothing(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, _ = w.products

    def receipt(lines: list[tuple[int, int, Decimal, str]], **kw: Any) -> Callable[[AsyncSession], Any]:
        args = {"supplier_id": w.supplier, "warehouse_id": w.main, "received_by_id": w.user, **kw}
        return lambda s: receive_goods(s, lines=lines, **args)

    err = await _rejected(ctx, w, "DUPLICATE_LINE", receipt([(p0, 1, D("5"), "IQD"), (p0, 2, D("5"), "IQD")]))
    assert err.details == [{"field": "lines[1].product_id", "issue": "duplicate product", "product_id": p0}]
    err = await _rejected(
        ctx, w, "VALIDATION_ERROR", receipt([(p0, 1, D("5"), "IQD"), (p1, 0, D("5"), "USD")])
    )
    assert {d["field"] for d in err.details or []} == {"lines[1].qty", "lines[1].currency"}
    await _rejected(ctx, w, "VALIDATION_ERROR", receipt([]))
    await _rejected(ctx, w, "INVALID_AMOUNT", receipt([(p0, 1, D("5.5"), "IQD")]))
    await _rejected(ctx, w, "SUPPLIER_NOT_FOUND", receipt([(p0, 1, D("5"), "IQD")], supplier_id=2**31 - 1))
    await _rejected(ctx, w, "WAREHOUSE_NOT_FOUND", receipt([(p0, 1, D("5"), "IQD")], warehouse_id=2**31 - 1))
    err = await _rejected(
        ctx, w, "PRODUCT_NOT_FOUND", receipt([(p0, 1, D("5"), "IQD"), (2**31 - 1, 1, D("5"), "IQD")])
    )
    assert [d["field"] for d in err.details or []] == ["lines[1].product_id"]


# --- transfers ---------------------------------------------------------------------------------------
async def test_transfer_request_rules(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, _ = w.products

    def req(frm: int, to: int, lines: list[tuple[int, int]]) -> Callable[[AsyncSession], Any]:
        return lambda s: request_transfer(
            s, from_warehouse_id=frm, to_warehouse_id=to, lines=lines, requested_by_id=w.user
        )

    await _rejected(ctx, w, "SAME_WAREHOUSE", req(w.main, w.main, [(p0, 1)]))
    await _rejected(ctx, w, "DUPLICATE_LINE", req(w.main, w.shop, [(p0, 1), (p1, 1), (p0, 2)]))
    await _rejected(ctx, w, "VALIDATION_ERROR", req(w.main, w.shop, [(p0, 0)]))
    await _rejected(ctx, w, "WAREHOUSE_NOT_FOUND", req(w.main, 2**31 - 1, [(p0, 1)]))
    await _rejected(ctx, w, "PRODUCT_NOT_FOUND", req(w.main, w.shop, [(2**31 - 1, 1)]))
    # Availability is checked at dispatch, not at request: nothing is in stock yet.
    async with unit_of_work(ctx.db, ctx.bus) as s:
        t = await request_transfer(
            s, from_warehouse_id=w.main, to_warehouse_id=w.shop, lines=[(p0, 3)], requested_by_id=w.user
        )
        assert _events(s) == {"TransferChanged"}
    assert t.status == "requested"
    async with ctx.db.session() as s:
        assert (
            await s.scalar(
                select(func.count()).where(
                    StockMovement.source_type == "transfer", StockMovement.source_id == t.id
                )
            )
            == 0
        )


async def _transfer(ctx: AppContext, w: World, lines: list[tuple[int, int]]) -> int:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        t = await request_transfer(
            s, from_warehouse_id=w.main, to_warehouse_id=w.shop, lines=lines, requested_by_id=w.user
        )
        return t.id


async def test_dispatch_checks_availability_and_quantities(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, p2 = w.products
    await _stock_in(ctx, w, w.main, [(p0, 10, "1000"), (p1, 2, "500")])
    async with unit_of_work(ctx.db, ctx.bus) as s:  # an order holds 4 of p0
        await stock.reserve(s, warehouse_id=w.main, lines=[(p0, 4)])
    tid = await _transfer(ctx, w, [(p0, 7), (p1, 2), (p2, 1)])

    def dispatch(lines: list[tuple[int, int]] | None) -> Callable[[AsyncSession], Any]:
        return lambda s: dispatch_transfer(s, transfer_id=tid, dispatched_by_id=w.user, lines=lines)

    err = await _rejected(ctx, w, "INSUFFICIENT_STOCK", dispatch(None))
    assert {(d["product_id"], d["available"]) for d in err.details or []} == {(p0, 6), (p2, 0)}
    await _rejected(ctx, w, "OVER_DISPATCH", dispatch([(p0, 8)]))
    await _rejected(ctx, w, "DUPLICATE_LINE", dispatch([(p0, 1), (p0, 1)]))
    await _rejected(ctx, w, "VALIDATION_ERROR", dispatch([(p0, -1)]))
    await _rejected(ctx, w, "VALIDATION_ERROR", dispatch([(p0, 0), (p1, 0), (p2, 0)]))
    await _rejected(
        ctx,
        w,
        "TRANSFER_NOT_FOUND",
        lambda s: dispatch_transfer(s, transfer_id=2**31 - 1, dispatched_by_id=w.user),
    )
    async with unit_of_work(ctx.db, ctx.bus) as s:
        t = await dispatch_transfer(s, transfer_id=tid, dispatched_by_id=w.user, lines=[(p0, 6), (p2, 0)])
        assert _events(s) == {"TransferChanged", "StockChanged"}
    assert t.status == "dispatched"
    assert {ln.product_id: (ln.qty_dispatched, ln.unit_cost) for ln in t.lines} == {
        p0: (6, D("1000.00")),
        p1: (2, D("500.00")),
        p2: (0, None),
    }
    src, dst = await _level(ctx, w.main, p0), await _level(ctx, w.shop, p0)
    assert (src.on_hand, src.reserved, dst.on_hand, dst.in_transit_in) == (4, 4, 0, 6)
    assert (await _level(ctx, w.shop, p1)).in_transit_in == 2
    await _rejected(ctx, w, "INVALID_STATE", dispatch(None))
    await _rejected(
        ctx,
        w,
        "INVALID_STATE",
        lambda s: cancel_transfer(s, transfer_id=tid, cancelled_by_id=w.user, reason="x"),
    )
    await _invariants(ctx)


async def test_full_receipt_reweighs_destination_cost(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0 = w.products[0]
    await _stock_in(ctx, w, w.main, [(p0, 10, "1000")])
    await _stock_in(ctx, w, w.shop, [(p0, 10, "2000")])
    tid = await _transfer(ctx, w, [(p0, 10)])
    await _rejected(
        ctx,
        w,
        "INVALID_STATE",
        lambda s: receive_transfer(s, transfer_id=tid, received_by_id=w.user, lines=[(p0, 10)]),
    )
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await dispatch_transfer(s, transfer_id=tid, dispatched_by_id=w.user)
    entries = (await _state(ctx, w))[4]
    async with unit_of_work(ctx.db, ctx.bus) as s:
        t = await receive_transfer(s, transfer_id=tid, received_by_id=w.user, lines=[(p0, 10)], note="ok")
        assert _events(s) == {"TransferChanged", "StockChanged"}
    assert (t.status, t.journal_entry_id, t.receipt_note) == ("received", None, "ok")
    dst = await _level(ctx, w.shop, p0)
    assert (dst.on_hand, dst.in_transit_in, dst.avg_cost) == (20, 0, D("1500.00"))
    assert (await _state(ctx, w))[4] == entries  # no journal entry without a loss
    await _invariants(ctx)


async def test_short_receipt_writes_off_the_loss(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, _ = w.products
    await _stock_in(ctx, w, w.main, [(p0, 10, "1000"), (p1, 5, "333")])
    tid = await _transfer(ctx, w, [(p0, 8), (p1, 5)])
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await dispatch_transfer(s, transfer_id=tid, dispatched_by_id=w.user)

    def receive(lines: list[tuple[int, int]]) -> Callable[[AsyncSession], Any]:
        return lambda s: receive_transfer(s, transfer_id=tid, received_by_id=w.user, lines=lines)

    err = await _rejected(ctx, w, "OVER_RECEIPT", receive([(p0, 9), (p1, 5)]))
    assert err.details == [
        {
            "field": "lines[0].qty_received",
            "issue": "above the dispatched quantity",
            "product_id": p0,
            "dispatched": 8,
        }
    ]
    await _rejected(ctx, w, "VALIDATION_ERROR", receive([(p0, 8)]))  # p1 not listed
    await _rejected(ctx, w, "VALIDATION_ERROR", receive([(p0, 8), (p1, 5), (w.products[2], 0)]))
    await _rejected(ctx, w, "DUPLICATE_LINE", receive([(p0, 8), (p0, 8)]))
    async with unit_of_work(ctx.db, ctx.bus) as s:
        t = await receive_transfer(s, transfer_id=tid, received_by_id=w.user, lines=[(p0, 6), (p1, 0)])
        assert _events(s) == {"TransferChanged", "StockChanged", "JournalPosted"}
    assert t.status == "received_short"
    assert {ln.product_id: ln.qty_received for ln in t.lines} == {p0: 6, p1: 0}
    d0, d1 = await _level(ctx, w.shop, p0), await _level(ctx, w.shop, p1)
    assert (d0.on_hand, d0.in_transit_in, d0.avg_cost, d1.on_hand, d1.in_transit_in) == (
        6,
        0,
        D("1000.00"),
        0,
        0,
    )
    loss = D(2 * 1000 + 5 * 333)
    assert await _entry_lines(ctx, t.journal_entry_id) == {
        "inventory_adjustments": (loss, D("0.00")),
        "inventory": (D("0.00"), loss),
    }
    async with ctx.db.session() as s:
        losses = (
            await s.execute(
                select(
                    StockMovement.product_id,
                    StockMovement.qty,
                    StockMovement.unit_cost,
                    StockMovement.on_hand_after,
                )
                .where(StockMovement.type == "transfer_loss", StockMovement.source_id == tid)
                .order_by(StockMovement.product_id)
            )
        ).all()
    assert [tuple(r) for r in losses] == [(p0, -2, D("1000.00"), 6), (p1, -5, D("333.00"), 0)]
    await _rejected(ctx, w, "INVALID_STATE", receive([(p0, 8), (p1, 5)]))
    await _invariants(ctx)


async def test_cancel_only_a_requested_transfer(ctx: AppContext) -> None:
    w = await _world(ctx)
    tid = await _transfer(ctx, w, [(w.products[0], 1)])

    def cancel(reason: str) -> Callable[[AsyncSession], Any]:
        return lambda s: cancel_transfer(s, transfer_id=tid, cancelled_by_id=w.user, reason=reason)

    await _rejected(ctx, w, "VALIDATION_ERROR", cancel("  "))
    async with unit_of_work(ctx.db, ctx.bus) as s:
        t = await cancel_transfer(s, transfer_id=tid, cancelled_by_id=w.user, reason="not needed")
        assert _events(s) == {"TransferChanged"}
    assert (t.status, t.cancel_reason, t.cancelled_by_id) == ("cancelled", "not needed", w.user)
    await _rejected(ctx, w, "INVALID_STATE", cancel("again"))
    await _rejected(
        ctx, w, "INVALID_STATE", lambda s: dispatch_transfer(s, transfer_id=tid, dispatched_by_id=w.user)
    )


# --- adjustments -------------------------------------------------------------------------------------
def _adjust(w: World, lines: list[tuple[int, int]], role: str = "inventory_manager", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "warehouse_id": w.main,
        "reason": "damage",
        "note": "broken",
        "by_id": w.user,
        **kw,
    }
    return lambda s: apply_adjustment(s, lines=lines, role=role, **args)


async def test_adjustment_at_average_cost_posts_loss_and_gain(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, _ = w.products
    await _stock_in(ctx, w, w.main, [(p0, 10, "1000"), (p1, 10, "250")])
    async with unit_of_work(ctx.db, ctx.bus) as s:
        adj = await _adjust(w, [(p1, -4), (p0, 1)], reason="correction", media_ids=[7])(s)
        assert _events(s) == {"StockChanged"}
    assert (adj.value, adj.source, adj.media_ids) == (D("0.00"), "manual", [7])  # +1000 - 4 x 250
    assert adj.journal_entry_id is None  # nothing to post
    async with unit_of_work(ctx.db, ctx.bus) as s:
        loss = await _adjust(w, [(p0, -3)], reason="damage")(s)
        assert _events(s) == {"StockChanged", "JournalPosted"}
    assert loss.value == D("-3000.00")
    assert await _entry_lines(ctx, loss.journal_entry_id) == {
        "inventory_adjustments": (D("3000.00"), D("0.00")),
        "inventory": (D("0.00"), D("3000.00")),
    }
    async with unit_of_work(ctx.db, ctx.bus) as s:
        gain = await _adjust(w, [(p1, 2)], reason="found")(s)
    assert await _entry_lines(ctx, gain.journal_entry_id) == {
        "inventory": (D("500.00"), D("0.00")),
        "inventory_adjustments": (D("0.00"), D("500.00")),
    }
    l0, l1 = await _level(ctx, w.main, p0), await _level(ctx, w.main, p1)
    assert (l0.on_hand, l0.avg_cost, l1.on_hand, l1.avg_cost) == (8, D("1000.00"), 8, D("250.00"))
    async with ctx.db.session() as s:
        types = set(
            await s.scalars(
                select(StockMovement.type).where(
                    StockMovement.source_type == "adjustment", StockMovement.source_id == loss.id
                )
            )
        )
    assert types == {"adjustment"}
    await _invariants(ctx)


async def test_adjustment_rejections_change_nothing(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, p2 = w.products
    await _stock_in(ctx, w, w.main, [(p0, 2, "1000"), (p1, 5, "1000")])
    err = await _rejected(ctx, w, "NEGATIVE_STOCK", _adjust(w, [(p0, -3), (p1, -5), (p2, -1)]))
    assert [(d["field"], d["on_hand"]) for d in err.details or []] == [
        ("lines[0].qty_delta", 2),
        ("lines[2].qty_delta", 0),
    ]
    await _rejected(ctx, w, "DUPLICATE_LINE", _adjust(w, [(p0, -1), (p0, -1)]))
    await _rejected(ctx, w, "VALIDATION_ERROR", _adjust(w, [(p0, 0)]))
    await _rejected(ctx, w, "VALIDATION_ERROR", _adjust(w, [(p0, -1)], reason="count"))
    await _rejected(ctx, w, "VALIDATION_ERROR", _adjust(w, [(p0, -1)], note=" "))
    await _rejected(ctx, w, "VALIDATION_ERROR", _adjust(w, []))
    await _rejected(ctx, w, "WAREHOUSE_NOT_FOUND", _adjust(w, [(p0, -1)], warehouse_id=2**31 - 1))
    await _rejected(ctx, w, "PRODUCT_NOT_FOUND", _adjust(w, [(2**31 - 1, 1)]))
    await _invariants(ctx)


async def test_branch_manager_is_bound_by_the_adjustment_limit(ctx: AppContext) -> None:
    w = await _world(ctx, limit="100000")
    p0, p1, _ = w.products
    await _stock_in(ctx, w, w.main, [(p0, 100, "1000"), (p1, 100, "1000")])
    # Gross value 120,000 > 100,000 although the net value is 0.
    err = await _rejected(
        ctx, w, "APPROVAL_REQUIRED", _adjust(w, [(p0, -60), (p1, 60)], role="branch_manager")
    )
    assert err.status == 403 and err.details and err.details[0]["limit"] == "100000.00"
    async with unit_of_work(ctx.db, ctx.bus) as s:  # at the limit is allowed
        await _adjust(w, [(p0, -100)], role="branch_manager")(s)
    for role in ("inventory_manager", "admin"):
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await _adjust(w, [(p1, -50)], role=role)(s)
    assert (await _level(ctx, w.main, p0)).on_hand == 0
    assert (await _level(ctx, w.main, p1)).on_hand == 0
    await _invariants(ctx)


async def test_unconfigured_limit_falls_back_to_default(ctx: AppContext) -> None:
    w = await _world(ctx, limit=None)
    p0 = w.products[0]
    await _stock_in(ctx, w, w.main, [(p0, 3, "1000000")])
    await _rejected(ctx, w, "APPROVAL_REQUIRED", _adjust(w, [(p0, -3)], role="branch_manager"))
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await _adjust(w, [(p0, -2)], role="branch_manager")(s)
    await _invariants(ctx)


# --- counts -----------------------------------------------------------------------------------------
async def test_count_scopes_and_overlap(ctx: AppContext) -> None:
    w = await _world(ctx, n=4)
    p0, p1, p2, p3 = w.products
    await _stock_in(ctx, w, w.main, [(p0, 5, "100"), (p1, 6, "100"), (p2, 7, "100")])

    def start(scope: str, **kw: Any) -> Callable[[AsyncSession], Any]:
        return lambda s: start_count(s, warehouse_id=w.main, scope=scope, started_by_id=w.user, **kw)

    await _rejected(
        ctx,
        w,
        "EMPTY_SCOPE",
        lambda s: start_count(s, warehouse_id=w.shop, scope="full", started_by_id=w.user),
    )
    await _rejected(ctx, w, "EMPTY_SCOPE", start("products", product_ids=[]))
    await _rejected(ctx, w, "VALIDATION_ERROR", start("category"))
    await _rejected(ctx, w, "CATEGORY_NOT_FOUND", start("category", category_id=2**31 - 1))
    await _rejected(ctx, w, "PRODUCT_NOT_FOUND", start("products", product_ids=[p0, 2**31 - 1]))
    async with unit_of_work(ctx.db, ctx.bus) as s:
        c1 = await start("products", product_ids=[p1, p0, p3], blind=False)(s)
        assert _events(s) == {"CountChanged"}
    assert (c1.status, c1.blind) == ("open", False)
    assert {ln.product_id: ln.snapshot_qty for ln in c1.lines} == {p0: 5, p1: 6, p3: 0}
    await _rejected(ctx, w, "COUNT_IN_PROGRESS", start("products", product_ids=[p2, p3]))
    await _rejected(ctx, w, "COUNT_IN_PROGRESS", start("full"))
    await _rejected(ctx, w, "COUNT_IN_PROGRESS", start("category", category_id=w.category))
    async with unit_of_work(ctx.db, ctx.bus) as s:  # no shared product
        c2 = await start("products", product_ids=[p2])(s)
    assert c2.blind is True
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await complete_count(s, count_id=c1.id, completed_by_id=w.user, role="inventory_manager", apply=False)
        await complete_count(s, count_id=c2.id, completed_by_id=w.user, role="inventory_manager", apply=False)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        c3 = await start("category", category_id=w.category)(s)
    # The stock rows of the warehouse (p3 got one when the first count locked it).
    assert {ln.product_id: ln.snapshot_qty for ln in c3.lines} == {p0: 5, p1: 6, p2: 7, p3: 0}
    await _invariants(ctx)


async def test_count_records_and_books_variances(ctx: AppContext) -> None:
    w = await _world(ctx, n=4)
    p0, p1, p2, p3 = w.products
    await _stock_in(ctx, w, w.main, [(p0, 10, "1000"), (p1, 10, "500"), (p2, 4, "100")])
    async with unit_of_work(ctx.db, ctx.bus) as s:
        count = await start_count(s, warehouse_id=w.main, scope="full", started_by_id=w.user)
    cid = count.id
    assert {ln.product_id for ln in count.lines} == {p0, p1, p2}
    # Stock keeps moving during the count: 3 of p0 leave and 2 of p3 arrive.
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await stock.issue(
            s,
            warehouse_id=w.main,
            product_id=p0,
            qty=3,
            movement_type="sale",
            source_type="order",
            source_id=None,
            by_id=None,
        )
    await _stock_in(ctx, w, w.main, [(p3, 2, "50")])

    def record(lines: list[tuple[int, int]]) -> Callable[[AsyncSession], Any]:
        return lambda s: record_counts(s, count_id=cid, lines=lines, counted_by_id=w.user)

    await _rejected(ctx, w, "VALIDATION_ERROR", record([(p0, -1)]))
    await _rejected(ctx, w, "DUPLICATE_LINE", record([(p0, 1), (p0, 2)]))
    await _rejected(ctx, w, "PRODUCT_NOT_FOUND", record([(2**31 - 1, 1)]))
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await record_counts(s, count_id=cid, lines=[(p0, 9), (p1, 8)], counted_by_id=w.user)
        assert _events(s) == {"CountChanged"}
    async with unit_of_work(ctx.db, ctx.bus) as s:  # sets, does not add; p3 joins the full count
        c = await record_counts(s, count_id=cid, lines=[(p0, 6), (p3, 2)], counted_by_id=w.user)
    assert {ln.product_id: (ln.snapshot_qty, ln.counted_qty) for ln in c.lines} == {
        p0: (10, 6),
        p1: (10, 8),
        p2: (4, None),
        p3: (0, 2),
    }
    await _rejected(
        ctx,
        w,
        "APPROVAL_REQUIRED",
        lambda s: _big_variance(s, w, cid),
    )
    async with unit_of_work(ctx.db, ctx.bus) as s:
        c = await complete_count(
            s, count_id=cid, completed_by_id=w.user, role="branch_manager", apply=True, note="yearly"
        )
        assert {"CountChanged", "StockChanged", "JournalPosted"} <= _events(s)
    # p0: 6 - (10 - 3) = -1; p1: 8 - 10 = -2; p2 uncounted (ignored); p3: 2 - (0 + 2) = 0.
    assert {ln.product_id: ln.variance for ln in c.lines} == {p0: -1, p1: -2, p2: None, p3: 0}
    assert (c.status, c.variance_value, c.note) == ("completed", D("-2000.00"), "yearly")
    async with ctx.db.session() as s:
        adj = await s.get(Adjustment, c.adjustment_id)
        assert adj is not None and (adj.source, adj.reason, adj.count_id, adj.value) == (
            "count",
            "count",
            cid,
            D("-2000.00"),
        )
        types = set(
            await s.scalars(
                select(StockMovement.type).where(
                    StockMovement.source_id == adj.id, StockMovement.source_type == "adjustment"
                )
            )
        )
        assert types == {"count"}
    assert await _entry_lines(ctx, adj.journal_entry_id) == {
        "inventory_adjustments": (D("2000.00"), D("0.00")),
        "inventory": (D("0.00"), D("2000.00")),
    }
    levels = [await _level(ctx, w.main, p) for p in w.products]
    assert [lv.on_hand for lv in levels] == [6, 8, 4, 2]
    await _rejected(ctx, w, "COUNT_CLOSED", record([(p0, 1)]))
    await _rejected(
        ctx,
        w,
        "COUNT_CLOSED",
        lambda s: complete_count(s, count_id=cid, completed_by_id=w.user, role="admin", apply=True),
    )
    await _invariants(ctx)


async def _big_variance(s: AsyncSession, w: World, cid: int) -> None:
    """Counting p1 at 1000 makes the gross variance value exceed the 100,000 limit."""
    await record_counts(s, count_id=cid, lines=[(w.products[1], 1000)], counted_by_id=w.user)
    await complete_count(s, count_id=cid, completed_by_id=w.user, role="branch_manager", apply=True)


async def test_count_without_apply_and_uncounted_zero(ctx: AppContext) -> None:
    w = await _world(ctx)
    p0, p1, p2 = w.products
    await _stock_in(ctx, w, w.main, [(p0, 5, "100"), (p1, 3, "100")])
    async with unit_of_work(ctx.db, ctx.bus) as s:
        count = await start_count(
            s, warehouse_id=w.main, scope="products", product_ids=[p0, p1], started_by_id=w.user
        )
    cid = count.id
    await _rejected(
        ctx,
        w,
        "PRODUCT_NOT_IN_COUNT",
        lambda s: record_counts(s, count_id=cid, lines=[(p0, 5), (p2, 1)], counted_by_id=w.user),
    )
    async with unit_of_work(ctx.db, ctx.bus) as s:
        await record_counts(s, count_id=cid, lines=[(p0, 4)], counted_by_id=w.user)
    before = await _state(ctx, w)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        c = await complete_count(
            s, count_id=cid, completed_by_id=w.user, role="inventory_manager", apply=False, uncounted="zero"
        )
        assert _events(s) == {"CountChanged"}
    assert {ln.product_id: (ln.counted_qty, ln.variance) for ln in c.lines} == {p0: (4, -1), p1: (0, -3)}
    assert (c.variance_value, c.adjustment_id) == (D("-400.00"), None)
    after = await _state(ctx, w)
    assert (after[0], after[3], after[4], after[5]) == (before[0], before[3], before[4], before[5])
    await _invariants(ctx)
