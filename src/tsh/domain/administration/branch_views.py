"""Read side of the admin app's organisation screens (ADM-01, 14, 15, 18): plain dicts, set-based."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.identity.admin_views import list_position, recent_admin_actions, user_counts
from tsh.domain.identity.models import Role, User
from tsh.domain.inventory.models import StockLevel
from tsh.domain.money import wire
from tsh.domain.organisation.models import Branch, DeliveryZone, Warehouse
from tsh.domain.pos.models import PosTerminal, PosTransaction
from tsh.domain.sales.models.orders import Order
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, NotFound

LIMIT_FIELDS = (
    "cashier_discount_pct", "salesperson_discount_pct", "refund_age_days",
)  # fmt: skip
MONEY_LIMITS = (
    "payout_limit", "refund_limit", "cash_variance_tolerance", "adjustment_value_limit", "return_value_limit",
)  # fmt: skip


def _need_all(actor: Actor, code: str = "BRANCH_NOT_FOUND") -> None:
    if not actor.sees_all:
        raise NotFound(code=code)


def _key(after: dict[str, Any] | None, kind: str, *fields: str) -> tuple[Any, ...] | None:
    if after is None:
        return None
    if after.get("l") != kind or any(f not in after for f in fields):
        raise Invalid(
            "The cursor is not valid", details=[{"field": "cursor", "issue": "belongs to another list"}]
        )
    return tuple(after[f] for f in fields)


async def _count_by(session: AsyncSession, column: Any, *where: Any) -> dict[int, int]:
    rows = await session.execute(select(column, func.count()).where(*where).group_by(column))
    return {k: int(v) for k, v in rows.tuples()}


async def branch_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    status: str | None,
    city: str | None,
) -> list[dict[str, Any]]:
    """ADM-14: branches by code with their manager and counts of users, warehouses, terminals."""
    _need_all(actor)
    stmt = select(
        Branch.id,
        Branch.code,
        Branch.name_en,
        Branch.name_ar,
        Branch.city,
        Branch.status,
        Branch.manager_id,
        User.name,
    ).outerjoin(User, User.id == Branch.manager_id)
    if status:
        stmt = stmt.where(Branch.status == status)
    if city:
        stmt = stmt.where(func.lower(Branch.city) == city.lower())
    key = _key(after, "branches", "c", "i")
    if key is not None:
        stmt = stmt.where(or_(Branch.code > key[0], and_(Branch.code == key[0], Branch.id > key[1])))
    rows = (await session.execute(stmt.order_by(Branch.code, Branch.id).limit(limit + 1))).all()
    ids = [r[0] for r in rows]
    users = await _count_by(session, User.branch_id, User.branch_id.in_(ids))
    warehouses = await _count_by(session, Warehouse.branch_id, Warehouse.branch_id.in_(ids))
    terminals = await _count_by(session, PosTerminal.branch_id, PosTerminal.branch_id.in_(ids))
    return [
        {
            "id": r[0],
            "code": r[1],
            "name_en": r[2],
            "name_ar": r[3],
            "city": r[4],
            "status": r[5],
            "manager": None if r[6] is None else {"id": r[6], "name": r[7] or ""},
            "users": users.get(r[0], 0),
            "warehouses": warehouses.get(r[0], 0),
            "terminals": terminals.get(r[0], 0),
        }
        for r in rows
    ]


def branch_position(row: dict[str, Any]) -> dict[str, Any]:
    return list_position("branches", c=row["code"], i=row["id"])


def _money_sums(rows: Any) -> list[dict[str, Any]]:
    sums = {currency: Decimal(total or 0) for currency, total in rows}
    return [wire(sums[c], c) for c in sorted(sums)]  # type: ignore[misc]


async def branch_detail(session: AsyncSession, actor: Actor, *, branch_id: int) -> dict[str, Any]:
    """ADM-15: data, geo, manager, limits, warehouses, terminals, zones, staff by role, today's figures."""
    _need_all(actor)
    row = (
        await session.execute(
            select(Branch, User.name)
            .outerjoin(User, User.id == Branch.manager_id)
            .where(Branch.id == branch_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such branch", code="BRANCH_NOT_FOUND")
    branch, manager_name = row
    warehouses = (
        await session.scalars(
            select(Warehouse).where(Warehouse.branch_id == branch.id).order_by(Warehouse.id)
        )
    ).all()
    terminals = (
        await session.scalars(
            select(PosTerminal).where(PosTerminal.branch_id == branch.id).order_by(PosTerminal.id)
        )
    ).all()
    zones = (
        await session.scalars(
            select(DeliveryZone).where(DeliveryZone.branch_id == branch.id).order_by(DeliveryZone.id)
        )
    ).all()
    staff = await session.execute(
        select(Role.code, func.count())
        .join(User, User.role_id == Role.id)
        .where(User.branch_id == branch.id, User.status == "active")
        .group_by(Role.code)
        .order_by(Role.code)
    )
    since = day_start_utc(business_today())
    orders = await session.execute(
        select(Order.currency, func.sum(Order.total))
        .where(Order.branch_id == branch.id, Order.placed_at >= since, Order.status != "cancelled")
        .group_by(Order.currency)
    )
    order_count = await session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.branch_id == branch.id, Order.placed_at >= since, Order.status != "cancelled")
    )
    pos = (
        await session.execute(
            select(func.count(), func.sum(PosTransaction.total)).where(
                PosTransaction.branch_id == branch.id,
                PosTransaction.status == "completed",
                PosTransaction.completed_at >= since,
            )
        )
    ).one()
    stock_value = await session.scalar(
        select(func.coalesce(func.sum(StockLevel.on_hand * StockLevel.avg_cost), 0))
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(Warehouse.branch_id == branch.id)
    )
    limits: dict[str, Any] = {f: getattr(branch, f) for f in LIMIT_FIELDS}
    limits["cashier_discount_pct"] = f"{Decimal(branch.cashier_discount_pct):.2f}"
    limits["salesperson_discount_pct"] = f"{Decimal(branch.salesperson_discount_pct):.2f}"
    for f in MONEY_LIMITS:
        limits[f] = wire(getattr(branch, f), branch.limits_currency)
    return {
        "id": branch.id,
        "code": branch.code,
        "name_en": branch.name_en,
        "name_ar": branch.name_ar,
        "is_default": branch.is_default,
        "city": branch.city,
        "address": branch.address,
        "geo": None if branch.lat is None or branch.lng is None else {"lat": branch.lat, "lng": branch.lng},
        "geofence_radius_m": branch.geofence_radius_m,
        "phone": branch.phone,
        "default_currency": branch.default_currency,
        "status": branch.status,
        "manager": None
        if branch.manager_id is None
        else {"id": branch.manager_id, "name": manager_name or ""},
        "limits": limits,
        "warehouses": [
            {"id": w.id, "code": w.code, "name": w.name_en, "type": w.type, "status": w.status}
            for w in warehouses
        ],
        "terminals": [
            {"id": t.id, "code": t.code, "name": t.name, "warehouse_id": t.warehouse_id, "status": t.status}
            for t in terminals
        ],
        "delivery_zones": [
            {
                "id": z.id,
                "name": z.name_en,
                "cities": list(z.cities),
                "fee": wire(z.fee_amount, z.fee_currency),
                "express_fee": wire(z.express_fee_amount, z.express_fee_currency or z.fee_currency),
                "min_order": wire(z.min_order_amount, z.min_order_currency),
                "payment_methods": list(z.payment_methods),
                "status": z.status,
            }
            for z in zones
        ],
        "staff_by_role": [{"role": r, "count": int(c)} for r, c in staff],
        "today": {
            "orders": int(order_count or 0),
            "order_sales": _money_sums(orders),
            "pos_sales_count": int(pos[0] or 0),
            # POS sells in IQD (prices are IQD; a USD tender is converted at the till).
            "pos_sales": wire(Decimal(pos[1] or 0), "IQD"),
        },
        # Valued at moving average cost, which is kept in IQD.
        "stock_value": wire(Decimal(stock_value or 0), "IQD"),
    }


async def warehouse_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    branch_id: int | None,
    type: str | None,
    status: str | None,
) -> list[dict[str, Any]]:
    """ADM-18: warehouses of every branch by code, with the terminals selling from each."""
    _need_all(actor, "WAREHOUSE_NOT_FOUND")
    stmt = select(
        Warehouse.id,
        Warehouse.code,
        Warehouse.name_en,
        Warehouse.type,
        Warehouse.status,
        Branch.id,
        Branch.name_en,
    ).join(Branch, Branch.id == Warehouse.branch_id)
    if branch_id is not None:
        stmt = stmt.where(Warehouse.branch_id == branch_id)
    if type:
        stmt = stmt.where(Warehouse.type == type)
    if status:
        stmt = stmt.where(Warehouse.status == status)
    key = _key(after, "warehouses", "c", "i")
    if key is not None:
        stmt = stmt.where(or_(Warehouse.code > key[0], and_(Warehouse.code == key[0], Warehouse.id > key[1])))
    rows = (await session.execute(stmt.order_by(Warehouse.code, Warehouse.id).limit(limit + 1))).all()
    terminals: dict[int, list[dict[str, Any]]] = {}
    found = await session.execute(
        select(PosTerminal.warehouse_id, PosTerminal.id, PosTerminal.code)
        .where(PosTerminal.warehouse_id.in_([r[0] for r in rows]))
        .order_by(PosTerminal.id)
    )
    for wid, tid, code in found:
        terminals.setdefault(wid, []).append({"id": tid, "code": code})
    return [
        {
            "id": r[0],
            "code": r[1],
            "name": r[2],
            "type": r[3],
            "status": r[4],
            "branch": {"id": r[5], "name": r[6]},
            "terminals": terminals.get(r[0], []),
        }
        for r in rows
    ]


def warehouse_position(row: dict[str, Any]) -> dict[str, Any]:
    return list_position("warehouses", c=row["code"], i=row["id"])


async def admin_dashboard(
    session: AsyncSession, actor: Actor, *, now: datetime | None = None
) -> dict[str, Any]:
    """ADM-01 without the request-log figures (error and cache hit rate: see the admin app)."""
    _need_all(actor)
    now = now or utcnow()
    users = await user_counts(session, now - timedelta(days=7))

    async def count(model: Any, *where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return {
        "users": users,
        "branches": {"total": await count(Branch), "active": await count(Branch, Branch.status == "active")},
        "warehouses": {
            "total": await count(Warehouse),
            "active": await count(Warehouse, Warehouse.status == "active"),
        },
        "terminals": {
            "total": await count(PosTerminal),
            "active": await count(PosTerminal, PosTerminal.status == "active"),
        },
        "recent_admin_actions": await recent_admin_actions(session, 10),
    }
