"""Receivables: ACC-15 aged receivables, ACC-16 customer payments received at the office."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.accounting import ACCOUNTANT, ALL_OR_BRANCH, READERS, app
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, Money, Page, Text, decode_cursor, page
from tsh.bff.views import Date, MoneyOut, RowId, Timestamp, View
from tsh.domain.finance.receivables import aged_receivables, office_payment, payment_row

Currency = Literal["IQD", "USD"]


class AgingQuery(Page):
    as_of: DateIn
    customer_type: Literal["consumer", "retail_shop", "wholesale"] | None = None
    salesperson_id: Id | None = None
    branch_id: Id | None = None
    currency: Currency | None = None


class CustomerRef(View):
    id: RowId
    code: str
    name: str
    type: str


class LastPayment(View):
    received_at: Timestamp
    amount: MoneyOut


class AgingRow(View):
    """Buckets by days past due on `as_of`; in the filter currency, else base IQD."""

    customer: CustomerRef
    branch_id: RowId | None
    salesperson_id: RowId | None
    current: MoneyOut
    days_1_30: MoneyOut
    days_31_60: MoneyOut
    days_61_90: MoneyOut
    over_90: MoneyOut
    total: MoneyOut
    credit_limit: MoneyOut
    last_payment: LastPayment | None


class Aging(View):
    as_of: Date
    items: list[AgingRow]
    next_cursor: str | None


@app.screen(
    "ACC-15",
    "/reports/aged-receivables",
    roles=READERS,
    scope=ALL_OR_BRANCH,
    cache="financial",
    events=("InvoiceIssued", "PaymentReceived", "CreditChanged", "RefundIssued"),
    response=Aging,
)
async def aged(call: Call, *, query: AgingQuery) -> dict[str, Any]:
    """Receivables aging per customer as of a date: current, 1-30, 31-60, 61-90, over 90 days."""
    after = decode_cursor(query.cursor)
    rows = await aged_receivables(
        call.session,
        call.actor,
        as_of=query.as_of,
        customer_type=query.customer_type,
        salesperson_id=query.salesperson_id,
        branch_id=query.branch_id,
        currency=query.currency,
        limit=query.limit,
        after_id=None if after is None else int(after["c"]),
    )
    return {"as_of": query.as_of, **page(rows, query.limit, lambda r: {"c": r["customer"]["id"]})}


class AllocationIn(Body):
    invoice_id: Id
    amount: Money


class OfficePayment(Body):
    customer_id: Id
    amount: Money
    method: Literal["cash", "cheque", "bank_transfer"]
    deposit_account_id: Id
    received_on: DateIn
    reference: Text | None = None
    allocations: list[AllocationIn] | None = Field(default=None, max_length=100)


class AllocationOut(View):
    invoice_id: RowId
    amount: MoneyOut


class PaymentOut(View):
    id: RowId
    number: str
    customer_id: RowId
    amount: MoneyOut
    method: str
    deposit_account_id: RowId
    received_on: Date
    reference: str | None
    unallocated: MoneyOut
    allocations: list[AllocationOut]
    journal_entry_id: RowId | None


@app.action(
    "ACC-16",
    "POST",
    "/customer-payments",
    roles=ACCOUNTANT,
    scope="all",
    events=("PaymentReceived", "CreditChanged", "JournalPosted"),
    idempotency="required",
    errors=(
        "OVER_ALLOCATION",
        "NOT_A_CASH_ACCOUNT",
        "PERIOD_CLOSED",
        "CUSTOMER_NOT_FOUND",
        "INVOICE_NOT_FOUND",
        "NO_EXCHANGE_RATE",
        "TAX_PERIOD_FILED",
    ),
    response=PaymentOut,
    audit_entity="payment",
)
async def receive(call: Call, *, body: OfficePayment) -> Created:
    """Records a payment received at the office and allocates it (oldest invoices first by default)."""
    allocations: list[tuple[int, Decimal, str]] | None = None
    if body.allocations is not None:
        allocations = [(a.invoice_id, a.amount.amount, a.amount.currency) for a in body.allocations]
    payment = await office_payment(
        call.session,
        call.actor,
        customer_id=body.customer_id,
        amount=body.amount.amount,
        currency=body.amount.currency,
        method=body.method,
        deposit_account_id=body.deposit_account_id,
        received_on=body.received_on,
        reference=body.reference,
        allocations=allocations,
    )
    out = await payment_row(call.session, payment, body.received_on)
    call.audit("payment", payment.id, after={"amount": out["amount"], "customer_id": payment.customer_id})
    return Created(out)
