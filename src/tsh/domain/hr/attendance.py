"""GPS attendance and corrections (domain.md §9, apps/hr.md HR-07, HR-10).

- One record per employee and Baghdad business date. Check-in sets lateness against the work
  schedule (minutes after work_start, local time; any minute late makes the day `late`); check-out
  sets worked minutes and overtime (minutes after work_end).
- Positions are checked against the branch geofence (`geofence_radius_m` around the branch
  location): beyond it, staff are rejected (422 OUTSIDE_GEOFENCE) while field staff are recorded
  with the `off_site` flag. A device clock more than 5 minutes from server time adds `clock_skew`.
- Corrections (branch_manager of the employee's branch, hr_manager, admin) need a reason, are
  refused for the corrector's own record and for months locked by an approved or paid payroll run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.hr.models import ATTENDANCE_STATUSES, AttendanceRecord, Employee, PayrollRun
from tsh.domain.hr.scope import check_media, own_employee_id
from tsh.domain.organisation.models import Branch
from tsh.domain.shared import BUSINESS_TZ, business_today, haversine_m
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

MAX_GPS_ACCURACY_M = 100.0
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
CORRECTING_ROLES = ("hr_manager", "branch_manager", "admin")


def _minutes(delta: dt.timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, BUSINESS_TZ).astimezone(dt.UTC)


def apply_times(record: AttendanceRecord, employee: Employee) -> None:
    """Late, worked and overtime minutes of the record from its times and the work schedule."""
    record.late_min = record.worked_min = record.overtime_min = 0
    if record.check_in_at is not None:
        record.late_min = _minutes(record.check_in_at - _local(record.date, employee.work_start))
    if record.check_in_at is not None and record.check_out_at is not None:
        record.worked_min = _minutes(record.check_out_at - record.check_in_at)
        record.overtime_min = _minutes(record.check_out_at - _local(record.date, employee.work_end))


async def _employee(session: AsyncSession, employee_id: int) -> Employee:
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("Employee not found", code="EMPLOYEE_NOT_FOUND")
    return employee


async def _geofence(
    session: AsyncSession, employee: Employee, lat: float, lng: float
) -> tuple[float | None, bool]:
    """(distance to the branch in metres or None without a branch location, outside the radius)."""
    branch = await session.get(Branch, employee.branch_id)
    if branch is None or branch.lat is None or branch.lng is None:
        return None, False
    distance = round(haversine_m(lat, lng, branch.lat, branch.lng), 1)
    return distance, distance > branch.geofence_radius_m


def _recorded(session: AsyncSession, employee: Employee, record: AttendanceRecord) -> None:
    raise_event(
        session,
        "AttendanceRecorded",
        users=[employee.user_id],
        branches=[employee.branch_id],
        employee_id=employee.id,
        record_id=record.id,
    )


async def record_attendance(
    session: AsyncSession,
    *,
    employee_id: int,
    type: str,
    lat: float,
    lng: float,
    accuracy_m: float,
    device_time: dt.datetime,
    media_id: int | None = None,
    now: dt.datetime | None = None,
) -> AttendanceRecord:
    """Check in or out (HR-07): 422 LOW_GPS_ACCURACY, 422 OUTSIDE_GEOFENCE (not field staff),
    409 ALREADY_CHECKED_IN, 409 NOT_CHECKED_IN. Emits AttendanceRecorded."""
    if type not in ("check_in", "check_out"):
        raise Invalid("Unknown attendance type", details=[field_error("type", "check_in or check_out")])
    employee = await _employee(session, employee_id)
    if employee.status == "terminated":
        raise Forbidden("A terminated employee cannot record attendance")
    if accuracy_m > MAX_GPS_ACCURACY_M:
        raise Invalid(
            "The GPS fix is not accurate enough",
            code="LOW_GPS_ACCURACY",
            details=[field_error("geo.accuracy_m", "must be at most 100 m")],
        )
    distance, outside = await _geofence(session, employee, lat, lng)
    if outside and not employee.field_staff:
        raise Invalid(
            "You are outside the branch geofence",
            code="OUTSIDE_GEOFENCE",
            details=[field_error("geo", "outside the branch radius", distance_m=distance)],
        )
    now = now or utcnow()
    day = business_today(now)
    flags: list[Any] = []
    if outside:
        flags.append("off_site")
    if abs(device_time - now) > MAX_CLOCK_SKEW:
        flags.append("clock_skew")
    record = await session.scalar(
        select(AttendanceRecord)
        .where(AttendanceRecord.employee_id == employee.id, AttendanceRecord.date == day)
        .with_for_update()
    )
    if type == "check_in":
        if record is not None and record.check_in_at is not None:
            raise Conflict("You have already checked in today", code="ALREADY_CHECKED_IN")
        if record is None:
            record = AttendanceRecord(employee_id=employee.id, date=day, flags=[])
            session.add(record)
        record.check_in_at, record.check_in_device_time, record.media_id = now, device_time, media_id
        record.check_in_lat, record.check_in_lng, record.check_in_accuracy_m = lat, lng, accuracy_m
        record.check_in_distance_m = distance
        apply_times(record, employee)
        record.status = "late" if record.late_min > 0 else "present"
    else:
        if record is None or record.check_in_at is None or record.check_out_at is not None:
            raise Conflict("You have not checked in today", code="NOT_CHECKED_IN")
        record.check_out_at, record.check_out_device_time = now, device_time
        record.check_out_lat, record.check_out_lng, record.check_out_accuracy_m = lat, lng, accuracy_m
        record.check_out_distance_m = distance
        apply_times(record, employee)
    record.flags = sorted({*(record.flags or []), *flags})
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent check-in created the day's record first
        raise Conflict("You have already checked in today", code="ALREADY_CHECKED_IN") from None
    _recorded(session, employee, record)
    return record


async def record_own_attendance(
    session: AsyncSession,
    actor: Actor,
    *,
    type: str,
    lat: float,
    lng: float,
    accuracy_m: float,
    device_time: dt.datetime,
    media_id: int | None = None,
) -> AttendanceRecord:
    """HR-07 for the caller's own employee record: 404 EMPLOYEE_PROFILE_MISSING, 422 for a selfie
    that is not the caller's upload, then the rules and codes of `record_attendance`."""
    employee_id = own_employee_id(actor)
    await check_media(session, actor, media_id, "media_id")
    return await record_attendance(
        session, employee_id=employee_id, type=type, lat=lat, lng=lng, accuracy_m=accuracy_m,
        device_time=device_time, media_id=media_id,
    )  # fmt: skip


async def payroll_locked(session: AsyncSession, employee: Employee, day: dt.date) -> bool:
    """Whether `day` is in an approved or paid payroll run covering the employee."""
    found = await session.scalar(
        select(PayrollRun.id).where(
            PayrollRun.year == day.year,
            PayrollRun.month == day.month,
            PayrollRun.status.in_(("approved", "paid")),
            or_(PayrollRun.branch_id.is_(None), PayrollRun.branch_id == employee.branch_id),
        )
    )
    return found is not None


async def correct_attendance(
    session: AsyncSession,
    actor: Actor,
    *,
    employee_id: int,
    day: dt.date,
    reason: str,
    check_in_at: dt.datetime | None = None,
    check_out_at: dt.datetime | None = None,
    status: str | None = None,
) -> AttendanceRecord:
    """Correct or create one day's record (HR-10) as a manager or HR: 404 EMPLOYEE_NOT_FOUND outside
    the actor's scope (a branch manager's branch), 403
    SELF_CORRECTION, 409 PAYROLL_LOCKED, 422 on a missing reason or inconsistent times. Times and
    status given replace the stored ones; minutes are recomputed. Emits AttendanceRecorded."""
    if actor.role not in CORRECTING_ROLES:
        raise Forbidden("Only a manager or HR corrects attendance")
    employee = await _employee(session, employee_id)
    if not actor.in_branch(employee.branch_id):
        raise NotFound("Employee not found", code="EMPLOYEE_NOT_FOUND")
    if employee.user_id is not None and employee.user_id == actor.user_id:
        raise Forbidden("You cannot correct your own attendance", code="SELF_CORRECTION")
    problems = []
    if not (reason or "").strip():
        problems.append(field_error("reason", "required"))
    if status is not None and status not in ATTENDANCE_STATUSES:
        problems.append(field_error("status", "unknown status"))
    if day > business_today():
        problems.append(field_error("date", "in the future"))
    for name, at in (("check_in_at", check_in_at), ("check_out_at", check_out_at)):
        if at is not None and business_today(at) != day:
            problems.append(field_error(name, "not on that date"))
    if problems:
        raise Invalid("The correction is invalid", details=problems)
    if await payroll_locked(session, employee, day):
        raise Conflict("The month is locked by an approved payroll run", code="PAYROLL_LOCKED")
    record = await session.scalar(
        select(AttendanceRecord)
        .where(AttendanceRecord.employee_id == employee.id, AttendanceRecord.date == day)
        .with_for_update()
    )
    if record is None:
        record = AttendanceRecord(employee_id=employee.id, date=day, flags=[], status="absent")
        session.add(record)
    if check_in_at is not None:
        record.check_in_at = check_in_at
    if check_out_at is not None:
        record.check_out_at = check_out_at
    if record.check_out_at is not None and (
        record.check_in_at is None or record.check_out_at < record.check_in_at
    ):
        raise Invalid(
            "Check-out needs an earlier check-in", details=[field_error("check_out_at", "before check-in")]
        )
    apply_times(record, employee)
    if status is not None:
        record.status = status
    elif record.check_in_at is not None:
        record.status = "late" if record.late_min > 0 else "present"
    record.corrected_by_id, record.corrected_at, record.correction_reason = actor.user_id, utcnow(), reason
    await session.flush()
    _recorded(session, employee, record)
    return record
