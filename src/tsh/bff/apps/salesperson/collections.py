"""SAL-12/13: the collections worklist and recording a payment."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator
from sqlalchemy import select

from tsh.bff.apps.salesperson import MANAGERS, app, own_customer, owner_for
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Geo, Id, Money, Page, decode_cursor, page
from tsh.domain.sales.collections import record_payment
from tsh.domain.sales.models import Invoice, Payment, Visit
from tsh.domain.sales.queries import Owner, money
from tsh.domain.sales.worklists import collections_worklist
from tsh.domain.shared import business_today
from tsh.platform.errors import Invalid, NotFound, field_error


class CollectionsQuery(Page):
    customer_id: Id | None = None
    overdue_only: bool = False
    salesperson_id: Id | None = None


@app.screen(
    "SAL-12",
    "/collections",
    roles=MANAGERS,
    scope={"salesperson": "own", "branch_manager": "branch"},
    cache="financial",
    events=("InvoiceIssued", "PaymentReceived", "CreditChanged", "OrderChanged", "CustomerChanged"),
    errors=("SALESPERSON_NOT_FOUND",),
)
async def collections(call: Call, *, query: CollectionsQuery) -> dict[str, Any]:
    """Open invoices of own customers, overdue first; totals per currency; today's collections by method."""
    owner = await owner_for(call, query.salesperson_id)
    if query.customer_id is not None:
        await own_customer(call, query.customer_id, owner)
    rows, position, extras = await collections_worklist(
        call.session,
        owner=owner,
        today=business_today(),
        limit=query.limit,
        after=decode_cursor(query.cursor),
        customer_id=query.customer_id,
        overdue_only=query.overdue_only,
    )
    return page(rows, query.limit, position) | extras


class AllocationIn(Body):
    invoice_id: Id
    amount: Money


class NewPayment(Body):
    customer_id: Id
    amount: Money
    method: Literal["cash", "zain_cash", "fastpay", "cheque", "bank_transfer"]
    reference: str | None = Field(default=None, min_length=1, max_length=100)
    allocations: list[AllocationIn] | None = Field(default=None, max_length=50)
    visit_id: Id | None = None
    geo: Geo | None = None
    media_ids: list[Id] | None = Field(default=None, max_length=5)
    device_time: AwareDatetime | None = None

    @model_validator(mode="after")
    def _reference(self) -> NewPayment:
        if self.method != "cash" and not self.reference:
            raise ValueError("reference is required except for cash")
        return self


def payment_view(payment: Payment, invoices: dict[int, Invoice]) -> dict[str, Any]:
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


@app.action(
    "SAL-13",
    "POST",
    "/collections",
    roles=("salesperson",),
    scope="own",
    events=("PaymentReceived", "CreditChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="payment",
    errors=("OVER_ALLOCATION",),
)
async def collect(call: Call, *, body: NewPayment) -> Created:
    """Records a payment from an own customer, allocates it and returns it (number = receipt number)."""
    customer = await own_customer(call, body.customer_id, Owner(salesperson_id=call.user_id))
    wanted = [a.invoice_id for a in body.allocations or []]
    currencies = dict(
        (
            await call.session.execute(
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
        field_error(f"allocations[{i}].amount.currency", f"must be {currencies[a.invoice_id]}")
        for i, a in enumerate(body.allocations or [])
        if a.amount.currency != currencies[a.invoice_id]
    ]
    if wrong:
        raise Invalid(details=wrong)
    if (
        body.visit_id is not None
        and await call.session.scalar(
            select(Visit.id).where(Visit.id == body.visit_id, Visit.salesperson_id == call.user_id)
        )
        is None
    ):
        raise NotFound("Visit not found", code="VISIT_NOT_FOUND")
    payment = await record_payment(
        call.session,
        customer_id=customer.id,
        amount=body.amount.amount,
        currency=body.amount.currency,
        method=body.method,
        reference=body.reference,
        channel="salesperson",
        collected_by_id=call.user_id,
        allocations=None
        if body.allocations is None
        else [(a.invoice_id, a.amount.amount) for a in body.allocations],
        visit_id=body.visit_id,
        geo=body.geo.model_dump() if body.geo else None,
        media_ids=body.media_ids,
        device_time=body.device_time,
    )
    invoices = {
        inv.id: inv
        for inv in (
            await call.session.execute(
                select(Invoice).where(Invoice.id.in_([a.invoice_id for a in payment.allocations]))
            )
        ).scalars()
    }
    call.audit("payment", payment.id, after={"number": payment.number, "amount": str(payment.amount)})
    return Created(payment_view(payment, invoices))
