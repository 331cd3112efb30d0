"""Stock screens of the Inventory app: dashboard (INV-01), stock levels (INV-02), stock card (INV-03)
and the movement ledger (INV-04).

Set-based: every screen is a handful of grouped statements over the caller's warehouses
(`access`), never a query per row. Values are IQD at the warehouse's average cost (the column
carries no currency); product and warehouse names follow the caller's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.models import Category, Product
from tsh.domain.identity.models import User
from tsh.domain.inventory.access import scoped_warehouse_ids, transfer_filter, warehouse_filter
from tsh.domain.inventory.models import (
    Adjustment,
    Count,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
)
from tsh.domain.inventory.stock import stock_status, stock_status_sql
from tsh.domain.money import round_money, wire
from tsh.domain.organisation.models import Warehouse
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.errors import Invalid, NotFound, field_error

VELOCITY_DAYS = 90
SALE_MOVEMENTS = ("sale", "pos_sale")
CARD_MOVEMENTS = 20
DASHBOARD_MOVEMENTS = 10


# --- shared shaping -------------------------------------------------------------------------------
def iqd(amount: Decimal | int | None) -> dict[str, Any]:
    """An IQD value on the wire, rounded to whole dinars."""
    return wire(round_money(Decimal(amount or 0), "IQD"), "IQD") or {}


def cost(amount: Decimal | None) -> dict[str, Any]:
    """A unit cost on the wire (kept with 2 decimals, like the column)."""
    return wire(Decimal(amount or 0), "IQD") or {}


def product_name(language: str) -> Any:
    return Product.name_ar if language == "ar" else Product.name_en


def warehouse_name(language: str) -> Any:
    return Warehouse.name_ar if language == "ar" else Warehouse.name_en


async def warehouse_refs(
    session: AsyncSession, ids: Iterable[int], language: str
) -> dict[int, dict[str, Any]]:
    """{id: {id, code, name}} of these warehouses."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Warehouse.id, Warehouse.code, warehouse_name(language), Warehouse.branch_id).where(
            Warehouse.id.in_(wanted)
        )
    )
    return {i: {"id": i, "code": c, "name": n, "branch_id": b} for i, c, n, b in rows.tuples()}


async def product_refs(session: AsyncSession, ids: Iterable[int], language: str) -> dict[int, dict[str, Any]]:
    """{id: {id, sku, barcode, name}} of these products."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Product.id, Product.sku, Product.barcode, product_name(language)).where(Product.id.in_(wanted))
    )
    return {i: {"id": i, "sku": s, "barcode": b, "name": n} for i, s, b, n in rows.tuples()}


async def user_refs(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {i: {"id": i, "name": n} for i, n in rows.tuples()}


def position(at: dt.datetime, row_id: int) -> dict[str, Any]:
    """Keyset position of a row ordered by (time desc, id desc)."""
    return {"t": at.isoformat(), "i": row_id}


def after_key(after: dict[str, Any] | None) -> tuple[dt.datetime, int] | None:
    """Read a `position` cursor (422 for a cursor of another list)."""
    if after is None:
        return None
    try:
        return dt.datetime.fromisoformat(after["t"]), int(after["i"])
    except (KeyError, TypeError, ValueError):
        raise Invalid(
            "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
        ) from None


def before(at_col: Any, id_col: Any, after: dict[str, Any] | None) -> ColumnElement[bool] | None:
    """Rows after the cursor in (time desc, id desc) order."""
    key = after_key(after)
    if key is None:
        return None
    at, row_id = key
    return or_(at_col < at, and_(at_col == at, id_col < row_id))


def day_range(col: Any, date_from: dt.date | None, date_to: dt.date | None) -> list[ColumnElement[bool]]:
    """Filters of a local business-day range (inclusive) on a UTC timestamp column."""
    out = []
    if date_from is not None:
        out.append(col >= day_start_utc(date_from))
    if date_to is not None:
        out.append(col < day_start_utc(date_to + dt.timedelta(days=1)))
    return out


def level_row(level: StockLevel, product: dict[str, Any], warehouse: dict[str, Any]) -> dict[str, Any]:
    free = level.on_hand - level.reserved
    return {
        "id": level.id,
        "product": product,
        "warehouse": {k: warehouse[k] for k in ("id", "code", "name")},
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": free,
        "in_transit_in": level.in_transit_in,
        "reorder_point": level.reorder_point,
        "reorder_qty": level.reorder_qty,
        "avg_cost": cost(level.avg_cost),
        "value": iqd(level.on_hand * level.avg_cost),
        "status": stock_status(free, level.reorder_point),
    }


async def movement_rows(
    session: AsyncSession, movements: list[StockMovement], language: str
) -> list[dict[str, Any]]:
    products = await product_refs(session, (m.product_id for m in movements), language)
    warehouses = await warehouse_refs(session, (m.warehouse_id for m in movements), language)
    users = await user_refs(session, (m.by_id for m in movements))
    return [
        {
            "id": m.id,
            "at": m.at,
            "product": products[m.product_id],
            "warehouse": {k: warehouses[m.warehouse_id][k] for k in ("id", "code", "name")},
            "type": m.type,
            "qty": m.qty,
            "unit_cost": cost(m.unit_cost),
            "on_hand_after": m.on_hand_after,
            "source": {"type": m.source_type, "id": m.source_id},
            "user": users.get(m.by_id) if m.by_id is not None else None,
        }
        for m in movements
    ]


async def sales_velocity(
    session: AsyncSession, warehouse_ids: list[int], product_ids: list[int] | None = None
) -> dict[tuple[int, int], int]:
    """Units sold (orders shipped and POS sales) in the last 90 days per (product, warehouse)."""
    since = day_start_utc(business_today() - dt.timedelta(days=VELOCITY_DAYS))
    stmt = (
        select(StockMovement.product_id, StockMovement.warehouse_id, func.sum(-StockMovement.qty))
        .where(
            StockMovement.type.in_(SALE_MOVEMENTS),
            StockMovement.at >= since,
            StockMovement.warehouse_id.in_(warehouse_ids),
        )
        .group_by(StockMovement.product_id, StockMovement.warehouse_id)
    )
    if product_ids is not None:
        stmt = stmt.where(StockMovement.product_id.in_(product_ids))
    return {(int(p), int(w)): int(q or 0) for p, w, q in (await session.execute(stmt)).tuples()}


# --- INV-01 -------------------------------------------------------------------------------------
DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def dashboard_parts(
    session: AsyncSession, actor: Actor, *, warehouse_id: int | None = None
) -> dict[str, DashboardPart]:
    """INV-01 over the caller's warehouses (or the one asked for: WAREHOUSE_NOT_FOUND first), as
    the parts the screen runs as sections: `stock` (value per warehouse, low/out SKUs), `work`
    (transfers to act on, open counts), `activity` (this week's adjustments, last 10 movements)."""
    wids = await scoped_warehouse_ids(session, actor, warehouse_id)
    return {
        "stock": lambda s: _stock(s, wids, actor.language),
        "work": lambda s: _work(s, wids),
        "activity": lambda s: _activity(s, wids, actor.language),
    }


async def _stock(session: AsyncSession, wids: list[int], language: str) -> dict[str, Any]:
    refs = await warehouse_refs(session, wids, language)
    status = stock_status_sql()
    per_wh = {
        int(w): (int(n or 0), Decimal(v or 0), int(low or 0), int(out or 0))
        for w, n, v, low, out in (
            await session.execute(
                select(
                    StockLevel.warehouse_id,
                    func.count().filter(StockLevel.on_hand > 0),
                    func.sum(StockLevel.on_hand * StockLevel.avg_cost),
                    func.count().filter(status == "low"),
                    func.count().filter(status == "out"),
                )
                .join(Product, Product.id == StockLevel.product_id)
                .where(StockLevel.warehouse_id.in_(wids), Product.is_active.is_(True))
                .group_by(StockLevel.warehouse_id)
            )
        ).tuples()
    }
    by_warehouse = [
        {
            "warehouse": {k: refs[w][k] for k in ("id", "code", "name")},
            "skus_in_stock": per_wh.get(w, (0, 0, 0, 0))[0],
            "value": iqd(per_wh.get(w, (0, Decimal(0), 0, 0))[1]),
            "low": per_wh.get(w, (0, 0, 0, 0))[2],
            "out": per_wh.get(w, (0, 0, 0, 0))[3],
        }
        for w in wids
    ]
    return {
        "total_value": iqd(sum((per_wh.get(w, (0, Decimal(0)))[1] for w in wids), Decimal(0))),
        "by_warehouse": by_warehouse,
        "low_stock": sum(r["low"] for r in by_warehouse),
        "out_of_stock": sum(r["out"] for r in by_warehouse),
    }


async def _work(session: AsyncSession, wids: list[int]) -> dict[str, Any]:
    scoped = Transfer.from_warehouse_id.in_(wids) | Transfer.to_warehouse_id.in_(wids)
    awaiting_dispatch = await session.scalar(
        select(func.count())
        .select_from(Transfer)
        .where(Transfer.status == "requested", Transfer.from_warehouse_id.in_(wids), scoped)
    )
    awaiting_receipt = await session.scalar(
        select(func.count())
        .select_from(Transfer)
        .where(Transfer.status == "dispatched", Transfer.to_warehouse_id.in_(wids))
    )
    open_counts = await session.scalar(
        select(func.count()).select_from(Count).where(Count.status == "open", Count.warehouse_id.in_(wids))
    )
    return {
        "transfers_awaiting_dispatch": int(awaiting_dispatch or 0),
        "transfers_awaiting_receipt": int(awaiting_receipt or 0),
        "open_counts": int(open_counts or 0),
    }


async def _activity(session: AsyncSession, wids: list[int], language: str) -> dict[str, Any]:
    week_start = business_today() - dt.timedelta(days=business_today().weekday())
    adj_n, adj_value = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Adjustment.value), 0)).where(
                Adjustment.warehouse_id.in_(wids), Adjustment.created_at >= day_start_utc(week_start)
            )
        )
    ).one()
    recent = list(
        await session.scalars(
            select(StockMovement)
            .where(StockMovement.warehouse_id.in_(wids))
            .order_by(StockMovement.at.desc(), StockMovement.id.desc())
            .limit(DASHBOARD_MOVEMENTS)
        )
    )
    return {
        "adjustments_this_week": {"count": int(adj_n or 0), "value": iqd(Decimal(adj_value))},
        "recent_movements": await movement_rows(session, recent, language),
    }


# --- INV-02 -------------------------------------------------------------------------------------
async def stock_levels(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    warehouse_id: int | None = None,
    text: str | None = None,
    category_id: int | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Stock rows per product and warehouse, by product SKU then warehouse; up to limit+1 rows."""
    wids = await scoped_warehouse_ids(session, actor, warehouse_id)
    stmt = (
        select(StockLevel, Product.sku)
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.warehouse_id.in_(wids))
        .order_by(Product.sku, StockLevel.id)
        .limit(limit + 1)
    )
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Product.name_en).like(like),
                func.lower(Product.name_ar).like(like),
                func.lower(Product.sku).like(like),
                Product.barcode == text,
            )
        )
    if category_id is not None:
        children = select(Category.id).where(Category.parent_id == category_id)
        stmt = stmt.where(or_(Product.category_id == category_id, Product.category_id.in_(children)))
    if status is not None:
        stmt = stmt.where(stock_status_sql() == status)
    if after is not None:
        try:
            sku, level_id = str(after["s"]), int(after["i"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(details=[field_error("cursor", "does not match this list")]) from None
        stmt = stmt.where(or_(Product.sku > sku, and_(Product.sku == sku, StockLevel.id > level_id)))
    rows = list((await session.execute(stmt)).tuples())
    products = await product_refs(session, (lv.product_id for lv, _ in rows), actor.language)
    warehouses = await warehouse_refs(session, (lv.warehouse_id for lv, _ in rows), actor.language)
    return [level_row(lv, products[lv.product_id], warehouses[lv.warehouse_id]) for lv, _ in rows]


def level_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"s": row["product"]["sku"], "i": row["id"]}


# --- INV-03 -------------------------------------------------------------------------------------
async def stock_card(session: AsyncSession, actor: Actor, *, product_id: int) -> dict[str, Any]:
    """One product across the caller's warehouses (others left out); 404 PRODUCT_NOT_FOUND."""
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound("Product not found", code="PRODUCT_NOT_FOUND")
    wids = await scoped_warehouse_ids(session, actor, None)
    category = await session.get(Category, product.category_id)
    levels = list(
        await session.scalars(
            select(StockLevel)
            .where(StockLevel.product_id == product_id, StockLevel.warehouse_id.in_(wids))
            .order_by(StockLevel.warehouse_id)
        )
    )
    refs = await warehouse_refs(session, (lv.warehouse_id for lv in levels), actor.language)
    ref = (await product_refs(session, [product_id], actor.language))[product_id]
    rows = [level_row(lv, ref, refs[lv.warehouse_id]) for lv in levels]
    for row in rows:
        del row["product"]
    transit = list(
        (
            await session.execute(
                select(Transfer, TransferLine.qty_dispatched)
                .join(TransferLine, TransferLine.transfer_id == Transfer.id)
                .where(
                    TransferLine.product_id == product_id,
                    Transfer.status == "dispatched",
                    transfer_filter(actor),
                )
                .order_by(Transfer.dispatched_at.desc(), Transfer.id.desc())
            )
        ).tuples()
    )
    ends = await warehouse_refs(
        session, [w for t, _ in transit for w in (t.from_warehouse_id, t.to_warehouse_id)], actor.language
    )
    movements = list(
        await session.scalars(
            select(StockMovement)
            .where(StockMovement.product_id == product_id, StockMovement.warehouse_id.in_(wids))
            .order_by(StockMovement.at.desc(), StockMovement.id.desc())
            .limit(CARD_MOVEMENTS)
        )
    )
    sold = sum((await sales_velocity(session, wids, [product_id])).values())
    on_hand = sum(lv.on_hand for lv in levels)
    return {
        "product": {
            **ref,
            "category": {
                "id": category.id,
                "name": category.name_ar if actor.language == "ar" else category.name_en,
            }
            if category
            else None,
            "brand": product.brand,
            "pack_size": product.pack_size,
            "lead_time_days": product.lead_time_days,
            "is_active": product.is_active,
        },
        "totals": {
            "on_hand": on_hand,
            "reserved": sum(lv.reserved for lv in levels),
            "available": sum(lv.on_hand - lv.reserved for lv in levels),
            "in_transit_in": sum(lv.in_transit_in for lv in levels),
            "value": iqd(sum((lv.on_hand * lv.avg_cost for lv in levels), Decimal(0))),
            "avg_cost": cost(
                sum((lv.on_hand * lv.avg_cost for lv in levels), Decimal(0)) / on_hand
                if on_hand
                else Decimal(0)
            ),
        },
        "warehouses": rows,
        "in_transit": [
            {
                "transfer_id": t.id,
                "number": t.number,
                "from_warehouse": {k: ends[t.from_warehouse_id][k] for k in ("id", "code", "name")},
                "to_warehouse": {k: ends[t.to_warehouse_id][k] for k in ("id", "code", "name")},
                "qty": qty,
                "dispatched_at": t.dispatched_at,
            }
            for t, qty in transit
        ],
        "velocity": {
            "days": VELOCITY_DAYS,
            "units_sold": sold,
            "avg_daily": f"{Decimal(sold) / VELOCITY_DAYS:.2f}",
        },
        "movements": await movement_rows(session, movements, actor.language),
    }


# --- INV-04 -------------------------------------------------------------------------------------
async def movements(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    product_id: int | None = None,
    warehouse_id: int | None = None,
    movement_type: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The append-only movement ledger, newest first; up to limit+1 rows."""
    stmt = select(StockMovement).order_by(StockMovement.at.desc(), StockMovement.id.desc()).limit(limit + 1)
    if warehouse_id is not None:
        wids = await scoped_warehouse_ids(session, actor, warehouse_id)
        stmt = stmt.where(StockMovement.warehouse_id.in_(wids))
    else:
        stmt = stmt.where(warehouse_filter(actor, StockMovement.warehouse_id))
    if product_id is not None:
        stmt = stmt.where(StockMovement.product_id == product_id)
    if movement_type is not None:
        stmt = stmt.where(StockMovement.type == movement_type)
    for cond in day_range(StockMovement.at, date_from, date_to):
        stmt = stmt.where(cond)
    cursor = before(StockMovement.at, StockMovement.id, after)
    if cursor is not None:
        stmt = stmt.where(cursor)
    rows = list(await session.scalars(stmt))
    return await movement_rows(session, rows, actor.language)
