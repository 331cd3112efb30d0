"""Document screens of the Inventory app: transfers (INV-06, INV-07), adjustments (INV-12), count
sessions (INV-14) and the count sheet (INV-16).

Lists are newest first with (time, id) keyset cursors; each page costs a few grouped statements.
Blind counts (INV-16): warehouse staff see neither the system quantity nor the variance until the
count is completed; managers always do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.models import Category, Product
from tsh.domain.inventory.access import (
    check_count,
    check_transfer,
    scoped_warehouse_ids,
    transfer_filter,
    warehouse_filter,
)
from tsh.domain.inventory.counts import movements_since
from tsh.domain.inventory.models import Adjustment, AdjustmentLine, Count, CountLine, Transfer, TransferLine
from tsh.domain.inventory.queries import (
    before,
    cost,
    day_range,
    iqd,
    product_refs,
    user_refs,
    warehouse_refs,
)
from tsh.platform.errors import Invalid, field_error

# Roles that see system quantities of a blind count while it is open.
COUNT_MANAGERS = frozenset({"inventory_manager", "branch_manager", "admin", "system"})


def _wh(refs: dict[int, dict[str, Any]], wid: int) -> dict[str, Any]:
    return {k: refs[wid][k] for k in ("id", "code", "name")}


# --- INV-06 / INV-07 ------------------------------------------------------------------------------
async def transfer_rows(
    session: AsyncSession, actor: Actor, transfers: list[Transfer]
) -> list[dict[str, Any]]:
    ids = [t.id for t in transfers]
    lines = dict(
        list(
            (
                await session.execute(
                    select(TransferLine.transfer_id, func.count())
                    .where(TransferLine.transfer_id.in_(ids))
                    .group_by(TransferLine.transfer_id)
                )
            ).tuples()
        )
    )
    refs = await warehouse_refs(
        session, [w for t in transfers for w in (t.from_warehouse_id, t.to_warehouse_id)], actor.language
    )
    return [
        {
            "id": t.id,
            "number": t.number,
            "from_warehouse": _wh(refs, t.from_warehouse_id),
            "to_warehouse": _wh(refs, t.to_warehouse_id),
            "status": t.status,
            "line_count": int(lines.get(t.id, 0)),
            "requested_at": t.requested_at,
            "dispatched_at": t.dispatched_at,
            "received_at": t.received_at,
        }
        for t in transfers
    ]


async def transfer_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    status: str | None = None,
    from_warehouse_id: int | None = None,
    to_warehouse_id: int | None = None,
    direction: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Transfers with either end in scope, newest request first. `direction`: `in` = the
    destination is one of the caller's warehouses, `out` = the source is; up to limit+1 rows."""
    end = {"in": "destination", "out": "source"}.get(direction or "", "either")
    stmt = (
        select(Transfer)
        .where(transfer_filter(actor, end))  # type: ignore[arg-type]
        .order_by(Transfer.requested_at.desc(), Transfer.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        stmt = stmt.where(Transfer.status == status)
    if from_warehouse_id is not None:
        stmt = stmt.where(Transfer.from_warehouse_id == from_warehouse_id)
    if to_warehouse_id is not None:
        stmt = stmt.where(Transfer.to_warehouse_id == to_warehouse_id)
    for cond in day_range(Transfer.requested_at, date_from, date_to):
        stmt = stmt.where(cond)
    cursor = before(Transfer.requested_at, Transfer.id, after)
    if cursor is not None:
        stmt = stmt.where(cursor)
    return await transfer_rows(session, actor, list(await session.scalars(stmt)))


async def transfer_detail(session: AsyncSession, actor: Actor, transfer_id: int) -> dict[str, Any]:
    """A transfer with its lines and timeline; 404 TRANSFER_NOT_FOUND when neither end is in scope."""
    await check_transfer(session, actor, transfer_id)
    transfer = await session.get(Transfer, transfer_id)
    assert transfer is not None
    head = (await transfer_rows(session, actor, [transfer]))[0]
    lines = list(
        await session.scalars(
            select(TransferLine).where(TransferLine.transfer_id == transfer_id).order_by(TransferLine.id)
        )
    )
    products = await product_refs(session, (ln.product_id for ln in lines), actor.language)
    users = await user_refs(
        session,
        [
            transfer.requested_by_id,
            transfer.dispatched_by_id,
            transfer.received_by_id,
            transfer.cancelled_by_id,
        ],
    )
    received = transfer.status in ("received", "received_short")
    steps = [
        ("requested", transfer.requested_at, transfer.requested_by_id, transfer.note),
        ("dispatched", transfer.dispatched_at, transfer.dispatched_by_id, None),
        (transfer.status if received else "received", transfer.received_at, transfer.received_by_id,
         transfer.receipt_note),
        ("cancelled", transfer.cancelled_at, transfer.cancelled_by_id, transfer.cancel_reason),
    ]  # fmt: skip
    return {
        **head,
        "note": transfer.note,
        "receipt_note": transfer.receipt_note,
        "cancel_reason": transfer.cancel_reason,
        "lines": [
            {
                "product": products[ln.product_id],
                "qty_requested": ln.qty_requested,
                "qty_dispatched": ln.qty_dispatched,
                "qty_received": ln.qty_received,
                "shortage": ln.qty_dispatched - ln.qty_received if received else 0,
                "unit_cost": cost(ln.unit_cost) if ln.unit_cost is not None else None,
            }
            for ln in lines
        ],
        "timeline": [
            {"step": step, "at": at, "user": users.get(uid) if uid else None, "note": note}
            for step, at, uid, note in steps
            if at is not None
        ],
    }


# --- INV-12 ---------------------------------------------------------------------------------------
async def adjustment_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    warehouse_id: int | None = None,
    reason: str | None = None,
    source: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Stock adjustments in the caller's warehouses, newest first; up to limit+1 rows."""
    stmt = select(Adjustment).order_by(Adjustment.created_at.desc(), Adjustment.id.desc()).limit(limit + 1)
    if warehouse_id is not None:
        stmt = stmt.where(
            Adjustment.warehouse_id.in_(await scoped_warehouse_ids(session, actor, warehouse_id))
        )
    else:
        stmt = stmt.where(warehouse_filter(actor, Adjustment.warehouse_id))
    if reason is not None:
        stmt = stmt.where(Adjustment.reason == reason)
    if source is not None:
        stmt = stmt.where(Adjustment.source == source)
    for cond in day_range(Adjustment.created_at, date_from, date_to):
        stmt = stmt.where(cond)
    cursor = before(Adjustment.created_at, Adjustment.id, after)
    if cursor is not None:
        stmt = stmt.where(cursor)
    rows = list(await session.scalars(stmt))
    return await adjustment_rows(session, actor, rows)


async def adjustment_rows(
    session: AsyncSession, actor: Actor, rows: list[Adjustment]
) -> list[dict[str, Any]]:
    ids = [a.id for a in rows]
    lines = dict(
        list(
            (
                await session.execute(
                    select(AdjustmentLine.adjustment_id, func.count())
                    .where(AdjustmentLine.adjustment_id.in_(ids))
                    .group_by(AdjustmentLine.adjustment_id)
                )
            ).tuples()
        )
    )
    refs = await warehouse_refs(session, (a.warehouse_id for a in rows), actor.language)
    users = await user_refs(session, (a.by_id for a in rows))
    return [
        {
            "id": a.id,
            "number": a.number,
            "warehouse": _wh(refs, a.warehouse_id),
            "reason": a.reason,
            "source": a.source,
            "count_id": a.count_id,
            "line_count": int(lines.get(a.id, 0)),
            "value": iqd(a.value),
            "note": a.note,
            "user": users[a.by_id],
            "created_at": a.created_at,
        }
        for a in rows
    ]


# --- INV-14 / INV-16 ------------------------------------------------------------------------------
async def count_rows(session: AsyncSession, actor: Actor, counts: list[Count]) -> list[dict[str, Any]]:
    ids = [c.id for c in counts]
    progress = {
        int(cid): (int(total), int(counted or 0))
        for cid, total, counted in (
            await session.execute(
                select(CountLine.count_id, func.count(), func.count(CountLine.counted_qty))
                .where(CountLine.count_id.in_(ids))
                .group_by(CountLine.count_id)
            )
        ).tuples()
    }
    refs = await warehouse_refs(session, (c.warehouse_id for c in counts), actor.language)
    users = await user_refs(session, [u for c in counts for u in (c.started_by_id, c.completed_by_id)])
    cat_ids = {c.category_id for c in counts if c.category_id is not None}
    name = Category.name_ar if actor.language == "ar" else Category.name_en
    cats = (
        dict(
            list((await session.execute(select(Category.id, name).where(Category.id.in_(cat_ids)))).tuples())
        )
        if cat_ids
        else {}
    )
    return [
        {
            "id": c.id,
            "number": c.number,
            "warehouse": _wh(refs, c.warehouse_id),
            "scope": c.scope,
            "category": {"id": c.category_id, "name": cats[c.category_id]} if c.category_id else None,
            "blind": c.blind,
            "status": c.status,
            "progress": {
                "counted": progress.get(c.id, (0, 0))[1],
                "total": progress.get(c.id, (0, 0))[0],
            },
            "variance_value": iqd(c.variance_value) if c.status == "completed" else None,
            "adjustment_id": c.adjustment_id,
            "started_by": users.get(c.started_by_id),
            "started_at": c.started_at,
            "completed_by": users.get(c.completed_by_id) if c.completed_by_id else None,
            "completed_at": c.completed_at,
        }
        for c in counts
    ]


async def count_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    warehouse_id: int | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Count sessions of the caller's warehouses, newest first; up to limit+1 rows."""
    stmt = select(Count).order_by(Count.started_at.desc(), Count.id.desc()).limit(limit + 1)
    if warehouse_id is not None:
        stmt = stmt.where(Count.warehouse_id.in_(await scoped_warehouse_ids(session, actor, warehouse_id)))
    else:
        stmt = stmt.where(warehouse_filter(actor, Count.warehouse_id))
    if status is not None:
        stmt = stmt.where(Count.status == status)
    cursor = before(Count.started_at, Count.id, after)
    if cursor is not None:
        stmt = stmt.where(cursor)
    return await count_rows(session, actor, list(await session.scalars(stmt)))


def shows_system_qty(actor: Actor, count: Count) -> bool:
    return actor.role in COUNT_MANAGERS or not count.blind or count.status == "completed"


async def count_sheet(
    session: AsyncSession,
    actor: Actor,
    *,
    count_id: int,
    limit: int,
    after: dict[str, Any] | None = None,
    text: str | None = None,
    uncounted_only: bool = False,
) -> dict[str, Any]:
    """The count header and a page of its lines (line order); 404 COUNT_NOT_FOUND outside scope.

    System quantity: for an open count the snapshot plus the movements since (what the variance
    will be measured against), for a completed one counted − variance as booked."""
    count = await check_count(session, actor, count_id)
    head = (await count_rows(session, actor, [count]))[0]
    visible = shows_system_qty(actor, count)
    stmt = (
        select(CountLine)
        .join(Product, Product.id == CountLine.product_id)
        .where(CountLine.count_id == count_id)
        .order_by(CountLine.id)
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
    if uncounted_only:
        stmt = stmt.where(CountLine.counted_qty.is_(None))
    if after is not None:
        try:
            stmt = stmt.where(CountLine.id > int(after["i"]))
        except (KeyError, TypeError, ValueError):
            raise Invalid(details=[field_error("cursor", "does not match this list")]) from None
    lines = list(await session.scalars(stmt))
    products = await product_refs(session, (ln.product_id for ln in lines), actor.language)
    users = await user_refs(session, (ln.counted_by_id for ln in lines))
    since: dict[int, int] = defaultdict(int)
    if visible and count.status == "open" and lines:
        since.update(
            await movements_since(
                session, count.warehouse_id, [ln.product_id for ln in lines], count.started_at
            )
        )

    def system(ln: CountLine) -> int | None:
        if not visible:
            return None
        if count.status == "completed" and ln.counted_qty is not None and ln.variance is not None:
            return ln.counted_qty - ln.variance
        return ln.snapshot_qty + since[ln.product_id]

    items = []
    for ln in lines:
        expected = system(ln)
        if not visible or ln.counted_qty is None:
            variance = None
        elif count.status == "completed":
            variance = ln.variance
        else:
            variance = ln.counted_qty - expected if expected is not None else None
        items.append(
            {
                "id": ln.id,
                "product": products[ln.product_id],
                "counted_qty": ln.counted_qty,
                "counted_by": users.get(ln.counted_by_id) if ln.counted_by_id else None,
                "counted_at": ln.counted_at,
                "system_qty": expected,
                "variance": variance,
            }
        )
    return {**head, "shows_system_qty": visible, "note": count.note, "lines": items}
