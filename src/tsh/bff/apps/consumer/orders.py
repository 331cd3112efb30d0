"""Consumer orders (CON-25 … CON-27, CON-36, CON-37).

Unpaid online orders older than 30 minutes are cancelled lazily (no scheduler exists): the order
screens run the sweep for the caller in their cache-key hook, so it happens on cache hits too,
commits in its own unit of work and invalidates through its events before the cache is read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from tsh.bff.apps.consumer.cart import cart_payload
from tsh.bff.apps.consumer.common import (
    CONSUMER,
    app,
    cursor_position,
    customer_id,
    next_cursor,
    now,
    serving,
)
from tsh.bff.apps.consumer.views import ConOrder, ConOrderRow, ConReorder, ConReturnRequested
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, Page
from tsh.bff.views import Page as PageOf
from tsh.domain.sales import checkout, consumer_orders, consumer_payments
from tsh.platform.db.uow import unit_of_work


class OrdersQuery(Page):
    status: Literal["pending", "confirmed", "shipped", "delivered", "cancelled"] | None = None
    from_: DateIn | None = Field(default=None, alias="from")
    to: DateIn | None = None


class Cancellation(Body):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ReturnLineIn(Body):
    order_line_id: Id
    qty: int = Field(ge=1, le=100_000)
    reason: Literal["defective", "wrong_item", "not_as_described", "changed_mind"]


class ReturnIn(Body):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=100)
    media_ids: list[Id] = Field(default_factory=list, max_length=10)
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


async def expire_unpaid(call: Call, **_: Any) -> str:
    """Cache-key hook of the order screens: cancel the caller's expired unpaid online orders first."""
    cid = call.principal.customer_id
    if cid is None:
        return ""
    at = now()
    if await checkout.has_expired_online_orders(call.session, at, customer_id=cid):
        async with unit_of_work(call.ctx.db, call.ctx.bus) as session:
            await checkout.cancel_expired_online_orders(session, at, customer_id=cid, by_user_id=call.user_id)
        # End the screen's read transaction: on SQLite it still sees the database as it was before
        # the sweep committed, and the screen must render (and cache) the cancellation.
        await call.session.rollback()
    return ""


async def order_payload(call: Call, order_id: int) -> dict[str, Any]:
    return await consumer_orders.order_detail(call.session, customer_id=customer_id(call), order_id=order_id)


@app.screen(
    "CON-25",
    "/orders",
    roles=CONSUMER,
    scope="own",
    cache="orders",
    events=("OrderCreated", "OrderChanged", "PaymentReceived", "RefundIssued"),
    key_part=expire_unpaid,
    errors=("CUSTOMER_PROFILE_MISSING",),
    response=PageOf[ConOrderRow],
)
async def orders(call: Call, *, query: OrdersQuery) -> dict[str, Any]:
    """Order history, newest first (cancelled orders included)."""
    items, position = await consumer_orders.order_list(
        call.session,
        customer_id=customer_id(call),
        status=query.status,
        date_from=query.from_,
        date_to=query.to,
        limit=query.limit,
        after=cursor_position(query.cursor),
    )
    return {"items": items, "next_cursor": next_cursor(position)}


@app.screen(
    "CON-26",
    "/orders/{id}",
    roles=CONSUMER,
    scope="own",
    cache="orders",
    events=("OrderChanged", "PaymentReceived", "RefundIssued", "ReturnChanged", "ReviewChanged"),
    key_part=expire_unpaid,
    errors=("ORDER_NOT_FOUND",),
    response=ConOrder,
)
async def order(call: Call, *, id: int) -> dict[str, Any]:
    """Order detail: lines, totals, address, timeline, invoice, payments, refunds, returns."""
    return await order_payload(call, id)


@app.action(
    "CON-27",
    "POST",
    "/orders/{id}/cancellation",
    roles=CONSUMER,
    scope="own",
    events=("OrderChanged", "StockChanged", "CreditChanged", "RefundIssued", "JournalPosted"),
    idempotency="required",
    audit_entity="order",
    errors=("ORDER_NOT_CANCELLABLE", "ORDER_NOT_FOUND"),
    response=ConOrder,
)
async def cancel(call: Call, *, id: int, body: Cancellation) -> dict[str, Any]:
    """Cancels an order that has not shipped; refunds online payments to the original method."""
    await consumer_payments.cancel_own_order(
        call.session, customer_id=customer_id(call), order_id=id, reason=body.reason, by_user_id=call.user_id
    )
    await call.session.flush()
    return await order_payload(call, id)


@app.action(
    "CON-36",
    "POST",
    "/orders/{id}/reorder",
    roles=CONSUMER,
    scope="own",
    audit_entity="order",
    errors=("ORDER_NOT_FOUND",),
    response=ConReorder,
)
async def reorder(call: Call, *, id: int) -> dict[str, Any]:
    """Copies the still-available lines of a past order into the cart at today's prices."""
    skipped = await consumer_orders.reorder(
        call.session, customer_id=customer_id(call), order_id=id, serving=await serving(call), at=now()
    )
    return {**await cart_payload(call), "skipped": skipped}


@app.action(
    "CON-37",
    "POST",
    "/orders/{id}/return-requests",
    roles=CONSUMER,
    scope="own",
    events=("ReturnChanged",),
    audit_entity="return_request",
    errors=("RETURN_WINDOW_EXPIRED", "QTY_EXCEEDS_RETURNABLE", "RETURN_ALREADY_OPEN", "ORDER_NOT_FOUND"),
    response=ConReturnRequested,
)
async def return_request(call: Call, *, id: int, body: ReturnIn) -> Created:
    """Asks to return delivered lines (decided and refunded in the after-sales app)."""
    request = await consumer_orders.request_return(
        call.session,
        customer_id=customer_id(call),
        user_id=call.user_id,
        order_id=id,
        lines=[ln.model_dump() for ln in body.lines],
        media_ids=body.media_ids,
        note=body.note,
    )
    call.audit("return_request", request.id)
    return Created(
        {
            "id": request.id,
            "number": request.number,
            "order_id": id,
            "status": request.status,
            "value": {"amount": str(request.value), "currency": request.currency},
            "lines": [ln.model_dump() for ln in body.lines],
        }
    )
