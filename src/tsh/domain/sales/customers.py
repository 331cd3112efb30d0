"""Registering shop customers from the field (apps/salesperson.md SAL-04)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.models import PriceList
from tsh.domain.customers.models import Address, Customer
from tsh.domain.events import raise_event
from tsh.domain.shared import new_number
from tsh.platform.errors import Conflict, field_error


def _in_scope(existing: Customer, actor: Actor) -> bool:
    """Whether the actor could see `existing` on its own screens (own customers, branch, all)."""
    if actor.scope == "own":
        return existing.salesperson_id == actor.user_id
    return actor.in_branch(existing.branch_id)


def _duplicate(existing: Customer | None, reveal: bool) -> Conflict:
    extra = {"existing_customer_id": existing.id} if existing is not None and reveal else {}
    return Conflict(
        "A customer with this phone already exists",
        code="DUPLICATE_PHONE",
        details=[field_error("phone", "already registered", **extra)],
    )


async def default_price_list(session: AsyncSession, *, branch_id: int | None) -> PriceList | None:
    """The branch's default `salesperson`-channel price list, else the company-wide default one."""
    stmt = (
        select(PriceList)
        .where(
            PriceList.channel == "salesperson",
            PriceList.is_default.is_(True),
            (PriceList.branch_id == branch_id) | PriceList.branch_id.is_(None),
        )
        .order_by(PriceList.branch_id.is_(None), PriceList.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def register_shop_customer(
    session: AsyncSession,
    actor: Actor,
    *,
    salesperson_id: int,
    branch_id: int | None,
    name: str,
    shop_name: str,
    phone: str,
    city: str,
    address: str,
    lat: float,
    lng: float,
    accuracy_m: float | None,
    notes: str | None,
) -> Customer:
    """Create a retail-shop customer owned by `salesperson_id`, on cash terms (credit limit 0).

    409 DUPLICATE_PHONE; its details name the existing customer only when the actor could see it.
    Emits CustomerChanged.
    """
    existing = await session.scalar(select(Customer).where(Customer.phone == phone))
    if existing is not None:
        raise _duplicate(existing, _in_scope(existing, actor))
    price_list = await default_price_list(session, branch_id=branch_id)
    customer = Customer(
        code=new_number("C"),
        type="retail_shop",
        name=name,
        shop_name=shop_name,
        phone=phone,
        branch_id=branch_id,
        salesperson_id=salesperson_id,
        price_list_id=price_list.id if price_list else None,
        currency=price_list.currency if price_list else "IQD",
        credit_limit=0,
        payment_terms_days=0,
        city=city,
        lat=lat,
        lng=lng,
        geo_accuracy_m=accuracy_m,
        notes=notes,
        status="active",
        addresses=[
            Address(
                label="Shop",
                city=city,
                street=address,
                phone=phone,
                lat=lat,
                lng=lng,
                geo_accuracy_m=accuracy_m,
                is_default=True,
            )
        ],
    )
    session.add(customer)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # registered concurrently with the same phone
        raise _duplicate(None, False) from None
    raise_event(
        session, "CustomerChanged", users=[salesperson_id], branches=[branch_id], customers=[customer.id]
    )
    return customer
