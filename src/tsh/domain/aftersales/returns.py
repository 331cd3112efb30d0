"""Return decisions (ASO-13) and refunds of approved returns (ASO-14).

Returns are opened by the consumer app (`tsh.domain.sales.consumer_orders.request_return`).

Decision: approve (fee at most 15 % of the return value; approved amount = value − fee; a
service agent may not approve above the branch return_value_limit, 403 APPROVAL_REQUIRED) or
reject. Approval books the returned quantities on the order lines and restocks the sellable lines
(not damaged ones) into the branch's returns warehouse, or its main one, at the cost they were sold
at (movement `return`).

Refund: method original (only for orders paid by wallet or card, back through the account the
payment was deposited to), credit_note (unallocated customer credit) or bank_transfer; no cash
here. One entry in the order currency reverses the refunded share of revenue and sales tax against
the money out, and takes back the commission on the returned value (unpaid commission rows are
reversed and re-accrued for the remainder; commission already paid out is settled by payroll and
payouts, not here). The restocked goods' cost leaves cost of goods sold for inventory in an IQD
entry. Warranties of returned serialised items are voided.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tsh.domain.accounting import posting
from tsh.domain.aftersales import warranties
from tsh.domain.aftersales.models import Refund, ReturnLine, ReturnRequest
from tsh.domain.events import raise_event
from tsh.domain.inventory import stock
from tsh.domain.inventory.models import StockMovement
from tsh.domain.money import convert, has_valid_places, round_money
from tsh.domain.organisation.models import Branch, Warehouse
from tsh.domain.sales.models import (
    ONLINE_PAYMENT_METHODS,
    Invoice,
    Order,
    OrderLine,
    Payment,
    PaymentAllocation,
)
from tsh.domain.sales.models.field import Commission
from tsh.domain.shared import business_today, new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

MAX_FEE_SHARE = Decimal("0.15")
# Used when the branch has no return_value_limit configured (in IQD).
DEFAULT_RETURN_VALUE_LIMIT_IQD = Decimal("500000")
UNLIMITED_ROLES = ("branch_manager", "admin")
REFUND_METHODS = ("original", "credit_note", "bank_transfer")
ZERO = Decimal(0)


async def _load(session: AsyncSession, return_id: int, branch_id: int | None) -> tuple[ReturnRequest, Order]:
    stmt = (
        select(ReturnRequest)
        .where(ReturnRequest.id == return_id)
        .options(selectinload(ReturnRequest.lines))
        .with_for_update(of=ReturnRequest)
        .execution_options(populate_existing=True)
    )
    if branch_id is not None:
        stmt = stmt.where(ReturnRequest.branch_id == branch_id)
    ret = await session.scalar(stmt)
    if ret is None:
        raise NotFound("Return request not found", code="RETURN_NOT_FOUND")
    order = await session.scalar(
        select(Order)
        .where(Order.id == ret.order_id)
        .options(selectinload(Order.lines))
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )
    assert order is not None
    return ret, order


def _changed(session: AsyncSession, ret: ReturnRequest) -> None:
    raise_event(
        session, "ReturnChanged", customers=[ret.customer_id], branches=[ret.branch_id], return_id=ret.id
    )


async def _limit(session: AsyncSession, branch_id: int, currency: str) -> Decimal:
    row = (
        await session.execute(
            select(Branch.return_value_limit, Branch.limits_currency).where(Branch.id == branch_id)
        )
    ).one()
    limit, limit_currency = (
        (row[0], row[1]) if row[0] is not None else (DEFAULT_RETURN_VALUE_LIMIT_IQD, "IQD")
    )
    if limit_currency == currency:
        return Decimal(limit)
    rate = await posting.rate_in_force(session, utcnow())
    return convert(Decimal(limit), limit_currency, currency, rate)


async def decide_return(
    session: AsyncSession,
    *,
    return_id: int,
    decision: str,
    note: str,
    by_user_id: int,
    role: str,
    restock: Sequence[tuple[int, bool]] = (),
    restocking_fee: Decimal = ZERO,
    branch_id: int | None = None,
) -> ReturnRequest:
    """Approve or reject a requested return (ASO-13).

    `restock` gives (order_line_id, restock) per line; lines not given restock unless damaged or
    not inspected. 409 INVALID_STATE unless requested; 422 FEE_TOO_HIGH above 15 % of the value;
    422 for restocking a damaged line; 403 APPROVAL_REQUIRED when a role other than branch manager
    or admin approves above the branch return limit. Emits ReturnChanged (StockChanged when
    lines are restocked).
    """
    if decision not in ("approved", "rejected"):
        raise Invalid(details=[field_error("decision", "must be approved or rejected")])
    if not note.strip():
        raise Invalid(details=[field_error("note", "required")])
    ret, order = await _load(session, return_id, branch_id)
    if ret.status != "requested":
        raise Conflict(f"The return is {ret.status}", code="INVALID_STATE")
    ret.decided_by_id, ret.decided_at, ret.decision_note = by_user_id, utcnow(), note.strip()
    if decision == "rejected":
        ret.status = "rejected"
        await session.flush()
        _changed(session, ret)
        return ret
    fee = restocking_fee
    if fee < 0 or not has_valid_places(fee, ret.currency):
        raise Invalid(details=[field_error("restocking_fee", "must be a valid amount >= 0")])
    if fee > round_money(ret.value * MAX_FEE_SHARE, ret.currency):
        raise Invalid(
            "The restocking fee is above 15 % of the return value",
            code="FEE_TOO_HIGH",
            details=[field_error("restocking_fee", "too high", value=str(ret.value), max_pct=15)],
        )
    given = dict(restock)
    by_line = {ln.order_line_id: ln for ln in ret.lines}
    unknown = [
        field_error(f"lines[{i}].order_line_id", "not on this return")
        for i, lid in enumerate(given)
        if lid not in by_line
    ]
    damaged = [
        field_error(f"lines[{i}].restock", "damaged items are not restocked")
        for i, (lid, yes) in enumerate(given.items())
        if yes and lid in by_line and by_line[lid].condition == "damaged"
    ]
    if unknown or damaged:
        raise Invalid(details=unknown + damaged)
    approved = ret.value - fee
    if role not in UNLIMITED_ROLES and approved > await _limit(session, ret.branch_id, ret.currency):
        raise Forbidden(
            "Returns above the branch limit need a branch manager",
            code="APPROVAL_REQUIRED",
            details=[field_error("decision", "above the branch return limit", approved=str(approved))],
        )
    lines = {ln.id: ln for ln in order.lines}
    over = [
        field_error("lines", "exceeds the returnable quantity", order_line_id=rl.order_line_id)
        for rl in ret.lines
        if rl.qty > lines[rl.order_line_id].qty_delivered - lines[rl.order_line_id].qty_returned
    ]
    if over:
        raise Conflict("More than can be returned", code="QTY_EXCEEDS_RETURNABLE", details=over)
    for rl in ret.lines:
        rl.restock = given.get(rl.order_line_id, rl.condition in ("sealed", "opened"))
        lines[rl.order_line_id].qty_returned += rl.qty
    ret.status, ret.restocking_fee, ret.approved_amount = "approved", fee, approved
    await _restock(session, ret, order, [rl for rl in ret.lines if rl.restock], lines, by_user_id)
    await session.flush()
    _changed(session, ret)
    return ret


async def _restock(
    session: AsyncSession,
    ret: ReturnRequest,
    order: Order,
    items: Sequence[ReturnLine],
    lines: dict[int, OrderLine],
    by_user_id: int,
) -> None:
    if not items:
        return
    warehouses = dict(
        (
            await session.execute(
                select(Warehouse.type, Warehouse.id).where(Warehouse.branch_id == ret.branch_id)
            )
        )
        .tuples()
        .all()
    )
    warehouse_id = warehouses.get("returns") or warehouses.get("main") or order.warehouse_id
    sold_cost = dict(
        (
            await session.execute(
                select(StockMovement.product_id, StockMovement.unit_cost).where(
                    StockMovement.source_type == "order",
                    StockMovement.source_id == order.id,
                    StockMovement.type == "sale",
                )
            )
        )
        .tuples()
        .all()
    )
    for rl in sorted(items, key=lambda x: lines[x.order_line_id].product_id):
        product_id = lines[rl.order_line_id].product_id
        await stock.receive(
            session,
            warehouse_id=warehouse_id,
            product_id=product_id,
            qty=rl.qty,
            unit_cost=Decimal(sold_cost.get(product_id, ZERO)),
            movement_type="return",
            source_type="return_request",
            source_id=ret.id,
            by_id=by_user_id,
        )


async def _paid_online(session: AsyncSession, order: Order) -> Payment | None:
    return await session.scalar(
        select(Payment)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(Invoice.order_id == order.id, Payment.method.in_(ONLINE_PAYMENT_METHODS))
        .order_by(Payment.id)
        .limit(1)
    )


async def refund_return(
    session: AsyncSession,
    *,
    return_id: int,
    method: str,
    amount: Decimal,
    by_user_id: int,
    bank_reference: str | None = None,
    branch_id: int | None = None,
) -> Refund:
    """Refund an approved return (ASO-14): 409 ALREADY_REFUNDED, 409 RETURN_NOT_APPROVED,
    422 METHOD_NOT_ALLOWED (cash, or original for an order not paid by wallet or card),
    409 REFUND_EXCEEDS_APPROVED. Emits RefundIssued, ReturnChanged, CreditChanged, JournalPosted,
    and CommissionChanged / WarrantyChanged where they apply."""
    ret, order = await _load(session, return_id, branch_id)
    if ret.status == "refunded":
        raise Conflict("The return is already refunded", code="ALREADY_REFUNDED")
    if ret.status != "approved":
        raise Conflict(f"The return is {ret.status}", code="RETURN_NOT_APPROVED")
    if amount <= 0 or not has_valid_places(amount, ret.currency):
        raise Invalid(details=[field_error("amount", "must be a valid amount > 0")])
    payment = await _paid_online(session, order) if method == "original" else None
    if method not in REFUND_METHODS or (method == "original" and payment is None):
        raise Invalid(
            "This refund method is not allowed for this return",
            code="METHOD_NOT_ALLOWED",
            details=[field_error("method", "not allowed", allowed=list(REFUND_METHODS))],
        )
    assert ret.approved_amount is not None
    if amount > ret.approved_amount:
        raise Conflict(
            "The refund is above the approved amount",
            code="REFUND_EXCEEDS_APPROVED",
            details=[field_error("amount", "above approved", approved=str(ret.approved_amount))],
        )
    reference = bank_reference or ((payment.provider_reference or payment.number) if payment else None)
    refund = Refund(
        number=new_number("RF"),
        source="return",
        source_id=ret.id,
        customer_id=ret.customer_id,
        branch_id=ret.branch_id,
        amount=amount,
        currency=ret.currency,
        method=method,
        reference=reference[:100] if reference else None,
        reason=f"Return {ret.number}",
        unallocated=amount if method == "credit_note" else ZERO,
        issued_by_id=by_user_id,
        issued_at=utcnow(),
    )
    session.add(refund)
    await session.flush()
    commission_lines = await _rebase_commissions(session, order)
    money_out: str | int = {
        "credit_note": "customer_credit",
        "bank_transfer": f"bank_{ret.currency.lower()}",
    }.get(method, (payment.deposit_account_id if payment else None) or "payment_clearing")
    lines_by_id = {ln.id: ln for ln in order.lines}
    tax_returned = sum(
        (lines_by_id[rl.order_line_id].tax * rl.qty / lines_by_id[rl.order_line_id].qty for rl in ret.lines),
        ZERO,
    )
    tax = round_money(amount * tax_returned / ret.value, ret.currency) if ret.value else ZERO
    b, c = ret.branch_id, ret.customer_id
    entry_lines = [
        posting.Line("sales_revenue", debit=amount - tax, branch_id=b),
        posting.Line("vat_output", debit=tax, branch_id=b),
        posting.Line(
            money_out, credit=amount, branch_id=b, customer_id=c if method == "credit_note" else None
        ),
        *commission_lines,
    ]
    entry = await posting.post_entry(
        session,
        journal="SAL",
        entry_date=business_today(),
        currency=ret.currency,
        lines=[ln for ln in entry_lines if ln.debit or ln.credit],
        memo=f"Refund {refund.number}: return {ret.number} of order {order.number}",
        source_type="refund",
        source_id=refund.id,
        branch_id=b,
        posted_by_id=by_user_id,
        reference=refund.number,
    )
    refund.journal_entry_id = entry.id
    await _post_restocked_cost(session, ret, refund, by_user_id)
    ret.status = "refunded"
    await warranties.void_for_order_lines(
        session,
        returned=[(rl.order_line_id, rl.qty) for rl in ret.lines],
        reason=f"returned ({refund.number})",
        branch_id=b,
    )
    await session.flush()
    _changed(session, ret)
    for name in ("RefundIssued", "CreditChanged"):
        raise_event(
            session,
            name,
            customers=[c],
            branches=[b],
            users=[order.salesperson_id],
            partners=[order.partner_id],
        )
    return refund


async def _post_restocked_cost(
    session: AsyncSession, ret: ReturnRequest, refund: Refund, by_user_id: int
) -> None:
    """The restocked goods leave cost of goods sold for inventory (IQD, at the cost restocked)."""
    moved = await session.execute(
        select(StockMovement.qty, StockMovement.unit_cost).where(
            StockMovement.source_type == "return_request", StockMovement.source_id == ret.id
        )
    )
    cost = round_money(sum((Decimal(q) * Decimal(u) for q, u in moved), ZERO), "IQD")
    if cost <= 0:
        return
    await posting.post_entry(
        session,
        journal="INV",
        entry_date=business_today(),
        currency="IQD",
        lines=[
            posting.Line("inventory", debit=cost, branch_id=ret.branch_id),
            posting.Line("cogs", credit=cost, branch_id=ret.branch_id),
        ],
        memo=f"Restocked goods of return {ret.number}",
        source_type="refund",
        source_id=refund.id,
        branch_id=ret.branch_id,
        posted_by_id=by_user_id,
        reference=refund.number,
    )


async def _rebase_commissions(session: AsyncSession, order: Order) -> list[posting.Line]:
    """Reverse the order's unpaid commissions and re-accrue them on the value still kept.

    Returns the ledger lines taking the difference back (commission_payable / commission_expense).
    """
    if order.salesperson_id is None and order.partner_id is None:
        return []
    rows = list(
        await session.scalars(
            select(Commission)
            .where(Commission.order_id == order.id, Commission.status.in_(("accrued", "payable")))
            .order_by(Commission.id)
            .with_for_update()
        )
    )
    if not rows:
        return []
    kept = sum((ln.line_total * (ln.qty - ln.qty_returned) / ln.qty for ln in order.lines), ZERO)
    net = order.subtotal - order.discount
    base = round_money(kept * net / order.subtotal, order.currency) if order.subtotal else ZERO
    now, taken_back = utcnow(), ZERO
    for old in rows:
        kept_status = old.status
        old.status, old.reversed_at = "reversed", now
        amount = round_money(base * old.rate / 100, order.currency)
        taken_back += old.amount - (amount if amount > 0 else ZERO)
        if amount > 0:
            session.add(
                Commission(
                    salesperson_id=old.salesperson_id,
                    partner_id=old.partner_id,
                    kind=old.kind,
                    order_id=order.id,
                    base_amount=base,
                    rate=old.rate,
                    amount=amount,
                    currency=old.currency,
                    status=kept_status,
                    payable_at=old.payable_at,
                )
            )
    await session.flush()
    raise_event(
        session,
        "CommissionChanged",
        users=[order.salesperson_id],
        branches=[order.branch_id],
        partners=[r.partner_id for r in rows],
    )
    if taken_back <= 0:
        return []
    return [
        posting.Line("commission_payable", debit=taken_back, branch_id=order.branch_id),
        posting.Line("commission_expense", credit=taken_back, branch_id=order.branch_id),
    ]
