"""The inventory actions as the apps call them (INV-08..11, 13, 15, 17, 18): scope first, then the rules.

Each command checks that the record (or warehouse) is inside the caller's scope (404 outside it,
`access`), then hands over to the service that holds the rules and the row locks (`transfers`,
`adjustments`, `counts`). The services stay actor-free so jobs and the seed use them directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.identity.models import Media
from tsh.domain.inventory import adjustments, counts, transfers
from tsh.domain.inventory.access import check_count, check_transfer, scoped_warehouse
from tsh.domain.inventory.models import Adjustment, Count, Transfer
from tsh.domain.organisation.models import Warehouse
from tsh.platform.errors import Invalid, NotFound, field_error

Lines = Sequence[tuple[int, int]]


async def request_transfer(
    session: AsyncSession,
    actor: Actor,
    *,
    from_warehouse_id: int,
    to_warehouse_id: int,
    lines: Lines,
    note: str | None = None,
) -> Transfer:
    """INV-08. 404 WAREHOUSE_NOT_FOUND (neither end in scope, or unknown), 422 SAME_WAREHOUSE,
    422 DUPLICATE_LINE, 404 PRODUCT_NOT_FOUND. Emits TransferChanged."""
    ends = {
        w.id: w
        for w in [
            await session.get(Warehouse, from_warehouse_id),
            await session.get(Warehouse, to_warehouse_id),
        ]
        if w is not None
    }
    if not any(actor.in_branch(w.branch_id) for w in ends.values()):
        raise NotFound(
            "Warehouse not found",
            code="WAREHOUSE_NOT_FOUND",
            details=[field_error("from_warehouse_id", "not found", warehouse_id=from_warehouse_id)],
        )
    return await transfers.request_transfer(
        session,
        from_warehouse_id=from_warehouse_id,
        to_warehouse_id=to_warehouse_id,
        lines=lines,
        requested_by_id=actor.user_id,
        note=note,
    )


async def dispatch_transfer(
    session: AsyncSession, actor: Actor, *, transfer_id: int, lines: Lines | None = None
) -> Transfer:
    """INV-09: the source must be in scope. 404 TRANSFER_NOT_FOUND, 409 INVALID_STATE,
    422 OVER_DISPATCH, 409 INSUFFICIENT_STOCK. Emits TransferChanged, StockChanged."""
    await check_transfer(session, actor, transfer_id, "source")
    return await transfers.dispatch_transfer(
        session, transfer_id=transfer_id, dispatched_by_id=actor.user_id, lines=lines
    )


async def receive_transfer(
    session: AsyncSession, actor: Actor, *, transfer_id: int, lines: Lines, note: str | None = None
) -> Transfer:
    """INV-10: the destination must be in scope. 404 TRANSFER_NOT_FOUND, 409 INVALID_STATE,
    422 OVER_RECEIPT. Emits TransferChanged, StockChanged and (when short) JournalPosted."""
    await check_transfer(session, actor, transfer_id, "destination")
    return await transfers.receive_transfer(
        session, transfer_id=transfer_id, received_by_id=actor.user_id, lines=lines, note=note
    )


async def cancel_transfer(session: AsyncSession, actor: Actor, *, transfer_id: int, reason: str) -> Transfer:
    """INV-11: either end in scope. 404 TRANSFER_NOT_FOUND, 409 INVALID_STATE. Emits TransferChanged."""
    await check_transfer(session, actor, transfer_id, "either")
    return await transfers.cancel_transfer(
        session, transfer_id=transfer_id, cancelled_by_id=actor.user_id, reason=reason
    )


async def adjust_stock(
    session: AsyncSession,
    actor: Actor,
    *,
    warehouse_id: int,
    reason: str,
    lines: Lines,
    note: str,
    media_ids: Sequence[int] = (),
) -> Adjustment:
    """INV-13. 404 WAREHOUSE_NOT_FOUND / PRODUCT_NOT_FOUND, 422 DUPLICATE_LINE, 409 NEGATIVE_STOCK,
    403 APPROVAL_REQUIRED (branch manager above the branch limit), 422 VALIDATION_ERROR for media
    the caller did not upload. Emits StockChanged, JournalPosted."""
    await scoped_warehouse(session, actor, warehouse_id)
    if media_ids:
        # Photos of the damage: the caller's own uploads only.
        own = set(
            await session.scalars(
                select(Media.id).where(Media.id.in_(set(media_ids)), Media.uploaded_by_id == actor.user_id)
            )
        )
        bad = [
            field_error(f"media_ids[{i}]", "unknown media") for i, m in enumerate(media_ids) if m not in own
        ]
        if bad:
            raise Invalid("Unknown media", details=bad)
    return await adjustments.apply_adjustment(
        session,
        warehouse_id=warehouse_id,
        reason=reason,
        lines=lines,
        note=note,
        by_id=actor.user_id,
        role=actor.role,
        media_ids=media_ids,
    )


async def start_count(
    session: AsyncSession,
    actor: Actor,
    *,
    warehouse_id: int,
    scope: str,
    category_id: int | None = None,
    product_ids: Sequence[int] = (),
    blind: bool = True,
) -> Count:
    """INV-15. 404 WAREHOUSE_NOT_FOUND / CATEGORY_NOT_FOUND / PRODUCT_NOT_FOUND, 422 EMPTY_SCOPE,
    409 COUNT_IN_PROGRESS. Emits CountChanged."""
    await scoped_warehouse(session, actor, warehouse_id)
    return await counts.start_count(
        session,
        warehouse_id=warehouse_id,
        scope=scope,
        started_by_id=actor.user_id,
        category_id=category_id,
        product_ids=product_ids,
        blind=blind,
    )


async def record_counts(session: AsyncSession, actor: Actor, *, count_id: int, lines: Lines) -> Count:
    """INV-17. 404 COUNT_NOT_FOUND / PRODUCT_NOT_FOUND, 409 COUNT_CLOSED, 422 DUPLICATE_LINE,
    422 PRODUCT_NOT_IN_COUNT. Emits CountChanged."""
    await check_count(session, actor, count_id)
    return await counts.record_counts(session, count_id=count_id, lines=lines, counted_by_id=actor.user_id)


async def complete_count(
    session: AsyncSession,
    actor: Actor,
    *,
    count_id: int,
    apply: bool,
    uncounted: str = "ignore",
    note: str | None = None,
) -> Count:
    """INV-18. 404 COUNT_NOT_FOUND, 409 COUNT_CLOSED, 403 APPROVAL_REQUIRED, 409 NEGATIVE_STOCK.
    Emits CountChanged and, when a variance is applied, StockChanged and JournalPosted."""
    await check_count(session, actor, count_id)
    return await counts.complete_count(
        session,
        count_id=count_id,
        completed_by_id=actor.user_id,
        role=actor.role,
        apply=apply,
        uncounted=uncounted,
        note=note,
    )
