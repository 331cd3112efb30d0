"""Partner self-service reads (PAR-02 profile, PAR-05 orders, PAR-06 order detail).

`own` is the partner linked to the calling user (User.partner_id): its record, and orders with
Order.partner_id = it. Another partner's order is a 404, never a 403. Commission shown on an order
is this partner's own (direct, or override when it is the upline), reversed rows excluded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer, Partner, PartnerTier
from tsh.domain.money import wire
from tsh.domain.sales.models import Commission, Invoice, Order, OrderLine
from tsh.domain.shared import day_start_utc
from tsh.platform.errors import Invalid, NotFound, field_error


async def partner_of(session: AsyncSession, actor: Actor) -> Partner:
    """The caller's partner record; 404 PARTNER_PROFILE_MISSING without one."""
    partner = await session.get(Partner, actor.partner_id) if actor.partner_id is not None else None
    if partner is None:
        raise NotFound("This user has no partner record", code="PARTNER_PROFILE_MISSING")
    return partner


def _masked(account: str | None) -> str | None:
    """Payout account shown with its last 4 characters only (the full value stays in the back office)."""
    if not account:
        return None
    return "•" * max(len(account) - 4, 0) + account[-4:]


async def profile(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """PAR-02: code, tier, rates, recruitment right, territory, status, contact, payout, upline."""
    p = await partner_of(session, actor)
    tier = await session.get(PartnerTier, p.tier_id) if p.tier_id is not None else None
    upline = await session.get(Partner, p.parent_partner_id) if p.parent_partner_id is not None else None
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "tier": {"id": tier.id, "code": tier.code, "name": tier.name, "rank": tier.rank} if tier else None,
        "commission_rate": str(p.commission_rate),
        "override_rate": str(p.override_rate),
        "can_recruit": p.can_recruit,
        "territory": p.territory,
        "status": p.status,
        "phone": p.phone,
        "email": p.email,
        "address": p.address,
        "city": p.city,
        "payout_method": p.payout_method,
        "payout_account": _masked(p.payout_account),
        "payout_locked_until": p.payout_locked_until,
        "joined_at": p.joined_at,
        "upline": {"id": upline.id, "code": upline.code, "name": upline.name} if upline else None,
    }


def _commission_sum(partner_id: int) -> Any:
    return (
        select(func.coalesce(func.sum(Commission.amount), 0))
        .where(
            Commission.order_id == Order.id,
            Commission.partner_id == partner_id,
            Commission.status != "reversed",
        )
        .correlate(Order)
        .scalar_subquery()
    )


def order_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"t": row["placed_at"].isoformat(), "i": row["id"]}


async def order_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    status: str | None = None,
    customer_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """PAR-05: up to limit+1 orders the partner placed (newest first) with its commission."""
    p = await partner_of(session, actor)
    stmt = (
        select(Order, Customer.name, _commission_sum(p.id))
        .join(Customer, Customer.id == Order.customer_id)
        .where(Order.partner_id == p.id)
    )
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if date_from is not None:
        stmt = stmt.where(Order.placed_at >= day_start_utc(date_from))
    if date_to is not None:
        stmt = stmt.where(Order.placed_at < day_start_utc(date_to + dt.timedelta(days=1)))
    if after is not None:
        try:
            at, oid = dt.datetime.fromisoformat(after["t"]), int(after["i"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
            ) from None
        stmt = stmt.where(or_(Order.placed_at < at, and_(Order.placed_at == at, Order.id < oid)))
    rows = (
        await session.execute(stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit + 1))
    ).all()
    return [
        {
            "id": o.id,
            "number": o.number,
            "customer": {"id": o.customer_id, "name": name},
            "placed_at": o.placed_at,
            "status": o.status,
            "total": wire(o.total, o.currency),
            "commission": wire(Decimal(commission or 0), o.currency),
        }
        for o, name, commission in rows
    ]


async def order_detail(session: AsyncSession, actor: Actor, *, order_id: int) -> dict[str, Any]:
    """PAR-06: lines, totals, delivery address, timeline, invoice and payment status, commission lines."""
    p = await partner_of(session, actor)
    found = (
        await session.execute(
            select(Order, Customer.name)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.id == order_id, Order.partner_id == p.id)
        )
    ).first()
    if found is None:
        raise NotFound("Order not found", code="ORDER_NOT_FOUND")
    order, customer_name = found[0], found[1]
    cur = order.currency
    lines = (
        await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
    ).all()
    invoice = (
        await session.execute(
            select(Invoice.id, Invoice.number, Invoice.status, Invoice.balance).where(
                Invoice.order_id == order.id
            )
        )
    ).first()
    commissions = (
        await session.scalars(
            select(Commission)
            .where(Commission.order_id == order.id, Commission.partner_id == p.id)
            .order_by(Commission.id)
        )
    ).all()
    snapshot = order.address_snapshot or None
    steps = [
        ("placed", order.placed_at),
        ("confirmed", order.confirmed_at),
        ("shipped", order.shipped_at),
        ("delivered", order.delivered_at),
        ("cancelled", order.cancelled_at),
    ]
    return {
        "id": order.id,
        "number": order.number,
        "customer": {"id": order.customer_id, "name": customer_name},
        "status": order.status,
        "payment_status": order.payment_status,
        "placed_at": order.placed_at,
        "lines": [
            {
                "id": ln.id,
                "product_id": ln.product_id,
                "sku": ln.sku,
                "name": ln.product_name,
                "qty": ln.qty,
                "unit_price": wire(ln.unit_price, cur),
                "line_total": wire(ln.line_total, cur),
            }
            for ln in lines
        ],
        "subtotal": wire(order.subtotal, cur),
        "discount": wire(order.discount, cur),
        "tax": wire(order.tax, cur),
        "delivery_fee": wire(order.delivery_fee, cur),
        "total": wire(order.total, cur),
        "address": (
            {k: snapshot.get(k) for k in ("label", "city", "district", "street", "landmark", "phone")}
            if snapshot
            else None
        ),
        "timeline": [{"status": s, "at": at} for s, at in steps if at is not None],
        "invoice": (
            {
                "id": invoice[0],
                "number": invoice[1],
                "status": invoice[2],
                "balance": wire(Decimal(invoice[3]), cur),
            }
            if invoice is not None
            else None
        ),
        "commissions": [
            {
                "id": c.id,
                "kind": c.kind,
                "rate": str(c.rate),
                "base_amount": wire(c.base_amount, c.currency),
                "amount": wire(c.amount, c.currency),
                "status": c.status,
            }
            for c in commissions
        ],
    }
