"""Screens of the after-sales app: service requests (ASO-02), warranties (ASO-15, ASO-16), spare
parts (ASO-18) and returns (ASO-10). Set-based: one query per list plus one per related table,
never one per row. Rows are plain dicts shaped for the phone; names follow the caller's language.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.aftersales.access import reach
from tsh.domain.aftersales.models import (
    Job,
    Part,
    PartCompatibleProduct,
    PartStock,
    ReturnLine,
    ReturnRequest,
    ServiceRequest,
    Technician,
    Warranty,
)
from tsh.domain.aftersales.service_requests import ACTIVE_JOB_STATUSES, OPEN_STATUSES
from tsh.domain.aftersales.warranties import effective_status, get_warranty
from tsh.domain.catalog.models import Product
from tsh.domain.customers.models import Customer
from tsh.domain.hr.models import Employee
from tsh.domain.inventory.queries import before, day_range
from tsh.domain.money import wire
from tsh.domain.organisation.models import Branch
from tsh.domain.shared import business_today
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, field_error


def name_in(actor: Actor, ar: str, en: str) -> str:
    return ar if actor.language == "ar" else en


async def customers_by_id(session: AsyncSession, ids: set[int | None]) -> dict[int, dict[str, Any]]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(
        select(Customer.id, Customer.name, Customer.phone).where(Customer.id.in_(wanted))
    )
    return {i: {"id": i, "name": n, "phone": p} for i, n, p in rows.tuples()}


async def products_by_id(session: AsyncSession, actor: Actor, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Product.id, Product.sku, Product.name_ar, Product.name_en).where(Product.id.in_(ids))
    )
    return {i: {"id": i, "sku": s, "name": name_in(actor, ar, en)} for i, s, ar, en in rows.tuples()}


async def technician_names(session: AsyncSession, actor: Actor, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Technician.id, Employee.name_ar, Employee.name_en)
        .join(Employee, Employee.id == Technician.employee_id)
        .where(Technician.id.in_(ids))
    )
    return {i: {"id": i, "name": name_in(actor, ar, en)} for i, ar, en in rows.tuples()}


def _since(col: Any, date_from: dt.date | None, date_to: dt.date | None) -> list[Any]:
    if date_from and date_to and date_from > date_to:
        raise Invalid(details=[field_error("from", "after to")])
    return day_range(col, date_from, date_to)


async def service_request_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    ids: list[int] | None = None,
    status: str | None = None,
    type: str | None = None,
    priority: str | None = None,
    technician_id: int | None = None,
    customer_id: int | None = None,
    q: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    overdue_only: bool = False,
) -> list[dict[str, Any]]:
    """ASO-02 rows, newest first (limit + 1 fetched for paging)."""
    r = await reach(session, actor)
    stmt = select(ServiceRequest)
    if ids is not None:
        stmt = stmt.where(ServiceRequest.id.in_(ids))
    if r.branch_id is not None:
        stmt = stmt.where(ServiceRequest.branch_id == r.branch_id)
    if r.technician_id is not None or technician_id is not None:
        tech_filters = [Job.service_request_id == ServiceRequest.id]
        for t in (r.technician_id, technician_id):
            if t is not None:
                tech_filters.append(Job.technician_id == t)
        stmt = stmt.where(exists().where(*tech_filters))
    for col, value in (
        (ServiceRequest.status, status),
        (ServiceRequest.type, type),
        (ServiceRequest.priority, priority),
        (ServiceRequest.customer_id, customer_id),
    ):
        if value is not None:
            stmt = stmt.where(col == value)
    if q:
        term = q.strip()
        phone_match = select(Customer.id).where(Customer.phone.contains(term))
        stmt = stmt.where(
            or_(
                ServiceRequest.number.contains(term),
                ServiceRequest.serial_number == term,
                ServiceRequest.customer_id.in_(phone_match),
            )
        )
    if overdue_only:
        stmt = stmt.where(ServiceRequest.status.in_(OPEN_STATUSES), ServiceRequest.sla_due_at < utcnow())
    stmt = stmt.where(*_since(ServiceRequest.created_at, date_from, date_to))
    cursor = before(ServiceRequest.created_at, ServiceRequest.id, after)
    if cursor is not None:
        stmt = stmt.where(cursor)
    stmt = stmt.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()).limit(limit + 1)
    requests = list(await session.scalars(stmt))
    if not requests:
        return []
    next_jobs: dict[int, Job] = {}
    for j in await session.scalars(
        select(Job)
        .where(Job.service_request_id.in_([s.id for s in requests]), Job.status.in_(ACTIVE_JOB_STATUSES))
        .order_by(Job.start, Job.id)
    ):
        next_jobs.setdefault(j.service_request_id, j)
    customers = await customers_by_id(session, {s.customer_id for s in requests})
    products = await products_by_id(session, actor, {s.product_id for s in requests})
    techs = await technician_names(session, actor, {j.technician_id for j in next_jobs.values()})
    now = utcnow()
    out = []
    for s in requests:
        job = next_jobs.get(s.id)
        out.append(
            {
                "id": s.id,
                "number": s.number,
                "customer": customers[s.customer_id],
                "product": products[s.product_id],
                "serial_number": s.serial_number,
                "type": s.type,
                "priority": s.priority,
                "status": s.status,
                "sla_due_at": s.sla_due_at,
                "overdue": s.status in OPEN_STATUSES and _aware(s.sla_due_at) < now,
                "technician": techs.get(job.technician_id) if job else None,
                "next_job_at": job.start if job else None,
                "created_at": s.created_at,
            }
        )
    return out


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _warranty_row(
    w: Warranty, today: dt.date, products: dict[int, Any], customers: dict[int, Any]
) -> dict[str, Any]:
    return {
        "id": w.id,
        "serial_number": w.serial_number,
        "product": products[w.product_id],
        "customer": customers.get(w.customer_id) if w.customer_id else None,
        "starts_on": w.starts_on,
        "ends_on": w.ends_on,
        "status": effective_status(w, today),
        "claims_count": w.claims_count,
    }


async def warranty_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    serial_number: str | None = None,
    customer_id: int | None = None,
    phone: str | None = None,
    status: str | None = None,
    expiring_within_days: int | None = None,
) -> list[dict[str, Any]]:
    """ASO-15: company-wide (a customer may bring a product to any branch), newest id first."""
    today = business_today()
    stmt = select(Warranty)
    if serial_number:
        stmt = stmt.where(Warranty.serial_number == serial_number.strip())
    if customer_id is not None:
        stmt = stmt.where(Warranty.customer_id == customer_id)
    if phone:
        stmt = stmt.where(Warranty.customer_id.in_(select(Customer.id).where(Customer.phone == phone)))
    # Stored `active` rows past their end are expired on the screen (the nightly sweep may lag).
    if status == "active":
        stmt = stmt.where(Warranty.status == "active", Warranty.ends_on >= today)
    elif status == "expired":
        stmt = stmt.where(
            or_(Warranty.status == "expired", and_(Warranty.status == "active", Warranty.ends_on < today))
        )
    elif status == "void":
        stmt = stmt.where(Warranty.status == "void")
    if expiring_within_days is not None:
        stmt = stmt.where(
            Warranty.status == "active",
            Warranty.ends_on >= today,
            Warranty.ends_on <= today + dt.timedelta(days=expiring_within_days),
        )
    if after is not None:
        try:
            stmt = stmt.where(Warranty.id < int(after["i"]))
        except (KeyError, TypeError, ValueError):
            raise Invalid(details=[field_error("cursor", "does not match this list")]) from None
    rows = list(await session.scalars(stmt.order_by(Warranty.id.desc()).limit(limit + 1)))
    products = await products_by_id(session, actor, {w.product_id for w in rows})
    customers = await customers_by_id(session, {w.customer_id for w in rows})
    return [_warranty_row(w, today, products, customers) for w in rows]


async def warranty_detail(session: AsyncSession, actor: Actor, *, warranty_id: int) -> dict[str, Any]:
    """ASO-16: the warranty, its sale, its coverage and its claims (404 WARRANTY_NOT_FOUND)."""
    w = await get_warranty(session, warranty_id=warranty_id)
    months = await session.scalar(select(Product.warranty_months).where(Product.id == w.product_id))
    products = await products_by_id(session, actor, {w.product_id})
    customers = await customers_by_id(session, {w.customer_id})
    row = _warranty_row(w, business_today(), products, customers)
    claims = list(
        await session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.warranty_id == w.id)
            .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        )
    )
    sale = None
    if w.order_line_id is not None:
        sale = {"type": "order_line", "id": w.order_line_id}
    elif w.pos_line_id is not None:
        sale = {"type": "pos_line", "id": w.pos_line_id}
    return {
        **row,
        "sale": sale,
        "coverage": {"months": int(months or 0), "void_reason": w.void_reason, "replaces_id": w.replaces_id},
        "claims": [
            {
                "service_request_id": s.id,
                "number": s.number,
                "type": s.type,
                "status": s.status,
                "branch_id": s.branch_id,
                "opened_at": s.created_at,
            }
            for s in claims
        ],
    }


async def part_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    q: str | None = None,
    product_id: int | None = None,
    in_stock: bool | None = None,
) -> list[dict[str, Any]]:
    """ASO-18: active parts by SKU with the caller's branch stock and the other branches holding
    some (inventory_manager, all: stock summed over every branch, no "other" list)."""
    branch_id = None if actor.scope == "all" else (actor.branch_id or 0)
    stmt = select(Part).where(Part.is_active.is_(True))
    if q:
        term = q.strip()
        stmt = stmt.where(
            or_(Part.sku.contains(term), Part.name_en.contains(term), Part.name_ar.contains(term))
        )
    if product_id is not None:
        stmt = stmt.where(
            Part.id.in_(
                select(PartCompatibleProduct.part_id).where(PartCompatibleProduct.product_id == product_id)
            )
        )
    if in_stock is not None:
        held = select(PartStock.part_id).where(PartStock.on_hand - PartStock.reserved > 0)
        if branch_id is not None:
            held = held.where(PartStock.branch_id == branch_id)
        stmt = stmt.where(Part.id.in_(held) if in_stock else Part.id.not_in(held))
    if after is not None:
        try:
            stmt = stmt.where(Part.sku > str(after["s"]))
        except (KeyError, TypeError):
            raise Invalid(details=[field_error("cursor", "does not match this list")]) from None
    parts = list(await session.scalars(stmt.order_by(Part.sku).limit(limit + 1)))
    ids = [p.id for p in parts]
    compatible: dict[int, set[int]] = defaultdict(set)
    for part_id, prod in await session.execute(
        select(PartCompatibleProduct.part_id, PartCompatibleProduct.product_id).where(
            PartCompatibleProduct.part_id.in_(ids)
        )
    ):
        compatible[part_id].add(prod)
    products = await products_by_id(session, actor, {p for s in compatible.values() for p in s})
    here: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    others: dict[int, list[dict[str, Any]]] = defaultdict(list)
    branch_names = {
        b: name_in(actor, ar, en)
        for b, ar, en in (await session.execute(select(Branch.id, Branch.name_ar, Branch.name_en))).tuples()
    }
    for part_id, b, on_hand, reserved in await session.execute(
        select(PartStock.part_id, PartStock.branch_id, PartStock.on_hand, PartStock.reserved)
        .where(PartStock.part_id.in_(ids))
        .order_by(PartStock.part_id, PartStock.branch_id)
    ):
        if branch_id is None or b == branch_id:
            h = here[part_id]
            here[part_id] = (h[0] + on_hand, h[1] + reserved)
        elif on_hand - reserved > 0:
            others[part_id].append(
                {"branch": {"id": b, "name": branch_names.get(b, "")}, "available": on_hand - reserved}
            )
    out = []
    for p in parts:
        on_hand, reserved = here[p.id]
        out.append(
            {
                "id": p.id,
                "sku": p.sku,
                "name": name_in(actor, p.name_ar, p.name_en),
                "compatible_products": [products[i] for i in sorted(compatible[p.id])],
                "price": wire(p.price, p.currency),
                "on_hand": on_hand,
                "reserved": reserved,
                "available": on_hand - reserved,
                "reorder_point": p.reorder_point,
                "other_branches": others[p.id],
            }
        )
    return out


async def return_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None = None,
    ids: list[int] | None = None,
    status: str | None = None,
    reason: str | None = None,
    customer_id: int | None = None,
    channel: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """ASO-10: returns of the caller's branch (the order's branch), newest first."""
    stmt = select(ReturnRequest)
    if ids is not None:
        stmt = stmt.where(ReturnRequest.id.in_(ids))
    if actor.scope != "all":
        stmt = stmt.where(ReturnRequest.branch_id == (actor.branch_id or 0))
    for col, value in (
        (ReturnRequest.status, status),
        (ReturnRequest.customer_id, customer_id),
        (ReturnRequest.channel, channel),
    ):
        if value is not None:
            stmt = stmt.where(col == value)
    if reason:
        stmt = stmt.where(
            exists().where(ReturnLine.return_id == ReturnRequest.id, ReturnLine.reason.contains(reason))
        )
    stmt = stmt.where(*_since(ReturnRequest.created_at, date_from, date_to))
    cursor = before(ReturnRequest.created_at, ReturnRequest.id, after)
    if cursor is not None:
        stmt = stmt.where(cursor)
    rows = list(
        await session.scalars(
            stmt.order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc()).limit(limit + 1)
        )
    )
    reasons: dict[int, list[str]] = defaultdict(list)
    lines = await session.execute(
        select(ReturnLine.return_id, ReturnLine.reason)
        .where(ReturnLine.return_id.in_([r.id for r in rows]))
        .order_by(ReturnLine.id)
    )
    for rid, why in lines:
        if why not in reasons[rid]:
            reasons[rid].append(why)
    customers = await customers_by_id(session, {r.customer_id for r in rows})
    return [
        {
            "id": r.id,
            "number": r.number,
            "order_id": r.order_id,
            "customer": customers[r.customer_id],
            "channel": r.channel,
            "reasons": reasons[r.id],
            "status": r.status,
            "value": wire(r.value, r.currency),
            "approved_amount": wire(r.approved_amount, r.currency),
            "created_at": r.created_at,
        }
        for r in rows
    ]
