"""Stock services: reservations, issues, receipts and adjustments of StockLevel rows.

Every change of on hand writes exactly one StockMovement in the same transaction, so per product and
warehouse on hand = Σ movement qty (transfer_loss excepted: it writes off in-transit stock and leaves
on hand unchanged, see StockMovement.on_hand_after). `stock_invariant_violations` checks it.

Concurrency: rows are locked with SELECT ... FOR UPDATE in product-id order (then warehouse order
where several warehouses are touched), so two commands touching the same products never deadlock;
on SQLite, which has no row locks, every command's transaction holds the database write lock from
its start (`Database.command_session`, BEGIN IMMEDIATE).
The CHECK constraints (on_hand >= 0, reserved >= 0) back the checks up. Changes go through the ORM
so the delta-sync hook bumps StockLevel.version.

Average cost (IQD, kept with 2 decimals like the column) is re-weighted only when stock arrives
from outside the warehouse (receipt, transfer_in); issues, adjustments, counts, refunds and returns
use the current average cost.

Reservations: `reserve` raises `reserved` and, given order line ids, writes StockReservation rows;
`release` deletes the rows and lowers `reserved` by their quantity. When an order ships, call
`release` for its lines and then `issue` with from_reserved=0; `from_reserved` is only for a
reserved quantity that has no StockReservation row, since it lowers `reserved` without touching rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.events import raise_event
from tsh.domain.inventory.models import (
    INBOUND_MOVEMENTS,
    OUTBOUND_MOVEMENTS,
    StockLevel,
    StockMovement,
    StockReservation,
)
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

CENT = Decimal("0.01")
# Arrivals that bring their own cost into the warehouse.
REWEIGHING_MOVEMENTS = ("receipt", "transfer_in")
ADJUSTING_MOVEMENTS = ("adjustment", "count")
SALE_MOVEMENTS = ("sale", "pos_sale")


def available(level: StockLevel) -> int:
    """on_hand − reserved; negative when later losses left reservations uncovered."""
    return level.on_hand - level.reserved


def stock_status(available_qty: int, reorder_point: int) -> str:
    """The one stock-status rule (apps/inventory.md): `out` when available ≤ 0, `low` when
    available ≤ reorder point, else `ok` (the wholesale band calls it `in_stock`)."""
    if available_qty <= 0:
        return "out"
    if available_qty <= reorder_point:
        return "low"
    return "ok"


def stock_status_sql() -> Any:
    """`stock_status` as a SQL expression over StockLevel, for filters and counts."""
    free = StockLevel.on_hand - StockLevel.reserved
    return case((free <= 0, "out"), (free <= StockLevel.reorder_point, "low"), else_="ok")


def _stock_changed(session: AsyncSession, warehouse_id: int, product_ids: Iterable[int]) -> None:
    # Catalogue and stock screens are branch-wide or company-wide: invalidate them all.
    raise_event(
        session, "StockChanged", everyone=True, warehouse_id=warehouse_id, product_ids=sorted(product_ids)
    )


def _positive(qty: int, field: str) -> None:
    if qty <= 0:
        raise Invalid("Quantity must be positive", details=[field_error(field, "must be greater than 0")])


async def lock_levels(
    session: AsyncSession, *, warehouse_id: int, product_ids: Iterable[int]
) -> dict[int, StockLevel]:
    """Lock (FOR UPDATE, product-id order) the stock rows of these products, creating missing ones."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    # Write the caller's pending changes first: populate_existing would otherwise overwrite them.
    await session.flush()
    stmt = (
        select(StockLevel)
        .where(StockLevel.warehouse_id == warehouse_id, StockLevel.product_id.in_(ids))
        .order_by(StockLevel.product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    levels = {lv.product_id: lv for lv in await session.scalars(stmt)}
    missing = [p for p in ids if p not in levels]
    if missing:
        for pid in missing:
            row = StockLevel(
                product_id=pid,
                warehouse_id=warehouse_id,
                on_hand=0,
                reserved=0,
                in_transit_in=0,
                avg_cost=Decimal("0"),
                reorder_point=0,
                reorder_qty=0,
            )
            if session.get_bind().dialect.name != "postgresql":
                # SQLite serialises writers (and its driver's SAVEPOINT handling is unreliable).
                session.add(row)
                try:
                    await session.flush()
                except IntegrityError as exc:  # unknown product or warehouse (foreign key)
                    raise NotFound("Product or warehouse not found", code="PRODUCT_NOT_FOUND") from exc
                continue
            try:
                # A savepoint: a concurrent transaction may insert the same pair first.
                async with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                pass
        levels = {lv.product_id: lv for lv in await session.scalars(stmt)}
        unknown = [p for p in ids if p not in levels]
        if unknown:
            raise NotFound(
                "Product or warehouse not found",
                code="PRODUCT_NOT_FOUND",
                details=[field_error("product_id", "not found", product_id=p) for p in unknown],
            )
    return levels


async def ensure_available(
    session: AsyncSession, *, warehouse_id: int, lines: Sequence[tuple[int, int]], field_prefix: str = "lines"
) -> dict[int, StockLevel]:
    """Lock the rows and check available (on_hand − reserved) covers every line.

    409 INSUFFICIENT_STOCK listing every short line (a product on several lines is short when their
    sum exceeds its availability). For transfers and POS sales, which must not eat reserved stock.
    """
    for i, (_, qty) in enumerate(lines):
        _positive(qty, f"{field_prefix}[{i}].qty")
    levels = await lock_levels(session, warehouse_id=warehouse_id, product_ids=[p for p, _ in lines])
    wanted: dict[int, int] = defaultdict(int)
    for pid, qty in lines:
        wanted[pid] += qty
    short = [
        field_error(
            f"{field_prefix}[{i}].qty",
            "insufficient stock",
            product_id=pid,
            available=max(available(levels[pid]), 0),
        )
        for i, (pid, _) in enumerate(lines)
        if wanted[pid] > available(levels[pid])
    ]
    if short:
        raise Conflict("Not enough stock for some lines", code="INSUFFICIENT_STOCK", details=short)
    return levels


async def reserve(
    session: AsyncSession,
    *,
    warehouse_id: int,
    lines: Sequence[tuple[int, int]],
    order_line_ids: Sequence[int] | None = None,
    expires_at: datetime | None = None,
    field_prefix: str = "lines",
) -> None:
    """Reserve every line or nothing (409 INSUFFICIENT_STOCK lists all short lines)."""
    if order_line_ids is not None and len(order_line_ids) != len(lines):
        raise ValueError("one order line id per line")
    levels = await ensure_available(
        session, warehouse_id=warehouse_id, lines=lines, field_prefix=field_prefix
    )
    for i, (pid, qty) in enumerate(lines):
        levels[pid].reserved += qty
        if order_line_ids is not None:
            session.add(
                StockReservation(
                    order_line_id=order_line_ids[i],
                    warehouse_id=warehouse_id,
                    product_id=pid,
                    qty=qty,
                    expires_at=expires_at,
                )
            )
    await session.flush()
    _stock_changed(session, warehouse_id, levels)


async def release(session: AsyncSession, *, order_line_ids: Sequence[int]) -> None:
    """Delete the reservations of these order lines and lower `reserved` by their quantities."""
    if not order_line_ids:
        return
    rows = list(
        await session.scalars(
            select(StockReservation)
            .where(StockReservation.order_line_id.in_(set(order_line_ids)))
            .order_by(StockReservation.id)
            .with_for_update()
        )
    )
    if not rows:
        return
    by_warehouse: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        by_warehouse[r.warehouse_id][r.product_id] += r.qty
    for wid in sorted(by_warehouse):
        qtys = by_warehouse[wid]
        levels = await lock_levels(session, warehouse_id=wid, product_ids=qtys)
        for pid, qty in qtys.items():
            levels[pid].reserved -= qty
        _stock_changed(session, wid, qtys)
    for r in rows:
        await session.delete(r)
    await session.flush()


def _movement(
    level: StockLevel,
    *,
    qty: int,
    movement_type: str,
    unit_cost: Decimal,
    source_type: str,
    source_id: int | None,
    by_id: int | None,
) -> StockMovement:
    return StockMovement(
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        type=movement_type,
        qty=qty,
        unit_cost=unit_cost,
        on_hand_after=level.on_hand,
        avg_cost_after=level.avg_cost,
        source_type=source_type,
        source_id=source_id,
        by_id=by_id,
    )


async def issue(
    session: AsyncSession,
    *,
    warehouse_id: int,
    product_id: int,
    qty: int,
    movement_type: str,
    source_type: str,
    source_id: int | None,
    by_id: int | None,
    from_reserved: int = 0,
    field: str = "qty",
) -> Decimal:
    """Take `qty` out of on hand (sale, pos_sale, transfer_out); returns the IQD unit cost for COGS.

    409 INSUFFICIENT_STOCK when on hand would go below 0. Availability against other reservations
    is the caller's rule where it applies (`ensure_available`).
    """
    if movement_type not in OUTBOUND_MOVEMENTS or movement_type == "transfer_loss":
        raise ValueError(f"{movement_type} does not issue stock")
    _positive(qty, field)
    level = (await lock_levels(session, warehouse_id=warehouse_id, product_ids=[product_id]))[product_id]
    if level.on_hand < qty:
        raise Conflict(
            "Not enough stock on hand",
            code="INSUFFICIENT_STOCK",
            details=[
                field_error(field, "insufficient stock", product_id=product_id, available=level.on_hand)
            ],
        )
    level.on_hand -= qty
    level.reserved -= from_reserved
    if movement_type in SALE_MOVEMENTS:
        level.last_sale_at = utcnow()
    cost = level.avg_cost
    session.add(
        _movement(
            level,
            qty=-qty,
            movement_type=movement_type,
            unit_cost=cost,
            source_type=source_type,
            source_id=source_id,
            by_id=by_id,
        )
    )
    await session.flush()
    _stock_changed(session, warehouse_id, [product_id])
    return cost


async def receive(
    session: AsyncSession,
    *,
    warehouse_id: int,
    product_id: int,
    qty: int,
    unit_cost: Decimal,
    movement_type: str,
    source_type: str,
    source_id: int | None,
    by_id: int | None,
) -> None:
    """Put `qty` into on hand (receipt, transfer_in re-weight avg cost at unit_cost; refund, return
    come back at the current avg cost, or at unit_cost when the row never held a cost)."""
    if movement_type not in INBOUND_MOVEMENTS:
        raise ValueError(f"{movement_type} does not receive stock")
    _positive(qty, "qty")
    if unit_cost < 0:
        raise Invalid("Unit cost must not be negative", details=[field_error("unit_cost", "must be >= 0")])
    level = (await lock_levels(session, warehouse_id=warehouse_id, product_ids=[product_id]))[product_id]
    if movement_type in REWEIGHING_MOVEMENTS:
        value = level.on_hand * level.avg_cost + qty * unit_cost
        level.avg_cost = (value / (level.on_hand + qty)).quantize(CENT, rounding=ROUND_HALF_UP)
        level.last_receipt_at = utcnow()
        moved_at = unit_cost
    else:
        if level.on_hand == 0 and level.avg_cost == 0:
            level.avg_cost = unit_cost.quantize(CENT, rounding=ROUND_HALF_UP)
        moved_at = level.avg_cost
    level.on_hand += qty
    session.add(
        _movement(
            level,
            qty=qty,
            movement_type=movement_type,
            unit_cost=moved_at,
            source_type=source_type,
            source_id=source_id,
            by_id=by_id,
        )
    )
    await session.flush()
    _stock_changed(session, warehouse_id, [product_id])


async def adjust(
    session: AsyncSession,
    *,
    warehouse_id: int,
    product_id: int,
    qty_delta: int,
    movement_type: str,
    source_type: str,
    source_id: int | None,
    by_id: int | None,
    field: str = "qty_delta",
) -> Decimal:
    """Apply a signed correction (adjustment, count) at the current avg cost; returns that unit cost.

    409 NEGATIVE_STOCK when on hand would fall below 0 (INV-13).
    """
    if movement_type not in ADJUSTING_MOVEMENTS:
        raise ValueError(f"{movement_type} is not an adjustment")
    if qty_delta == 0:
        raise Invalid("A correction changes the quantity", details=[field_error(field, "must not be 0")])
    level = (await lock_levels(session, warehouse_id=warehouse_id, product_ids=[product_id]))[product_id]
    if level.on_hand + qty_delta < 0:
        raise Conflict(
            "On hand would fall below zero",
            code="NEGATIVE_STOCK",
            details=[field_error(field, "negative stock", product_id=product_id, on_hand=level.on_hand)],
        )
    level.on_hand += qty_delta
    cost = level.avg_cost
    session.add(
        _movement(
            level,
            qty=qty_delta,
            movement_type=movement_type,
            unit_cost=cost,
            source_type=source_type,
            source_id=source_id,
            by_id=by_id,
        )
    )
    await session.flush()
    _stock_changed(session, warehouse_id, [product_id])
    return cost


async def stock_invariant_violations(session: AsyncSession) -> list[tuple[int, int]]:
    """(product_id, warehouse_id) pairs whose on hand differs from the sum of their movements."""
    sums = (
        select(
            StockMovement.product_id.label("product_id"),
            StockMovement.warehouse_id.label("warehouse_id"),
            func.sum(StockMovement.qty).label("qty"),
        )
        .where(StockMovement.type != "transfer_loss")
        .group_by(StockMovement.product_id, StockMovement.warehouse_id)
        .subquery()
    )
    on_levels = (
        select(StockLevel.product_id, StockLevel.warehouse_id)
        .outerjoin(
            sums,
            (sums.c.product_id == StockLevel.product_id) & (sums.c.warehouse_id == StockLevel.warehouse_id),
        )
        .where(StockLevel.on_hand != func.coalesce(sums.c.qty, 0))
    )
    # Movements of a pair that has no stock row at all.
    orphans = (
        select(sums.c.product_id, sums.c.warehouse_id)
        .outerjoin(
            StockLevel,
            (sums.c.product_id == StockLevel.product_id) & (sums.c.warehouse_id == StockLevel.warehouse_id),
        )
        .where(StockLevel.id.is_(None), sums.c.qty != 0)
    )
    pairs = {(int(p), int(w)) for p, w in (await session.execute(on_levels)).tuples()}
    pairs |= {(int(p), int(w)) for p, w in (await session.execute(orphans)).tuples()}
    return sorted(pairs)
