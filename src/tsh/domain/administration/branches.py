"""Branches, their warehouses and delivery zones (ADM-16, 17, 19, 20).

Every branch has exactly one `main` warehouse, created with it and never deactivated; `shop`
(POS) and `returns` warehouses are added later. A branch is deactivated only when no POS shift
is open and none of its warehouses holds stock; a warehouse only when it is empty (no stock on
hand, no reservations, no open transfer). Only admin reaches these services (scope `all`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.identity.models import Role, User
from tsh.domain.inventory.models import StockLevel, StockReservation, Transfer
from tsh.domain.organisation.models import Branch, DeliveryZone, Warehouse
from tsh.domain.pos.models import Shift
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

OPEN_TRANSFER_STATUSES = ("requested", "dispatched")
LIMIT_FIELDS = (
    "cashier_discount_pct", "salesperson_discount_pct", "payout_limit", "refund_limit",
    "refund_age_days", "cash_variance_tolerance", "adjustment_value_limit", "return_value_limit",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Zone:
    """One delivery zone of an ADM-17 body; amounts in their own currency."""

    name: str
    cities: Sequence[str]
    fee: tuple[Decimal, str]
    express_fee: tuple[Decimal, str] | None
    min_order: tuple[Decimal, str] | None
    payment_methods: Sequence[str] | None


def _only_admins(actor: Actor, code: str = "BRANCH_NOT_FOUND") -> None:
    if not (actor.sees_all and (actor.is_admin or actor.is_system)):
        raise NotFound(code=code)


async def _lock_branch(session: AsyncSession, branch_id: int) -> Branch:
    branch = await session.scalar(select(Branch).where(Branch.id == branch_id).with_for_update())
    if branch is None:
        raise NotFound("No such branch", code="BRANCH_NOT_FOUND")
    return branch


async def _check_manager(session: AsyncSession, user_id: int | None) -> None:
    """422 MANAGER_NOT_ELIGIBLE unless the user exists and holds the branch_manager role."""
    if user_id is None:
        return
    role = await session.scalar(
        select(Role.code).join(User, User.role_id == Role.id).where(User.id == user_id)
    )
    if role != "branch_manager":
        raise Invalid(
            "A branch manager must hold the branch_manager role",
            code="MANAGER_NOT_ELIGIBLE",
            details=[field_error("manager_user_id", "not a branch manager")],
        )


async def create_branch(
    session: AsyncSession,
    actor: Actor,
    *,
    code: str,
    name_ar: str,
    name_en: str,
    city: str,
    address: str,
    lat: float,
    lng: float,
    accuracy_m: float | None,
    geofence_radius_m: int,
    phone: str | None,
    default_currency: str,
    manager_user_id: int | None,
) -> Branch:
    """ADM-16: a branch with its main warehouse. 409 BRANCH_CODE_TAKEN; 422 MANAGER_NOT_ELIGIBLE."""
    _only_admins(actor)
    code = code.upper()
    if await session.scalar(select(Branch.id).where(Branch.code == code)) is not None:
        raise Conflict("Another branch has this code", code="BRANCH_CODE_TAKEN")
    await _check_manager(session, manager_user_id)
    main_code = f"{code}-MAIN"
    if await session.scalar(select(Warehouse.id).where(Warehouse.code == main_code)) is not None:
        # The main warehouse takes the branch code; an older warehouse already uses it.
        raise Conflict("The main warehouse code is taken", code="WAREHOUSE_CODE_TAKEN")
    branch = Branch(
        code=code,
        name_ar=name_ar,
        name_en=name_en,
        is_default=False,
        city=city,
        address=address,
        lat=lat,
        lng=lng,
        geo_accuracy_m=accuracy_m,
        geofence_radius_m=geofence_radius_m,
        phone=phone,
        manager_id=manager_user_id,
        default_currency=default_currency,
        limits_currency=default_currency,
        status="active",
    )
    session.add(branch)
    try:
        await session.flush()
        session.add(
            Warehouse(
                branch_id=branch.id,
                code=main_code,
                name_en=f"{name_en} main warehouse",
                name_ar=f"المخزن الرئيسي - {name_ar}",
                type="main",
                status="active",
            )
        )
        await session.flush()
    except IntegrityError:
        raise Conflict("Another branch has this code", code="BRANCH_CODE_TAKEN") from None
    raise_event(session, "BranchChanged", branches=[branch.id], everyone=True)
    return branch


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


async def _deactivation_checks(session: AsyncSession, branch_id: int) -> None:
    open_shifts = await session.scalar(
        select(func.count()).select_from(Shift).where(Shift.branch_id == branch_id, Shift.status == "open")
    )
    if open_shifts:
        raise Conflict("The branch has open POS shifts", code="BRANCH_HAS_OPEN_SHIFTS")
    stock = await session.scalar(
        select(func.coalesce(func.sum(StockLevel.on_hand), 0))
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Warehouse.branch_id == branch_id)
    )
    if stock:
        raise Conflict("The branch holds stock", code="BRANCH_HAS_STOCK", details=[{"on_hand": int(stock)}])


async def update_branch(
    session: AsyncSession,
    actor: Actor,
    *,
    branch_id: int,
    changes: Mapping[str, Any],
    limits: Mapping[str, Any] | None,  # money limits as (amount, currency)
    zones: Sequence[Zone] | None,
) -> tuple[Branch, dict[str, Any], dict[str, Any]]:
    """ADM-17: data, manager, limits, delivery zones, status. Returns the branch, before, after.

    404 BRANCH_NOT_FOUND; 422 MANAGER_NOT_ELIGIBLE; 409 BRANCH_HAS_OPEN_SHIFTS, BRANCH_HAS_STOCK
    when deactivating. `zones` replaces the zone list matched by name: a listed zone keeps its id,
    an unlisted one is deactivated (addresses keep the reference), a new name creates one.
    """
    _only_admins(actor)
    branch = await _lock_branch(session, branch_id)
    if "manager_id" in changes:
        await _check_manager(session, changes["manager_id"])
    if changes.get("status") == "inactive" and branch.status != "inactive":
        await _deactivation_checks(session, branch.id)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    plain_limits: dict[str, Any] = {}
    for field, value in (limits or {}).items():
        if isinstance(value, tuple):
            # Money limits share the branch's limits currency (the columns carry no currency).
            amount, currency = value
            if currency != branch.limits_currency:
                raise Invalid(
                    "Limits are in the branch's limits currency",
                    details=[field_error(f"limits.{field}.currency", f"must be {branch.limits_currency}")],
                )
            value = amount
        plain_limits[field] = value
    for field, value in {**changes, **plain_limits}.items():
        if getattr(branch, field) != value:
            # The audit row is JSON: decimals go as their text.
            before[field], after[field] = _plain(getattr(branch, field)), _plain(value)
            setattr(branch, field, value)
    if zones is not None:
        before["delivery_zones"], after["delivery_zones"] = await _replace_zones(session, branch.id, zones)
    await session.flush()
    if before:
        raise_event(session, "BranchChanged", branches=[branch.id], everyone=True)
    return branch, before, after


async def _replace_zones(
    session: AsyncSession, branch_id: int, zones: Sequence[Zone]
) -> tuple[list[str], list[str]]:
    names = [z.name for z in zones]
    if len(set(names)) != len(names):
        raise Invalid(details=[field_error("delivery_zones", "a zone name is listed twice")])
    existing = {
        z.name_en: z
        for z in await session.scalars(
            select(DeliveryZone)
            .where(DeliveryZone.branch_id == branch_id)
            .order_by(DeliveryZone.id)
            .with_for_update()
        )
    }
    before = sorted(n for n, z in existing.items() if z.status == "active")
    for zone in zones:
        row = existing.get(zone.name)
        if row is None:
            row = DeliveryZone(branch_id=branch_id, name_en=zone.name, name_ar=zone.name)
            session.add(row)
        row.cities = list(zone.cities)
        row.fee_amount, row.fee_currency = zone.fee
        row.express_fee_amount, row.express_fee_currency = zone.express_fee or (None, None)
        row.min_order_amount, row.min_order_currency = zone.min_order or (Decimal("0"), zone.fee[1])
        if zone.payment_methods is not None:
            row.payment_methods = list(zone.payment_methods)
        row.status = "active"
    for name, row in existing.items():
        if name not in names:
            row.status = "inactive"
    return before, sorted(names)


async def create_warehouse(
    session: AsyncSession, actor: Actor, *, branch_id: int, code: str, name: str, type: str
) -> Warehouse:
    """ADM-19: a shop or returns warehouse. 404 BRANCH_NOT_FOUND; 409 WAREHOUSE_CODE_TAKEN."""
    _only_admins(actor)
    await _lock_branch(session, branch_id)
    code = code.upper()
    if await session.scalar(select(Warehouse.id).where(Warehouse.code == code)) is not None:
        raise Conflict("Another warehouse has this code", code="WAREHOUSE_CODE_TAKEN")
    row = Warehouse(branch_id=branch_id, code=code, name_en=name, name_ar=name, type=type, status="active")
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("Another warehouse has this code", code="WAREHOUSE_CODE_TAKEN") from None
    raise_event(session, "BranchChanged", branches=[branch_id], everyone=True)
    return row


async def update_warehouse(
    session: AsyncSession, actor: Actor, *, warehouse_id: int, name: str | None, status: str | None
) -> tuple[Warehouse, dict[str, Any], dict[str, Any]]:
    """ADM-20: rename or deactivate. 404 WAREHOUSE_NOT_FOUND; 409 MAIN_WAREHOUSE; 409 WAREHOUSE_NOT_EMPTY."""
    _only_admins(actor, "WAREHOUSE_NOT_FOUND")
    row = await session.scalar(select(Warehouse).where(Warehouse.id == warehouse_id).with_for_update())
    if row is None:
        raise NotFound("No such warehouse", code="WAREHOUSE_NOT_FOUND")
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if status == "inactive" and row.status != "inactive":
        if row.type == "main":
            raise Conflict("A branch's main warehouse cannot be deactivated", code="MAIN_WAREHOUSE")
        await _empty_or_refuse(session, row.id)
    if name is not None and name != row.name_en:
        before["name"], after["name"] = row.name_en, name
        row.name_en = name
    if status is not None and status != row.status:
        before["status"], after["status"] = row.status, status
        row.status = status
    await session.flush()
    if before:
        raise_event(session, "BranchChanged", branches=[row.branch_id], everyone=True)
    return row, before, after


async def _empty_or_refuse(session: AsyncSession, warehouse_id: int) -> None:
    held = (
        await session.execute(
            select(
                func.coalesce(func.sum(StockLevel.on_hand), 0),
                func.coalesce(func.sum(StockLevel.reserved), 0),
            ).where(StockLevel.warehouse_id == warehouse_id)
        )
    ).one()
    reservations = await session.scalar(
        select(func.count())
        .select_from(StockReservation)
        .where(StockReservation.warehouse_id == warehouse_id)
    )
    transfers = await session.scalar(
        select(func.count())
        .select_from(Transfer)
        .where(
            or_(Transfer.from_warehouse_id == warehouse_id, Transfer.to_warehouse_id == warehouse_id),
            Transfer.status.in_(OPEN_TRANSFER_STATUSES),
        )
    )
    if held[0] or held[1] or reservations or transfers:
        raise Conflict(
            "The warehouse holds stock, reservations or open transfers",
            code="WAREHOUSE_NOT_EMPTY",
            details=[
                {"on_hand": int(held[0]), "reserved": int(held[1]), "open_transfers": int(transfers or 0)}
            ],
        )
