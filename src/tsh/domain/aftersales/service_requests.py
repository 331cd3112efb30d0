"""Service requests (ASO-04, ASO-05) and warranty claims (ASO-17).

Status: new → scheduled (first job) → in_progress (a job on site) → completed (a job completed
with outcome fixed or replaced) → closed. A request whose job completed with outcome not_fixable is
closed directly from its current state; cancelled from any state until a job is completed
(cancelling cancels its open jobs and releases their reserved parts). SLA due from priority.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.aftersales import parts, warranties
from tsh.domain.aftersales.models import PRIORITIES, Job, ServiceRequest, Warranty
from tsh.domain.catalog.models import Product
from tsh.domain.customers.models import Address, Customer
from tsh.domain.events import raise_event
from tsh.domain.sales.models.orders import Order
from tsh.domain.shared import business_today, new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

SLA = {
    "urgent": dt.timedelta(hours=24),
    "high": dt.timedelta(hours=48),
    "normal": dt.timedelta(hours=72),
    "low": dt.timedelta(days=7),
}
DESK_TYPES = ("repair", "installation", "maintenance")
OPEN_STATUSES = ("new", "scheduled", "in_progress", "completed")
FINAL_STATUSES = ("closed", "cancelled")
ACTIVE_JOB_STATUSES = ("scheduled", "en_route", "on_site")


def request_changed(
    session: AsyncSession, request: ServiceRequest, *, users: Sequence[int | None] = ()
) -> None:
    raise_event(
        session,
        "ServiceRequestChanged",
        branches=[request.branch_id],
        customers=[request.customer_id],
        users=users,
        service_request_id=request.id,
    )


def _priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise Invalid(details=[field_error("priority", "unknown priority", allowed=list(PRIORITIES))])
    return priority


async def get_request(
    session: AsyncSession, *, request_id: int, branch_id: int | None = None, lock: bool = False
) -> ServiceRequest:
    """The request, within `branch_id` when given (404 SERVICE_REQUEST_NOT_FOUND outside)."""
    stmt = select(ServiceRequest).where(ServiceRequest.id == request_id)
    if branch_id is not None:
        stmt = stmt.where(ServiceRequest.branch_id == branch_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    request = await session.scalar(stmt)
    if request is None:
        raise NotFound("Service request not found", code="SERVICE_REQUEST_NOT_FOUND")
    return request


async def _check_links(
    session: AsyncSession, customer_id: int, address_id: int | None, order_id: int | None
) -> None:
    if await session.scalar(select(Customer.id).where(Customer.id == customer_id)) is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    if address_id is not None:
        owner = await session.scalar(select(Address.customer_id).where(Address.id == address_id))
        if owner != customer_id:
            raise Invalid(details=[field_error("address_id", "not an address of the customer")])
    if order_id is not None:
        owner = await session.scalar(select(Order.customer_id).where(Order.id == order_id))
        if owner != customer_id:
            raise Invalid(details=[field_error("order_id", "not an order of the customer")])


async def create_service_request(
    session: AsyncSession,
    *,
    branch_id: int,
    customer_id: int,
    product_id: int,
    type: str,
    priority: str,
    description: str,
    created_by_id: int,
    serial_number: str | None = None,
    order_id: int | None = None,
    address_id: int | None = None,
    preferred_date: dt.date | None = None,
    media_ids: Sequence[int] = (),
) -> ServiceRequest:
    """Open a repair, installation or maintenance request (ASO-04).

    422 for type warranty_repair (opened through `open_warranty_claim`); 404 CUSTOMER_NOT_FOUND,
    404 PRODUCT_NOT_FOUND; 409 DUPLICATE_OPEN_REQUEST for a serial with an open request. The
    warranty covering the serial, if any, is linked. Emits ServiceRequestChanged.
    """
    if type not in DESK_TYPES:
        raise Invalid(
            "Warranty repairs are opened as warranty claims",
            details=[field_error("type", "not allowed", allowed=list(DESK_TYPES))],
        )
    _priority(priority)
    if not description.strip():
        raise Invalid(details=[field_error("description", "required")])
    await _check_links(session, customer_id, address_id, order_id)
    if await session.scalar(select(Product.id).where(Product.id == product_id)) is None:
        raise NotFound("Product not found", code="PRODUCT_NOT_FOUND")
    serial = serial_number.strip() if serial_number and serial_number.strip() else None
    if serial is not None:
        open_id = await session.scalar(
            select(ServiceRequest.id).where(
                ServiceRequest.product_id == product_id,
                ServiceRequest.serial_number == serial,
                ServiceRequest.status.in_(OPEN_STATUSES),
            )
        )
        if open_id is not None:
            raise Conflict(
                "This serial already has an open service request",
                code="DUPLICATE_OPEN_REQUEST",
                details=[field_error("serial_number", "open request", service_request_id=open_id)],
            )
    warranty = await warranties.active_warranty(session, product_id=product_id, serial_number=serial)
    return await _insert(
        session,
        branch_id=branch_id,
        customer_id=customer_id,
        product_id=product_id,
        serial_number=serial,
        order_id=order_id,
        warranty=warranty,
        type=type,
        priority=priority,
        description=description.strip(),
        address_id=address_id,
        preferred_date=preferred_date,
        media_ids=media_ids,
        created_by_id=created_by_id,
    )


async def _insert(
    session: AsyncSession,
    *,
    warranty: Warranty | None,
    media_ids: Sequence[int],
    priority: str,
    **values: object,
) -> ServiceRequest:
    now = utcnow()
    request = ServiceRequest(
        number=new_number("SR"),
        warranty_id=warranty.id if warranty is not None else None,
        priority=priority,
        status="new",
        media_ids=list(media_ids),
        sla_due_at=now + SLA[priority],
        notes=[],
        **values,
    )
    session.add(request)
    await session.flush()
    request_changed(session, request)
    return request


async def open_warranty_claim(
    session: AsyncSession,
    *,
    warranty_id: int,
    branch_id: int,
    description: str,
    priority: str,
    created_by_id: int,
    customer_id: int | None = None,
    address_id: int | None = None,
    media_ids: Sequence[int] = (),
) -> ServiceRequest:
    """File a warranty claim (ASO-17): a warranty_repair request in the caller's branch.

    404 WARRANTY_NOT_FOUND; 409 WARRANTY_VOID; 409 WARRANTY_EXPIRED; 409 CLAIM_OPEN while a claim
    of this warranty is open. `customer_id` is needed only for a warranty of an anonymous POS sale.
    Raises claims_count; emits WarrantyChanged and ServiceRequestChanged.
    """
    _priority(priority)
    if not description.strip():
        raise Invalid(details=[field_error("description", "required")])
    warranty = await warranties.get_warranty(session, warranty_id=warranty_id, lock=True)
    state = warranties.effective_status(warranty, business_today())
    if state == "void":
        raise Conflict("The warranty is void", code="WARRANTY_VOID")
    if state == "expired":
        raise Conflict(f"The warranty ended on {warranty.ends_on}", code="WARRANTY_EXPIRED")
    open_id = await session.scalar(
        select(ServiceRequest.id).where(
            ServiceRequest.warranty_id == warranty.id,
            ServiceRequest.type == "warranty_repair",
            ServiceRequest.status.in_(OPEN_STATUSES),
        )
    )
    if open_id is not None:
        raise Conflict(
            "A claim of this warranty is open",
            code="CLAIM_OPEN",
            details=[field_error("warranty_id", "claim open", service_request_id=open_id)],
        )
    owner = warranty.customer_id or customer_id
    if owner is None:
        raise Invalid(details=[field_error("customer_id", "required for an anonymous sale")])
    await _check_links(session, owner, address_id, None)
    warranty.claims_count += 1
    request = await _insert(
        session,
        branch_id=branch_id,
        customer_id=owner,
        product_id=warranty.product_id,
        serial_number=warranty.serial_number,
        order_id=None,
        warranty=warranty,
        type="warranty_repair",
        priority=priority,
        description=description.strip(),
        address_id=address_id,
        preferred_date=None,
        media_ids=media_ids,
        created_by_id=created_by_id,
    )
    raise_event(
        session, "WarrantyChanged", customers=[owner], branches=[branch_id], warranty_ids=[warranty.id]
    )
    return request


async def update_service_request(
    session: AsyncSession,
    *,
    request_id: int,
    by_user_id: int,
    branch_id: int | None = None,
    priority: str | None = None,
    description: str | None = None,
    note: str | None = None,
    status: str | None = None,
    reason: str | None = None,
) -> ServiceRequest:
    """Update priority, description or notes, or close / cancel the request (ASO-05).

    409 INVALID_TRANSITION: closing needs status completed or a job completed with outcome
    not_fixable; cancelling is refused once a job is completed; a closed or cancelled request
    changes no more. Cancelling cancels the open jobs and releases their parts (PartsChanged then).
    """
    request = await get_request(session, request_id=request_id, branch_id=branch_id, lock=True)
    if status is not None and status not in FINAL_STATUSES:
        raise Invalid(details=[field_error("status", "must be closed or cancelled")])
    if request.status in FINAL_STATUSES:
        raise Conflict(f"The request is {request.status}", code="INVALID_TRANSITION")
    if priority is not None and priority != request.priority:
        request.priority = _priority(priority)
        request.sla_due_at = request.created_at + SLA[priority]
    if description is not None:
        if not description.strip():
            raise Invalid(details=[field_error("description", "must not be empty")])
        request.description = description.strip()
    if note:
        request.notes = [*request.notes, {"by": by_user_id, "at": utcnow().isoformat(), "text": note}]
    jobs = list(
        await session.scalars(
            select(Job).where(Job.service_request_id == request.id).order_by(Job.id).with_for_update()
        )
    )
    completed = [j for j in jobs if j.status == "completed"]
    if status == "closed":
        if request.status != "completed" and not any(j.outcome == "not_fixable" for j in completed):
            raise Conflict(
                "Only a completed request, or one found not fixable, can be closed",
                code="INVALID_TRANSITION",
                details=[field_error("status", "cannot close", current=request.status)],
            )
        request.status, request.closed_at, request.status_reason = "closed", utcnow(), reason
    elif status == "cancelled":
        if completed:
            raise Conflict(
                "A request with a completed job cannot be cancelled",
                code="INVALID_TRANSITION",
                details=[field_error("status", "cannot cancel", current=request.status)],
            )
        now = utcnow()
        for job in jobs:
            if job.status in ACTIVE_JOB_STATUSES:
                job.status, job.cancelled_at = "cancelled", now
                await parts.settle_job_parts(session, job_id=job.id)
        request.status, request.closed_at, request.status_reason = "cancelled", now, reason
    await session.flush()
    request_changed(session, request)
    return request
