"""Technician schedule (ASO-06): per technician and day the jobs, the free slots inside working
hours and the day's load against daily capacity; weekly days off and approved leave show as
unavailable. Times are business-local (Asia/Baghdad), as the dispatcher books them.

A technician (`own`) sees only their own schedule; a branch role sees the branch's active
technicians. Cancelled jobs free their slot; every other job (completed ones too) occupies it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.aftersales.access import reach
from tsh.domain.aftersales.models import Job, ServiceRequest, Technician
from tsh.domain.aftersales.queries import name_in
from tsh.domain.customers.models import Address, Customer
from tsh.domain.hr.models import Employee, LeaveRequest
from tsh.domain.shared import BUSINESS_TZ
from tsh.platform.errors import Invalid, field_error

MAX_DAYS = 14


def _at(day: dt.date, t: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, t, BUSINESS_TZ)


async def technician_schedule(
    session: AsyncSession,
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    technician_id: int | None = None,
    skill: str | None = None,
) -> dict[str, Any]:
    """422 when `from` is after `to`; 422 RANGE_TOO_LONG above 14 days (inclusive)."""
    if date_from > date_to:
        raise Invalid(details=[field_error("from", "after to")])
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise Invalid(
            f"At most {MAX_DAYS} days",
            code="RANGE_TOO_LONG",
            details=[field_error("to", "range too long", max_days=MAX_DAYS)],
        )
    r = await reach(session, actor)
    stmt = (
        select(Technician, Employee)
        .join(Employee, Employee.id == Technician.employee_id)
        .where(Technician.is_active.is_(True))
    )
    if r.branch_id is not None:
        stmt = stmt.where(Technician.branch_id == r.branch_id)
    if r.technician_id is not None:
        stmt = stmt.where(Technician.id == r.technician_id)
    if technician_id is not None:
        stmt = stmt.where(Technician.id == technician_id)
    techs = [
        (t, e)
        for t, e in (await session.execute(stmt.order_by(Technician.id))).tuples()
        if skill is None or skill in (t.skills or ())
    ]
    start_utc = _at(date_from, dt.time.min).astimezone(dt.UTC)
    end_utc = _at(date_to + dt.timedelta(days=1), dt.time.min).astimezone(dt.UTC)
    tech_ids = [t.id for t, _ in techs]
    jobs: dict[tuple[int, dt.date], list[dict[str, Any]]] = defaultdict(list)
    rows = await session.execute(
        select(Job, ServiceRequest.number, ServiceRequest.type, Customer.name, Address)
        .join(ServiceRequest, ServiceRequest.id == Job.service_request_id)
        .join(Customer, Customer.id == ServiceRequest.customer_id)
        .outerjoin(Address, Address.id == ServiceRequest.address_id)
        .where(
            Job.technician_id.in_(tech_ids),
            Job.status != "cancelled",
            Job.start >= start_utc,
            Job.start < end_utc,
        )
        .order_by(Job.start, Job.id)
    )
    for job, number, sr_type, customer, addr in rows.tuples():
        local = job.start.astimezone(BUSINESS_TZ)
        jobs[(job.technician_id, local.date())].append(
            {
                "id": job.id,
                "service_request_id": job.service_request_id,
                "number": number,
                "type": sr_type,
                "kind": job.kind,
                "status": job.status,
                "start": job.start,
                "end": job.start + dt.timedelta(minutes=job.duration_min),
                "duration_min": job.duration_min,
                "customer": customer,
                "address": ", ".join(x for x in (addr.street, addr.district, addr.city) if x)
                if addr
                else None,
                "geo": {"lat": addr.lat, "lng": addr.lng}
                if addr and addr.lat is not None and addr.lng is not None
                else None,
            }
        )
    leave: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for emp_id, lo, hi in (
        await session.execute(
            select(LeaveRequest.employee_id, LeaveRequest.from_date, LeaveRequest.to_date).where(
                LeaveRequest.employee_id.in_([e.id for _, e in techs]),
                LeaveRequest.status == "approved",
                LeaveRequest.from_date <= date_to,
                LeaveRequest.to_date >= date_from,
            )
        )
    ).tuples():
        leave[emp_id].append((lo, hi))
    out = []
    for tech, emp in techs:
        days = []
        day = date_from
        while day <= date_to:
            booked = jobs.get((tech.id, day), [])
            reason = None
            if emp.status != "active":
                reason = "inactive"
            elif day.isoweekday() in (emp.weekly_off_days or ()):
                reason = "day_off"
            elif any(lo <= day <= hi for lo, hi in leave[emp.id]):
                reason = "leave"
            minutes = sum(j["duration_min"] for j in booked)
            days.append(
                {
                    "date": day,
                    "available": reason is None,
                    "unavailable_reason": reason,
                    "jobs": booked,
                    "free_slots": [] if reason else _free(day, emp.work_start, emp.work_end, booked),
                    "booked_min": minutes,
                    "capacity_min": tech.daily_capacity_min,
                    "load_pct": round(100 * minutes / tech.daily_capacity_min)
                    if tech.daily_capacity_min
                    else 0,
                }
            )
            day += dt.timedelta(days=1)
        out.append(
            {
                "technician": {"id": tech.id, "name": name_in(actor, emp.name_ar, emp.name_en)},
                "skills": sorted(tech.skills or ()),
                "work_start": emp.work_start.strftime("%H:%M"),
                "work_end": emp.work_end.strftime("%H:%M"),
                "days": days,
            }
        )
    return {"from": date_from, "to": date_to, "technicians": out}


def _free(day: dt.date, start: dt.time, end: dt.time, booked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gaps inside working hours between the day's jobs (sorted by start)."""
    cursor, close = _at(day, start), _at(day, end)
    slots = []
    for j in sorted(booked, key=lambda j: j["start"]):
        if j["start"] > cursor:
            slots.append({"start": cursor, "end": min(j["start"], close)})
        cursor = max(cursor, j["end"])
        if cursor >= close:
            break
    if cursor < close:
        slots.append({"start": cursor, "end": close})
    return [s for s in slots if s["end"] > s["start"]]
