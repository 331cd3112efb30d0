"""Sales in progress: start (POS-09), replace lines (POS-11) and discard (POS-13).

Amounts (IQD; docs/pos.md): PosLine.unit_price is the tax-exclusive list price, discount_pct the
line's own discount and line_total what the line earns net of every discount (its own, the
order's and any promotion), before tax; tax is charged on line_total. On the sale, as in the
pricing module, subtotal = Σ round(qty × unit_price × (1 − line%)) (line discounts inside),
discount = subtotal − Σ line_total (the order discount and promotions), tax = Σ tax and
total = subtotal − discount + tax = Σ (line_total + tax). The order discount is folded into each
line as 1 − (1 − line%)(1 − order%), so a refund of a line gives back exactly what it cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog.models import Product
from tsh.domain.catalog.pricing import price_lines, price_list_for
from tsh.domain.customers.models import Customer
from tsh.domain.inventory.stock import ensure_available
from tsh.domain.money import round_money
from tsh.domain.pos.common import MAX_OPEN_SALES, Actor, branch_limits, caller_open_shift, load_sale
from tsh.domain.pos.models import PosLine, PosTerminal, PosTransaction, Shift
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class LineInput:
    product_id: int
    qty: int
    discount_pct: Decimal = Decimal("0")
    serial_number: str | None = None


def not_open(sale: PosTransaction) -> Conflict:
    return Conflict(f"The sale is {sale.status}", code="TRANSACTION_NOT_OPEN")


async def start_sale(session: AsyncSession, actor: Actor, *, customer_id: int | None) -> PosTransaction:
    """Open a sale in the caller's shift: 409 NO_OPEN_SHIFT, 409 TOO_MANY_OPEN, 404 CUSTOMER_NOT_FOUND."""
    shift = await caller_open_shift(session, actor.user_id)
    parked = await session.scalar(
        select(func.count())
        .select_from(PosTransaction)
        .where(PosTransaction.shift_id == shift.id, PosTransaction.status == "open")
    )
    if (parked or 0) >= MAX_OPEN_SALES:
        raise Conflict(
            f"At most {MAX_OPEN_SALES} sales may be open (parked) in a shift", code="TOO_MANY_OPEN"
        )
    if customer_id is not None:
        found = await session.scalar(
            select(Customer.id).where(Customer.id == customer_id, Customer.status == "active")
        )
        if found is None:
            raise NotFound("No such customer", code="CUSTOMER_NOT_FOUND")
    sale = PosTransaction(
        shift_id=shift.id, branch_id=shift.branch_id, customer_id=customer_id, status="open"
    )
    session.add(sale)
    await session.flush()
    return sale


def combined_pct(line_pct: Decimal, order_pct: Decimal) -> Decimal:
    """The single discount equal to a line discount followed by the order discount."""
    return HUNDRED - (HUNDRED - line_pct) * (HUNDRED - order_pct) / HUNDRED


async def _check_serials(session: AsyncSession, lines: Sequence[LineInput]) -> None:
    ids = {ln.product_id for ln in lines if ln.serial_number}
    serialised = set(
        await session.scalars(select(Product.id).where(Product.id.in_(ids), Product.is_serialised.is_(True)))
    )
    seen: set[tuple[int, str]] = set()
    bad = []
    for i, ln in enumerate(lines):
        if not ln.serial_number:
            continue
        if ln.product_id not in serialised:
            bad.append(field_error(f"lines[{i}].serial_number", "the product is not serialised"))
        elif ln.qty != 1:
            bad.append(field_error(f"lines[{i}].qty", "must be 1 for a line with a serial number"))
        elif (ln.product_id, ln.serial_number) in seen:
            bad.append(field_error(f"lines[{i}].serial_number", "duplicate serial number"))
        seen.add((ln.product_id, ln.serial_number))
    if bad:
        raise Invalid("Invalid serial numbers", details=bad)


async def replace_lines(
    session: AsyncSession,
    actor: Actor,
    *,
    sale_id: int,
    lines: Sequence[LineInput],
    order_discount_pct: Decimal,
) -> PosTransaction:
    """Reprice and replace the lines of an open sale: 409 TRANSACTION_NOT_OPEN, 409 INSUFFICIENT_STOCK
    (terminal warehouse), 403 APPROVAL_REQUIRED (cashier discount limit)."""
    sale = await load_sale(session, actor, sale_id, lock=True)
    if sale.status != "open":
        raise not_open(sale)
    await _check_serials(session, lines)
    now = datetime.now(UTC)
    price_list = await price_list_for(session, channel="pos", branch_id=sale.branch_id)
    if price_list.currency != "IQD":
        raise Conflict("The branch POS price list is not in IQD", code="NO_PRICE_LIST")
    priced = await price_lines(
        session,
        price_list=price_list,
        lines=[(ln.product_id, ln.qty, combined_pct(ln.discount_pct, order_discount_pct)) for ln in lines],
        channel="pos",
        branch_id=sale.branch_id,
        at=now,
    )
    if lines:
        warehouse_id = await session.scalar(
            select(PosTerminal.warehouse_id)
            .join(Shift, Shift.terminal_id == PosTerminal.id)
            .where(Shift.id == sale.shift_id)
        )
        assert warehouse_id is not None
        await ensure_available(
            session, warehouse_id=warehouse_id, lines=[(ln.product_id, ln.qty) for ln in lines]
        )
    if actor.limited:
        limit = (await branch_limits(session, sale.branch_id)).discount_pct
        over = [
            field_error(f"lines[{i}].discount_pct", "above the cashier discount limit", limit=str(limit))
            for i, ln in enumerate(lines)
            if ln.discount_pct > limit
        ]
        if order_discount_pct > limit:
            over.append(
                field_error("order_discount_pct", "above the cashier discount limit", limit=str(limit))
            )
        if over:
            raise Forbidden(
                "A discount above the cashier limit needs a branch manager",
                code="APPROVAL_REQUIRED",
                details=over,
            )
    await session.execute(delete(PosLine).where(PosLine.transaction_id == sale.id))
    gross = ZERO
    for ln, pl in zip(lines, priced.lines, strict=True):
        gross += round_money(pl.qty * pl.unit_price * (HUNDRED - ln.discount_pct) / HUNDRED, "IQD")
        session.add(
            PosLine(
                transaction_id=sale.id,
                product_id=ln.product_id,
                qty=ln.qty,
                unit_price=pl.unit_price,
                discount_pct=ln.discount_pct,
                tax=pl.tax,
                line_total=pl.net,
                serial_number=ln.serial_number,
            )
        )
    net = sum((pl.net for pl in priced.lines), ZERO)
    sale.discount_pct = order_discount_pct
    sale.subtotal = gross
    sale.discount = gross - net
    sale.tax = priced.tax
    sale.total = net + priced.tax
    await session.flush()
    return sale


async def discard_sale(session: AsyncSession, actor: Actor, *, sale_id: int, reason: str) -> PosTransaction:
    """Discard an open sale: 409 TRANSACTION_COMPLETED (refund it instead)."""
    sale = await load_sale(session, actor, sale_id, lock=True)
    if sale.status == "completed":
        raise Conflict("A completed sale is refunded, not discarded", code="TRANSACTION_COMPLETED")
    if sale.status != "open":
        raise not_open(sale)
    sale.status = "discarded"
    sale.discarded_at = datetime.now(UTC)
    sale.discard_reason = reason
    await session.flush()
    return sale
