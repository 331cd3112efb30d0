"""Returns opened at the service desk on a customer's behalf (ASO-12).

The same limits as the consumer's own request (CON-37): the order must be delivered, within 14
days of delivery, each line at most its delivered minus already returned quantity, one open
return per order. At the desk the staff also record each line's condition (sealed / opened /
damaged), which the decision (ASO-13) uses for restocking, and a branch manager may override the
window; a service agent asking for the override is refused (403 APPROVAL_REQUIRED) rather than
silently ignored, so the desk knows to call the manager.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.aftersales.models import OPEN_RETURN_STATUSES, ReturnLine, ReturnRequest
from tsh.domain.events import raise_event
from tsh.domain.identity.models import Media
from tsh.domain.money import round_money
from tsh.domain.sales.models import Order, OrderLine
from tsh.domain.shared import new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

RETURN_WINDOW = dt.timedelta(days=14)
CONDITIONS = ("sealed", "opened", "damaged")
OVERRIDE_ROLES = ("branch_manager", "admin")


@dataclass(frozen=True, slots=True)
class DeskLine:
    order_line_id: int
    qty: int
    reason: str
    condition: str


async def open_desk_return(
    session: AsyncSession,
    actor: Actor,
    *,
    order_id: int,
    lines: Sequence[DeskLine],
    note: str | None = None,
    media_ids: Sequence[int] = (),
    override_window: bool = False,
) -> ReturnRequest:
    """Open a return at the desk (ASO-12). Scope: the order's branch (404 ORDER_NOT_FOUND).

    403 APPROVAL_REQUIRED for override_window by a role other than branch manager / admin;
    409 RETURN_WINDOW_EXPIRED after 14 days from delivery (unless overridden);
    409 QTY_EXCEEDS_RETURNABLE (order not delivered, or above delivered − returned);
    409 RETURN_ALREADY_OPEN; 422 for a line of another order or an unknown medium.
    Emits ReturnChanged.
    """
    stmt = select(Order).where(Order.id == order_id)
    if not actor.sees_all:
        stmt = stmt.where(Order.branch_id == (actor.branch_id or 0))
    order = await session.scalar(stmt.with_for_update().execution_options(populate_existing=True))
    if order is None:
        raise NotFound("Order not found", code="ORDER_NOT_FOUND")
    if override_window and actor.role not in OVERRIDE_ROLES:
        raise Forbidden("Only a branch manager may override the return window", code="APPROVAL_REQUIRED")
    if not lines:
        raise Invalid(details=[field_error("lines", "at least one line")])
    by_id = {
        ln.id: ln
        for ln in await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id).with_for_update()
        )
    }
    bad = [
        field_error(f"lines[{i}].order_line_id", "not a line of this order")
        for i, ln in enumerate(lines)
        if ln.order_line_id not in by_id
    ] + [
        field_error(f"lines[{i}].condition", "unknown condition", allowed=list(CONDITIONS))
        for i, ln in enumerate(lines)
        if ln.condition not in CONDITIONS
    ]
    if media_ids:
        found = set(await session.scalars(select(Media.id).where(Media.id.in_(media_ids))))
        bad += [
            field_error(f"media_ids[{i}]", "unknown media") for i, m in enumerate(media_ids) if m not in found
        ]
    if bad:
        raise Invalid(details=bad)
    if (
        order.delivered_at is not None
        and utcnow() - order.delivered_at > RETURN_WINDOW
        and not override_window
    ):
        raise Conflict(
            "The 14-day return window has passed",
            code="RETURN_WINDOW_EXPIRED",
            details=[field_error("order_id", "window expired", delivered_at=order.delivered_at.isoformat())],
        )
    asked: dict[int, int] = defaultdict(int)
    for ln in lines:
        asked[ln.order_line_id] += ln.qty
    over = [
        field_error(
            f"lines[{i}].qty",
            "exceeds the returnable quantity",
            order_line_id=ln.order_line_id,
            returnable=by_id[ln.order_line_id].qty_delivered - by_id[ln.order_line_id].qty_returned,
        )
        for i, ln in enumerate(lines)
        if order.status != "delivered"
        or asked[ln.order_line_id]
        > by_id[ln.order_line_id].qty_delivered - by_id[ln.order_line_id].qty_returned
    ]
    if over:
        raise Conflict("More than can be returned", code="QTY_EXCEEDS_RETURNABLE", details=over)
    open_id = await session.scalar(
        select(ReturnRequest.id).where(
            ReturnRequest.order_id == order.id, ReturnRequest.status.in_(OPEN_RETURN_STATUSES)
        )
    )
    if open_id is not None:
        raise Conflict(
            "A return request is already open for this order",
            code="RETURN_ALREADY_OPEN",
            details=[field_error("order_id", "return already open", return_request_id=open_id)],
        )
    value = sum(
        (
            round_money((by_id[lid].line_total + by_id[lid].tax) * q / by_id[lid].qty, order.currency)
            for lid, q in asked.items()
        ),
        Decimal(0),
    )
    request = ReturnRequest(
        number=new_number("RMA"),
        order_id=order.id,
        customer_id=order.customer_id,
        branch_id=order.branch_id,
        channel="desk",
        status="requested",
        note=note,
        media_ids=list(media_ids),
        currency=order.currency,
        value=value,
        requested_by_id=actor.user_id,
        lines=[
            ReturnLine(order_line_id=ln.order_line_id, qty=ln.qty, reason=ln.reason, condition=ln.condition)
            for ln in lines
        ],
    )
    session.add(request)
    await session.flush()
    raise_event(session, "ReturnChanged", customers=[order.customer_id], branches=[order.branch_id])
    return request
