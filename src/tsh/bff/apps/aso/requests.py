"""ASO-02 service requests, ASO-04 open one, ASO-05 update / close / cancel, ASO-07 schedule a job."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.aso import ALL_STAFF, ALL_STAFF_SCOPE, DESK, DESK_SCOPE, app
from tsh.bff.apps.aso.jobs import job_row
from tsh.bff.apps.aso.views import JobRow, RequestDetail, RequestRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, DateTimeIn, Id, LongText, Page, Text, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.aftersales import documents, jobs, queries, service_requests
from tsh.domain.aftersales.access import home_branch, reach
from tsh.domain.inventory.queries import position

Priority = Literal["low", "normal", "high", "urgent"]


class ListQuery(Page):
    status: Literal["new", "scheduled", "in_progress", "completed", "closed", "cancelled"] | None = None
    type: Literal["repair", "installation", "maintenance", "warranty_repair"] | None = None
    priority: Priority | None = None
    technician_id: Id | None = None
    customer_id: Id | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")
    overdue_only: bool = False


async def request_row(call: Call, request_id: int) -> dict[str, Any]:
    return (await queries.service_request_list(call.session, call.actor, limit=1, ids=[request_id]))[0]


@app.screen(
    "ASO-02",
    "/service-requests",
    roles=ALL_STAFF,
    scope=ALL_STAFF_SCOPE,
    cache="orders",
    events=("ServiceRequestChanged",),
    response=PageOf[RequestRow],
    vary_by_language=True,
)
async def list_(call: Call, *, query: ListQuery) -> dict[str, Any]:
    """Service requests: number, customer, product and serial, type, priority, status, SLA due,
    technician, next job time (technicians: requests holding one of their jobs)."""
    rows = await queries.service_request_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        type=query.type,
        priority=query.priority,
        technician_id=query.technician_id,
        customer_id=query.customer_id,
        q=query.q,
        date_from=query.date_from,
        date_to=query.date_to,
        overdue_only=query.overdue_only,
    )
    return page(rows, query.limit, lambda r: position(r["created_at"], r["id"]))


@app.screen(
    "ASO-03",
    "/service-requests/{id}",
    roles=ALL_STAFF,
    scope=ALL_STAFF_SCOPE,
    cache="orders",
    events=("ServiceRequestChanged", "WarrantyChanged", "PartsChanged"),
    errors=("SERVICE_REQUEST_NOT_FOUND",),
    response=RequestDetail,
    vary_by_language=True,
)
async def detail(call: Call, *, id: int) -> dict[str, Any]:
    """Service request: customer and address, product and serial, warranty, linked order,
    description, jobs with technician and times, parts reserved and used, charges, notes, timeline."""
    return await documents.request_detail(call.session, call.actor, request_id=id)


class NewRequest(Body):
    customer_id: Id
    product_id: Id
    serial_number: str | None = Field(default=None, min_length=1, max_length=100)
    order_id: Id | None = None
    type: Literal["repair", "installation", "maintenance"]
    priority: Priority
    description: LongText = Field(min_length=1)
    address_id: Id | None = None
    preferred_date: DateIn | None = None
    media_ids: list[Id] = Field(default_factory=list, max_length=10)


@app.action(
    "ASO-04",
    "POST",
    "/service-requests",
    roles=DESK,
    scope=DESK_SCOPE,
    events=("ServiceRequestChanged",),
    audit_entity="service_request",
    errors=("CUSTOMER_NOT_FOUND", "PRODUCT_NOT_FOUND", "DUPLICATE_OPEN_REQUEST"),
    response=RequestRow,
)
async def create(call: Call, *, body: NewRequest) -> Created:
    """Opens a repair, installation or maintenance request; warranty coverage comes from the serial."""
    request = await service_requests.create_service_request(
        call.session,
        branch_id=home_branch(call.actor),
        customer_id=body.customer_id,
        product_id=body.product_id,
        type=body.type,
        priority=body.priority,
        description=body.description,
        created_by_id=call.actor.user_id,
        serial_number=body.serial_number,
        order_id=body.order_id,
        address_id=body.address_id,
        preferred_date=body.preferred_date,
        media_ids=body.media_ids,
    )
    call.audit("service_request", request.id, after={"number": request.number, "status": request.status})
    return Created(await request_row(call, request.id))


class RequestChange(Body):
    priority: Priority | None = None
    description: LongText | None = Field(default=None, min_length=1)
    note: LongText | None = Field(default=None, min_length=1)
    status: Literal["closed", "cancelled"] | None = None
    reason: Text | None = None


@app.action(
    "ASO-05",
    "PATCH",
    "/service-requests/{id}",
    roles=DESK,
    scope=DESK_SCOPE,
    events=("ServiceRequestChanged", "PartsChanged"),
    audit_entity="service_request",
    errors=("SERVICE_REQUEST_NOT_FOUND", "INVALID_TRANSITION"),
    response=RequestRow,
)
async def update(call: Call, *, id: int, body: RequestChange) -> dict[str, Any]:
    """Updates priority, description or notes, or closes or cancels the request."""
    r = await reach(call.session, call.actor)
    request = await service_requests.update_service_request(
        call.session,
        request_id=id,
        by_user_id=call.actor.user_id,
        branch_id=r.branch_id,
        priority=body.priority,
        description=body.description,
        note=body.note,
        status=body.status,
        reason=body.reason,
    )
    call.audit("service_request", request.id, after={"status": request.status, "priority": request.priority})
    return await request_row(call, request.id)


class NewJob(Body):
    technician_id: Id
    start: DateTimeIn
    duration_min: int = Field(strict=True, gt=0, le=720)
    kind: Literal["on_site", "workshop"]
    note: LongText | None = None


@app.action(
    "ASO-07",
    "POST",
    "/service-requests/{id}/jobs",
    roles=DESK,
    scope=DESK_SCOPE,
    events=("ServiceRequestChanged",),
    audit_entity="job",
    errors=(
        "SERVICE_REQUEST_NOT_FOUND",
        "TECHNICIAN_NOT_FOUND",
        "TECHNICIAN_UNAVAILABLE",
        "SKILL_MISMATCH",
        "REQUEST_CLOSED",
    ),
    response=JobRow,
)
async def schedule(call: Call, *, id: int, body: NewJob) -> Created:
    """Schedules an on-site visit or workshop job for a technician of the request's branch."""
    r = await reach(call.session, call.actor)
    job = await jobs.schedule_job(
        call.session,
        request_id=id,
        technician_id=body.technician_id,
        start=body.start,
        duration_min=body.duration_min,
        kind=body.kind,
        note=body.note,
        branch_id=r.branch_id,
    )
    call.audit("job", job.id, after={"technician_id": job.technician_id, "start": job.start.isoformat()})
    return Created(job_row(job))
