"""Spare-part stock per branch: receipts, reservations for jobs, consumption and release.

PartStock keeps 0 <= reserved <= on_hand (CHECK constraints back the checks up). A PartRequest
reserves its lines at the service request's branch (ASO-19); completion consumes from those
reservations (ASO-09: on hand and reserved both go down) and releases the rest; cancelling the job
or the request releases them. Rows are locked in part-id order. Parts are a separate stock from
merchandise and carry no ledger postings of their own: their cost enters the books when the back
office receives them, and the contract posts nothing at consumption (ASO-09: JournalPosted only
when a charge is invoiced).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tsh.domain.aftersales.models import Job, Part, PartRequest, PartRequestLine, PartStock, ServiceRequest
from tsh.domain.events import raise_event
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

CLOSED_JOB_STATUSES = ("completed", "cancelled")


def parts_changed(session: AsyncSession, branch_id: int, part_ids: Iterable[int]) -> None:
    raise_event(session, "PartsChanged", branches=[branch_id], part_ids=sorted(set(part_ids)))


def _merge(lines: Sequence[tuple[int, int]], field: str) -> dict[int, int]:
    bad = [
        field_error(f"{field}[{i}].qty", "must be greater than 0") for i, (_, q) in enumerate(lines) if q <= 0
    ]
    if bad or not lines:
        raise Invalid(details=bad or [field_error(field, "at least one line")])
    merged: dict[int, int] = defaultdict(int)
    for part_id, qty in lines:
        merged[part_id] += qty
    return dict(merged)


async def lock_stock(
    session: AsyncSession, *, branch_id: int, part_ids: Iterable[int]
) -> dict[int, PartStock]:
    """Lock (part-id order) the branch's stock rows of these parts, creating missing ones."""
    ids = sorted(set(part_ids))
    await session.flush()
    stmt = (
        select(PartStock)
        .where(PartStock.branch_id == branch_id, PartStock.part_id.in_(ids))
        .order_by(PartStock.part_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rows = {r.part_id: r for r in await session.scalars(stmt)}
    missing = [p for p in ids if p not in rows]
    if missing:
        session.add_all(PartStock(part_id=p, branch_id=branch_id, on_hand=0, reserved=0) for p in missing)
        await session.flush()
        rows = {r.part_id: r for r in await session.scalars(stmt)}
    return rows


async def _known_parts(session: AsyncSession, part_ids: Iterable[int], field: str) -> None:
    ids = set(part_ids)
    found = set(await session.scalars(select(Part.id).where(Part.id.in_(ids), Part.is_active.is_(True))))
    if ids - found:
        raise NotFound(
            "Part not found",
            code="PART_NOT_FOUND",
            details=[field_error(field, "not found", part_id=p) for p in sorted(ids - found)],
        )


async def receive_parts(
    session: AsyncSession, *, branch_id: int, lines: Sequence[tuple[int, int]]
) -> list[PartStock]:
    """Put received parts into the branch's stock (back office receipt); emits PartsChanged."""
    merged = _merge(lines, "lines")
    await _known_parts(session, merged, "lines")
    rows = await lock_stock(session, branch_id=branch_id, part_ids=merged)
    for part_id, qty in merged.items():
        rows[part_id].on_hand += qty
    await session.flush()
    parts_changed(session, branch_id, merged)
    return [rows[p] for p in sorted(merged)]


async def _job_for_parts(
    session: AsyncSession, job_id: int, branch_id: int | None, technician_id: int | None
) -> tuple[Job, ServiceRequest]:
    stmt = (
        select(Job, ServiceRequest)
        .join(ServiceRequest, ServiceRequest.id == Job.service_request_id)
        .where(Job.id == job_id)
    )
    if branch_id is not None:
        stmt = stmt.where(ServiceRequest.branch_id == branch_id)
    if technician_id is not None:
        stmt = stmt.where(Job.technician_id == technician_id)
    row = (await session.execute(stmt.with_for_update(of=Job))).first()
    if row is None:
        raise NotFound("Job not found", code="JOB_NOT_FOUND")
    return row[0], row[1]


async def reserve_parts(
    session: AsyncSession,
    *,
    job_id: int,
    lines: Sequence[tuple[int, int]],
    requested_by_id: int,
    branch_id: int | None = None,
    technician_id: int | None = None,
) -> PartRequest:
    """Reserve parts at the request's branch for a job (ASO-19), all lines or none.

    Scope: `branch_id` / `technician_id` limit the job (404 JOB_NOT_FOUND outside). 409 JOB_CLOSED
    for a completed or cancelled job; 409 INSUFFICIENT_PARTS listing the short lines with the
    branches holding stock. Emits PartsChanged and ServiceRequestChanged.
    """
    merged = _merge(lines, "lines")
    job, request = await _job_for_parts(session, job_id, branch_id, technician_id)
    if job.status in CLOSED_JOB_STATUSES:
        raise Conflict(f"The job is {job.status}", code="JOB_CLOSED")
    await _known_parts(session, merged, "lines")
    stock = await lock_stock(session, branch_id=request.branch_id, part_ids=merged)
    short = {p: q for p, q in merged.items() if stock[p].on_hand - stock[p].reserved < q}
    if short:
        holders = defaultdict(list)
        for part_id, holder, free in await session.execute(
            select(PartStock.part_id, PartStock.branch_id, PartStock.on_hand - PartStock.reserved)
            .where(
                PartStock.part_id.in_(short),
                PartStock.branch_id != request.branch_id,
                PartStock.on_hand - PartStock.reserved > 0,
            )
            .order_by(PartStock.part_id, PartStock.branch_id)
        ):
            holders[part_id].append({"branch_id": holder, "available": int(free)})
        raise Conflict(
            "Not enough parts at the branch",
            code="INSUFFICIENT_PARTS",
            details=[
                field_error(
                    f"lines[{i}].qty",
                    "insufficient parts",
                    part_id=p,
                    available=stock[p].on_hand - stock[p].reserved,
                    branches=holders[p],
                )
                for i, (p, _) in enumerate(lines)
                if p in short
            ],
        )
    for part_id, qty in merged.items():
        stock[part_id].reserved += qty
    part_request = PartRequest(
        job_id=job.id,
        branch_id=request.branch_id,
        status="reserved",
        requested_by_id=requested_by_id,
        lines=[PartRequestLine(part_id=p, qty=q, qty_consumed=0) for p, q in sorted(merged.items())],
    )
    session.add(part_request)
    await session.flush()
    parts_changed(session, request.branch_id, merged)
    raise_event(
        session, "ServiceRequestChanged", branches=[request.branch_id], customers=[request.customer_id]
    )
    return part_request


async def _open_requests(session: AsyncSession, job_id: int) -> list[PartRequest]:
    return list(
        await session.scalars(
            select(PartRequest)
            .where(PartRequest.job_id == job_id, PartRequest.status == "reserved")
            .options(selectinload(PartRequest.lines))
            .order_by(PartRequest.id)
            .with_for_update(of=PartRequest)
            .execution_options(populate_existing=True)
        )
    )


async def reserved_for_job(session: AsyncSession, *, job_id: int) -> dict[int, int]:
    """Part id → quantity still reserved for the job."""
    rows = await session.execute(
        select(PartRequestLine.part_id, func.sum(PartRequestLine.qty - PartRequestLine.qty_consumed))
        .join(PartRequest, PartRequest.id == PartRequestLine.part_request_id)
        .where(PartRequest.job_id == job_id, PartRequest.status == "reserved")
        .group_by(PartRequestLine.part_id)
    )
    return {int(p): int(q) for p, q in rows if q}


async def settle_job_parts(
    session: AsyncSession, *, job_id: int, consume: Sequence[tuple[int, int]] = ()
) -> bool:
    """Consume `consume` from the job's reservations and release the rest (completion, ASO-09), or
    release everything (no `consume`: cancellation). 409 PARTS_NOT_RESERVED above the reserved
    quantity. Returns whether any part stock changed (emits PartsChanged then)."""
    wanted: dict[int, int] = defaultdict(int)
    for i, (part_id, qty) in enumerate(consume):
        if qty <= 0:
            raise Invalid(details=[field_error(f"parts[{i}].qty", "must be greater than 0")])
        wanted[part_id] += qty
    requests = await _open_requests(session, job_id)
    held: dict[int, int] = defaultdict(int)
    for pr in requests:
        for ln in pr.lines:
            held[ln.part_id] += ln.qty - ln.qty_consumed
    over = [
        field_error(f"parts[{i}].qty", "above the reserved quantity", part_id=p, reserved=held.get(p, 0))
        for i, (p, _) in enumerate(consume)
        if wanted[p] > held.get(p, 0)
    ]
    if over:
        raise Conflict("More parts than reserved for the job", code="PARTS_NOT_RESERVED", details=over)
    if not requests:
        return False
    branch_id = requests[0].branch_id
    stock = await lock_stock(session, branch_id=branch_id, part_ids=held)
    for pr in requests:
        used_any = False
        for ln in pr.lines:
            open_qty = ln.qty - ln.qty_consumed
            use = min(open_qty, wanted.get(ln.part_id, 0))
            wanted[ln.part_id] = wanted.get(ln.part_id, 0) - use
            ln.qty_consumed += use
            used_any = used_any or ln.qty_consumed > 0
            stock[ln.part_id].on_hand -= use
            stock[ln.part_id].reserved -= open_qty
        pr.status = "consumed" if used_any else "released"
    await session.flush()
    parts_changed(session, branch_id, held)
    return True
