"""Stock transfers between warehouses (INV-08..INV-11): requested → dispatched → received(_short).

- request: no stock effect (availability is checked at dispatch). 422 SAME_WAREHOUSE, DUPLICATE_LINE.
- dispatch: only a requested transfer (409 INVALID_STATE); quantities default to the requested
  ones, a line may be dispatched in part or not at all (0), never above its request (422
  OVER_DISPATCH). The source must have them available, on hand − reserved (409
  INSUFFICIENT_STOCK); each line leaves with a transfer_out movement at the source average cost,
  kept on the line as its unit cost, and becomes in transit to the destination.
- receipt: only a dispatched transfer; every dispatched line is listed with the quantity that
  arrived (422 OVER_RECEIPT above the dispatched one). What arrived enters the destination with a
  transfer_in movement at the dispatch unit cost (re-weighting its average cost). A shortage is
  written off from in transit with a transfer_loss movement (on hand unchanged), the status becomes
  received_short and the loss (shortage x unit cost) is posted: inventory_adjustments against
  inventory, on the destination's branch (in-transit stock belongs to the destination).
- cancel: only a requested transfer.

Locks: the transfer row first, then stock rows by (warehouse id, product id).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tsh.domain.events import raise_event
from tsh.domain.inventory import stock
from tsh.domain.inventory.adjustments import (
    post_stock_value,
    reject_duplicates,
    require_lines,
    require_products,
    warehouse_branch,
)
from tsh.domain.inventory.models import StockMovement, Transfer, TransferLine
from tsh.domain.shared import new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error


async def _changed(session: AsyncSession, transfer: Transfer) -> None:
    branches = [
        await warehouse_branch(session, transfer.from_warehouse_id),
        await warehouse_branch(session, transfer.to_warehouse_id),
    ]
    raise_event(
        session, "TransferChanged", branches=branches, transfer_id=transfer.id, status=transfer.status
    )


async def _locked(session: AsyncSession, transfer_id: int, *, expected: str) -> Transfer:
    """The transfer with its lines, locked; 404 TRANSFER_NOT_FOUND, 409 INVALID_STATE."""
    await session.flush()
    transfer = await session.scalar(
        select(Transfer)
        .where(Transfer.id == transfer_id)
        .options(selectinload(Transfer.lines))
        .with_for_update(of=Transfer)
        .execution_options(populate_existing=True)
    )
    if transfer is None:
        raise NotFound("Transfer not found", code="TRANSFER_NOT_FOUND")
    if transfer.status != expected:
        raise Conflict(
            f"The transfer is {transfer.status}, not {expected}",
            code="INVALID_STATE",
            details=[field_error("status", f"must be {expected}", status=transfer.status)],
        )
    return transfer


def _check_known(transfer: Transfer, lines: Sequence[tuple[int, int]], qty_field: str) -> None:
    """Shape of a dispatch or receipt body: no duplicates, products of the transfer, qty ≥ 0."""
    reject_duplicates([pid for pid, _ in lines])
    on_transfer = {ln.product_id for ln in transfer.lines}
    bad = [
        field_error(f"lines[{i}].product_id", "not on this transfer", product_id=pid)
        for i, (pid, _) in enumerate(lines)
        if pid not in on_transfer
    ] + [
        field_error(f"lines[{i}].{qty_field}", "must not be negative", product_id=pid)
        for i, (pid, q) in enumerate(lines)
        if q < 0
    ]
    if bad:
        raise Invalid("Some lines are invalid", details=bad)


async def request_transfer(
    session: AsyncSession,
    *,
    from_warehouse_id: int,
    to_warehouse_id: int,
    lines: Sequence[tuple[int, int]],
    requested_by_id: int,
    note: str | None = None,
) -> Transfer:
    """Request (product_id, qty) lines from one warehouse to another; emits TransferChanged."""
    if from_warehouse_id == to_warehouse_id:
        raise Invalid(
            "Source and destination are the same warehouse",
            code="SAME_WAREHOUSE",
            details=[field_error("to_warehouse_id", "same as from_warehouse_id")],
        )
    require_lines(lines)
    bad = [
        field_error(f"lines[{i}].qty", "must be greater than 0") for i, (_, q) in enumerate(lines) if q <= 0
    ]
    if bad:
        raise Invalid("Quantities must be positive", details=bad)
    pids = [pid for pid, _ in lines]
    reject_duplicates(pids)
    await warehouse_branch(session, from_warehouse_id, "from_warehouse_id")
    await warehouse_branch(session, to_warehouse_id, "to_warehouse_id")
    await require_products(session, pids)
    transfer = Transfer(
        number=new_number("TRF"),
        from_warehouse_id=from_warehouse_id,
        to_warehouse_id=to_warehouse_id,
        status="requested",
        requested_by_id=requested_by_id,
        requested_at=utcnow(),
        note=note,
        lines=[
            TransferLine(product_id=pid, qty_requested=q, qty_dispatched=0, qty_received=0)
            for pid, q in lines
        ],
    )
    session.add(transfer)
    await session.flush()
    await _changed(session, transfer)
    return transfer


async def dispatch_transfer(
    session: AsyncSession,
    *,
    transfer_id: int,
    dispatched_by_id: int,
    lines: Sequence[tuple[int, int]] | None = None,
) -> Transfer:
    """Dispatch (product_id, qty) lines (default: the requested quantities); emits TransferChanged
    and StockChanged. 409 INVALID_STATE, 422 OVER_DISPATCH, 409 INSUFFICIENT_STOCK."""
    transfer = await _locked(session, transfer_id, expected="requested")
    qty = {ln.product_id: ln.qty_requested for ln in transfer.lines}
    if lines is not None:
        _check_known(transfer, lines, "qty")
        over = [
            field_error(f"lines[{i}].qty", "above the requested quantity", product_id=pid, requested=qty[pid])
            for i, (pid, q) in enumerate(lines)
            if q > qty[pid]
        ]
        if over:
            raise Invalid("Dispatch above the requested quantity", code="OVER_DISPATCH", details=over)
        qty.update(dict(lines))
    moving = [(pid, q) for pid, q in sorted(qty.items()) if q > 0]
    if not moving:
        raise Invalid("Nothing to dispatch", details=[field_error("lines", "every quantity is 0")])
    pids = [pid for pid, _ in moving]
    for wid in sorted((transfer.from_warehouse_id, transfer.to_warehouse_id)):
        await stock.lock_levels(session, warehouse_id=wid, product_ids=pids)
    await stock.ensure_available(session, warehouse_id=transfer.from_warehouse_id, lines=moving)
    by_product = {ln.product_id: ln for ln in transfer.lines}
    for pid, q in moving:
        line = by_product[pid]
        line.unit_cost = await stock.issue(
            session,
            warehouse_id=transfer.from_warehouse_id,
            product_id=pid,
            qty=q,
            movement_type="transfer_out",
            source_type="transfer",
            source_id=transfer.id,
            by_id=dispatched_by_id,
        )
        line.qty_dispatched = q
    destination = await stock.lock_levels(session, warehouse_id=transfer.to_warehouse_id, product_ids=pids)
    for pid, q in moving:
        destination[pid].in_transit_in += q
    transfer.status = "dispatched"
    transfer.dispatched_by_id = dispatched_by_id
    transfer.dispatched_at = utcnow()
    await session.flush()
    raise_event(
        session, "StockChanged", everyone=True, warehouse_id=transfer.to_warehouse_id, product_ids=pids
    )
    await _changed(session, transfer)
    return transfer


async def receive_transfer(
    session: AsyncSession,
    *,
    transfer_id: int,
    received_by_id: int,
    lines: Sequence[tuple[int, int]],
    note: str | None = None,
) -> Transfer:
    """Receive (product_id, qty_received) for every dispatched line; emits TransferChanged,
    StockChanged and, when short, JournalPosted. 409 INVALID_STATE, 422 OVER_RECEIPT."""
    transfer = await _locked(session, transfer_id, expected="dispatched")
    require_lines(lines)
    _check_known(transfer, lines, "qty_received")
    by_product = {ln.product_id: ln for ln in transfer.lines}
    received = dict(lines)
    missing = [
        field_error("lines", "dispatched line not listed", product_id=ln.product_id)
        for ln in transfer.lines
        if ln.qty_dispatched > 0 and ln.product_id not in received
    ]
    if missing:
        raise Invalid("Every dispatched line must be received", details=missing)
    over = [
        field_error(
            f"lines[{i}].qty_received",
            "above the dispatched quantity",
            product_id=pid,
            dispatched=by_product[pid].qty_dispatched,
        )
        for i, (pid, q) in enumerate(lines)
        if q > by_product[pid].qty_dispatched
    ]
    if over:
        raise Invalid("Receipt above the dispatched quantity", code="OVER_RECEIPT", details=over)

    moved = sorted((ln for ln in transfer.lines if ln.qty_dispatched > 0), key=lambda ln: ln.product_id)
    wid = transfer.to_warehouse_id
    levels = await stock.lock_levels(session, warehouse_id=wid, product_ids=[ln.product_id for ln in moved])
    for ln in moved:
        levels[ln.product_id].in_transit_in -= ln.qty_dispatched
    loss = Decimal(0)
    for ln in moved:
        cost = ln.unit_cost if ln.unit_cost is not None else levels[ln.product_id].avg_cost
        ln.qty_received = received[ln.product_id]
        if ln.qty_received:
            await stock.receive(
                session,
                warehouse_id=wid,
                product_id=ln.product_id,
                qty=ln.qty_received,
                unit_cost=cost,
                movement_type="transfer_in",
                source_type="transfer",
                source_id=transfer.id,
                by_id=received_by_id,
            )
        short = ln.qty_dispatched - ln.qty_received
        if short:
            session.add(
                StockMovement(
                    product_id=ln.product_id,
                    warehouse_id=wid,
                    type="transfer_loss",
                    qty=-short,
                    unit_cost=cost,
                    on_hand_after=levels[ln.product_id].on_hand,
                    avg_cost_after=levels[ln.product_id].avg_cost,
                    source_type="transfer",
                    source_id=transfer.id,
                    by_id=received_by_id,
                )
            )
            loss += short * cost
    is_short = any(ln.qty_received < ln.qty_dispatched for ln in moved)
    transfer.status = "received_short" if is_short else "received"
    transfer.received_by_id = received_by_id
    transfer.received_at = utcnow()
    transfer.receipt_note = note
    if is_short:
        transfer.journal_entry_id = await post_stock_value(
            session,
            value=-loss,
            branch_id=await warehouse_branch(session, wid),
            memo=f"Transfer loss {transfer.number}",
            source_type="transfer",
            source_id=transfer.id,
            by_id=received_by_id,
            reference=transfer.number,
        )
    await session.flush()
    raise_event(
        session, "StockChanged", everyone=True, warehouse_id=wid, product_ids=[ln.product_id for ln in moved]
    )
    await _changed(session, transfer)
    return transfer


async def cancel_transfer(
    session: AsyncSession, *, transfer_id: int, cancelled_by_id: int, reason: str
) -> Transfer:
    """Cancel a requested transfer (409 INVALID_STATE after dispatch); emits TransferChanged."""
    if not reason.strip():
        raise Invalid("A reason is required", details=[field_error("reason", "required")])
    transfer = await _locked(session, transfer_id, expected="requested")
    transfer.status = "cancelled"
    transfer.cancelled_by_id = cancelled_by_id
    transfer.cancelled_at = utcnow()
    transfer.cancel_reason = reason
    await session.flush()
    await _changed(session, transfer)
    return transfer
