"""Consumer self-service: profile changes, password, push token, delivery addresses.

The profile screen and account closure read the customer's orders and invoices, so they live in
`tsh.domain.sales.consumer_account` (sales builds on customers, never the other way round).

Owners: every function takes the caller's `customer_id` (User.customer_id) and touches only that
customer's rows; another customer's address is a 404. Services never commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.customers.models import Address, Customer
from tsh.domain.events import raise_event
from tsh.domain.identity.models import User, UserSession
from tsh.domain.identity.service import (
    check_new_password,
    normalise_phone,
    refuse_reused_password,
    replace_password,
    revoke_user_sessions,
)
from tsh.domain.money import wire
from tsh.domain.organisation.models import Branch, DeliveryZone
from tsh.platform.auth.passwords import verify_password
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

MAX_ADDRESSES = 10
CLOSED_NAME = "Closed account"


async def customer_of(session: AsyncSession, customer_id: int | None, *, lock: bool = False) -> Customer:
    """The caller's customer record; 404 CUSTOMER_PROFILE_MISSING when there is none."""
    if customer_id is None:
        raise NotFound("This account has no customer profile", code="CUSTOMER_PROFILE_MISSING")
    stmt = select(Customer).where(Customer.id == customer_id)
    if lock:
        stmt = stmt.with_for_update()
    customer = (await session.execute(stmt)).scalar_one_or_none()
    if customer is None:
        raise NotFound("This account has no customer profile", code="CUSTOMER_PROFILE_MISSING")
    return customer


# -- profile -----------------------------------------------------------------------------------


async def update_profile(
    session: AsyncSession, *, user_id: int, customer_id: int | None, changes: dict[str, Any]
) -> None:
    """Name, phone, language, marketing opt-in; 409 PHONE_TAKEN. Emits CustomerChanged, UserChanged."""
    customer = await customer_of(session, customer_id, lock=True)
    user = await session.get(User, user_id)
    assert user is not None
    if "phone" in changes and changes["phone"] is not None:
        phone = normalise_phone(changes["phone"])
        taken = await session.scalar(
            select(User.id)
            .where(User.phone == phone, User.id != user.id)
            .union_all(select(Customer.id).where(Customer.phone == phone, Customer.id != customer.id))
            .limit(1)
        )
        if taken is not None:
            raise Conflict("This phone number belongs to another account", code="PHONE_TAKEN")
        user.phone = customer.phone = phone
    if changes.get("name") is not None:
        user.name = customer.name = changes["name"]
    if changes.get("language") is not None:
        user.language = changes["language"]
    if changes.get("marketing_opt_in") is not None:
        customer.marketing_opt_in = changes["marketing_opt_in"]
    raise_event(session, "CustomerChanged", customers=[customer.id], branches=[customer.branch_id])
    raise_event(session, "UserChanged", users=[user.id], customers=[customer.id])


async def check_password(session: AsyncSession, user: User, password: str, field: str) -> None:
    if not await verify_password(password, user.password_hash):
        raise Invalid(
            "The password is not correct",
            code="WRONG_PASSWORD",
            details=[field_error(field, "does not match the current password")],
        )


async def change_password(
    session: AsyncSession, *, user_id: int, session_id: int, current: str, new: str
) -> None:
    """422 WRONG_PASSWORD, 422 WEAK_PASSWORD; revokes every other session of the user."""
    user = await session.get(User, user_id)
    assert user is not None
    await check_password(session, user, current, "current_password")
    await check_new_password(session, new, field="new_password")
    await refuse_reused_password(session, user=user, password=new, field="new_password")
    await replace_password(session, user=user, new_password=new)
    await revoke_user_sessions(
        session, user_id=user.id, reason="password_change", except_session_id=session_id
    )
    raise_event(session, "UserChanged", users=[user.id], customers=[user.customer_id])


async def set_push_token(session: AsyncSession, *, session_id: int, token: str, platform: str) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(push_token=token, platform=platform, updated_at=utcnow())
    )


# -- addresses ---------------------------------------------------------------------------------


async def zone_for_city(session: AsyncSession, city: str) -> DeliveryZone:
    """The active delivery zone listing `city` (case-insensitive); 422 OUTSIDE_DELIVERY_ZONE."""
    wanted = city.strip().casefold()
    zones = (
        await session.scalars(
            select(DeliveryZone)
            .join(Branch, Branch.id == DeliveryZone.branch_id)
            .where(DeliveryZone.status == "active", Branch.status == "active")
            .order_by(DeliveryZone.id)
        )
    ).all()
    for zone in zones:
        if any(str(c).strip().casefold() == wanted for c in zone.cities or []):
            return zone
    raise Invalid(
        "No delivery zone covers this city",
        code="OUTSIDE_DELIVERY_ZONE",
        details=[field_error("city", "not covered by any delivery zone")],
    )


def address_view(
    a: Address, zone: DeliveryZone | None, branch: Branch | None, language: str
) -> dict[str, Any]:
    return {
        "id": a.id,
        "label": a.label,
        "city": a.city,
        "district": a.district,
        "street": a.street,
        "landmark": a.landmark,
        "phone": a.phone,
        "geo": {"lat": a.lat, "lng": a.lng, "accuracy_m": a.geo_accuracy_m} if a.lat is not None else None,
        "is_default": a.is_default,
        "delivery_zone": (
            {
                "id": zone.id,
                "name": zone.name_ar if language == "ar" else zone.name_en,
                "fee": wire(zone.fee_amount, zone.fee_currency),
                "express_fee": wire(zone.express_fee_amount, zone.express_fee_currency or zone.fee_currency),
                "min_order": wire(zone.min_order_amount, zone.min_order_currency),
                "active": zone.status == "active",
            }
            if zone
            else None
        ),
        "delivery_fee": wire(zone.fee_amount, zone.fee_currency) if zone else None,
        "serving_branch": (
            {"id": branch.id, "name": branch.name_ar if language == "ar" else branch.name_en}
            if branch
            else None
        ),
    }


async def list_addresses(
    session: AsyncSession, *, customer_id: int, language: str = "en", default_only: bool = False
) -> list[dict[str, Any]]:
    stmt = (
        select(Address, DeliveryZone, Branch)
        .outerjoin(DeliveryZone, DeliveryZone.id == Address.delivery_zone_id)
        .outerjoin(Branch, Branch.id == DeliveryZone.branch_id)
        .where(Address.customer_id == customer_id)
        .order_by(Address.is_default.desc(), Address.id.desc())
    )
    if default_only:
        stmt = stmt.where(Address.is_default.is_(True)).limit(1)
    return [address_view(a, z, b, language) for a, z, b in (await session.execute(stmt)).all()]


async def own_address(session: AsyncSession, *, customer_id: int, address_id: int) -> Address:
    address = await session.scalar(
        select(Address).where(Address.id == address_id, Address.customer_id == customer_id)
    )
    if address is None:
        raise NotFound("No such address", code="ADDRESS_NOT_FOUND")
    return address


def _apply(address: Address, fields: dict[str, Any]) -> None:
    for name in ("label", "city", "district", "street", "landmark", "phone"):
        if name in fields:
            setattr(address, name, fields[name])
    if "geo" in fields:
        geo = fields["geo"] or {}
        address.lat, address.lng, address.geo_accuracy_m = (
            geo.get("lat"),
            geo.get("lng"),
            geo.get("accuracy_m"),
        )


async def _make_default(session: AsyncSession, customer_id: int, address: Address) -> None:
    await session.execute(
        update(Address)
        .where(Address.customer_id == customer_id, Address.id != address.id, Address.is_default.is_(True))
        .values(is_default=False, updated_at=utcnow())
    )
    address.is_default = True


async def add_address(session: AsyncSession, *, customer_id: int | None, fields: dict[str, Any]) -> int:
    """422 OUTSIDE_DELIVERY_ZONE, 422 ADDRESS_LIMIT; the first address becomes the default."""
    customer = await customer_of(session, customer_id, lock=True)
    zone = await zone_for_city(session, fields["city"])
    count = int(await session.scalar(select(func.count()).where(Address.customer_id == customer.id)) or 0)
    if count >= MAX_ADDRESSES:
        raise Invalid(f"At most {MAX_ADDRESSES} addresses", code="ADDRESS_LIMIT")
    address = Address(customer_id=customer.id, delivery_zone_id=zone.id, is_default=False)
    _apply(address, fields)
    session.add(address)
    await session.flush()
    if count == 0 or fields.get("is_default"):
        await _make_default(session, customer.id, address)
    raise_event(session, "CustomerChanged", customers=[customer.id])
    return address.id


async def edit_address(
    session: AsyncSession, *, customer_id: int | None, address_id: int, fields: dict[str, Any]
) -> None:
    customer = await customer_of(session, customer_id, lock=True)
    address = await own_address(session, customer_id=customer.id, address_id=address_id)
    if "city" in fields:
        address.delivery_zone_id = (await zone_for_city(session, fields["city"])).id
    _apply(address, fields)
    if fields.get("is_default"):
        await _make_default(session, customer.id, address)
    raise_event(session, "CustomerChanged", customers=[customer.id])


async def delete_address(session: AsyncSession, *, customer_id: int | None, address_id: int) -> None:
    """Deleting the default makes the newest remaining address the default."""
    customer = await customer_of(session, customer_id, lock=True)
    address = await own_address(session, customer_id=customer.id, address_id=address_id)
    was_default = address.is_default
    await session.delete(address)
    await session.flush()
    if was_default:
        newest = await session.scalar(
            select(Address)
            .where(Address.customer_id == customer.id)
            .order_by(Address.created_at.desc(), Address.id.desc())
            .limit(1)
        )
        if newest is not None:
            newest.is_default = True
    raise_event(session, "CustomerChanged", customers=[customer.id])


def address_snapshot(address: Address) -> dict[str, Any]:
    """What an order keeps of its delivery address (later edits never change it)."""
    return {
        "address_id": address.id,
        "label": address.label,
        "city": address.city,
        "district": address.district,
        "street": address.street,
        "landmark": address.landmark,
        "phone": address.phone,
        "lat": address.lat,
        "lng": address.lng,
        "delivery_zone_id": address.delivery_zone_id,
    }
