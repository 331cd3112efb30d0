"""SAL-12/13: the collections worklist and recording a payment."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from tsh.bff.apps.salesperson import MANAGERS, app
from tsh.bff.apps.salesperson.views import SalCollections, SalPaymentCollected
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateTimeIn, Geo, Id, Money, Page, decode_cursor, page
from tsh.domain.sales.field import collections_screen
from tsh.domain.sales.field_actions import collect_payment, payment_view


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
    errors=("SALESPERSON_NOT_FOUND", "CUSTOMER_NOT_FOUND"),
    response=SalCollections,
)
async def collections(call: Call, *, query: CollectionsQuery) -> dict[str, Any]:
    """Open invoices of own customers, overdue first; totals per currency; today's collections by method."""
    rows, position, extras = await collections_screen(
        call.session,
        call.actor,
        salesperson_id=query.salesperson_id,
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
    device_time: DateTimeIn | None = None

    @model_validator(mode="after")
    def _reference(self) -> NewPayment:
        if self.method != "cash" and not self.reference:
            raise ValueError("reference is required except for cash")
        return self


@app.action(
    "SAL-13",
    "POST",
    "/collections",
    roles=("salesperson",),
    scope="own",
    events=("PaymentReceived", "CreditChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="payment",
    errors=("OVER_ALLOCATION", "CUSTOMER_NOT_FOUND", "INVOICE_NOT_FOUND", "VISIT_NOT_FOUND"),
    response=SalPaymentCollected,
)
async def collect(call: Call, *, body: NewPayment) -> Created:
    """Records a payment from an own customer, allocates it and returns it (number = receipt number)."""
    payment = await collect_payment(
        call.session,
        call.actor,
        customer_id=body.customer_id,
        amount=body.amount.amount,
        currency=body.amount.currency,
        method=body.method,
        reference=body.reference,
        allocations=None
        if body.allocations is None
        else [(a.invoice_id, a.amount.amount, a.amount.currency) for a in body.allocations],
        visit_id=body.visit_id,
        geo=body.geo.model_dump() if body.geo else None,
        media_ids=body.media_ids,
        device_time=body.device_time,
    )
    call.audit("payment", payment.id, after={"number": payment.number, "amount": str(payment.amount)})
    return Created(await payment_view(call.session, payment))
