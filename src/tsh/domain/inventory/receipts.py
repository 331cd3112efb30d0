"""Goods receipts: how stock enters from suppliers (core.md §2.2 goods-receipts).

One receipt is in one currency (the supplier invoice's): every line carries it and they must agree.
A USD receipt takes the rate in force (IQD per USD) and each line enters stock at its unit cost in
IQD (rounded to fils like the average cost column), re-weighting the warehouse's average cost
(`stock.receive`, one receipt movement per line). The receipt total, in its currency, is posted on
the INV journal: inventory against the supplier's payable account (payable_suppliers in the
chart); a receipt worth 0 (free goods) posts nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import Line, post_entry, rate_in_force
from tsh.domain.inventory import stock
from tsh.domain.inventory.adjustments import (
    reject_duplicates,
    require_lines,
    require_products,
    warehouse_branch,
)
from tsh.domain.inventory.models import GoodsReceipt, GoodsReceiptLine, Supplier
from tsh.domain.money import BASE_CURRENCY, CURRENCIES, has_valid_places, round_money
from tsh.domain.shared import business_today, new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, NotFound, field_error

CENT = Decimal("0.01")


def _check_lines(lines: Sequence[tuple[int, int, Decimal, str]]) -> str:
    """The receipt currency; 422 for a bad quantity, cost, currency or amount (every offending line)."""
    require_lines(lines)
    currency = lines[0][3]
    bad: list[dict[str, object]] = []
    for i, (_, qty, cost, cur) in enumerate(lines):
        if qty <= 0:
            bad.append(field_error(f"lines[{i}].qty", "must be greater than 0"))
        if cur not in CURRENCIES:
            bad.append(field_error(f"lines[{i}].currency", "unknown currency", currency=cur))
        elif cur != currency:
            bad.append(field_error(f"lines[{i}].currency", "one currency per receipt", currency=cur))
        if cost < 0:
            bad.append(field_error(f"lines[{i}].unit_cost", "must not be negative"))
    if bad:
        raise Invalid("Some receipt lines are invalid", details=bad)
    places = [
        field_error(f"lines[{i}].unit_cost", "too many decimal places", currency=currency)
        for i, (_, _, cost, _) in enumerate(lines)
        if not has_valid_places(cost, currency)
    ]
    if places:
        # core.md §0 money input: IQD has no fractional dinars, USD at most 2 decimals.
        raise Invalid("Amounts exceed the currency's decimal places", code="INVALID_AMOUNT", details=places)
    return currency


async def receive_goods(
    session: AsyncSession,
    *,
    supplier_id: int,
    warehouse_id: int,
    lines: Sequence[tuple[int, int, Decimal, str]],
    received_by_id: int | None,
    reference: str | None = None,
    note: str | None = None,
) -> GoodsReceipt:
    """Receive (product_id, qty, unit_cost, currency) lines from a supplier into a warehouse.

    `reference` (the supplier's invoice or delivery number) goes on the journal entry, which
    otherwise carries the receipt number. 422 VALIDATION_ERROR, 422 DUPLICATE_LINE, 404
    SUPPLIER_NOT_FOUND / WAREHOUSE_NOT_FOUND / PRODUCT_NOT_FOUND, 409 NO_EXCHANGE_RATE.
    Emits StockChanged and JournalPosted.
    """
    currency = _check_lines(lines)
    pids = [ln[0] for ln in lines]
    reject_duplicates(pids)
    supplier = await session.get(Supplier, supplier_id)
    if supplier is None or not supplier.is_active:
        raise NotFound(
            "Supplier not found",
            code="SUPPLIER_NOT_FOUND",
            details=[field_error("supplier_id", "not found", supplier_id=supplier_id)],
        )
    branch_id = await warehouse_branch(session, warehouse_id)
    await require_products(session, pids)
    now = utcnow()
    rate = Decimal(1) if currency == BASE_CURRENCY else await rate_in_force(session, now)
    total = round_money(sum((cost * qty for _, qty, cost, _ in lines), Decimal(0)), currency)
    receipt = GoodsReceipt(
        number=new_number("GRN"),
        supplier_id=supplier.id,
        warehouse_id=warehouse_id,
        received_at=now,
        received_by_id=received_by_id,
        currency=currency,
        exchange_rate=rate,
        total=total,
        note=note,
        lines=[GoodsReceiptLine(product_id=pid, qty=qty, unit_cost=cost) for pid, qty, cost, _ in lines],
    )
    session.add(receipt)
    await session.flush()
    for pid, qty, cost, _ in sorted(lines, key=lambda ln: ln[0]):
        await stock.receive(
            session,
            warehouse_id=warehouse_id,
            product_id=pid,
            qty=qty,
            unit_cost=(cost * rate).quantize(CENT, rounding=ROUND_HALF_UP),
            movement_type="receipt",
            source_type="goods_receipt",
            source_id=receipt.id,
            by_id=received_by_id,
        )
    if total > 0:
        entry = await post_entry(
            session,
            journal="INV",
            entry_date=business_today(now),
            currency=currency,
            lines=[
                Line("inventory", debit=total, branch_id=branch_id),
                Line(supplier.payable_account_id, credit=total, branch_id=branch_id),
            ],
            memo=f"Goods receipt {receipt.number}",
            source_type="goods_receipt",
            source_id=receipt.id,
            branch_id=branch_id,
            posted_by_id=received_by_id,
            exchange_rate=None if currency == BASE_CURRENCY else rate,
            reference=reference or receipt.number,
        )
        receipt.journal_entry_id = entry.id
        await session.flush()
    return receipt
