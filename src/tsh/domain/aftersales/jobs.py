"""Technician jobs: scheduling (ASO-07), progress and rescheduling (ASO-08), completion (ASO-09).

Job status: scheduled → en_route → on_site → completed, or cancelled (a workshop job may go on
site without travelling). A technician is available for a slot when it lies inside their working
hours on a working day, they are not on approved leave, it overlaps none of their open jobs and
the day's booked minutes stay within daily_capacity_min (409 TECHNICIAN_UNAVAILABLE otherwise).
Skills: a repair (or warranty repair) needs `repair`, an installation `installation`, maintenance
`maintenance` or `repair` (422 SKILL_MISMATCH).

Completion consumes parts from the job's reservations and releases the rest; a charge (only out
of warranty) is invoiced to the customer (Invoice.job_id) and posted receivable / service revenue
on the SAL journal, due by the customer's payment terms; outcome `replaced` moves the warranty to
the replacement serial (warranties.replace_serial).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.aftersales import parts, warranties
from tsh.domain.aftersales.models import JOB_KINDS, JOB_OUTCOMES, Job, ServiceRequest, Technician, Warranty
from tsh.domain.aftersales.service_requests import ACTIVE_JOB_STATUSES, FINAL_STATUSES, request_changed
from tsh.domain.customers.models import Address, Customer
from tsh.domain.events import raise_event
from tsh.domain.hr.models import Employee, LeaveRequest
from tsh.domain.money import CURRENCIES, has_valid_places
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models.payments import Invoice
from tsh.domain.shared import BUSINESS_TZ, business_today, haversine_m, new_number
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

SKILLS = {
    "repair": {"repair"},
    "warranty_repair": {"repair"},
    "installation": {"installation"},
    "maintenance": {"maintenance", "repair"},
}
ON_SITE_FLAG_M = 300.0


def _unavailable(reason: str, **extra: object) -> Conflict:
    return Conflict(
        f"The technician is not available: {reason}",
        code="TECHNICIAN_UNAVAILABLE",
        details=[field_error("start", reason, **extra)],
    )


async def _technician(session: AsyncSession, technician_id: int, branch_id: int) -> Technician:
    tech = await session.scalar(
        select(Technician).where(
            Technician.id == technician_id, Technician.branch_id == branch_id, Technician.is_active.is_(True)
        )
    )
    if tech is None:
        raise NotFound("Technician not found", code="TECHNICIAN_NOT_FOUND")
    return tech


async def check_available(
    session: AsyncSession,
    *,
    tech: Technician,
    start: dt.datetime,
    duration_min: int,
    job_id: int | None = None,
) -> None:
    """409 TECHNICIAN_UNAVAILABLE (off day, outside hours, leave, overlap, daily capacity)."""
    if start.tzinfo is None:
        raise Invalid(details=[field_error("start", "needs a time zone")])
    if duration_min <= 0:
        raise Invalid(details=[field_error("duration_min", "must be greater than 0")])
    emp = await session.get(Employee, tech.employee_id)
    assert emp is not None
    local = start.astimezone(BUSINESS_TZ)
    day, end = local.date(), local + dt.timedelta(minutes=duration_min)
    if emp.status != "active":
        raise _unavailable("not an active employee")
    if local.isoweekday() in emp.weekly_off_days:
        raise _unavailable("weekly day off")
    if local.time() < emp.work_start or end.date() != day or end.time() > emp.work_end:
        raise _unavailable(
            "outside working hours", work_start=str(emp.work_start), work_end=str(emp.work_end)
        )
    leave = await session.scalar(
        select(LeaveRequest.id).where(
            LeaveRequest.employee_id == emp.id,
            LeaveRequest.status == "approved",
            LeaveRequest.from_date <= day,
            LeaveRequest.to_date >= day,
        )
    )
    if leave is not None:
        raise _unavailable("on leave", leave_request_id=leave)
    day_start = dt.datetime.combine(day, dt.time.min, BUSINESS_TZ).astimezone(dt.UTC)
    others = await session.scalars(
        select(Job).where(
            Job.technician_id == tech.id,
            Job.status != "cancelled",
            Job.start >= day_start,
            Job.start < day_start + dt.timedelta(days=1),
            Job.id != (job_id or 0),
        )
    )
    booked = 0
    for other in others:
        booked += other.duration_min
        other_end = other.start + dt.timedelta(minutes=other.duration_min)
        if other.status in ACTIVE_JOB_STATUSES and other.start < end and other_end > local:
            raise _unavailable("overlaps another job", job_id=other.id)
    if booked + duration_min > tech.daily_capacity_min:
        raise _unavailable("daily capacity reached", booked_min=booked, capacity_min=tech.daily_capacity_min)


def _check_skill(tech: Technician, request: ServiceRequest) -> None:
    if not SKILLS[request.type] & set(tech.skills or ()):
        raise Invalid(
            "The technician lacks the skill for this request",
            code="SKILL_MISMATCH",
            details=[field_error("technician_id", "skill mismatch", needs=sorted(SKILLS[request.type]))],
        )


async def schedule_job(
    session: AsyncSession,
    *,
    request_id: int,
    technician_id: int,
    start: dt.datetime,
    duration_min: int,
    kind: str,
    note: str | None = None,
    branch_id: int | None = None,
) -> Job:
    """Schedule a job (ASO-07): 404 outside the branch, 409 REQUEST_CLOSED, 422 SKILL_MISMATCH,
    409 TECHNICIAN_UNAVAILABLE. A new request becomes scheduled. Emits ServiceRequestChanged."""
    if kind not in JOB_KINDS:
        raise Invalid(details=[field_error("kind", "unknown kind", allowed=list(JOB_KINDS))])
    request = await _request(session, request_id, branch_id)
    if request.status in (*FINAL_STATUSES, "completed"):
        raise Conflict(f"The request is {request.status}", code="REQUEST_CLOSED")
    tech = await _technician(session, technician_id, request.branch_id)
    _check_skill(tech, request)
    await check_available(session, tech=tech, start=start, duration_min=duration_min)
    job = Job(
        service_request_id=request.id,
        technician_id=tech.id,
        kind=kind,
        start=start,
        duration_min=duration_min,
        status="scheduled",
        note=note,
    )
    session.add(job)
    if request.status == "new":
        request.status = "scheduled"
    await session.flush()
    request_changed(session, request, users=[await _tech_user(session, tech)])
    return job


async def _request(session: AsyncSession, request_id: int, branch_id: int | None) -> ServiceRequest:
    from tsh.domain.aftersales.service_requests import get_request

    return await get_request(session, request_id=request_id, branch_id=branch_id, lock=True)


async def _tech_user(session: AsyncSession, tech: Technician) -> int | None:
    return await session.scalar(select(Employee.user_id).where(Employee.id == tech.employee_id))


async def _job(
    session: AsyncSession, job_id: int, branch_id: int | None, technician_id: int | None
) -> tuple[Job, ServiceRequest]:
    stmt = (
        select(Job, ServiceRequest)
        .join(ServiceRequest, ServiceRequest.id == Job.service_request_id)
        .where(Job.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if branch_id is not None:
        stmt = stmt.where(ServiceRequest.branch_id == branch_id)
    if technician_id is not None:
        stmt = stmt.where(Job.technician_id == technician_id)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound("Job not found", code="JOB_NOT_FOUND")
    return row[0], row[1]


def _transition(job: Job, to: str) -> None:
    allowed = {
        "en_route": ("scheduled",),
        "on_site": ("en_route",) if job.kind == "on_site" else ("scheduled", "en_route"),
        "cancelled": ACTIVE_JOB_STATUSES,
    }
    if to not in allowed:
        raise Invalid(details=[field_error("status", "must be en_route, on_site or cancelled")])
    if job.status not in allowed[to]:
        raise Conflict(
            f"A job that is {job.status} cannot become {to}",
            code="INVALID_TRANSITION",
            details=[field_error("status", "invalid transition", current=job.status)],
        )


async def update_job(
    session: AsyncSession,
    *,
    job_id: int,
    branch_id: int | None = None,
    technician_id: int | None = None,
    start: dt.datetime | None = None,
    duration_min: int | None = None,
    new_technician_id: int | None = None,
    status: str | None = None,
    geo: tuple[float, float, float | None] | None = None,
    note: str | None = None,
) -> Job:
    """Reschedule / reassign (dispatcher), report en_route / on_site with geo, or cancel (ASO-08).

    `technician_id` is the calling technician (own jobs only, 404 outside); they may change only
    the status (403). 409 INVALID_TRANSITION, 409 TECHNICIAN_UNAVAILABLE; on_site needs geo and is
    flagged beyond 300 m from the address. Cancelling releases reserved parts (PartsChanged then).
    """
    job, request = await _job(session, job_id, branch_id, technician_id)
    moving = start is not None or duration_min is not None or new_technician_id is not None
    if technician_id is not None and moving:
        raise Forbidden("Technicians may only change the status of their jobs", code="FORBIDDEN")
    if moving:
        if job.status != "scheduled":
            raise Conflict("Only a scheduled job can be moved", code="INVALID_TRANSITION")
        tech = await _technician(session, new_technician_id or job.technician_id, request.branch_id)
        _check_skill(tech, request)
        job.start, job.duration_min = start or job.start, duration_min or job.duration_min
        await check_available(
            session, tech=tech, start=job.start, duration_min=job.duration_min, job_id=job.id
        )
        job.technician_id = tech.id
    if note:
        job.note = note
    now = utcnow()
    if status is not None:
        _transition(job, status)
        job.status = status
        if status == "en_route":
            job.en_route_at = now
        elif status == "on_site":
            await _on_site(session, job, request, geo, now)
        else:
            job.cancelled_at = now
            await parts.settle_job_parts(session, job_id=job.id)
            await _after_cancel(session, request, job)
    await session.flush()
    tech_row = await session.get(Technician, job.technician_id)
    assert tech_row is not None
    request_changed(session, request, users=[await _tech_user(session, tech_row)])
    return job


async def _on_site(
    session: AsyncSession,
    job: Job,
    request: ServiceRequest,
    geo: tuple[float, float, float | None] | None,
    now: dt.datetime,
) -> None:
    if geo is None:
        raise Invalid(details=[field_error("geo", "required for on_site")])
    lat, lng, accuracy = geo
    job.on_site_at, job.on_site_lat, job.on_site_lng, job.on_site_accuracy_m = now, lat, lng, accuracy
    if request.address_id is not None:
        addr = (
            await session.execute(select(Address.lat, Address.lng).where(Address.id == request.address_id))
        ).one()
        if addr[0] is not None and addr[1] is not None:
            job.on_site_distance_m = round(haversine_m(lat, lng, addr[0], addr[1]), 1)
            job.on_site_flagged = job.on_site_distance_m > ON_SITE_FLAG_M
    if request.status in ("new", "scheduled"):
        request.status = "in_progress"


async def _after_cancel(session: AsyncSession, request: ServiceRequest, cancelled: Job) -> None:
    """A request left with no open or completed job goes back to new."""
    statuses = set(
        await session.scalars(
            select(Job.status).where(Job.service_request_id == request.id, Job.id != cancelled.id)
        )
    )
    if request.status in ("scheduled", "in_progress") and not statuses & {*ACTIVE_JOB_STATUSES, "completed"}:
        request.status = "new"


async def complete_job(
    session: AsyncSession,
    *,
    job_id: int,
    by_user_id: int,
    outcome: str,
    resolution: str,
    labour_min: int,
    parts_used: Sequence[tuple[int, int]] = (),
    charge: Decimal | None = None,
    currency: str | None = None,
    replacement_serial: str | None = None,
    signature_media_id: int | None = None,
    geo: tuple[float, float, float | None] | None = None,
    branch_id: int | None = None,
    technician_id: int | None = None,
) -> Job:
    """Complete a job (ASO-09). 409 INVALID_STATE unless scheduled, en_route or on_site; 409
    PARTS_NOT_RESERVED; 422 for a charge under warranty or a replacement without its serial.

    Emits ServiceRequestChanged; PartsChanged when parts moved; InvoiceIssued, CreditChanged and
    JournalPosted when a charge is invoiced; WarrantyChanged for outcome replaced.
    """
    if outcome not in JOB_OUTCOMES:
        raise Invalid(details=[field_error("outcome", "unknown outcome", allowed=list(JOB_OUTCOMES))])
    if labour_min < 0 or not resolution.strip():
        raise Invalid(details=[field_error("labour_min" if labour_min < 0 else "resolution", "invalid")])
    serial = (replacement_serial or "").strip()
    if outcome == "replaced" and not serial:
        raise Invalid(details=[field_error("replacement_serial", "required for outcome replaced")])
    job, request = await _job(session, job_id, branch_id, technician_id)
    if job.status not in ACTIVE_JOB_STATUSES:
        raise Conflict(f"The job is {job.status}", code="INVALID_STATE")
    warranty = await session.get(Warranty, request.warranty_id) if request.warranty_id else None
    covered = request.type == "warranty_repair" or (request.type == "repair" and warranties.covers(warranty))
    branch = await session.get(Branch, request.branch_id)
    assert branch is not None
    cur = currency or branch.default_currency
    amount = charge or Decimal(0)
    if amount < 0 or cur not in CURRENCIES or not has_valid_places(amount, cur):
        raise Invalid(details=[field_error("charge", "must be a valid amount of money >= 0")])
    if covered and amount > 0:
        raise Invalid(
            "No charge under warranty", details=[field_error("charge", "not allowed under warranty")]
        )
    await parts.settle_job_parts(session, job_id=job.id, consume=parts_used)
    now = utcnow()
    job.status, job.outcome, job.resolution, job.labour_min = (
        "completed",
        outcome,
        resolution.strip(),
        labour_min,
    )
    job.completed_at, job.signature_media_id = now, signature_media_id
    job.charge, job.currency = (amount, cur) if amount > 0 else (None, None)
    if geo is not None and job.on_site_at is None:
        job.on_site_lat, job.on_site_lng, job.on_site_accuracy_m = geo
    if outcome in ("fixed", "replaced"):
        request.status = "completed"
    elif request.status in ("new", "scheduled"):
        request.status = "in_progress"
    if outcome == "replaced":
        job.replacement_serial = serial
        new = await warranties.replace_serial(
            session,
            old=warranty,
            product_id=request.product_id,
            customer_id=request.customer_id,
            replacement_serial=serial,
            branch_id=request.branch_id,
        )
        if new is not None and request.warranty_id is None:
            request.warranty_id = new.id
    await session.flush()
    if amount > 0:
        await _invoice(session, job, request, amount, cur, by_user_id)
    tech = await session.get(Technician, job.technician_id)
    assert tech is not None
    request_changed(session, request, users=[await _tech_user(session, tech)])
    return job


async def _invoice(
    session: AsyncSession, job: Job, request: ServiceRequest, amount: Decimal, currency: str, by_user_id: int
) -> Invoice:
    customer = await session.get(Customer, request.customer_id)
    assert customer is not None
    today = business_today()
    invoice = Invoice(
        number=new_number("INV", today),
        customer_id=request.customer_id,
        branch_id=request.branch_id,
        job_id=job.id,
        currency=currency,
        issue_date=today,
        due_date=today + dt.timedelta(days=customer.payment_terms_days or 0),
        subtotal=amount,
        tax=Decimal(0),
        total=amount,
        paid=Decimal(0),
        balance=amount,
        status="open",
    )
    session.add(invoice)
    await session.flush()
    entry = await posting.post_entry(
        session,
        journal="SAL",
        entry_date=today,
        currency=currency,
        lines=[
            posting.Line(
                "receivable", debit=amount, customer_id=request.customer_id, branch_id=request.branch_id
            ),
            posting.Line("service_revenue", credit=amount, branch_id=request.branch_id),
        ],
        memo=f"Invoice {invoice.number} for service job {job.id} ({request.number})",
        source_type="invoice",
        source_id=invoice.id,
        branch_id=request.branch_id,
        posted_by_id=by_user_id,
        reference=invoice.number,
    )
    invoice.journal_entry_id, job.invoice_id = entry.id, invoice.id
    await session.flush()
    for name in ("InvoiceIssued", "CreditChanged"):
        raise_event(session, name, customers=[request.customer_id], branches=[request.branch_id])
    return invoice
