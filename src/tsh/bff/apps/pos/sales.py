"""Sales: POS-09 start, POS-10 detail, POS-11 lines, POS-12 payment, POS-13 discard, POS-14 refund,
POS-15 completed-sales list. Every sale action answers the sale as in POS-10."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.pos import OWN_OR_BRANCH, STAFF, RowId, actor_of, app
from tsh.bff.apps.pos.views import PosCompletedSale, PosRefundResult, PosSale
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Money, Page, Pct, Qty, Query, Text, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.money import wire
from tsh.domain.pos.common import load_sale, position
from tsh.domain.pos.payment import TenderInput, pay_sale
from tsh.domain.pos.refunds import RefundLineInput, refund_sale
from tsh.domain.pos.sales import LineInput, discard_sale, replace_lines, start_sale
from tsh.domain.pos.views import sale_view, sales_list

Method = Literal["cash", "card", "zain_cash", "fastpay"]


class NewSale(Body):
    customer_id: RowId | None = None


@app.action(
    "POS-09",
    "POST",
    "/transactions",
    roles=STAFF,
    scope="own",
    audit_entity="pos_transaction",
    errors=("NO_OPEN_SHIFT", "TOO_MANY_OPEN", "CUSTOMER_NOT_FOUND"),
    response=PosSale,
)
async def start(call: Call, *, body: NewSale) -> Created:
    """Starts a sale in the caller's open shift."""
    sale = await start_sale(call.session, actor_of(call), customer_id=body.customer_id)
    call.audit("pos_transaction", sale.id, after={"status": "open", "customer_id": sale.customer_id})
    return Created(await sale_view(call.session, sale.id))


@app.screen(
    "POS-10",
    "/transactions/{id}",
    roles=STAFF,
    # cashier: own, and the completed sales of the branch (so POS-14 can refund them).
    scope=OWN_OR_BRANCH,
    cache="none",
    errors=("TRANSACTION_NOT_FOUND",),
    response=PosSale,
)
async def detail(call: Call, *, id: int) -> dict[str, Any]:
    """One sale with lines, tenders, change, status, receipt data and refundable quantities."""
    await load_sale(call.session, actor_of(call), id, branch_completed=True)
    return await sale_view(call.session, id)


class LineIn(Body):
    product_id: RowId
    qty: Qty
    discount_pct: Pct = Decimal("0")
    serial_number: str | None = Field(default=None, min_length=1, max_length=100)


class Lines(Body):
    lines: list[LineIn] = Field(max_length=100)
    order_discount_pct: Pct = Decimal("0")


@app.action(
    "POS-11",
    "PUT",
    "/transactions/{id}/lines",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    audit_entity="pos_transaction",
    errors=("TRANSACTION_NOT_OPEN", "INSUFFICIENT_STOCK", "APPROVAL_REQUIRED", "TRANSACTION_NOT_FOUND"),
    response=PosSale,
)
async def lines(call: Call, *, body: Lines, id: int) -> dict[str, Any]:
    """Replaces the lines and discounts of an open sale; answers the repriced sale."""
    await replace_lines(
        call.session,
        actor_of(call),
        sale_id=id,
        lines=[LineInput(ln.product_id, ln.qty, ln.discount_pct, ln.serial_number) for ln in body.lines],
        order_discount_pct=body.order_discount_pct,
    )
    return await sale_view(call.session, id)


class TenderIn(Body):
    method: Method
    amount: Money
    reference: str | None = Field(default=None, min_length=1, max_length=100)


class Payment(Body):
    tenders: list[TenderIn] = Field(min_length=1, max_length=10)


@app.action(
    "POS-12",
    "POST",
    "/transactions/{id}/payments",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    events=("PosSaleCompleted", "StockChanged", "ShiftChanged", "JournalPosted", "WarrantyChanged"),
    idempotency="required",
    audit_entity="pos_transaction",
    errors=(
        "TRANSACTION_NOT_OPEN",
        "SHIFT_NOT_OPEN",
        "PAYMENT_SHORT",
        "OVERPAID_NON_CASH",
        "SERIAL_REQUIRED",
        "INSUFFICIENT_STOCK",
        "TRANSACTION_NOT_FOUND",
        "DRAWER_NEGATIVE",
    ),
    response=PosSale,
)
async def pay(call: Call, *, body: Payment, id: int) -> dict[str, Any]:
    """Takes the payment and completes the sale (stock, change, receipt, posting, warranties)."""
    sale = await pay_sale(
        call.session,
        actor_of(call),
        sale_id=id,
        tenders=[
            TenderInput(t.method, t.amount.amount, t.amount.currency, t.reference) for t in body.tenders
        ],
    )
    call.audit(
        "pos_transaction",
        id,
        before={"status": "open"},
        after={"status": "completed", "receipt_number": sale.receipt_number},
    )
    return await sale_view(call.session, id)


class DiscardQuery(Query):
    reason: Text


@app.action(
    "POS-13",
    "DELETE",
    "/transactions/{id}",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    audit_entity="pos_transaction",
    errors=("TRANSACTION_COMPLETED", "TRANSACTION_NOT_FOUND"),
    response=PosSale,
)
async def discard(call: Call, *, query: DiscardQuery, id: int) -> dict[str, Any]:
    """Discards an open, unpaid sale (written to the audit log)."""
    sale = await discard_sale(call.session, actor_of(call), sale_id=id, reason=query.reason)
    call.audit(
        "pos_transaction",
        id,
        before={"status": "open"},
        after={"status": sale.status, "reason": query.reason},
    )
    return await sale_view(call.session, id)


class RefundLineIn(Body):
    line_id: RowId
    qty: Qty


class NewRefund(Body):
    lines: list[RefundLineIn] = Field(min_length=1, max_length=100)
    method: Literal["cash", "original"]
    reason: Text
    restock: bool = True


@app.action(
    "POS-14",
    "POST",
    "/transactions/{id}/refunds",
    roles=STAFF,
    scope="branch",
    events=("RefundIssued", "StockChanged", "ShiftChanged", "JournalPosted", "WarrantyChanged"),
    idempotency="required",
    audit_entity="refund",
    errors=(
        "NO_OPEN_SHIFT",
        "REFUND_EXCEEDS_SALE",
        "DRAWER_NEGATIVE",
        "APPROVAL_REQUIRED",
        "TRANSACTION_NOT_FOUND",
    ),
    response=PosRefundResult,
)
async def refund(call: Call, *, body: NewRefund, id: int) -> Created:
    """Refunds lines of a completed sale of the branch from the caller's shift."""
    issued = await refund_sale(
        call.session,
        actor_of(call),
        sale_id=id,
        lines=[RefundLineInput(ln.line_id, ln.qty) for ln in body.lines],
        method=body.method,
        reason=body.reason,
        restock=body.restock,
    )
    call.audit("refund", issued.id, after={"transaction_id": id, "amount": str(issued.amount)})
    return Created(
        {
            "refund": {
                "id": issued.id,
                "number": issued.number,
                "amount": wire(issued.amount, issued.currency),
                "method": issued.method,
                "restock": body.restock,
                "shift_id": issued.shift_id,
                "journal_entry_id": issued.journal_entry_id,
                "issued_at": issued.issued_at,
            },
            "sale": await sale_view(call.session, id),
        }
    )


class SalesQuery(Page):
    shift_id: RowId | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")
    receipt_number: str | None = Field(default=None, min_length=1, max_length=30)
    method: Method | None = None
    cashier_id: RowId | None = None


@app.screen(
    "POS-15",
    "/transactions",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    cache="orders",
    events=("PosSaleCompleted", "RefundIssued"),
    errors=("CASHIER_NOT_FOUND", "SHIFT_NOT_FOUND"),
    response=PageOf[PosCompletedSale],
)
async def completed(call: Call, *, query: SalesQuery) -> dict[str, Any]:
    """Completed sales; a receipt_number lookup searches the whole branch."""
    rows = await sales_list(
        call.session,
        actor_of(call),
        limit=query.limit,
        after=decode_cursor(query.cursor),
        shift_id=query.shift_id,
        date_from=query.date_from,
        date_to=query.date_to,
        receipt_number=query.receipt_number,
        method=query.method,
        cashier_id=query.cashier_id,
    )
    return page(rows, query.limit, lambda s: position(s["completed_at"], s["id"]))
