"""POST /api/goods-receipts: how stock enters (core.md §2.2).

A thin composition of the domain services, in the order the seed books a receipt: the receipt
document, `stock.receive` per line (raises on hand, re-weights average cost at the IQD unit cost,
one movement each, StockChanged), then `posting.post_entry` of inventory against the supplier's
payable account in the receipt currency at the receipt's rate (JournalPosted).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.resource import Command
from tsh.api.legacy.services import MAX_AMOUNT, Id, Strict, check_places
from tsh.api.legacy.writes import flush_checked
from tsh.domain.accounting import posting
from tsh.domain.inventory import stock
from tsh.domain.inventory.models import GoodsReceipt, GoodsReceiptLine, Supplier
from tsh.domain.money import BASE_CURRENCY, round_money
from tsh.domain.organisation.models import Warehouse
from tsh.domain.sales.common import business_today, new_number
from tsh.platform.auth.principal import Principal
from tsh.platform.db.base import utcnow
from tsh.platform.errors import NotFound

CENT = Decimal("0.01")


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
    branch_id = await session.scalar(select(Warehouse.branch_id).where(Warehouse.id == body.warehouse_id))
    if branch_id is None:
        raise NotFound("Warehouse not found", code="WAREHOUSE_NOT_FOUND")
    currency = supplier.currency
    check_places([(f"lines[{i}].unit_cost", ln.unit_cost) for i, ln in enumerate(body.lines)], currency)
    now = utcnow()
    rate = Decimal(1) if currency == BASE_CURRENCY else await posting.rate_in_force(session, now)
    total = round_money(sum((ln.unit_cost * ln.qty for ln in body.lines), Decimal(0)), currency)
    receipt = GoodsReceipt(
        number=new_number("GRN"),
        supplier_id=supplier.id,
        warehouse_id=body.warehouse_id,
        received_at=now,
        received_by_id=principal.user_id,
        currency=currency,
        exchange_rate=rate,
        total=total,
        note=body.note,
        lines=[
            GoodsReceiptLine(product_id=ln.product_id, qty=ln.qty, unit_cost=ln.unit_cost)
            for ln in body.lines
        ],
    )
    session.add(receipt)
    await flush_checked(session)  # unknown product: 422 REFERENCE_NOT_FOUND
    for ln in sorted(body.lines, key=lambda x: x.product_id):
        await stock.receive(
            session,
            warehouse_id=body.warehouse_id,
            product_id=ln.product_id,
            qty=ln.qty,
            unit_cost=(ln.unit_cost * rate).quantize(CENT, rounding=ROUND_HALF_UP),
            movement_type="receipt",
            source_type="goods_receipt",
            source_id=receipt.id,
            by_id=principal.user_id,
        )
    if total > 0:
        entry = await posting.post_entry(
            session,
            journal="INV",
            entry_date=business_today(now),
            currency=currency,
            lines=[
                posting.Line("inventory", debit=total, branch_id=branch_id),
                posting.Line(supplier.payable_account_id, credit=total, branch_id=branch_id),
            ],
            memo=f"Goods receipt {receipt.number}",
            source_type="goods_receipt",
            source_id=receipt.id,
            branch_id=branch_id,
            posted_by_id=principal.user_id,
            exchange_rate=None if currency == BASE_CURRENCY else rate,
            reference=receipt.number,
        )
        receipt.journal_entry_id = entry.id
    return receipt


GOODS_RECEIPT = Command(create_receipt, NewReceipt)
