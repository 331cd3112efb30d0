"""WHO-09/10 orders and WHO-14/15 invoices of the caller's wholesale account."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.views import InvoiceDetail, InvoiceRow, OrderDetail, OrderRow
from tsh.bff.call import Call
from tsh.bff.schemas import DateIn, Page, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.wholesale import documents as docs


class OrdersQuery(Page):
    status: Literal["pending", "confirmed", "shipped", "delivered", "cancelled"] | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")
    q: str | None = Field(default=None, min_length=1, max_length=64)


@app.screen(
    "WHO-09",
    "/orders",
    roles=CLIENT,
    scope="own",
    cache="orders",
    events=("OrderCreated", "OrderChanged", "PaymentReceived"),
    errors=("ACCOUNT_MISSING",),
    response=PageOf[OrderRow],
)
async def orders(call: Call, *, query: OrdersQuery) -> dict[str, Any]:
    """Orders: number, PO number, date, status, total and invoice status, newest first."""
    rows = await docs.order_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        date_from=query.date_from,
        date_to=query.date_to,
        q=query.q,
    )
    return page(rows, query.limit, docs.order_position)


@app.screen(
    "WHO-10",
    "/orders/{id}",
    roles=CLIENT,
    scope="own",
    cache="orders",
    events=("OrderChanged", "InvoiceIssued", "PaymentReceived"),
    errors=("ACCOUNT_MISSING", "ORDER_NOT_FOUND"),
    response=OrderDetail,
    vary_by_language=True,
)
async def order(call: Call, *, id: int) -> dict[str, Any]:
    """Order detail: lines with ordered and delivered quantities, totals, delivery, timeline, invoice."""
    return await docs.order_detail(call.session, call.actor, order_id=id)


class InvoicesQuery(Page):
    status: Literal["open", "partial", "paid", "overdue", "void"] | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


@app.screen(
    "WHO-14",
    "/invoices",
    roles=CLIENT,
    scope="own",
    cache="financial",
    events=("InvoiceIssued", "PaymentReceived", "RefundIssued", "OrderChanged"),
    errors=("ACCOUNT_MISSING",),
    response=PageOf[InvoiceRow],
)
async def invoices(call: Call, *, query: InvoicesQuery) -> dict[str, Any]:
    """Invoices with total, paid, balance and status (overdue derived), newest first."""
    rows = await docs.invoice_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, docs.invoice_position)


@app.screen(
    "WHO-15",
    "/invoices/{id}",
    roles=CLIENT,
    scope="own",
    cache="financial",
    events=("PaymentReceived", "RefundIssued", "OrderChanged"),
    errors=("ACCOUNT_MISSING", "INVOICE_NOT_FOUND"),
    response=InvoiceDetail,
)
async def invoice(call: Call, *, id: int) -> dict[str, Any]:
    """Invoice: lines, tax, totals, payments applied, balance and due date."""
    return await docs.invoice_detail(call.session, call.actor, invoice_id=id)
