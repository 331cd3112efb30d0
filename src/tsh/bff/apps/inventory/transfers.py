"""INV-06 transfers, INV-07 transfer detail, INV-08 request, INV-09 dispatch, INV-10 receipt,
INV-11 cancellation."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.inventory import MOVER_SCOPE, MOVERS, STAFF, STAFF_SCOPE, app
from tsh.bff.apps.inventory.views import TransferDetail, TransferRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, LongText, Page, Qty, Text, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.inventory import commands, documents, queries

TransferStatus = Literal["requested", "dispatched", "received", "received_short", "cancelled"]


class ListQuery(Page):
    status: TransferStatus | None = None
    from_warehouse_id: Id | None = None
    to_warehouse_id: Id | None = None
    direction: Literal["in", "out"] | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


@app.screen(
    "INV-06",
    "/transfers",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="orders",
    events=("TransferChanged",),
    response=PageOf[TransferRow],
    vary_by_language=True,
)
async def list_(call: Call, *, query: ListQuery) -> dict[str, Any]:
    """Transfers with either end in scope: number, warehouses, status, line count, dates."""
    rows = await documents.transfer_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        from_warehouse_id=query.from_warehouse_id,
        to_warehouse_id=query.to_warehouse_id,
        direction=query.direction,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, lambda t: queries.position(t["requested_at"], t["id"]))


@app.screen(
    "INV-07",
    "/transfers/{id}",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="orders",
    events=("TransferChanged",),
    errors=("TRANSFER_NOT_FOUND",),
    response=TransferDetail,
    vary_by_language=True,
)
async def detail(call: Call, *, id: int) -> dict[str, Any]:
    """Transfer detail: lines with requested, dispatched and received quantities; timeline."""
    return await documents.transfer_detail(call.session, call.actor, id)


class RequestLine(Body):
    product_id: Id
    qty: Qty


class TransferRequest(Body):
    from_warehouse_id: Id
    to_warehouse_id: Id
    lines: list[RequestLine] = Field(min_length=1, max_length=200)
    note: LongText | None = None


@app.action(
    "INV-08",
    "POST",
    "/transfers",
    roles=STAFF,
    scope=STAFF_SCOPE,
    events=("TransferChanged",),
    idempotency="required",
    audit_entity="transfer",
    errors=("WAREHOUSE_NOT_FOUND", "PRODUCT_NOT_FOUND", "SAME_WAREHOUSE", "DUPLICATE_LINE"),
    response=TransferDetail,
)
async def request(call: Call, *, body: TransferRequest) -> Created:
    """Requests a transfer of products between two warehouses (availability checked at dispatch)."""
    transfer = await commands.request_transfer(
        call.session,
        call.actor,
        from_warehouse_id=body.from_warehouse_id,
        to_warehouse_id=body.to_warehouse_id,
        lines=[(ln.product_id, ln.qty) for ln in body.lines],
        note=body.note,
    )
    call.audit("transfer", transfer.id, after={"status": transfer.status, "number": transfer.number})
    return Created(await documents.transfer_detail(call.session, call.actor, transfer.id))


class DispatchLine(Body):
    product_id: Id
    qty: int = Field(ge=0, le=100_000)


class Dispatch(Body):
    lines: list[DispatchLine] | None = Field(default=None, min_length=1, max_length=200)


@app.action(
    "INV-09",
    "POST",
    "/transfers/{id}/dispatch",
    roles=MOVERS,
    scope=MOVER_SCOPE,
    events=("TransferChanged", "StockChanged"),
    idempotency="required",
    audit_entity="transfer",
    errors=("TRANSFER_NOT_FOUND", "INVALID_STATE", "INSUFFICIENT_STOCK", "OVER_DISPATCH", "DUPLICATE_LINE"),
    response=TransferDetail,
)
async def dispatch(call: Call, *, body: Dispatch, id: int) -> dict[str, Any]:
    """Dispatches a requested transfer: stock leaves the source and is in transit to the destination."""
    lines = None if body.lines is None else [(ln.product_id, ln.qty) for ln in body.lines]
    transfer = await commands.dispatch_transfer(call.session, call.actor, transfer_id=id, lines=lines)
    call.audit("transfer", transfer.id, before={"status": "requested"}, after={"status": transfer.status})
    return await documents.transfer_detail(call.session, call.actor, transfer.id)


class ReceiptLine(Body):
    product_id: Id
    qty_received: int = Field(ge=0, le=100_000)


class Receipt(Body):
    lines: list[ReceiptLine] = Field(min_length=1, max_length=200)
    note: LongText | None = None


@app.action(
    "INV-10",
    "POST",
    "/transfers/{id}/receipt",
    roles=MOVERS,
    scope=MOVER_SCOPE,
    events=("TransferChanged", "StockChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="transfer",
    errors=("TRANSFER_NOT_FOUND", "INVALID_STATE", "OVER_RECEIPT", "DUPLICATE_LINE"),
    response=TransferDetail,
)
async def receipt(call: Call, *, body: Receipt, id: int) -> dict[str, Any]:
    """Receives a dispatched transfer; a shortage is written off from in transit as a loss."""
    transfer = await commands.receive_transfer(
        call.session,
        call.actor,
        transfer_id=id,
        lines=[(ln.product_id, ln.qty_received) for ln in body.lines],
        note=body.note,
    )
    call.audit("transfer", transfer.id, before={"status": "dispatched"}, after={"status": transfer.status})
    return await documents.transfer_detail(call.session, call.actor, transfer.id)


class Cancellation(Body):
    reason: Text


@app.action(
    "INV-11",
    "POST",
    "/transfers/{id}/cancellation",
    roles=STAFF,
    scope=STAFF_SCOPE,
    events=("TransferChanged",),
    idempotency="required",
    audit_entity="transfer",
    errors=("TRANSFER_NOT_FOUND", "INVALID_STATE"),
    response=TransferDetail,
)
async def cancel(call: Call, *, body: Cancellation, id: int) -> dict[str, Any]:
    """Cancels a transfer that has not been dispatched."""
    transfer = await commands.cancel_transfer(call.session, call.actor, transfer_id=id, reason=body.reason)
    call.audit("transfer", transfer.id, before={"status": "requested"}, after={"status": "cancelled"})
    return await documents.transfer_detail(call.session, call.actor, transfer.id)
