"""POST /api/goods-receipts: how stock enters (core.md §2.2), in the supplier's currency, through
`tsh.domain.inventory.receipts.receive_goods` (stock, average cost, INV journal entry)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.resource import Command
from tsh.api.legacy.services import MAX_AMOUNT, Id, Strict
from tsh.domain.inventory.models import Supplier
from tsh.domain.inventory.receipts import receive_goods
from tsh.platform.auth.principal import Principal
from tsh.platform.errors import NotFound


class ReceiptLine(Strict):
    product_id: Id
    qty: int = Field(gt=0, le=1_000_000)
    unit_cost: Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2)]  # receipt currency


class NewReceipt(Strict):
    supplier_id: Id
    warehouse_id: Id
    note: str | None = Field(None, max_length=2000)
    lines: list[ReceiptLine] = Field(min_length=1, max_length=500)

    @field_validator("lines")
    @classmethod
    def _one_line_per_product(cls, lines: list[ReceiptLine]) -> list[ReceiptLine]:
        ids = [ln.product_id for ln in lines]
        if len(set(ids)) != len(ids):
            raise ValueError("a product may appear on one line only")
        return lines


async def create_receipt(session: AsyncSession, principal: Principal, row: Any, body: NewReceipt) -> Any:
    supplier = await session.get(Supplier, body.supplier_id)
    if supplier is None or not supplier.is_active:
        raise NotFound("Supplier not found", code="SUPPLIER_NOT_FOUND")
    return await receive_goods(
        session,
        supplier_id=supplier.id,
        warehouse_id=body.warehouse_id,
        lines=[(ln.product_id, ln.qty, ln.unit_cost, supplier.currency) for ln in body.lines],
        received_by_id=principal.user_id,
        note=body.note,
    )


GOODS_RECEIPT = Command(create_receipt, NewReceipt)
