"""Order lifecycle services shared by every selling channel (salesperson, consumer, partner, wholesale).

    place_order → (confirm_order) → fulfilment.ship_order → fulfilment.deliver_order;
    cancellation.cancel_order from pending/confirmed.

- Prices are always recomputed on the server (`pricing.price_lines`); a client total is only compared
  (`expected_total` → 409 PRICE_CHANGED).
- Stock is reserved in the branch main warehouse at placement (all-or-nothing, 409
  INSUFFICIENT_STOCK), issued at shipment (with its cost of goods sold) and released by cancellation.
- Confirmation issues the invoice (due by the payment terms), posts it on the SAL journal
  (receivable / revenue / delivery / tax) and accrues commission (salesperson 2.25 % of the net value
  before tax, partner at the partner's rate plus the upline's override rate). The commission accrual
  is posted in the same entry (commission_expense / commission_payable), so voiding the invoice
  reverses both.
- Services never commit and raise contract errors; the caller's unit of work makes a rejected
  command change nothing. Every change raises its events with the owners' scope markers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tsh.domain.accounting import posting
from tsh.domain.catalog import pricing
from tsh.domain.catalog.models import PriceList, Product
from tsh.domain.customers.models import Customer, Partner
from tsh.domain.events import raise_event
from tsh.domain.identity.models import User
from tsh.domain.inventory import stock
from tsh.domain.money import convert, round_money
from tsh.domain.organisation.models import Warehouse
from tsh.domain.sales.models import (
    UNPAID_INVOICE_STATUSES,
    Commission,
    Invoice,
    Order,
    OrderLine,
)
from tsh.domain.shared import business_today, new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

SALESPERSON_COMMISSION_PCT = Decimal("2.25")
ZERO = Decimal(0)


def order_owners(order: Order) -> dict[str, Any]:
    """The scope markers of everyone whose screens show this order."""
    return {
        "users": [order.salesperson_id],
        "branches": [order.branch_id],
        "customers": [order.customer_id],
        "partners": [order.partner_id],
    }


async def credit_used(session: AsyncSession, *, customer_id: int, currency: str) -> Decimal:
    """Σ open/partial invoice balances of the customer, in `currency` (domain.md §4)."""
    rows = (
        await session.execute(
            select(Invoice.currency, Invoice.balance).where(
                Invoice.customer_id == customer_id, Invoice.status.in_(UNPAID_INVOICE_STATUSES)
            )
        )
    ).all()
    used = ZERO
    rate: Decimal | None = None
    for cur, balance in rows:
        if cur != currency and rate is None:
            rate = await posting.rate_in_force(session, utcnow())
        used += balance if cur == currency else convert(balance, cur, currency, rate or Decimal(1))
    return used


async def main_warehouse_id(session: AsyncSession, branch_id: int) -> int:
    wid = await session.scalar(
        select(Warehouse.id).where(Warehouse.branch_id == branch_id, Warehouse.type == "main")
    )
    if wid is None:
        raise Conflict("The branch has no main warehouse", code="NO_MAIN_WAREHOUSE")
    return wid


async def place_order(
    session: AsyncSession,
    *,
    channel: str,
    customer_id: int,
    branch_id: int,
    lines: Sequence[tuple[int, int, Decimal]],
    payment_terms: str,
    price_list_id: int,
    placed_by_user_id: int,
    currency: str,
    salesperson_id: int | None = None,
    partner_id: int | None = None,
    visit_id: int | None = None,
    expected_total: Decimal | None = None,
    delivery_option: str | None = None,
    delivery_fee: Decimal = ZERO,
    address_snapshot: Mapping[str, Any] | None = None,
    pickup_branch_id: int | None = None,
    promo_code: str | None = None,
    payment_method: str | None = None,
    note: str | None = None,
    po_number: str | None = None,
    confirm: bool = True,
    reservation_expires_at: dt.datetime | None = None,
    check_credit: bool = False,
    max_discount_pct: Decimal | None = None,
) -> Order:
    """Price, reserve and record an order; confirm it too unless `confirm=False` (online payment).

    `lines` are (product_id, qty in pieces, discount_pct). Checks, in the contract's order (the
    first failure answers; the unit of work rolls everything back): 409 INSUFFICIENT_STOCK,
    409 CREDIT_LIMIT_EXCEEDED (credit terms, or any terms with `check_credit=True`: credit used +
    total > limit), 409 CUSTOMER_ON_HOLD, 409 PRICE_CHANGED (`expected_total` ≠ recomputed total,
    details expected/actual), 422 DISCOUNT_OVER_LIMIT (a line above `max_discount_pct`).
    Emits OrderCreated and StockChanged (plus confirm_order's events).
    """
    # Locked: concurrent orders of one customer pass the credit check one at a time.
    customer = (
        await session.execute(
            select(Customer)
            .where(Customer.id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if customer is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    price_list = await session.get(PriceList, price_list_id)
    if price_list is None:
        raise NotFound("Price list not found", code="PRICE_LIST_NOT_FOUND")
    now = utcnow()
    priced = await pricing.price_lines(
        session,
        price_list=price_list,
        lines=[(pid, qty, pct) for pid, qty, pct in lines],
        channel=channel,
        branch_id=branch_id,
        at=now,
        promo_code=promo_code,
    )
    if priced.currency != currency:
        raise Invalid(
            "The order currency differs from the price list's",
            code="CURRENCY_MISMATCH",
            details=[field_error("currency", "must be " + priced.currency)],
        )
    language = await session.scalar(select(User.language).where(User.id == placed_by_user_id)) or "en"
    names = {
        pid: (sku, name_ar if language == "ar" else name_en)
        for pid, sku, name_ar, name_en in (
            await session.execute(
                select(Product.id, Product.sku, Product.name_ar, Product.name_en).where(
                    Product.id.in_({pl.product_id for pl in priced.lines})
                )
            )
        ).tuples()
    }
    fee = round_money(delivery_fee, currency)
    total = priced.subtotal - priced.discount + priced.tax + fee
    order = Order(
        number=new_number("SO"),
        channel=channel,
        customer_id=customer_id,
        branch_id=branch_id,
        warehouse_id=await main_warehouse_id(session, branch_id),
        salesperson_id=salesperson_id,
        partner_id=partner_id,
        visit_id=visit_id,
        status="pending",
        payment_terms=payment_terms,
        payment_method=payment_method,
        currency=currency,
        subtotal=priced.subtotal,
        discount=priced.discount,
        tax=priced.tax,
        delivery_option=delivery_option or "standard",
        delivery_fee=fee,
        total=total,
        address_snapshot=dict(address_snapshot) if address_snapshot else None,
        pickup_branch_id=pickup_branch_id,
        promo_code=promo_code,
        po_number=po_number,
        note=note,
        placed_at=now,
        lines=[
            OrderLine(
                product_id=pl.product_id,
                sku=names[pl.product_id][0],
                product_name=names[pl.product_id][1],
                qty=pl.qty,
                unit_price=pl.unit_price,
                discount_pct=pl.discount_pct,
                tax=pl.tax,
                line_total=pl.line_total,
            )
            for pl in priced.lines
        ],
    )
    session.add(order)
    await session.flush()
    await stock.reserve(
        session,
        warehouse_id=order.warehouse_id,
        lines=[(ln.product_id, ln.qty) for ln in order.lines],
        order_line_ids=[ln.id for ln in order.lines],
        expires_at=reservation_expires_at,
    )
    if payment_terms == "credit" or check_credit:
        used = await credit_used(session, customer_id=customer_id, currency=customer.currency)
        in_customer_currency = (
            total
            if currency == customer.currency
            else convert(total, currency, customer.currency, await posting.rate_in_force(session, now))
        )
        if used + in_customer_currency > customer.credit_limit:
            raise Conflict(
                "The order exceeds the customer's credit limit",
                code="CREDIT_LIMIT_EXCEEDED",
                details=[
                    field_error(
                        "payment_terms",
                        "credit limit exceeded",
                        credit_limit=str(customer.credit_limit),
                        credit_used=str(used),
                        available=str(max(customer.credit_limit - used, ZERO)),
                        order_total=str(in_customer_currency),
                        currency=customer.currency,
                    )
                ],
            )
    if customer.on_hold:
        raise Conflict("The customer is on hold", code="CUSTOMER_ON_HOLD")
    if expected_total is not None and expected_total != total:
        raise Conflict(
            "Prices changed since the order was prepared",
            code="PRICE_CHANGED",
            details=[
                field_error(
                    "expected_total",
                    "differs from the current total",
                    expected=str(expected_total),
                    actual=str(total),
                    currency=currency,
                )
            ],
        )
    if max_discount_pct is not None:
        over = [
            field_error(f"lines[{i}].discount_pct", "above the discount limit", limit=str(max_discount_pct))
            for i, (_, _, pct) in enumerate(lines)
            if pct > max_discount_pct
        ]
        if over:
            raise Invalid("A line discount is above your limit", code="DISCOUNT_OVER_LIMIT", details=over)
    raise_event(session, "OrderCreated", **order_owners(order))
    raise_event(session, "StockChanged", branches=[branch_id])
    if confirm:
        await confirm_order(session, order_id=order.id, by_user_id=placed_by_user_id)
    return order


async def locked_order(session: AsyncSession, order_id: int) -> Order:
    """The order with its lines and invoice, locked and freshly read (pending changes flushed first)."""
    await session.flush()
    order = (
        await session.execute(
            select(Order)
            .where(Order.id == order_id)
            .options(selectinload(Order.lines), selectinload(Order.invoice))
            .with_for_update(of=Order)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if order is None:
        raise NotFound("Order not found", code="ORDER_NOT_FOUND")
    return order


def _commission(order: Order, base: Decimal, rate: Decimal, **beneficiary: Any) -> Commission | None:
    amount = round_money(base * rate / 100, order.currency)
    if amount <= 0:
        return None
    return Commission(
        order_id=order.id,
        base_amount=base,
        rate=rate,
        amount=amount,
        currency=order.currency,
        status="accrued",
        **beneficiary,
    )


async def _accrue_commissions(session: AsyncSession, order: Order) -> list[Commission]:
    """2.25 % for the salesperson; the partner's rate, and the upline's override rate, for partners."""
    base = order.subtotal - order.discount
    rows: list[Commission | None] = []
    if order.salesperson_id is not None:
        rows.append(_commission(order, base, SALESPERSON_COMMISSION_PCT, salesperson_id=order.salesperson_id))
    elif order.partner_id is not None:
        partner = await session.get(Partner, order.partner_id)
        if partner is not None:
            rows.append(_commission(order, base, partner.commission_rate, partner_id=partner.id))
            if partner.parent_partner_id is not None:
                upline = await session.get(Partner, partner.parent_partner_id)
                if upline is not None:
                    rows.append(
                        _commission(order, base, upline.override_rate, partner_id=upline.id, kind="override")
                    )
    made = [c for c in rows if c is not None]
    session.add_all(made)
    return made


async def confirm_order(session: AsyncSession, *, order_id: int, by_user_id: int) -> Order:
    """Issue the invoice of a pending order, post it on SAL and accrue its commissions.

    Due date: the issue date for non-credit terms, plus the customer's payment_terms_days for credit.
    409 ORDER_NOT_PENDING unless pending. Emits OrderChanged, InvoiceIssued, CreditChanged,
    CommissionChanged (when a commission accrues) and JournalPosted.
    """
    order = await locked_order(session, order_id)
    if order.status != "pending":
        raise Conflict("Only a pending order can be confirmed", code="ORDER_NOT_PENDING")
    customer = await session.get(Customer, order.customer_id)
    assert customer is not None
    today = business_today()
    days = customer.payment_terms_days if order.payment_terms == "credit" else 0
    net = order.subtotal - order.discount
    invoice = Invoice(
        number=new_number("INV", today),
        customer_id=order.customer_id,
        branch_id=order.branch_id,
        order_id=order.id,
        currency=order.currency,
        issue_date=today,
        due_date=today + dt.timedelta(days=days),
        subtotal=net + order.delivery_fee,
        tax=order.tax,
        total=order.total,
        paid=ZERO,
        balance=order.total,
        status="open",
    )
    session.add(invoice)
    order.status, order.confirmed_at = "confirmed", utcnow()
    await session.flush()
    commissions = await _accrue_commissions(session, order)
    accrued = sum((c.amount for c in commissions), ZERO)
    lines = [
        posting.Line("receivable", debit=order.total, customer_id=order.customer_id),
        posting.Line("sales_revenue", credit=net),
        posting.Line("delivery_revenue", credit=order.delivery_fee),
        posting.Line("vat_output", credit=order.tax),
        posting.Line("commission_expense", debit=accrued),
        posting.Line("commission_payable", credit=accrued),
    ]
    lines = [ln for ln in lines if ln.debit or ln.credit]
    if lines:
        entry = await posting.post_entry(
            session,
            journal="SAL",
            entry_date=today,
            currency=order.currency,
            lines=lines,
            memo=f"Invoice {invoice.number} for order {order.number}",
            source_type="invoice",
            source_id=invoice.id,
            branch_id=order.branch_id,
            posted_by_id=by_user_id,
            reference=invoice.number,
        )
        invoice.journal_entry_id = entry.id
        raise_event(session, "JournalPosted", branches=[order.branch_id])
    owners = order_owners(order)
    for name in ("OrderChanged", "InvoiceIssued", "CreditChanged"):
        raise_event(session, name, **owners)
    if commissions:
        raise_event(
            session,
            "CommissionChanged",
            users=[order.salesperson_id],
            branches=[order.branch_id],
            partners=[c.partner_id for c in commissions],
        )
    return order
