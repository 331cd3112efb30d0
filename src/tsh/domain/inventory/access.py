"""Scope of the inventory screens and actions (apps/inventory.md, "Rules across endpoints").

A warehouse belongs to one branch; `branch` scope covers the warehouses of the caller's branch and
`all` every warehouse. A transfer is in scope when either end is, except where the contract
narrows it to one end (warehouse staff dispatch from their branch and receive into it). Anything
outside scope is a 404 with the record's own code, never a 403 (no existence oracle).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.inventory.models import Count, Transfer
from tsh.domain.organisation.models import Warehouse
from tsh.platform.errors import NotFound, field_error

End = Literal["either", "source", "destination"]


def warehouse_filter(actor: Actor, column: Any) -> ColumnElement[bool]:
    """`column` (a warehouse id column) restricted to the actor's warehouses."""
    if actor.sees_all:
        return true()
    ids = select(Warehouse.id).where(Warehouse.branch_id == actor.branch_id)
    return column.in_(ids)


def transfer_filter(actor: Actor, end: End = "either") -> ColumnElement[bool]:
    if actor.sees_all:
        return true()
    source = warehouse_filter(actor, Transfer.from_warehouse_id)
    destination = warehouse_filter(actor, Transfer.to_warehouse_id)
    if end == "source":
        return source
    if end == "destination":
        return destination
    return or_(source, destination)


async def scoped_warehouse(
    session: AsyncSession, actor: Actor, warehouse_id: int, field: str = "warehouse_id"
) -> Warehouse:
    """The warehouse if it is inside the actor's scope; 404 WAREHOUSE_NOT_FOUND otherwise."""
    warehouse = await session.get(Warehouse, warehouse_id)
    if warehouse is None or not actor.in_branch(warehouse.branch_id):
        raise NotFound(
            "Warehouse not found",
            code="WAREHOUSE_NOT_FOUND",
            details=[field_error(field, "not found", warehouse_id=warehouse_id)],
        )
    return warehouse


async def scoped_warehouse_ids(session: AsyncSession, actor: Actor, warehouse_id: int | None) -> list[int]:
    """The warehouses a screen covers: the one asked for (404 outside scope), else all in scope."""
    if warehouse_id is not None:
        return [(await scoped_warehouse(session, actor, warehouse_id)).id]
    stmt = select(Warehouse.id).order_by(Warehouse.id)
    if not actor.sees_all:
        stmt = stmt.where(Warehouse.branch_id == actor.branch_id)
    return list(await session.scalars(stmt))


async def check_transfer(session: AsyncSession, actor: Actor, transfer_id: int, end: End = "either") -> None:
    """404 TRANSFER_NOT_FOUND unless the transfer exists and the required end is in scope."""
    found = await session.scalar(
        select(Transfer.id).where(Transfer.id == transfer_id, transfer_filter(actor, end))
    )
    if found is None:
        raise NotFound("Transfer not found", code="TRANSFER_NOT_FOUND")


async def check_count(session: AsyncSession, actor: Actor, count_id: int) -> Count:
    """The count (lines not loaded) if its warehouse is in scope; 404 COUNT_NOT_FOUND otherwise."""
    count = await session.scalar(
        select(Count).where(Count.id == count_id, warehouse_filter(actor, Count.warehouse_id))
    )
    if count is None:
        raise NotFound("Count not found", code="COUNT_NOT_FOUND")
    return count
