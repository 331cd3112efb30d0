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
from tsh.domain.catalog.queries import escape_like
from tsh.domain.customers.models import Address, Customer, Partner, PartnerTier
from tsh.domain.money import wire
from tsh.domain.sales.models import Commission, CommissionPayout, Invoice, Order, OrderLine
from tsh.domain.shared import business_today, day_start_utc
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


# -- network (PAR-11) ---------------------------------------------------------------------------

NETWORK_KINDS = ("customer", "sub_partner")


def _month_start() -> dt.datetime:
    return day_start_utc(business_today().replace(day=1))


def _per_currency(amounts: dict[str, Decimal]) -> list[dict[str, Any] | None]:
    return [wire(amounts.get(c, Decimal(0)), c) for c in ("IQD", "USD")]


async def _customers(
    session: AsyncSession,
    p: Partner,
    *,
    limit: int,
    after: tuple[str, int] | None,
    q: str | None,
    status: str | None,
) -> list[dict[str, Any]]:
    stmt = select(Customer.id, Customer.name, Customer.city, Customer.status).where(
        Customer.partner_id == p.id
    )
    if q:
        stmt = stmt.where(Customer.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    if status:
        stmt = stmt.where(Customer.status == status)
    if after is not None:
        stmt = stmt.where(
            or_(Customer.name > after[0], and_(Customer.name == after[0], Customer.id > after[1]))
        )
    rows = (await session.execute(stmt.order_by(Customer.name, Customer.id).limit(limit + 1))).all()
    ids = [r[0] for r in rows]
    since = _month_start()
    facts = (
        (
            await session.execute(
                select(
                    Order.customer_id,
                    Order.currency,
                    func.coalesce(func.sum(Order.total).filter(Order.placed_at >= since), 0),
                    func.max(Order.placed_at),
                )
                .where(Order.customer_id.in_(ids), Order.status != "cancelled")
                .group_by(Order.customer_id, Order.currency)
            )
        ).all()
        if ids
        else []
    )
    sales: dict[int, dict[str, Decimal]] = {}
    last: dict[int, dt.datetime] = {}
    for cid, cur, total, at in facts:
        sales.setdefault(cid, {})[cur] = Decimal(total)
        if at is not None and (cid not in last or at > last[cid]):
            last[cid] = at
    return [
        {
            "kind": "customer",
            "id": cid,
            "name": name,
            "city": city,
            "status": st,
            "tier": None,
            "last_order_at": last.get(cid),
            "sales_this_month": _per_currency(sales.get(cid, {})),
            "override_earned": None,
        }
        for cid, name, city, st in rows
    ]


async def _sub_partners(
    session: AsyncSession,
    p: Partner,
    *,
    limit: int,
    after: tuple[str, int] | None,
    q: str | None,
    status: str | None,
) -> list[dict[str, Any]]:
    stmt = (
        select(Partner.id, Partner.name, Partner.city, Partner.status, PartnerTier.name)
        .outerjoin(PartnerTier, PartnerTier.id == Partner.tier_id)
        .where(Partner.parent_partner_id == p.id)
    )
    if q:
        stmt = stmt.where(Partner.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    if status:
        stmt = stmt.where(Partner.status == status)
    if after is not None:
        stmt = stmt.where(or_(Partner.name > after[0], and_(Partner.name == after[0], Partner.id > after[1])))
    rows = (await session.execute(stmt.order_by(Partner.name, Partner.id).limit(limit + 1))).all()
    ids = [r[0] for r in rows]
    since = _month_start()
    sales: dict[int, dict[str, Decimal]] = {}
    last: dict[int, dt.datetime] = {}
    earned: dict[int, dict[str, Decimal]] = {}
    if ids:
        for sid, cur, total, at in (
            await session.execute(
                select(
                    Order.partner_id,
                    Order.currency,
                    func.coalesce(func.sum(Order.total).filter(Order.placed_at >= since), 0),
                    func.max(Order.placed_at),
                )
                .where(Order.partner_id.in_(ids), Order.status != "cancelled")
                .group_by(Order.partner_id, Order.currency)
            )
        ).tuples():
            if sid is None:  # filtered out by the IN; narrows the type
                continue
            sales.setdefault(sid, {})[cur] = Decimal(total)
            if at is not None:
                last[sid] = max(at, last.get(sid, at))
        for sid, cur, amount in (
            await session.execute(
                select(Order.partner_id, Commission.currency, func.sum(Commission.amount))
                .join(Order, Order.id == Commission.order_id)
                .where(
                    Order.partner_id.in_(ids),
                    Commission.partner_id == p.id,
                    Commission.kind == "override",
                    Commission.status != "reversed",
                    Commission.created_at >= since,
                )
                .group_by(Order.partner_id, Commission.currency)
            )
        ).tuples():
            if sid is not None:
                earned.setdefault(sid, {})[cur] = Decimal(amount)
    return [
        {
            "kind": "sub_partner",
            "id": sid,
            "name": name,
            "city": city,
            "status": st,
            "tier": tier,
            "last_order_at": last.get(sid),
            "sales_this_month": _per_currency(sales.get(sid, {})),
            "override_earned": _per_currency(earned.get(sid, {})),
        }
        for sid, name, city, st, tier in rows
    ]


def network_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"k": row["kind"], "n": row["name"], "i": row["id"]}


async def network(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    kind: str | None = None,
    q: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """PAR-11: up to limit+1 network rows by name: the partner's customers, then its direct
    sub-partners (one kind when `kind` is given), with this month's sales (and override earned)."""
    p = await partner_of(session, actor)
    kinds = [kind] if kind else list(NETWORK_KINDS)
    position: tuple[str, int] | None = None
    if after is not None:
        try:
            after_kind, position = str(after["k"]), (str(after["n"]), int(after["i"]))
        except (KeyError, TypeError, ValueError):
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
            ) from None
        if after_kind not in kinds:
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
            )
        kinds = kinds[kinds.index(after_kind) :]
    out: list[dict[str, Any]] = []
    for k in kinds:
        fetch = _customers if k == "customer" else _sub_partners
        out += await fetch(session, p, limit=limit + 1 - len(out), after=position, q=q, status=status)
        position = None
        if len(out) > limit:
            break
    return out[: limit + 1]


async def network_customer(session: AsyncSession, actor: Actor, *, customer_id: int) -> dict[str, Any]:
    """PAR-12: contact, addresses, the 20 latest orders, order totals and commission earned on the
    customer (this partner's, not reversed). 404 CUSTOMER_NOT_FOUND outside the own network."""
    p = await partner_of(session, actor)
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.partner_id == p.id)
    )
    if customer is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    addresses = (
        await session.scalars(select(Address).where(Address.customer_id == customer.id).order_by(Address.id))
    ).all()
    orders = (
        await session.execute(
            select(Order.id, Order.number, Order.placed_at, Order.status, Order.total, Order.currency)
            .where(Order.customer_id == customer.id)
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(20)
        )
    ).all()
    totals = dict(
        (
            await session.execute(
                select(Order.currency, func.sum(Order.total))
                .where(Order.customer_id == customer.id, Order.status != "cancelled")
                .group_by(Order.currency)
            )
        )
        .tuples()
        .all()
    )
    earned = dict(
        (
            await session.execute(
                select(Commission.currency, func.sum(Commission.amount))
                .join(Order, Order.id == Commission.order_id)
                .where(
                    Order.customer_id == customer.id,
                    Commission.partner_id == p.id,
                    Commission.status != "reversed",
                )
                .group_by(Commission.currency)
            )
        )
        .tuples()
        .all()
    )
    return {
        "id": customer.id,
        "code": customer.code,
        "name": customer.name,
        "shop_name": customer.shop_name,
        "phone": customer.phone,
        "email": customer.email,
        "city": customer.city,
        "status": customer.status,
        "addresses": [
            {
                "id": a.id,
                "label": a.label,
                "city": a.city,
                "district": a.district,
                "street": a.street,
                "landmark": a.landmark,
                "is_default": a.is_default,
            }
            for a in addresses
        ],
        "orders": [
            {"id": oid, "number": number, "placed_at": at, "status": st, "total": wire(total, cur)}
            for oid, number, at, st, total, cur in orders
        ],
        "order_count": int(
            await session.scalar(select(func.count()).where(Order.customer_id == customer.id)) or 0
        ),
        "sales_total": _per_currency({k: Decimal(v) for k, v in totals.items()}),
        "commission_earned": _per_currency({k: Decimal(v) for k, v in earned.items()}),
    }


# -- commission ledger (PAR-09) -----------------------------------------------------------------


def commission_position(row: dict[str, Any]) -> dict[str, Any]:
    return {"t": row["accrued_at"].isoformat(), "i": row["id"]}


async def commission_ledger(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    status: str | None = None,
    kind: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Any]:
    """PAR-09: up to limit+1 commission rows (newest first), the balance available for payout per
    currency (payable), totals per status over the filtered period, and the latest payout requests."""
    p = await partner_of(session, actor)
    where: list[Any] = [Commission.partner_id == p.id]
    if kind is not None:
        where.append(Commission.kind == kind)
    if date_from is not None:
        where.append(Commission.created_at >= day_start_utc(date_from))
    if date_to is not None:
        where.append(Commission.created_at < day_start_utc(date_to + dt.timedelta(days=1)))
    stmt = (
        select(Commission, Order.number)
        .join(Order, Order.id == Commission.order_id)
        .where(*where, *([Commission.status == status] if status else []))
    )
    if after is not None:
        try:
            at, cid = dt.datetime.fromisoformat(after["t"]), int(after["i"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "does not match this list")]
            ) from None
        stmt = stmt.where(
            or_(Commission.created_at < at, and_(Commission.created_at == at, Commission.id < cid))
        )
    rows = (
        await session.execute(
            stmt.order_by(Commission.created_at.desc(), Commission.id.desc()).limit(limit + 1)
        )
    ).all()
    totals: dict[str, dict[str, Decimal]] = {}
    for st, cur, amount in (
        await session.execute(
            select(Commission.status, Commission.currency, func.sum(Commission.amount))
            .where(*where)
            .group_by(Commission.status, Commission.currency)
        )
    ).tuples():
        totals.setdefault(st, {})[cur] = Decimal(amount)
    payable: dict[str, Decimal] = {}
    for cur, amount in (
        await session.execute(
            select(Commission.currency, func.sum(Commission.amount))
            .where(Commission.partner_id == p.id, Commission.status == "payable")
            .group_by(Commission.currency)
        )
    ).tuples():
        payable[cur] = Decimal(amount)
    payouts = (
        await session.scalars(
            select(CommissionPayout)
            .where(CommissionPayout.partner_id == p.id)
            .order_by(CommissionPayout.requested_at.desc(), CommissionPayout.id.desc())
            .limit(10)
        )
    ).all()
    return {
        "items": [
            {
                "id": c.id,
                "order": {"id": c.order_id, "number": number},
                "kind": c.kind,
                "rate": str(c.rate),
                "base_amount": wire(c.base_amount, c.currency),
                "amount": wire(c.amount, c.currency),
                "status": c.status,
                "accrued_at": c.created_at,
                "payable_at": c.payable_at,
                "paid_at": c.paid_at,
                "reversed_at": c.reversed_at,
            }
            for c, number in rows
        ],
        "balance_available": _per_currency(payable),
        "totals": [
            {"status": st, "amounts": _per_currency(totals.get(st, {}))}
            for st in ("accrued", "payable", "paid", "reversed")
        ],
        "payouts": [
            {
                "id": po.id,
                "amount": wire(po.amount, po.currency),
                "status": po.status,
                "requested_at": po.requested_at,
                "paid_at": po.paid_at,
            }
            for po in payouts
        ],
    }


async def supplying_branch(session: AsyncSession, actor: Actor) -> int | None:
    """The partner's supplying branch (its stock and price events concern the partner's screens)."""
    if actor.partner_id is None:
        return None
    return await session.scalar(select(Partner.branch_id).where(Partner.id == actor.partner_id))
