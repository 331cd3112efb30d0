"""HR-07 check in/out, HR-08 attendance records, HR-09 today's board, HR-10 corrections."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.hr import EVERYONE, EVERYONE_SCOPES, MANAGER_SCOPES, MANAGERS, app
from tsh.bff.apps.hr.views import AttendanceStatus, Person
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, DateTimeIn, Geo, Id, LongText, Page, decode_cursor, page
from tsh.bff.views import Date, DecimalText, Named, RowId, Timestamp, View
from tsh.domain.hr.attendance import correct_attendance, record_own_attendance
from tsh.domain.hr.attendance_views import attendance_records, today_board
from tsh.domain.hr.scope import after_id, scoped_employee


class Record(View):
    employee: Person
    date: Date
    status: AttendanceStatus
    check_in_at: Timestamp | None
    check_out_at: Timestamp | None
    check_in_distance_m: float | None
    check_out_distance_m: float | None
    late_min: int
    worked_min: int
    overtime_min: int
    flags: list[Literal["off_site", "clock_skew"]]
    corrected: bool
    record_id: RowId | None
    leave_type: str | None


def _record(employee: Any, r: Any) -> dict[str, Any]:
    return {
        "employee": {
            "id": employee.id,
            "code": employee.code,
            "name": employee.name_en,
            "name_ar": employee.name_ar,
        },
        "date": r.date,
        "status": r.status,
        "check_in_at": r.check_in_at,
        "check_out_at": r.check_out_at,
        "check_in_distance_m": r.check_in_distance_m,
        "check_out_distance_m": r.check_out_distance_m,
        "late_min": r.late_min,
        "worked_min": r.worked_min,
        "overtime_min": r.overtime_min,
        "flags": list(r.flags or []),
        "corrected": r.corrected_at is not None,
        "record_id": r.id,
        "leave_type": None,
    }


class CheckIn(Body):
    type: Literal["check_in", "check_out"]
    geo: Geo
    device_time: DateTimeIn
    media_id: Id | None = None


@app.action(
    "HR-07",
    "POST",
    "/attendance",
    roles=("employee",),
    scope="own",
    events=("AttendanceRecorded",),
    idempotency="optional",
    audit_entity="attendance_record",
    errors=(
        "EMPLOYEE_PROFILE_MISSING",
        "OUTSIDE_GEOFENCE",
        "LOW_GPS_ACCURACY",
        "ALREADY_CHECKED_IN",
        "NOT_CHECKED_IN",
    ),
    response=Record,
)
async def check(call: Call, *, body: CheckIn) -> Created:
    """Caller checks in or out with GPS, validated against the branch geofence (not field staff)."""
    record = await record_own_attendance(
        call.session,
        call.actor,
        type=body.type,
        lat=body.geo.lat,
        lng=body.geo.lng,
        accuracy_m=body.geo.accuracy_m,
        device_time=body.device_time,
        media_id=body.media_id,
    )
    employee = await scoped_employee(call.session, call.actor.with_scope("own"), record.employee_id)
    call.audit("attendance_record", record.id, after={"type": body.type, "flags": list(record.flags or [])})
    return Created(_record(employee, record))


class RecordsQuery(Page):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    employee_id: Id | None = None
    department_id: Id | None = None
    status: AttendanceStatus | None = None


class Summary(View):
    employee: Person
    days_present: int
    late_days: int
    late_minutes: int
    absences: int
    leave_days: int
    overtime_hours: DecimalText


class RecordsPage(View):
    items: list[Record]
    next_cursor: str | None
    summary: list[Summary] | None


@app.screen(
    "HR-08",
    "/attendance",
    roles=EVERYONE,
    scope=EVERYONE_SCOPES,
    cache="people",
    events=("AttendanceRecorded", "LeaveChanged"),
    errors=("RANGE_TOO_LONG", "INVALID_DATES"),
    response=RecordsPage,
)
async def records(call: Call, *, query: RecordsQuery) -> dict[str, Any]:
    """Attendance records of a period (absences derived) with a per-employee summary."""
    result = await attendance_records(
        call.session,
        call.actor,
        date_from=query.date_from,
        date_to=query.date_to,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        employee_id=query.employee_id,
        department_id=query.department_id,
        status=query.status,
    )
    out = page(result["items"], query.limit, lambda r: {"d": r["date"].isoformat(), "e": r["employee"]["id"]})
    return {**out, "summary": result["summary"]}


class BoardQuery(Page):
    branch_id: Id | None = None
    department_id: Id | None = None


class BoardRow(View):
    employee: Person
    branch: Named | None
    department: Named | None
    state: Literal["present", "late", "on_leave", "not_in", "off"]
    work_start: str
    check_in_at: Timestamp | None
    check_out_at: Timestamp | None
    distance_m: float | None
    late_min: int
    flags: list[Literal["off_site", "clock_skew"]]
    leave_type: str | None


class Counts(View):
    present: int
    late: int
    on_leave: int
    not_in: int
    off: int


class Board(View):
    items: list[BoardRow]
    next_cursor: str | None
    counts: Counts | None


@app.screen(
    "HR-09",
    "/attendance/today",
    roles=MANAGERS,
    scope={"branch_manager": "branch", "hr_manager": "all"},
    cache="people",
    events=("AttendanceRecorded", "LeaveChanged", "EmployeeChanged"),
    response=Board,
)
async def today(call: Call, *, query: BoardQuery) -> dict[str, Any]:
    """Today's board: checked in (time, distance), late, not yet in, on leave; counts on page one."""
    result = await today_board(
        call.session,
        call.actor,
        limit=query.limit,
        after_id=after_id(decode_cursor(query.cursor)),
        branch_id=query.branch_id,
        department_id=query.department_id,
    )
    out = page(result["items"], query.limit, lambda r: {"i": r["employee"]["id"]})
    return {**out, "counts": result["counts"]}


class Correction(Body):
    employee_id: Id
    date: DateIn
    check_in_at: DateTimeIn | None = None
    check_out_at: DateTimeIn | None = None
    status: AttendanceStatus | None = None
    reason: LongText = Field(min_length=1)


@app.action(
    "HR-10",
    "POST",
    "/attendance/corrections",
    roles=MANAGERS,
    scope=MANAGER_SCOPES,
    events=("AttendanceRecorded",),
    idempotency="optional",
    audit_entity="attendance_record",
    errors=("PAYROLL_LOCKED", "SELF_CORRECTION", "EMPLOYEE_NOT_FOUND"),
    response=Record,
)
async def correct(call: Call, *, body: Correction) -> dict[str, Any]:
    """Corrects or creates an employee's attendance for one day."""
    employee = await scoped_employee(call.session, call.actor, body.employee_id)
    record = await correct_attendance(
        call.session,
        employee_id=employee.id,
        day=body.date,
        reason=body.reason,
        actor=call.actor,
        check_in_at=body.check_in_at,
        check_out_at=body.check_out_at,
        status=body.status,
    )
    call.audit("attendance_record", record.id, after={"date": str(body.date), "status": record.status})
    return _record(employee, record)
