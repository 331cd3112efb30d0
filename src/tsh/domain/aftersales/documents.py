"""Detail screens of the after-sales app: a service request composed for the phone (ASO-03) and
a return with its order lines (ASO-11). A handful of set-based reads each, scope checked first
(404 outside it: a technician only reaches requests holding one of their jobs)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.aftersales.access import reach
from tsh.domain.aftersales.models import (
    Job,
    Part,
    PartRequest,
    PartRequestLine,
    Refund,
    ReturnLine,
    ReturnRequest,
    ServiceRequest,
    Warranty,
)
from tsh.domain.aftersales.queries import customers_by_id, name_in, products_by_id, technician_names
from tsh.domain.aftersales.warranties import effective_status
from tsh.domain.customers.models import Address
from tsh.domain.money import wire
from tsh.domain.sales.models import OrderLine
from tsh.platform.errors import NotFound


async def request_detail(session: AsyncSession, actor: Actor, *, request_id: int) -> dict[str, Any]:
    """ASO-03 (404 SERVICE_REQUEST_NOT_FOUND outside the scope)."""
    r = await reach(session, actor)
    stmt = select(ServiceRequest).where(ServiceRequest.id == request_id)
    if r.branch_id is not None:
        stmt = stmt.where(ServiceRequest.branch_id == r.branch_id)
    if r.technician_id is not None:
        stmt = stmt.where(
            exists().where(Job.service_request_id == ServiceRequest.id, Job.technician_id == r.technician_id)
        )
    sr = await session.scalar(stmt)
    if sr is None:
        raise NotFound("Service request not found", code="SERVICE_REQUEST_NOT_FOUND")
    jobs = list(
        await session.scalars(select(Job).where(Job.service_request_id == sr.id).order_by(Job.start, Job.id))
    )
    techs = await technician_names(session, actor, {j.technician_id for j in jobs})
    customers = await customers_by_id(session, {sr.customer_id})
    products = await products_by_id(session, actor, {sr.product_id})
    address = None
    if sr.address_id is not None:
        a = await session.get(Address, sr.address_id)
        if a is not None:
            text = ", ".join(x for x in (a.street, a.district, a.city, a.landmark) if x)
            address = {"id": a.id, "label": a.label, "text": text, "lat": a.lat, "lng": a.lng}
    warranty = None
    if sr.warranty_id is not None:
        w = await session.get(Warranty, sr.warranty_id)
        if w is not None:
            warranty = {"id": w.id, "status": effective_status(w), "ends_on": w.ends_on}
    parts: dict[int, dict[str, int]] = defaultdict(lambda: {"reserved": 0, "used": 0})
    rows = await session.execute(
        select(PartRequestLine.part_id, PartRequest.status, PartRequestLine.qty, PartRequestLine.qty_consumed)
        .join(PartRequest, PartRequest.id == PartRequestLine.part_request_id)
        .where(PartRequest.job_id.in_([j.id for j in jobs]))
    )
    for part_id, status, qty, used in rows.tuples():
        parts[part_id]["used"] += used
        if status == "reserved":
            parts[part_id]["reserved"] += qty - used
    names = {
        i: {"id": i, "sku": s, "name": name_in(actor, ar, en)}
        for i, s, ar, en in (
            await session.execute(
                select(Part.id, Part.sku, Part.name_ar, Part.name_en).where(Part.id.in_(parts))
            )
        ).tuples()
    }
    timeline: list[dict[str, Any]] = [{"at": sr.created_at, "event": "opened", "job_id": None}]
    for j in jobs:
        for at, event in (
            (j.created_at, "job_scheduled"),
            (j.en_route_at, "en_route"),
            (j.on_site_at, "on_site"),
            (j.completed_at, "job_completed"),
            (j.cancelled_at, "job_cancelled"),
        ):
            if at is not None:
                timeline.append({"at": at, "event": event, "job_id": j.id})
    if sr.closed_at is not None:
        timeline.append({"at": sr.closed_at, "event": sr.status, "job_id": None})
    timeline.sort(key=lambda e: e["at"])
    return {
        "id": sr.id,
        "number": sr.number,
        "branch_id": sr.branch_id,
        "customer": customers[sr.customer_id],
        "address": address,
        "product": products[sr.product_id],
        "serial_number": sr.serial_number,
        "warranty": warranty,
        "order_id": sr.order_id,
        "type": sr.type,
        "priority": sr.priority,
        "status": sr.status,
        "status_reason": sr.status_reason,
        "description": sr.description,
        "sla_due_at": sr.sla_due_at,
        "preferred_date": sr.preferred_date,
        "jobs": [
            {
                "id": j.id,
                "technician": techs[j.technician_id],
                "kind": j.kind,
                "start": j.start,
                "duration_min": j.duration_min,
                "status": j.status,
                "outcome": j.outcome,
                "resolution": j.resolution,
                "labour_min": j.labour_min,
                "on_site_flagged": bool(j.on_site_flagged),
            }
            for j in jobs
        ],
        "parts": [{"part": names[p], **q} for p, q in sorted(parts.items()) if p in names],
        "charges": [
            {"job_id": j.id, "amount": wire(j.charge, j.currency), "invoice_id": j.invoice_id}
            for j in jobs
            if j.charge is not None and j.currency is not None
        ],
        "notes": [{"at": n.get("at"), "by": n.get("by"), "text": n.get("text", "")} for n in sr.notes or []],
        "timeline": timeline,
    }


async def return_detail(session: AsyncSession, actor: Actor, *, return_id: int) -> dict[str, Any]:
    """ASO-11 (404 RETURN_NOT_FOUND outside the branch): order lines with delivered, already
    returned and requested quantities, conditions, inspection notes, decision and refund."""
    stmt = select(ReturnRequest).where(ReturnRequest.id == return_id)
    if not actor.sees_all:
        stmt = stmt.where(ReturnRequest.branch_id == (actor.branch_id or 0))
    ret = await session.scalar(stmt)
    if ret is None:
        raise NotFound("Return request not found", code="RETURN_NOT_FOUND")
    requested = {
        ln.order_line_id: ln
        for ln in await session.scalars(select(ReturnLine).where(ReturnLine.return_id == ret.id))
    }
    order_lines = list(
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == ret.order_id).order_by(OrderLine.id)
        )
    )
    refund = await session.scalar(
        select(Refund)
        .where(Refund.source == "return", Refund.source_id == ret.id)
        .order_by(Refund.id.desc())
        .limit(1)
    )
    customers = await customers_by_id(session, {ret.customer_id})
    return {
        "id": ret.id,
        "number": ret.number,
        "order_id": ret.order_id,
        "customer": customers[ret.customer_id],
        "channel": ret.channel,
        "status": ret.status,
        "note": ret.note,
        "media_ids": list(ret.media_ids or []),
        "value": wire(ret.value, ret.currency),
        "lines": [
            {
                "order_line_id": ol.id,
                "sku": ol.sku,
                "name": ol.product_name,
                "delivered": ol.qty_delivered,
                "returned": ol.qty_returned,
                "requested": requested[ol.id].qty if ol.id in requested else 0,
                "reason": requested[ol.id].reason if ol.id in requested else None,
                "condition": requested[ol.id].condition if ol.id in requested else None,
                "restock": requested[ol.id].restock if ol.id in requested else None,
                "inspection_note": requested[ol.id].inspection_note if ol.id in requested else None,
            }
            for ol in order_lines
        ],
        "decision": None
        if ret.decided_at is None
        else {
            "at": ret.decided_at,
            "by_id": ret.decided_by_id,
            "note": ret.decision_note,
            "restocking_fee": wire(ret.restocking_fee, ret.currency),
            "approved_amount": wire(ret.approved_amount, ret.currency),
        },
        "refund": None
        if refund is None
        else {
            "id": refund.id,
            "number": refund.number,
            "method": refund.method,
            "amount": wire(refund.amount, refund.currency),
            "at": refund.issued_at,
        },
    }
