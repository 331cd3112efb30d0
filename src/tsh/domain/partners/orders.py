"""Partner orders for network customers (PAR-07) and their cancellation (PAR-08).

Orders are priced at the partner's tier list, reserved in the supplying branch's main warehouse,
confirmed and invoiced to the customer at once, paid cash on delivery (the partner never holds the
customer's money). Confirmation accrues the commission: the partner's rate on the net value, and the
upline's override rate when the partner is a sub-partner (`ordering.confirm_order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.actor import Actor
from tsh.domain.catalog import pricing
from tsh.domain.customers.models import Address, Customer, Partner
from tsh.domain.money import convert
from tsh.domain.partners.reads import partner_of
from tsh.domain.sales import cancellation, ordering
from tsh.domain.sales.models import Order
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error


async def place_partner_order(
    session: AsyncSession,
    actor: Actor,
    *,
    customer_id: int,
    address_id: int,
    lines: Sequence[tuple[int, int]],
    expected_total: Decimal,
    expected_currency: str,
    note: str | None = None,
) -> Order:
    """404 CUSTOMER_NOT_FOUND outside the own network, 404 ADDRESS_NOT_FOUND, 422 DUPLICATE_LINE;
    then (ordering.place_order) 409 INSUFFICIENT_STOCK, 409 CUSTOMER_ON_HOLD, 409 PRICE_CHANGED;
    then 409 PARTNER_SUSPENDED and 422 BELOW_MIN_ORDER (goods value net of discounts, before tax,
    under the partner's minimum). A refusal changes nothing (the unit of work rolls back)."""
    own = await partner_of(session, actor)
    partner = (
        await session.execute(
            select(Partner)
            .where(Partner.id == own.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.partner_id == partner.id)
    )
    if customer is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    address = await session.scalar(
        select(Address).where(Address.id == address_id, Address.customer_id == customer.id)
    )
    if address is None:
        raise NotFound("No such address of the customer", code="ADDRESS_NOT_FOUND")
    seen: set[int] = set()
    for i, (pid, _) in enumerate(lines):
        if pid in seen:
            raise Invalid(
                "A product may appear on one line only",
                code="DUPLICATE_LINE",
                details=[field_error(f"lines[{i}].product_id", "listed twice")],
            )
        seen.add(pid)
    price_list = await pricing.price_list_for(
        session, channel="partner", branch_id=partner.branch_id, partner_tier_id=partner.tier_id
    )
    if expected_currency != price_list.currency:
        raise Conflict(
            "The partner prices are in another currency",
            code="PRICE_CHANGED",
            details=[field_error("expected_total.currency", "must be " + price_list.currency)],
        )
    snapshot = {
        k: getattr(address, k)
        for k in (
            "label",
            "city",
            "district",
            "street",
            "landmark",
            "phone",
            "lat",
            "lng",
            "delivery_zone_id",
        )
    }
    order = await ordering.place_order(
        session,
        channel="partner",
        customer_id=customer.id,
        branch_id=partner.branch_id,
        lines=[(pid, qty, Decimal(0)) for pid, qty in lines],
        payment_terms="cash_on_delivery",
        price_list_id=price_list.id,
        placed_by_user_id=actor.user_id,
        currency=price_list.currency,
        partner_id=partner.id,
        expected_total=expected_total,
        address_snapshot={**snapshot, "address_id": address.id},
        note=note,
    )
    if partner.status == "suspended":
        raise Conflict("The partner is suspended", code="PARTNER_SUSPENDED")
    goods = order.subtotal - order.discount
    minimum = partner.min_order_amount
    if partner.min_order_currency != order.currency:
        minimum = convert(
            minimum,
            partner.min_order_currency,
            order.currency,
            await posting.rate_in_force(session, utcnow()),
        )
    if goods < minimum:
        raise Invalid(
            "The order is below the partner's minimum order",
            code="BELOW_MIN_ORDER",
            details=[
                field_error("lines", "below the minimum order", minimum=str(minimum), currency=order.currency)
            ],
        )
    return order


async def cancel_partner_order(session: AsyncSession, actor: Actor, *, order_id: int, reason: str) -> Order:
    """404 ORDER_NOT_FOUND unless the partner's own; 409 ORDER_NOT_CANCELLABLE unless pending or
    confirmed (cancellation.cancel_order releases stock, voids the invoice, reverses commission)."""
    partner = await partner_of(session, actor)
    own = await session.scalar(select(Order.id).where(Order.id == order_id, Order.partner_id == partner.id))
    if own is None:
        raise NotFound("Order not found", code="ORDER_NOT_FOUND")
    return await cancellation.cancel_order(
        session, order_id=order_id, reason=reason, by_user_id=actor.user_id
    )
