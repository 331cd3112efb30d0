"""The few write rules of plain master-data resources that columns alone cannot express."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.serialize import Record
from tsh.domain.organisation.models import Warehouse
from tsh.platform.auth.principal import Principal
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error


async def set_by_caller(
    session: AsyncSession, principal: Principal, row: Any, data: dict[str, Any], before: Record
) -> None:
    """Targets: remember who set them."""
    row.set_by_id = principal.user_id


async def terminal_warehouse(
    session: AsyncSession, principal: Principal, row: Any, data: dict[str, Any], before: Record
) -> None:
    """A POS terminal is tied to a shop warehouse of its own branch."""
    kind = await session.scalar(
        select(Warehouse.type).where(Warehouse.id == row.warehouse_id, Warehouse.branch_id == row.branch_id)
    )
    if kind != "shop":
        raise Invalid(
            "A terminal needs a shop warehouse of its branch",
            details=[field_error("warehouse_id", "must be a shop warehouse of the terminal's branch")],
        )


async def promotion_branch(
    session: AsyncSession, principal: Principal, row: Any, data: dict[str, Any], before: Record
) -> None:
    """A branch_manager's promotions run in their own branch only (core.md §2.2)."""
    if principal.is_admin or principal.role != "branch_manager":
        return
    if before and list(before.get("branch_ids") or []) != [principal.branch_id]:
        raise NotFound()
    if list(row.branch_ids or []) != [principal.branch_id]:
        raise Invalid(
            "Your promotions run in your own branch only",
            details=[field_error("branch_ids", "must be exactly your branch", branch_id=principal.branch_id)],
        )


async def close_cycle(
    session: AsyncSession, principal: Principal, row: Any, data: dict[str, Any], before: Record
) -> None:
    """Review cycles: the only change here is closing an open cycle."""
    if before.get("status") == "closed":
        raise Conflict("The review cycle is already closed", code="CYCLE_CLOSED")
    row.closed_by_id = principal.user_id
    row.closed_at = utcnow()


async def void_warranty(
    session: AsyncSession, principal: Principal, row: Any, data: dict[str, Any], before: Record
) -> None:
    """Warranties: the only change here is voiding an active one, with a reason."""
    if before.get("status") == "void":
        raise Conflict("The warranty is already void", code="WARRANTY_VOID")
    if not (data.get("void_reason") or "").strip() or data.get("status") != "void":
        raise Invalid(details=[field_error("void_reason", "required with status void")])
    row.voided_at = utcnow()
