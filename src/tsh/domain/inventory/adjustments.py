"""Stock adjustments (INV-13): signed corrections at average cost, posted to inventory adjustments.

An adjustment corrects the on hand of one warehouse, line by line, at the average cost of the
moment (`stock.adjust`: one movement per line, 409 NEGATIVE_STOCK). Its signed value, rounded to
whole dinars, is posted on the INV journal: a loss debits `inventory_adjustments` and credits
`inventory`, a gain the other way round; a value of 0 posts nothing.

Approval (403 APPROVAL_REQUIRED): roles other than inventory_manager and admin (the contract names
branch_manager) may not apply an adjustment whose value exceeds the branch's
adjustment_value_limit (in the branch's limits_currency; DEFAULT_ADJUSTMENT_LIMIT_IQD when not
configured). The value compared is the gross value, Σ |qty_delta x avg cost|, so a loss cannot be
hidden under the limit by an offsetting gain on another line.

Counts book their variances here too (`count_id` given, reason `count`, movement type `count`).
The helpers below (warehouse branch, product existence, duplicate lines) are shared by the other
inventory services.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import Line, post_entry, rate_in_force
from tsh.domain.catalog.models import Product
from tsh.domain.inventory import stock
from tsh.domain.inventory.models import Adjustment, AdjustmentLine
from tsh.domain.money import convert, round_money
from tsh.domain.organisation.models import Branch, Warehouse
from tsh.domain.shared import business_today, new_number
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

MANUAL_REASONS = ("damage", "loss", "found", "expiry", "correction")
# Roles not bound by the branch adjustment limit.
UNBOUND_ROLES = frozenset({"inventory_manager", "admin"})
# Used when a branch has no adjustment_value_limit configured (the seeded branches' value).
DEFAULT_ADJUSTMENT_LIMIT_IQD = Decimal("2500000")
ZERO = Decimal("0")


# --- shared helpers -------------------------------------------------------------------------------
async def warehouse_branch(session: AsyncSession, warehouse_id: int, field: str = "warehouse_id") -> int:
    """Branch id of a warehouse; 404 WAREHOUSE_NOT_FOUND."""
    branch_id = await session.scalar(select(Warehouse.branch_id).where(Warehouse.id == warehouse_id))
    if branch_id is None:
        raise NotFound(
            "Warehouse not found",
            code="WAREHOUSE_NOT_FOUND",
            details=[field_error(field, "not found", warehouse_id=warehouse_id)],
        )
    return int(branch_id)


async def require_products(session: AsyncSession, product_ids: Sequence[int], prefix: str = "lines") -> None:
    """404 PRODUCT_NOT_FOUND listing every line whose product does not exist."""
    found = set(await session.scalars(select(Product.id).where(Product.id.in_(set(product_ids)))))
    missing = [
        field_error(f"{prefix}[{i}].product_id", "not found", product_id=pid)
        for i, pid in enumerate(product_ids)
        if pid not in found
    ]
    if missing:
        raise NotFound("Product not found", code="PRODUCT_NOT_FOUND", details=missing)


def reject_duplicates(product_ids: Sequence[int], prefix: str = "lines") -> None:
    """422 DUPLICATE_LINE listing every line repeating a product of an earlier line."""
    seen: set[int] = set()
    dupes = []
    for i, pid in enumerate(product_ids):
        if pid in seen:
            dupes.append(field_error(f"{prefix}[{i}].product_id", "duplicate product", product_id=pid))
        seen.add(pid)
    if dupes:
        raise Invalid("A product may appear on one line only", code="DUPLICATE_LINE", details=dupes)


def require_lines(lines: Sequence[object], prefix: str = "lines") -> None:
    if not lines:
        raise Invalid("At least one line is needed", details=[field_error(prefix, "must not be empty")])


async def require_approval(
    session: AsyncSession, *, role: str, branch_id: int, gross_value: Decimal, field: str
) -> None:
    """403 APPROVAL_REQUIRED when a bound role's gross IQD value exceeds the branch limit."""
    if role in UNBOUND_ROLES:
        return
    limit, currency = (
        await session.execute(
            select(Branch.adjustment_value_limit, Branch.limits_currency).where(Branch.id == branch_id)
        )
    ).one()
    if limit is None:
        limit, currency = DEFAULT_ADJUSTMENT_LIMIT_IQD, "IQD"
    value = gross_value
    if currency != "IQD":
        value = convert(gross_value, "IQD", currency, await rate_in_force(session, business_today()))
    if value > limit:
        raise Forbidden(
            "This adjustment exceeds the branch limit: an inventory manager must apply it",
            code="APPROVAL_REQUIRED",
            details=[
                field_error(
                    field,
                    "above the adjustment limit",
                    value=str(round_money(value, currency)),
                    limit=str(limit),
                    currency=currency,
                )
            ],
        )


def _stock_values(lines: Iterable[tuple[int, Decimal]]) -> tuple[Decimal, Decimal]:
    """(net, gross) of (qty, unit cost) pairs."""
    pairs = list(lines)
    return sum((q * c for q, c in pairs), ZERO), sum((abs(q * c) for q, c in pairs), ZERO)


async def post_stock_value(
    session: AsyncSession,
    *,
    value: Decimal,
    branch_id: int,
    memo: str,
    source_type: str,
    source_id: int,
    by_id: int | None,
    reference: str,
) -> int | None:
    """Post a signed IQD stock value against inventory adjustments (gain > 0, loss < 0); entry id."""
    amount = round_money(abs(value), "IQD")
    if amount == 0:
        return None
    gain, loss = "inventory", "inventory_adjustments"
    debit, credit = (gain, loss) if value > 0 else (loss, gain)
    entry = await post_entry(
        session,
        journal="INV",
        entry_date=business_today(),
        currency="IQD",
        lines=[
            Line(debit, debit=amount, branch_id=branch_id, memo=memo),
            Line(credit, credit=amount, branch_id=branch_id, memo=memo),
        ],
        memo=memo,
        source_type=source_type,
        source_id=source_id,
        branch_id=branch_id,
        posted_by_id=by_id,
        reference=reference,
    )
    return entry.id


# --- the service ------------------------------------------------------------------------------------
async def apply_adjustment(
    session: AsyncSession,
    *,
    warehouse_id: int,
    reason: str,
    lines: Sequence[tuple[int, int]],
    note: str | None,
    by_id: int,
    role: str,
    media_ids: Sequence[int] = (),
    count_id: int | None = None,
) -> Adjustment:
    """Apply signed (product_id, qty_delta) lines at average cost and post their value.

    422 VALIDATION_ERROR (reason, empty lines, qty_delta 0, missing note of a manual adjustment),
    422 DUPLICATE_LINE, 404 WAREHOUSE_NOT_FOUND / PRODUCT_NOT_FOUND, 409 NEGATIVE_STOCK (every line
    that would fall below 0), 403 APPROVAL_REQUIRED. Emits StockChanged and JournalPosted.
    """
    source = "manual" if count_id is None else "count"
    if (source == "manual" and reason not in MANUAL_REASONS) or (source == "count" and reason != "count"):
        raise Invalid(
            "Unknown adjustment reason", details=[field_error("reason", "not allowed", reason=reason)]
        )
    require_lines(lines)
    zero = [field_error(f"lines[{i}].qty_delta", "must not be 0") for i, (_, q) in enumerate(lines) if q == 0]
    if zero:
        raise Invalid("Every line changes the quantity", details=zero)
    if source == "manual" and not (note or "").strip():
        raise Invalid("A note is required", details=[field_error("note", "required")])
    pids = [pid for pid, _ in lines]
    reject_duplicates(pids)
    branch_id = await warehouse_branch(session, warehouse_id)
    await require_products(session, pids)

    levels = await stock.lock_levels(session, warehouse_id=warehouse_id, product_ids=pids)
    negative = [
        field_error(f"lines[{i}].qty_delta", "negative stock", product_id=pid, on_hand=levels[pid].on_hand)
        for i, (pid, q) in enumerate(lines)
        if levels[pid].on_hand + q < 0
    ]
    if negative:
        raise Conflict("On hand would fall below zero", code="NEGATIVE_STOCK", details=negative)
    net, gross = _stock_values((q, levels[pid].avg_cost) for pid, q in lines)
    await require_approval(session, role=role, branch_id=branch_id, gross_value=gross, field="lines")

    adjustment = Adjustment(
        number=new_number("ADJ"),
        warehouse_id=warehouse_id,
        reason=reason,
        source=source,
        count_id=count_id,
        note=note,
        media_ids=list(media_ids),
        value=round_money(net, "IQD"),
        by_id=by_id,
        lines=[
            AdjustmentLine(product_id=pid, qty_delta=q, unit_cost=levels[pid].avg_cost) for pid, q in lines
        ],
    )
    session.add(adjustment)
    await session.flush()
    by_product = {ln.product_id: ln for ln in adjustment.lines}
    for pid, q in sorted(lines):
        by_product[pid].unit_cost = await stock.adjust(
            session,
            warehouse_id=warehouse_id,
            product_id=pid,
            qty_delta=q,
            movement_type="adjustment" if source == "manual" else "count",
            source_type="adjustment",
            source_id=adjustment.id,
            by_id=by_id,
        )
    net, _ = _stock_values((ln.qty_delta, ln.unit_cost) for ln in adjustment.lines)
    adjustment.value = round_money(net, "IQD")
    adjustment.journal_entry_id = await post_stock_value(
        session,
        value=adjustment.value,
        branch_id=branch_id,
        memo=f"Stock adjustment {adjustment.number} ({reason})",
        source_type="adjustment",
        source_id=adjustment.id,
        by_id=by_id,
        reference=adjustment.number,
    )
    await session.flush()
    return adjustment
