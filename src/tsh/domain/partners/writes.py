"""Partner self-service writes: own profile (PAR-03) and registering a network customer (PAR-13)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog import pricing
from tsh.domain.customers.models import Address, Customer, Partner, PartnerTier
from tsh.domain.events import raise_event
from tsh.domain.partners.reads import partner_of
from tsh.domain.shared import new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Forbidden, field_error

PAYOUT_COOLDOWN = dt.timedelta(hours=48)
PROFILE_FIELDS = ("phone", "email", "address", "payout_method", "payout_account")


async def update_profile(session: AsyncSession, actor: Actor, *, changes: dict[str, Any]) -> Partner:
    """Set own contact data and payout details (only PROFILE_FIELDS; tier, rates, territory and
    status belong to the back office). A change of payout method or account blocks payout
    requests for 48 hours. 409 PHONE_TAKEN. Emits PartnerChanged."""
    own = await partner_of(session, actor)
    partner = (
        await session.execute(
            select(Partner)
            .where(Partner.id == own.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if "phone" in changes and changes["phone"] != partner.phone:
        taken = await session.scalar(
            select(Partner.id).where(Partner.phone == changes["phone"], Partner.id != partner.id)
        )
        if taken is not None:
            raise Conflict(
                "Another partner has this phone",
                code="PHONE_TAKEN",
                details=[field_error("phone", "already taken")],
            )
    payout_changed = any(
        k in changes and changes[k] != getattr(partner, k) for k in ("payout_method", "payout_account")
    )
    for key in PROFILE_FIELDS:
        if key in changes:
            setattr(partner, key, changes[key])
    if payout_changed:
        partner.payout_locked_until = utcnow() + PAYOUT_COOLDOWN
    await session.flush()
    raise_event(session, "PartnerChanged", partners=[partner.id], branches=[partner.branch_id])
    return partner


async def register_customer(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    phone: str,
    city: str,
    address: str,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
) -> Customer:
    """Register a retail customer owned by the partner, at the partner's tier prices, cash terms.

    409 CUSTOMER_EXISTS when the phone is registered; the existing customer keeps its owner and is
    not disclosed. Emits CustomerChanged and PartnerChanged.
    """
    partner = await partner_of(session, actor)
    if await session.scalar(select(Customer.id).where(Customer.phone == phone)) is not None:
        raise Conflict("This phone is already registered", code="CUSTOMER_EXISTS")
    price_list = await pricing.price_list_for(
        session, channel="partner", branch_id=partner.branch_id, partner_tier_id=partner.tier_id
    )
    customer = Customer(
        code=new_number("C"),
        type="consumer",
        name=name,
        phone=phone,
        branch_id=partner.branch_id,
        partner_id=partner.id,
        price_list_id=price_list.id,
        currency=price_list.currency,
        credit_limit=0,
        payment_terms_days=0,
        city=city,
        lat=lat,
        lng=lng,
        geo_accuracy_m=accuracy_m,
        status="active",
        addresses=[
            Address(
                label="Main",
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
        raise Conflict("This phone is already registered", code="CUSTOMER_EXISTS") from None
    raise_event(
        session,
        "CustomerChanged",
        branches=[partner.branch_id],
        customers=[customer.id],
        partners=[partner.id],
    )
    raise_event(session, "PartnerChanged", branches=[partner.branch_id], partners=[partner.id])
    return customer


async def invite_sub_partner(
    session: AsyncSession, actor: Actor, *, name: str, phone: str, city: str, note: str | None
) -> Partner:
    """Invite a sub-partner (status `invited`, entry tier, the caller's branch); the back office
    vets it and creates the login. 403 TIER_NOT_ALLOWED without recruitment right; 409
    NETWORK_DEPTH when the caller is itself a sub-partner (one level); 409 PHONE_TAKEN.
    Emits PartnerChanged."""
    partner = await partner_of(session, actor)
    if not partner.can_recruit:
        raise Forbidden("Your tier may not recruit partners", code="TIER_NOT_ALLOWED")
    if partner.parent_partner_id is not None:
        raise Conflict("A sub-partner cannot recruit further partners", code="NETWORK_DEPTH")
    if await session.scalar(select(Partner.id).where(Partner.phone == phone)) is not None:
        raise Conflict(
            "This phone is already taken", code="PHONE_TAKEN", details=[field_error("phone", "taken")]
        )
    entry_tier = await session.scalar(select(PartnerTier.id).order_by(PartnerTier.rank).limit(1))
    invited = Partner(
        code=new_number("PTR"),
        name=name,
        phone=phone,
        city=city,
        branch_id=partner.branch_id,
        tier_id=entry_tier,
        parent_partner_id=partner.id,
        note=note,
        status="invited",
    )
    session.add(invited)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # invited concurrently with the same phone
        raise Conflict("This phone is already taken", code="PHONE_TAKEN") from None
    raise_event(session, "PartnerChanged", partners=[partner.id, invited.id], branches=[partner.branch_id])
    return invited
