"""ASO-08 reschedule / progress / cancel a job, ASO-09 complete it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.aso import ALL_STAFF, ALL_STAFF_SCOPE, FIELD, FIELD_SCOPE, app
from tsh.bff.apps.aso.views import JobRow
from tsh.bff.call import Call
from tsh.bff.schemas import Body, DateTimeIn, Geo, Id, LongText, MoneyNonNegative, Qty, Text
from tsh.domain.aftersales import jobs
from tsh.domain.aftersales.access import reach
from tsh.domain.money import wire


def job_row(job: Any) -> dict[str, Any]:
    """The JobRow of a job the service returned (read from its attributes, no query)."""
    return {
        "id": job.id,
        "service_request_id": job.service_request_id,
        "technician_id": job.technician_id,
        "kind": job.kind,
        "start": job.start,
        "duration_min": job.duration_min,
        "status": job.status,
        "note": job.note,
        "on_site_distance_m": job.on_site_distance_m,
        "on_site_flagged": bool(job.on_site_flagged),
        "outcome": job.outcome,
        "labour_min": job.labour_min,
        "charge": wire(job.charge, job.currency) if job.charge is not None and job.currency else None,
        "invoice_id": job.invoice_id,
    }


def _geo(geo: Geo | None) -> tuple[float, float, float | None] | None:
    return (geo.lat, geo.lng, geo.accuracy_m) if geo is not None else None


class JobChange(Body):
    start: DateTimeIn | None = None
    duration_min: int | None = Field(default=None, strict=True, gt=0, le=720)
    technician_id: Id | None = None
    status: Literal["en_route", "on_site", "cancelled"] | None = None
    geo: Geo | None = None
    note: LongText | None = Field(default=None, min_length=1)


@app.action(
    "ASO-08",
    "PATCH",
    "/jobs/{id}",
    roles=ALL_STAFF,
    scope=ALL_STAFF_SCOPE,
    events=("ServiceRequestChanged", "PartsChanged"),
    audit_entity="job",
    errors=(
        "JOB_NOT_FOUND",
        "TECHNICIAN_NOT_FOUND",
        "TECHNICIAN_UNAVAILABLE",
        "SKILL_MISMATCH",
        "INVALID_TRANSITION",
    ),
    response=JobRow,
)
async def update(call: Call, *, id: int, body: JobChange) -> dict[str, Any]:
    """Reschedules or reassigns a job (dispatcher), reports en_route / on_site with GPS
    (technician, own jobs, status only), or cancels it (releasing its reserved parts)."""
    r = await reach(call.session, call.actor)
    job = await jobs.update_job(
        call.session,
        job_id=id,
        branch_id=r.branch_id,
        technician_id=r.technician_id,
        start=body.start,
        duration_min=body.duration_min,
        new_technician_id=body.technician_id,
        status=body.status,
        geo=_geo(body.geo),
        note=body.note,
    )
    call.audit("job", job.id, after={"status": job.status, "start": job.start.isoformat()})
    return job_row(job)


class UsedPart(Body):
    part_id: Id
    qty: Qty


class Completion(Body):
    outcome: Literal["fixed", "not_fixable", "needs_parts", "replaced"]
    resolution: LongText = Field(min_length=1)
    labour_min: int = Field(strict=True, ge=0, le=1440)
    parts: list[UsedPart] = Field(default_factory=list, max_length=50)
    charge: MoneyNonNegative | None = None
    replacement_serial: Text | None = None
    signature_media_id: Id | None = None
    geo: Geo | None = None


@app.action(
    "ASO-09",
    "POST",
    "/jobs/{id}/completion",
    roles=FIELD,
    scope=FIELD_SCOPE,
    events=(
        "ServiceRequestChanged",
        "PartsChanged",
        "InvoiceIssued",
        "CreditChanged",
        "JournalPosted",
        "WarrantyChanged",
    ),
    idempotency="required",
    audit_entity="job",
    errors=("JOB_NOT_FOUND", "INVALID_STATE", "PARTS_NOT_RESERVED"),
    response=JobRow,
)
async def complete(call: Call, *, id: int, body: Completion) -> dict[str, Any]:
    """Completes a job: resolution, labour, parts consumed from its reservations, an
    out-of-warranty charge invoiced to the customer, the customer's signature."""
    r = await reach(call.session, call.actor)
    job = await jobs.complete_job(
        call.session,
        job_id=id,
        by_user_id=call.actor.user_id,
        outcome=body.outcome,
        resolution=body.resolution,
        labour_min=body.labour_min,
        parts_used=[(p.part_id, p.qty) for p in body.parts],
        charge=body.charge.amount if body.charge else None,
        currency=body.charge.currency if body.charge else None,
        replacement_serial=body.replacement_serial,
        signature_media_id=body.signature_media_id,
        geo=_geo(body.geo),
        branch_id=r.branch_id,
        technician_id=r.technician_id,
    )
    call.audit("job", job.id, after={"status": job.status, "outcome": job.outcome})
    return job_row(job)
