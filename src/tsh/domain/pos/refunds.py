"""Refunds of completed POS sales (POS-14), paid from the caller's own open shift.

A line's refund is its share of what the customer paid, (line_total + tax) × qty / sold qty,
rounded cumulatively (the refunds of a whole line add up to exactly what it cost). `cash` pays it
all in IQD from the caller's drawer; `original` splits it over the sale's tenders in proportion to
what each paid (net of change): the cash share from the drawer, the card and e-wallet share back
through the clearing account. Restocked items return to the terminal's warehouse at the current
average cost (inventory against cost of goods sold); damaged ones (restock=false) do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import Line, post_entry, rate_in_force
from tsh.domain.aftersales.models import Refund, Warranty
from tsh.domain.events import EventName
from tsh.domain.inventory.models import StockMovement
from tsh.domain.inventory.stock import receive
from tsh.domain.money import round_money
from tsh.domain.pos.common import (
    Actor,
    add_cash,
    branch_limits,
    branch_pos_users,
    caller_open_shift,
    drawer_balances,
    drawer_negative,
    in_currency,
    load_sale,
    raise_pos_events,
    sale_not_found,
)
from tsh.domain.pos.models import PosLine, PosTender, PosTerminal, PosTransaction, Shift
from tsh.domain.shared import business_today, new_number
from tsh.platform.errors import Conflict, Forbidden, Invalid, field_error

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class RefundLineInput:
    line_id: int
    qty: int


def _share(amount: Decimal, part: int, whole: int) -> Decimal:
    return round_money(amount * part / whole, "IQD")


def _split(amount: Decimal, weights: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """`amount` over the weights in proportion, the last taking the rounding remainder."""
    total = sum((w for _, w in weights), ZERO)
    out: dict[str, Decimal] = {}
    left = amount
    for i, (key, w) in enumerate(weights):
        part = left if i == len(weights) - 1 else min(left, round_money(amount * w / total, "IQD"))
        out[key] = out.get(key, ZERO) + part
        left -= part
    return out


async def refund_sale(
    session: AsyncSession,
    actor: Actor,
    *,
    sale_id: int,
    lines: Sequence[RefundLineInput],
    method: str,
    reason: str,
    restock: bool,
) -> Refund:
    """409 NO_OPEN_SHIFT, 409 REFUND_EXCEEDS_SALE, 409 DRAWER_NEGATIVE, 403 APPROVAL_REQUIRED."""
    sale = await load_sale(session, actor, sale_id)
    if sale.status != "completed":
        raise sale_not_found()  # only completed sales are refundable objects
    shift = await caller_open_shift(session, actor.user_id)
    sale = await load_sale(session, actor, sale_id, lock=True)
    sold = {
        ln.id: ln
        for ln in await session.scalars(
            select(PosLine).where(PosLine.transaction_id == sale.id).with_for_update()
        )
    }
    ids = [ln.line_id for ln in lines]
    unknown = [
        field_error(f"lines[{i}].line_id", "duplicate" if lid in sold else "not a line of this sale")
        for i, lid in enumerate(ids)
        if lid not in sold or ids.index(lid) != i
    ]
    if unknown:
        raise Invalid("Invalid refund lines", details=unknown)
    over = [
        field_error(
            f"lines[{i}].qty",
            "exceeds sold minus refunded",
            refundable=sold[r.line_id].qty - sold[r.line_id].qty_refunded,
        )
        for i, r in enumerate(lines)
        if r.qty > sold[r.line_id].qty - sold[r.line_id].qty_refunded
    ]
    if over:
        raise Conflict(
            "The refund exceeds what is left of the sale", code="REFUND_EXCEEDS_SALE", details=over
        )
    amount = tax = ZERO
    for r in lines:
        ln = sold[r.line_id]
        paid = ln.line_total + ln.tax
        amount += _share(paid, ln.qty_refunded + r.qty, ln.qty) - _share(paid, ln.qty_refunded, ln.qty)
        tax += _share(ln.tax, ln.qty_refunded + r.qty, ln.qty) - _share(ln.tax, ln.qty_refunded, ln.qty)
    if amount <= 0:
        raise Invalid(
            "These lines were free: nothing to refund", details=[field_error("lines", "refund amount is 0")]
        )
    parts = await _parts(session, sale, amount, method)
    cash = parts.pop("cash", ZERO)
    if cash:
        available = (await drawer_balances(session, shift.id))["IQD"]
        if cash > available:
            raise drawer_negative("IQD", available, cash)
    now = datetime.now(UTC)
    if actor.limited:
        await _check_approval(session, sale, amount, now)
    refund = Refund(
        number=new_number("PRF"),
        source="pos_transaction",
        source_id=sale.id,
        customer_id=sale.customer_id,
        branch_id=sale.branch_id,
        amount=amount,
        currency="IQD",
        method=method,
        reason=reason,
        shift_id=shift.id,
        issued_by_id=actor.user_id,
        issued_at=now,
    )
    session.add(refund)
    await session.flush()
    for r in lines:
        sold[r.line_id].qty_refunded += r.qty
    cost = (
        await _restock(session, sale, shift, refund, [(sold[r.line_id], r.qty) for r in lines])
        if restock
        else ZERO
    )
    if cash:
        add_cash(
            session,
            shift,
            type="refund",
            amount=-cash,
            currency="IQD",
            by_id=actor.user_id,
            at=now,
            reason=reason,
            transaction_id=sale.id,
        )
    clearing = sum(parts.values(), ZERO)
    refund.journal_entry_id = await _post_refund(session, refund, amount - tax, tax, cash, clearing, cost)
    voided = list(
        await session.scalars(
            select(Warranty.id).where(
                Warranty.pos_line_id.in_([r.line_id for r in lines]), Warranty.status == "active"
            )
        )
    )
    if voided:
        await session.execute(
            update(Warranty)
            .where(Warranty.id.in_(voided))
            .values(status="void", void_reason=f"refunded ({refund.number})", voided_at=now)
        )
    await session.flush()
    events: list[EventName] = ["RefundIssued", "ShiftChanged", "JournalPosted"]
    if restock:
        events.append("StockChanged")
    if voided:
        events.append("WarrantyChanged")
    sale_cashier = await session.scalar(select(Shift.cashier_id).where(Shift.id == sale.shift_id))
    users = [actor.user_id, sale_cashier, *await branch_pos_users(session, sale.branch_id)]
    raise_pos_events(session, events, branch_id=sale.branch_id, users=users, customer_id=sale.customer_id)
    return refund


async def _parts(
    session: AsyncSession, sale: PosTransaction, amount: Decimal, method: str
) -> dict[str, Decimal]:
    """How much goes back as drawer cash ("cash") and through the clearing account (per method)."""
    if method == "cash":
        return {"cash": amount}
    weights = [
        ("cash" if m == "cash" else m, Decimal(v))
        for m, v in await session.execute(
            select(PosTender.method, func.sum(PosTender.amount_iqd - PosTender.change_iqd))
            .where(PosTender.transaction_id == sale.id)
            .group_by(PosTender.method)
            .order_by(PosTender.method)
        )
        if v
    ]
    return _split(amount, weights) if weights else {"cash": amount}


async def _check_approval(
    session: AsyncSession, sale: PosTransaction, amount: Decimal, now: datetime
) -> None:
    limits = await branch_limits(session, sale.branch_id)
    assert sale.completed_at is not None
    age = (business_today(now) - business_today(sale.completed_at)).days
    rate = await rate_in_force(session, now) if limits.currency != "IQD" else Decimal("1")
    problems = []
    if age > limits.refund_age_days:
        problems.append(
            field_error(
                "transaction", "older than the refund age", age_days=age, limit=limits.refund_age_days
            )
        )
    if in_currency(amount, "IQD", limits.currency, rate) > limits.refund_limit:
        problems.append(
            field_error(
                "lines", "above the refund limit", limit=str(limits.refund_limit), currency=limits.currency
            )
        )
    if problems:
        raise Forbidden("This refund needs a branch manager", code="APPROVAL_REQUIRED", details=problems)


async def _restock(
    session: AsyncSession,
    sale: PosTransaction,
    shift: Shift,
    refund: Refund,
    items: Sequence[tuple[PosLine, int]],
) -> Decimal:
    """Put the items back in the terminal's warehouse; returns their value at average cost."""
    warehouse_id = await session.scalar(
        select(PosTerminal.warehouse_id).where(PosTerminal.id == shift.terminal_id)
    )
    assert warehouse_id is not None
    sold_cost = {
        pid: cost
        for pid, cost in await session.execute(
            select(StockMovement.product_id, func.max(StockMovement.unit_cost))
            .where(StockMovement.source_type == "pos_transaction", StockMovement.source_id == sale.id)
            .group_by(StockMovement.product_id)
        )
    }
    for ln, qty in sorted(items, key=lambda item: item[0].product_id):
        await receive(
            session,
            warehouse_id=warehouse_id,
            product_id=ln.product_id,
            qty=qty,
            unit_cost=Decimal(sold_cost.get(ln.product_id, 0)),
            movement_type="refund",
            source_type="refund",
            source_id=refund.id,
            by_id=refund.issued_by_id,
        )
    value = await session.scalar(
        select(func.coalesce(func.sum(StockMovement.qty * StockMovement.unit_cost), 0)).where(
            StockMovement.source_type == "refund", StockMovement.source_id == refund.id
        )
    )
    return round_money(Decimal(value or 0), "IQD")


async def _post_refund(
    session: AsyncSession,
    refund: Refund,
    net: Decimal,
    tax: Decimal,
    cash: Decimal,
    clearing: Decimal,
    cost: Decimal,
) -> int | None:
    b = refund.branch_id
    candidates = [
        Line("sales_revenue", debit=net, branch_id=b) if net else None,
        Line("vat_output", debit=tax, branch_id=b) if tax else None,
        Line("cash_iqd", credit=cash, branch_id=b) if cash else None,
        Line("payment_clearing", credit=clearing, branch_id=b) if clearing else None,
        Line("inventory", debit=cost, branch_id=b) if cost else None,
        Line("cogs", credit=cost, branch_id=b) if cost else None,
    ]
    lines = [ln for ln in candidates if ln]
    if not lines:
        return None
    entry = await post_entry(
        session,
        journal="POS",
        entry_date=business_today(refund.issued_at),
        currency="IQD",
        lines=lines,
        memo=f"POS refund {refund.number}",
        source_type="refund",
        source_id=refund.id,
        branch_id=b,
        posted_by_id=refund.issued_by_id,
        reference=refund.number,
    )
    return entry.id
