"""The `customers` delta-sync collection (mobile.md §1): own (salesperson, partner) or branch
(branch_manager, cashier) customers, the fields the field and counter apps keep offline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer
from tsh.domain.sync.feed import Collection


def _in_scope(actor: Actor) -> Any:
    if actor.sees_all:
        return Customer.id.is_not(None)
    if actor.scope == "branch":
        return Customer.branch_id == actor.branch_id
    if actor.partner_id is not None:
        return Customer.partner_id == actor.partner_id
    return Customer.salesperson_id == actor.user_id


def _row(c: Customer) -> tuple[int, dict[str, Any]]:
    return c.id, {
        "version": c.version,
        "data": {
            "id": c.id,
            "code": c.code,
            "type": c.type,
            "name": c.name,
            "shop_name": c.shop_name,
            "phone": c.phone,
            "email": c.email,
            "city": c.city,
            "lat": c.lat,
            "lng": c.lng,
            "branch_id": c.branch_id,
            "price_list_id": c.price_list_id,
            "currency": c.currency,
            "credit_limit": str(c.credit_limit),
            "payment_terms_days": c.payment_terms_days,
            "on_hold": c.on_hold,
            "status": c.status,
        },
    }


async def _rows(session: AsyncSession, actor: Actor, ids: list[int]) -> dict[int, dict[str, Any]]:
    found = await session.scalars(select(Customer).where(Customer.id.in_(ids), _in_scope(actor)))
    return dict(_row(c) for c in found)


async def _snapshot(
    session: AsyncSession, actor: Actor, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    found = await session.scalars(
        select(Customer).where(Customer.id > after, _in_scope(actor)).order_by(Customer.id).limit(limit)
    )
    return [_row(c) for c in found]


CUSTOMERS = Collection(name="customers", entity="customer", rows=_rows, snapshot=_snapshot)
