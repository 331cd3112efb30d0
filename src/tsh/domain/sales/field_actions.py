"""What a salesperson does at a customer: the order-taking catalogue, taking an order, recording a
payment, registering a shop and checking in (apps/salesperson.md SAL-04, 07, 09, 10, 13).

Each service checks scope first (the customer must be one of the actor's sellers', 404 otherwise),
then the request against the customer's terms, then hands over to the ordering / collections /
visits services that hold the money and stock rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.models import PriceList
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import User
from tsh.domain.organisation.models import Branch
from tsh.domain.sales import visits
from tsh.domain.sales.collections import record_payment
from tsh.domain.sales.customers import register_shop_customer
from tsh.domain.sales.field import scoped_customer, sellers_for
from tsh.domain.sales.models import Invoice, Order, Payment, Visit
from tsh.domain.sales.ordering import main_warehouse_id, place_order
from tsh.domain.sales.queries import money
from tsh.domain.sales.worklists import catalogue
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

# The most a salesperson may discount a line when their branch sets no limit of its own.
DEFAULT_DISCOUNT_LIMIT = Decimal(5)


def _no_visit() -> NotFound:
    return NotFound("Visit not found", code="VISIT_NOT_FOUND")


async def products_screen(
    session: AsyncSession,
    actor: Actor,
    *,
    customer_id: int,
    limit: int,
    after: dict[str, Any] | None,
    q: str | None,
    barcode: str | None,
    category_id: int | None,
    in_stock: bool | None,
) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
    """SAL-09: (rows, position_of, customer header) of the catalogue at an own customer's prices,
    with availability in the supplying branch's main warehouse. 404 CUSTOMER_NOT_FOUND."""
    customer = await scoped_customer(session, actor, customer_id)
    branch_id = customer.branch_id or actor.branch_id
    if branch_id is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    rows, position = await catalogue(
        session,
        customer=customer,
        warehouse_id=await main_warehouse_id(session, branch_id),
        branch_id=branch_id,
        language=actor.language,
        limit=limit,
        after=after,
        q=q,
        barcode=barcode,
        category_id=category_id,
        in_stock=in_stock,
    )
    return rows, position, {"id": customer.id, "name": customer.name, "currency": customer.currency}


async def discount_limit(session: AsyncSession, branch_id: int) -> Decimal:
    """The salesperson line-discount ceiling of a branch (DEFAULT_DISCOUNT_LIMIT when it sets none)."""
    limit = await session.scalar(select(Branch.salesperson_discount_pct).where(Branch.id == branch_id))
    return DEFAULT_DISCOUNT_LIMIT if limit is None else limit


async def take_order(
    session: AsyncSession,
    actor: Actor,
    *,
    customer_id: int,
    lines: Sequence[tuple[int, int, Decimal]],
    payment_terms: str,
    expected_total: Decimal,
    expected_currency: str,
    visit_id: int | None = None,
    note: str | None = None,
) -> Order:
    """SAL-10: create and confirm an order for an own customer at its price list.

    404 CUSTOMER_NOT_FOUND, VISIT_NOT_FOUND (a visit of another salesperson or customer);
    409 NO_PRICE_LIST, NO_BRANCH; 422 VALIDATION_ERROR when `expected_currency` is not the price
    list's; and the rules of `place_order`: INSUFFICIENT_STOCK, CREDIT_LIMIT_EXCEEDED,
    CUSTOMER_ON_HOLD, PRICE_CHANGED, DISCOUNT_OVER_LIMIT (above the caller's branch limit).
    """
    customer = await scoped_customer(session, actor, customer_id)
    price_list = await session.get(PriceList, customer.price_list_id) if customer.price_list_id else None
    if price_list is None:
        raise Conflict("The customer has no price list", code="NO_PRICE_LIST")
    if expected_currency != price_list.currency:
        raise Invalid(details=[field_error("expected_total.currency", f"must be {price_list.currency}")])
    if (
        visit_id is not None
        and await session.scalar(
            select(Visit.id).where(
                Visit.id == visit_id, Visit.salesperson_id == actor.user_id, Visit.customer_id == customer.id
            )
        )
        is None
    ):
        raise _no_visit()
    branch_id = customer.branch_id or actor.branch_id
    if branch_id is None:
        raise Conflict("The customer has no supplying branch", code="NO_BRANCH")
    return await place_order(
        session,
        channel="salesperson",
        customer_id=customer.id,
        branch_id=branch_id,
        lines=lines,
        payment_terms=payment_terms,
        price_list_id=price_list.id,
        placed_by_user_id=actor.user_id,
        currency=price_list.currency,
        salesperson_id=actor.user_id,
        visit_id=visit_id,
        expected_total=expected_total,
        note=note,
        confirm=True,
        # The limit is the salesperson's own branch's, even when another branch supplies.
        max_discount_pct=await discount_limit(session, actor.branch_id or branch_id),
    )


async def order_view(session: AsyncSession, order: Order) -> dict[str, Any]:
    """An order as the app shows it after taking it (SAL-11 row plus lines and invoice)."""
    invoice = await session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    cur = order.currency
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "placed_at": order.placed_at,
        "customer_id": order.customer_id,
        "payment_terms": order.payment_terms,
        "payment_status": order.payment_status,
        "visit_id": order.visit_id,
        "subtotal": money(order.subtotal, cur),
        "discount": money(order.discount, cur),
        "tax": money(order.tax, cur),
        "total": money(order.total, cur),
        "lines": [
            {
                "product_id": ln.product_id,
                "sku": ln.sku,
                "name": ln.product_name,
                "qty": ln.qty,
                "unit_price": money(ln.unit_price, cur),
                "discount_pct": str(ln.discount_pct),
                "tax": money(ln.tax, cur),
                "line_total": money(ln.line_total, cur),
            }
            for ln in order.lines
        ],
        "invoice": None
        if invoice is None
        else {
            "id": invoice.id,
            "number": invoice.number,
            "due_date": invoice.due_date,
            "total": money(invoice.total, cur),
            "balance": money(invoice.balance, cur),
        },
    }


async def collect_payment(
    session: AsyncSession,
    actor: Actor,
    *,
    customer_id: int,
    amount: Decimal,
    currency: str,
    method: str,
    reference: str | None,
    allocations: Sequence[tuple[int, Decimal, str]] | None,
    visit_id: int | None = None,
    geo: Mapping[str, float] | None = None,
    media_ids: Sequence[int] | None = None,
    device_time: dt.datetime | None = None,
) -> Payment:
    """SAL-13: record a payment from an own customer; `allocations` = [(invoice_id, amount,
    currency)], None = oldest invoices first.

    404 CUSTOMER_NOT_FOUND, INVOICE_NOT_FOUND (an invoice of another customer), VISIT_NOT_FOUND
    (a visit of another salesperson); 422 VALIDATION_ERROR when an allocation is not in its
    invoice's currency; and the rules of `record_payment` (OVER_ALLOCATION).
    """
    customer = await scoped_customer(session, actor, customer_id)
    wanted = [invoice_id for invoice_id, _, _ in allocations or []]
    currencies = dict(
        (
            await session.execute(
                select(Invoice.id, Invoice.currency).where(
                    Invoice.id.in_(wanted), Invoice.customer_id == customer.id
                )
            )
        )
        .tuples()
        .all()
    )
    if any(i not in currencies for i in wanted):
        raise NotFound("Invoice not found", code="INVOICE_NOT_FOUND")
    wrong = [
        field_error(f"allocations[{i}].amount.currency", f"must be {currencies[invoice_id]}")
        for i, (invoice_id, _, cur) in enumerate(allocations or [])
        if cur != currencies[invoice_id]
    ]
    if wrong:
        raise Invalid(details=wrong)
    if (
        visit_id is not None
        and await session.scalar(
            select(Visit.id).where(Visit.id == visit_id, Visit.salesperson_id == actor.user_id)
        )
        is None
    ):
        raise _no_visit()
    return await record_payment(
        session,
        customer_id=customer.id,
        amount=amount,
        currency=currency,
        method=method,
        reference=reference,
        channel="salesperson",
        collected_by_id=actor.user_id,
        allocations=None if allocations is None else [(i, a) for i, a, _ in allocations],
        visit_id=visit_id,
        geo=geo,
        media_ids=media_ids,
        device_time=device_time,
    )


async def payment_view(session: AsyncSession, payment: Payment) -> dict[str, Any]:
    """A recorded payment as the receipt screen shows it (its number is the receipt number)."""
    invoices = {
        inv.id: inv
        for inv in (
            await session.execute(
                select(Invoice).where(Invoice.id.in_([a.invoice_id for a in payment.allocations]))
            )
        ).scalars()
    }
    return {
        "id": payment.id,
        "number": payment.number,
        "receipt_number": payment.number,
        "customer_id": payment.customer_id,
        "amount": money(payment.amount, payment.currency),
        "method": payment.method,
        "reference": payment.reference,
        "received_at": payment.received_at,
        "exchange_rate": None if payment.exchange_rate is None else str(payment.exchange_rate),
        "unallocated": money(payment.unallocated, payment.currency),
        "visit_id": payment.visit_id,
        "allocations": [
            {
                "invoice_id": a.invoice_id,
                "invoice_number": invoices[a.invoice_id].number,
                "amount": money(a.amount, invoices[a.invoice_id].currency),
                "invoice_balance": money(invoices[a.invoice_id].balance, invoices[a.invoice_id].currency),
            }
            for a in payment.allocations
        ],
    }


async def register_customer(
    session: AsyncSession,
    actor: Actor,
    *,
    salesperson_id: int | None,
    name: str,
    shop_name: str,
    phone: str,
    city: str,
    address: str,
    lat: float,
    lng: float,
    accuracy_m: float | None,
    notes: str | None,
) -> Customer:
    """SAL-04: a shop customer of the named salesperson (default the actor), in that salesperson's
    branch, on cash terms. 404 SALESPERSON_NOT_FOUND; 409 DUPLICATE_PHONE."""
    owner = (await sellers_for(session, actor, salesperson_id)).salesperson_id or actor.user_id
    return await register_shop_customer(
        session,
        actor,
        salesperson_id=owner,
        branch_id=await session.scalar(select(User.branch_id).where(User.id == owner)),
        name=name,
        shop_name=shop_name,
        phone=phone,
        city=city,
        address=address,
        lat=lat,
        lng=lng,
        accuracy_m=accuracy_m,
        notes=notes,
    )


async def check_in(
    session: AsyncSession,
    actor: Actor,
    *,
    customer_id: int,
    lat: float,
    lng: float,
    accuracy_m: float,
    device_time: dt.datetime,
    visit_id: int | None = None,
) -> Visit:
    """SAL-07: check the actor in at an own customer. 404 CUSTOMER_NOT_FOUND; the rules of
    `visits.check_in` (VISIT_IN_PROGRESS, LOW_GPS_ACCURACY)."""
    await scoped_customer(session, actor, customer_id)
    return await visits.check_in(
        session,
        salesperson_id=actor.user_id,
        customer_id=customer_id,
        lat=lat,
        lng=lng,
        accuracy_m=accuracy_m,
        device_time=device_time,
        visit_id=visit_id,
    )


def visit_view(v: Visit) -> dict[str, Any]:
    """A visit as the check-in / check-out answers show it."""
    return {
        "id": v.id,
        "customer_id": v.customer_id,
        "date": v.date,
        "sequence": v.sequence,
        "status": v.status,
        "check_in_at": v.check_in_at,
        "distance_m": v.distance_m,
        "verified": v.verified,
        "check_out_at": v.check_out_at,
        "outcome": v.outcome,
        "notes": v.notes,
    }
