"""ASO-10 returns, ASO-13 decide a return, ASO-14 refund it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.aso import DESK, DESK_SCOPE, app
from tsh.bff.apps.aso.views import RefundRow, ReturnDetail, ReturnRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import (
    Body,
    DateIn,
    Id,
    LongText,
    Money,
    MoneyNonNegative,
    Page,
    Qty,
    Text,
    decode_cursor,
    page,
)
from tsh.bff.views import Page as PageOf
from tsh.domain.aftersales import desk_returns, documents, queries, returns
from tsh.domain.aftersales.access import reach
from tsh.domain.inventory.queries import position
from tsh.domain.money import wire


class ListQuery(Page):
    status: Literal["requested", "approved", "rejected", "refunded"] | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=100)
    customer_id: Id | None = None
    channel: Literal["consumer", "desk"] | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


async def return_row(call: Call, return_id: int) -> dict[str, Any]:
    return (await queries.return_list(call.session, call.actor, limit=1, ids=[return_id]))[0]


@app.screen(
    "ASO-10",
    "/returns",
    roles=DESK,
    scope=DESK_SCOPE,
    cache="orders",
    events=("ReturnChanged", "RefundIssued"),
    response=PageOf[ReturnRow],
)
async def list_(call: Call, *, query: ListQuery) -> dict[str, Any]:
    """Return requests of the branch (the order's branch): number, order, customer, channel,
    reasons, status, value."""
    rows = await queries.return_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        reason=query.reason,
        customer_id=query.customer_id,
        channel=query.channel,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, lambda r: position(r["created_at"], r["id"]))


@app.screen(
    "ASO-11",
    "/returns/{id}",
    roles=DESK,
    scope=DESK_SCOPE,
    cache="orders",
    events=("ReturnChanged", "RefundIssued"),
    errors=("RETURN_NOT_FOUND",),
    response=ReturnDetail,
)
async def detail(call: Call, *, id: int) -> dict[str, Any]:
    """Return detail: order lines with delivered, already returned and requested quantities,
    photos, reasons, conditions, inspection notes, decision, refund."""
    return await documents.return_detail(call.session, call.actor, return_id=id)


class DeskLineIn(Body):
    order_line_id: Id
    qty: Qty
    reason: Text
    condition: Literal["sealed", "opened", "damaged"]


class DeskReturn(Body):
    order_id: Id
    lines: list[DeskLineIn] = Field(min_length=1, max_length=200)
    note: LongText | None = None
    media_ids: list[Id] = Field(default_factory=list, max_length=10)
    override_window: bool = False


@app.action(
    "ASO-12",
    "POST",
    "/returns",
    roles=DESK,
    scope=DESK_SCOPE,
    events=("ReturnChanged",),
    audit_entity="return",
    errors=(
        "ORDER_NOT_FOUND",
        "RETURN_WINDOW_EXPIRED",
        "APPROVAL_REQUIRED",
        "QTY_EXCEEDS_RETURNABLE",
        "RETURN_ALREADY_OPEN",
    ),
    response=ReturnRow,
)
async def open_return(call: Call, *, body: DeskReturn) -> Created:
    """Opens a return on a customer's behalf at the desk."""
    ret = await desk_returns.open_desk_return(
        call.session,
        call.actor,
        order_id=body.order_id,
        lines=[desk_returns.DeskLine(ln.order_line_id, ln.qty, ln.reason, ln.condition) for ln in body.lines],
        note=body.note,
        media_ids=body.media_ids,
        override_window=body.override_window,
    )
    call.audit("return", ret.id, after={"number": ret.number, "value": str(ret.value)})
    return Created(await return_row(call, ret.id))


class DecisionLine(Body):
    order_line_id: Id
    restock: bool = Field(strict=True)


class Decision(Body):
    decision: Literal["approved", "rejected"]
    lines: list[DecisionLine] = Field(default_factory=list, max_length=200)
    restocking_fee: MoneyNonNegative | None = None
    note: LongText = Field(min_length=1)


@app.action(
    "ASO-13",
    "POST",
    "/returns/{id}/decision",
    roles=DESK,
    scope=DESK_SCOPE,
    events=("ReturnChanged", "StockChanged"),
    idempotency="required",
    audit_entity="return",
    errors=(
        "RETURN_NOT_FOUND",
        "INVALID_STATE",
        "APPROVAL_REQUIRED",
        "FEE_TOO_HIGH",
        "QTY_EXCEEDS_RETURNABLE",
    ),
    response=ReturnRow,
)
async def decide(call: Call, *, id: int, body: Decision) -> dict[str, Any]:
    """Approves (restocking sellable lines, fixing the refundable amount less a fee) or rejects
    a requested return."""
    r = await reach(call.session, call.actor)
    fee = body.restocking_fee.amount if body.restocking_fee else None
    ret = await returns.decide_return(
        call.session,
        return_id=id,
        decision=body.decision,
        note=body.note,
        by_user_id=call.actor.user_id,
        role=call.actor.role,
        restock=[(ln.order_line_id, ln.restock) for ln in body.lines],
        restocking_fee=fee if fee is not None else Decimal(0),
        branch_id=r.branch_id,
    )
    call.audit("return", ret.id, after={"status": ret.status, "approved_amount": str(ret.approved_amount)})
    return await return_row(call, ret.id)


class Refund(Body):
    method: Literal["original", "credit_note", "bank_transfer"]
    amount: Money
    bank_reference: Text | None = None


@app.action(
    "ASO-14",
    "POST",
    "/returns/{id}/refund",
    roles=DESK,
    scope=DESK_SCOPE,
    events=(
        "RefundIssued",
        "ReturnChanged",
        "CreditChanged",
        "CommissionChanged",
        "JournalPosted",
        "WarrantyChanged",
    ),
    idempotency="required",
    audit_entity="refund",
    errors=(
        "RETURN_NOT_FOUND",
        "RETURN_NOT_APPROVED",
        "REFUND_EXCEEDS_APPROVED",
        "ALREADY_REFUNDED",
        "METHOD_NOT_ALLOWED",
    ),
    response=RefundRow,
)
async def refund(call: Call, *, id: int, body: Refund) -> Created:
    """Refunds an approved return to the original wallet or card payment, as a credit note or by
    bank transfer; reverses commission and voids warranties of returned serials."""
    r = await reach(call.session, call.actor)
    row = await returns.refund_return(
        call.session,
        return_id=id,
        method=body.method,
        amount=body.amount.amount,
        by_user_id=call.actor.user_id,
        bank_reference=body.bank_reference,
        branch_id=r.branch_id,
    )
    call.audit("refund", row.id, after={"amount": str(row.amount), "method": row.method})
    return Created(
        {
            "id": row.id,
            "number": row.number,
            "return_id": id,
            "method": row.method,
            "amount": wire(row.amount, row.currency),
            "reference": row.reference,
        }
    )
