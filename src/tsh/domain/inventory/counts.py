"""Physical counts (INV-15, INV-17, INV-18): snapshot, counted quantities, variances.

Start: the lines in scope are the warehouse's stock rows (active products, or any product still on
hand) for `full`, those of a category and its sub-categories for `category`, and the listed
products (which must exist) for `products`. Their on hand is snapshotted with the stock rows
locked and `started_at` taken after the locks, so each movement is either in the snapshot or
after `started_at`; selling and moving stock continue during the count. 422 EMPTY_SCOPE; 409
COUNT_IN_PROGRESS when an open count of the warehouse shares a product with the new one (a full
count overlaps every count, since unexpected products may join it).

Record: sets (not adds) counted quantities. A product not in the count is 422
PRODUCT_NOT_IN_COUNT, except in a full count, where it joins with its system quantity as of the
snapshot (on hand − movements since), so that the variance formula holds for it too.

Complete: variance = counted − (snapshot + movements since started_at); uncounted lines are left
out (`ignore`) or counted as 0 (`zero`). Its value is at the current average cost; a bound role
(see adjustments) may not complete a count whose gross variance value exceeds the branch limit
(403 APPROVAL_REQUIRED). With apply=true the non-zero variances are booked by one adjustment of
source `count` through `apply_adjustment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tsh.domain.catalog.models import Category, Product
from tsh.domain.events import raise_event
from tsh.domain.inventory import stock
from tsh.domain.inventory.adjustments import (
    apply_adjustment,
    reject_duplicates,
    require_approval,
    require_lines,
    require_products,
    warehouse_branch,
)
from tsh.domain.inventory.models import COUNT_SCOPES, Count, CountLine, StockLevel, StockMovement
from tsh.domain.money import round_money
from tsh.domain.organisation.models import Warehouse
from tsh.domain.shared import new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

UNCOUNTED = ("ignore", "zero")


async def movements_since(
    session: AsyncSession, warehouse_id: int, product_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Σ qty of the on-hand movements after `since`, per product (transfer losses move no on hand)."""
    rows = await session.execute(
        select(StockMovement.product_id, func.sum(StockMovement.qty))
        .where(
            StockMovement.warehouse_id == warehouse_id,
            StockMovement.product_id.in_(set(product_ids)),
            StockMovement.at > since,
            StockMovement.type != "transfer_loss",
        )
        .group_by(StockMovement.product_id)
    )
    return {int(pid): int(qty or 0) for pid, qty in rows.tuples()}


async def _scope_products(
    session: AsyncSession, warehouse_id: int, scope: str, category_id: int | None, product_ids: Sequence[int]
) -> list[int]:
    if scope == "products":
        await require_products(session, list(product_ids), prefix="product_ids")
        return sorted(set(product_ids))
    stmt = (
        select(StockLevel.product_id)
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.warehouse_id == warehouse_id, or_(Product.is_active, StockLevel.on_hand > 0))
    )
    if scope == "category":
        children = select(Category.id).where(Category.parent_id == category_id)
        stmt = stmt.where(or_(Product.category_id == category_id, Product.category_id.in_(children)))
    return sorted(set(await session.scalars(stmt)))


async def start_count(
    session: AsyncSession,
    *,
    warehouse_id: int,
    scope: str,
    started_by_id: int,
    category_id: int | None = None,
    product_ids: Sequence[int] = (),
    blind: bool = True,
) -> Count:
    """Open a count and snapshot the on hand of every product in scope; emits CountChanged."""
    if scope not in COUNT_SCOPES:
        raise Invalid("Unknown scope", details=[field_error("scope", "not allowed", scope=scope)])
    if scope == "category":
        if category_id is None:
            raise Invalid(
                "A category count names its category", details=[field_error("category_id", "required")]
            )
        if await session.get(Category, category_id) is None:
            raise NotFound("Category not found", code="CATEGORY_NOT_FOUND")
    branch_id = await warehouse_branch(session, warehouse_id)
    # Serialise the starts of one warehouse: the overlap check must see every open count.
    await session.flush()
    await session.execute(select(Warehouse.id).where(Warehouse.id == warehouse_id).with_for_update())
    pids = await _scope_products(session, warehouse_id, scope, category_id, product_ids)
    if not pids:
        raise Invalid(
            "No product is in the scope", code="EMPTY_SCOPE", details=[field_error("scope", "empty")]
        )
    open_counts = list(
        await session.scalars(
            select(Count)
            .where(Count.warehouse_id == warehouse_id, Count.status == "open")
            .options(selectinload(Count.lines))
            .order_by(Count.id)
        )
    )
    wanted = set(pids)
    overlapping = [
        c
        for c in open_counts
        if scope == "full" or c.scope == "full" or wanted & {ln.product_id for ln in c.lines}
    ]
    if overlapping:
        raise Conflict(
            "An open count of this warehouse covers some of these products",
            code="COUNT_IN_PROGRESS",
            details=[
                field_error("scope", "overlaps an open count", count_id=c.id, number=c.number)
                for c in overlapping
            ],
        )
    levels = await stock.lock_levels(session, warehouse_id=warehouse_id, product_ids=pids)
    count = Count(
        number=new_number("CNT"),
        warehouse_id=warehouse_id,
        scope=scope,
        category_id=category_id if scope == "category" else None,
        blind=blind,
        status="open",
        started_by_id=started_by_id,
        started_at=utcnow(),
        lines=[CountLine(product_id=pid, snapshot_qty=levels[pid].on_hand) for pid in pids],
    )
    session.add(count)
    await session.flush()
    raise_event(session, "CountChanged", branches=[branch_id], count_id=count.id, status=count.status)
    return count


async def _locked_open(session: AsyncSession, count_id: int) -> Count:
    """The count with its lines, locked; 404 COUNT_NOT_FOUND, 409 COUNT_CLOSED."""
    await session.flush()
    count = await session.scalar(
        select(Count)
        .where(Count.id == count_id)
        .options(selectinload(Count.lines))
        .with_for_update(of=Count)
        .execution_options(populate_existing=True)
    )
    if count is None:
        raise NotFound("Count not found", code="COUNT_NOT_FOUND")
    if count.status != "open":
        raise Conflict("The count is completed", code="COUNT_CLOSED")
    return count


async def record_counts(
    session: AsyncSession, *, count_id: int, lines: Sequence[tuple[int, int]], counted_by_id: int
) -> Count:
    """Set the counted quantity of (product_id, counted_qty) lines; emits CountChanged.

    409 COUNT_CLOSED, 422 VALIDATION_ERROR (counted_qty < 0), 422 DUPLICATE_LINE, 422
    PRODUCT_NOT_IN_COUNT (except in a full count), 404 PRODUCT_NOT_FOUND.
    """
    require_lines(lines)
    negative = [
        field_error(f"lines[{i}].counted_qty", "must not be negative")
        for i, (_, q) in enumerate(lines)
        if q < 0
    ]
    if negative:
        raise Invalid("Counted quantities are ≥ 0", details=negative)
    reject_duplicates([pid for pid, _ in lines])
    count = await _locked_open(session, count_id)
    by_product = {ln.product_id: ln for ln in count.lines}
    extra = [(i, pid) for i, (pid, _) in enumerate(lines) if pid not in by_product]
    if extra and count.scope != "full":
        raise Invalid(
            "Some products are not in this count",
            code="PRODUCT_NOT_IN_COUNT",
            details=[
                field_error(f"lines[{i}].product_id", "not in this count", product_id=pid) for i, pid in extra
            ],
        )
    if extra:
        new_ids = [pid for _, pid in extra]
        await require_products(session, [pid for pid, _ in lines])
        levels = await stock.lock_levels(session, warehouse_id=count.warehouse_id, product_ids=new_ids)
        since = await movements_since(session, count.warehouse_id, new_ids, count.started_at)
        for pid in sorted(new_ids):
            line = CountLine(product_id=pid, snapshot_qty=levels[pid].on_hand - since.get(pid, 0))
            count.lines.append(line)
            by_product[pid] = line
    now = utcnow()
    for pid, qty in lines:
        line = by_product[pid]
        line.counted_qty, line.counted_by_id, line.counted_at = qty, counted_by_id, now
    await session.flush()
    branch_id = await warehouse_branch(session, count.warehouse_id)
    raise_event(session, "CountChanged", branches=[branch_id], count_id=count.id, status=count.status)
    return count


async def complete_count(
    session: AsyncSession,
    *,
    count_id: int,
    completed_by_id: int,
    role: str,
    apply: bool,
    uncounted: str = "ignore",
    note: str | None = None,
) -> Count:
    """Close a count, set the variances and, with apply=true, book them; emits CountChanged (and
    StockChanged, JournalPosted through the adjustment). 409 COUNT_CLOSED, 403 APPROVAL_REQUIRED."""
    if uncounted not in UNCOUNTED:
        raise Invalid(
            "Unknown option", details=[field_error("uncounted", "not allowed", uncounted=uncounted)]
        )
    count = await _locked_open(session, count_id)
    now = utcnow()
    if uncounted == "zero":
        for ln in count.lines:
            if ln.counted_qty is None:
                ln.counted_qty, ln.counted_by_id, ln.counted_at = 0, completed_by_id, now
    counted = sorted((ln for ln in count.lines if ln.counted_qty is not None), key=lambda ln: ln.product_id)
    pids = [ln.product_id for ln in counted]
    levels = await stock.lock_levels(session, warehouse_id=count.warehouse_id, product_ids=pids)
    since = await movements_since(session, count.warehouse_id, pids, count.started_at)
    net = gross = Decimal(0)
    for ln in counted:
        assert ln.counted_qty is not None
        ln.variance = ln.counted_qty - (ln.snapshot_qty + since.get(ln.product_id, 0))
        value = ln.variance * levels[ln.product_id].avg_cost
        net, gross = net + value, gross + abs(value)
    branch_id = await warehouse_branch(session, count.warehouse_id)
    await require_approval(session, role=role, branch_id=branch_id, gross_value=gross, field="variance_value")
    count.variance_value = round_money(net, "IQD")
    variances = [(ln.product_id, ln.variance) for ln in counted if ln.variance]
    if apply and variances:
        adjustment = await apply_adjustment(
            session,
            warehouse_id=count.warehouse_id,
            reason="count",
            lines=variances,
            note=note or f"Count {count.number}",
            by_id=completed_by_id,
            role=role,
            count_id=count.id,
        )
        count.adjustment_id = adjustment.id
        count.variance_value = adjustment.value
    count.status = "completed"
    count.completed_by_id = completed_by_id
    count.completed_at = now
    count.note = note
    await session.flush()
    raise_event(session, "CountChanged", branches=[branch_id], count_id=count.id, status=count.status)
    return count
