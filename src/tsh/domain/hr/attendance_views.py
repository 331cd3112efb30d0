"""Attendance screens (apps/hr.md HR-08 records, HR-09 today's board) and today's state of employees.

Absences are derived, not stored (clarifications): a working day of an employed person (not a
weekly off day, not a public holiday of their branch) with no attendance record and no approved
leave counts as `absent` once the day is over. Days with approved leave and no record are
`on_leave`. Today's state: checked in (`present` or `late`), `on_leave`, `not_in` (a working day
without a check-in yet) or `off` (weekly off day or holiday).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.hr.models import AttendanceRecord, Employee, LeaveRequest, PublicHoliday
from tsh.domain.hr.scope import check_range, employee_scope, names, person
from tsh.domain.shared import business_today
from tsh.platform.errors import Invalid, field_error

MAX_RANGE_DAYS = 92
TODAY_STATES = ("present", "late", "on_leave", "not_in", "off")


async def holiday_map(session: AsyncSession, start: dt.date, end: dt.date) -> dict[int | None, set[dt.date]]:
    """Public holidays in [start, end] by branch id (None = company-wide)."""
    out: dict[int | None, set[dt.date]] = defaultdict(set)
    rows = await session.execute(
        select(PublicHoliday.date, PublicHoliday.branch_id).where(
            PublicHoliday.date >= start, PublicHoliday.date <= end
        )
    )
    for day, branch_id in rows:
        out[branch_id].add(day)
    return out


def is_working(e: Any, day: dt.date, off: dict[int | None, set[dt.date]]) -> bool:
    return (
        day.isoweekday() not in {int(d) for d in e.weekly_off_days}
        and day not in off.get(None, set())
        and day not in off.get(e.branch_id, set())
    )


def employed(e: Any, day: dt.date) -> bool:
    return e.hire_date <= day and (e.termination_date is None or day <= e.termination_date)


async def approved_leave(
    session: AsyncSession, employee_ids: Iterable[int], start: dt.date, end: dt.date
) -> dict[int, dict[dt.date, str]]:
    """Approved leave days in [start, end] by employee: {employee_id: {date: type}}."""
    ids = list(employee_ids)
    out: dict[int, dict[dt.date, str]] = defaultdict(dict)
    if not ids:
        return out
    rows = await session.execute(
        select(
            LeaveRequest.employee_id, LeaveRequest.from_date, LeaveRequest.to_date, LeaveRequest.type
        ).where(
            LeaveRequest.employee_id.in_(ids),
            LeaveRequest.status == "approved",
            LeaveRequest.from_date <= end,
            LeaveRequest.to_date >= start,
        )
    )
    for eid, a, b, type_ in rows:
        day = max(a, start)
        while day <= min(b, end):
            out[eid][day] = type_
            day += dt.timedelta(days=1)
    return out


RECORD_COLUMNS = (
    AttendanceRecord.id,
    AttendanceRecord.employee_id,
    AttendanceRecord.date,
    AttendanceRecord.status,
    AttendanceRecord.check_in_at,
    AttendanceRecord.check_out_at,
    AttendanceRecord.check_in_distance_m,
    AttendanceRecord.check_out_distance_m,
    AttendanceRecord.late_min,
    AttendanceRecord.worked_min,
    AttendanceRecord.overtime_min,
    AttendanceRecord.flags,
    AttendanceRecord.corrected_at,
)


def _record_row(r: Any) -> dict[str, Any]:
    return {
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
    }


def _derived_row(day: dt.date, status: str, leave_type: str | None = None) -> dict[str, Any]:
    return {
        "date": day,
        "status": status,
        "check_in_at": None,
        "check_out_at": None,
        "check_in_distance_m": None,
        "check_out_distance_m": None,
        "late_min": 0,
        "worked_min": 0,
        "overtime_min": 0,
        "flags": [],
        "corrected": False,
        "record_id": None,
        "leave_type": leave_type,
    }


async def today_states(
    session: AsyncSession, employees: Sequence[Any], today: dt.date | None = None
) -> dict[int, dict[str, Any]]:
    """Today's state of each employee: {id: {state, record (or None), leave_type}}."""
    today = today or business_today()
    ids = [e.id for e in employees]
    records: dict[int, AttendanceRecord] = {}
    if ids:
        stmt = select(AttendanceRecord).where(
            AttendanceRecord.employee_id.in_(ids), AttendanceRecord.date == today
        )
        records = {r.employee_id: r for r in await session.scalars(stmt)}
    leave = await approved_leave(session, ids, today, today)
    off = await holiday_map(session, today, today)
    out: dict[int, dict[str, Any]] = {}
    for e in employees:
        r = records.get(e.id)
        leave_type = leave.get(e.id, {}).get(today)
        if r is not None and r.check_in_at is not None:
            state = "late" if r.late_min > 0 else "present"
        elif leave_type is not None or (r is not None and r.status == "on_leave"):
            state = "on_leave"
        elif is_working(e, today, off):
            state = "not_in"
        else:
            state = "off"
        out[e.id] = {"state": state, "record": r, "leave_type": leave_type}
    return out


# -- HR-08 ---------------------------------------------------------------------------------------


def _summary(e: Any) -> dict[str, Any]:
    return {
        "employee": person(e),
        "days_present": 0,
        "late_days": 0,
        "late_minutes": 0,
        "absences": 0,
        "leave_days": 0,
        "overtime_hours": Decimal("0"),
    }


async def attendance_records(
    session: AsyncSession,
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    limit: int,
    after: dict[str, Any] | None = None,
    employee_id: int | None = None,
    department_id: int | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Records of the period, newest day first then by employee, stored and derived (absent,
    on_leave), and on the first page the per-employee summary of the whole period.

    422 INVALID_DATES, 422 RANGE_TOO_LONG above 92 days."""
    check_range(date_from, date_to, MAX_RANGE_DAYS)
    today = business_today()
    where: list[ColumnElement[bool]] = [employee_scope(actor), Employee.hire_date <= date_to]
    where.append(or_(Employee.termination_date.is_(None), Employee.termination_date >= date_from))
    if employee_id is not None:
        where.append(Employee.id == employee_id)
    if department_id is not None:
        where.append(Employee.department_id == department_id)
    employees = list(
        await session.execute(
            select(
                Employee.id, Employee.code, Employee.name_en, Employee.name_ar, Employee.branch_id,
                Employee.weekly_off_days, Employee.hire_date, Employee.termination_date,
            ).where(*where).order_by(Employee.id)
        )
    )  # fmt: skip
    ids = [e.id for e in employees]
    start_day, start_emp = date_to, 0
    if after is not None:
        try:
            start_day, start_emp = dt.date.fromisoformat(after["d"]), int(after["e"])
        except (KeyError, TypeError, ValueError):
            raise Invalid(
                "The cursor is not valid", details=[field_error("cursor", "not for this list")]
            ) from None
    # Plain rows, not ORM objects: a company-wide quarter is tens of thousands of records. Later
    # pages need only the days from the cursor back.
    records: dict[tuple[int, dt.date], Any] = {}
    if ids:
        for r in await session.execute(
            select(*RECORD_COLUMNS).where(
                AttendanceRecord.employee_id.in_(ids),
                AttendanceRecord.date >= date_from,
                AttendanceRecord.date <= (start_day if after is not None else date_to),
            )
        ):
            records[(r.employee_id, r.date)] = r
    leave = await approved_leave(session, ids, date_from, date_to)
    off = await holiday_map(session, date_from, date_to)
    items: list[dict[str, Any]] = []
    summary = {e.id: _summary(e) for e in employees}
    first_page = after is None
    day = date_to if first_page else min(start_day, date_to)
    while day >= date_from and (first_page or len(items) <= limit):
        for e in employees:
            if not employed(e, day):
                continue
            rec = records.get((e.id, day))
            leave_type = leave.get(e.id, {}).get(day)
            if rec is not None:
                row = {**_record_row(rec), "leave_type": leave_type}
            elif leave_type is not None:
                row = _derived_row(day, "on_leave", leave_type)
            elif day < today and is_working(e, day, off):
                row = _derived_row(day, "absent")
            else:
                continue
            s = summary[e.id]
            s["days_present"] += row["status"] in ("present", "late", "half_day")
            s["late_days"] += row["status"] == "late"
            s["late_minutes"] += row["late_min"]
            s["absences"] += row["status"] == "absent"
            s["leave_days"] += row["status"] == "on_leave"
            s["overtime_hours"] += Decimal(row["overtime_min"])
            if status is not None and row["status"] != status:
                continue
            if (day, -e.id) >= (start_day, -start_emp) and after is not None:
                continue
            if len(items) <= limit:
                items.append({**row, "employee": person(e)})
        day -= dt.timedelta(days=1)
    for s in summary.values():
        s["overtime_hours"] = str((s["overtime_hours"] / 60).quantize(Decimal("0.01")))
    return {
        "items": items,
        "summary": [summary[i] for i in ids] if first_page else None,
    }


# -- HR-09 ---------------------------------------------------------------------------------------


async def today_board(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after_id: int | None = None,
    branch_id: int | None = None,
    department_id: int | None = None,
) -> dict[str, Any]:
    """Today's board of the active employees in scope, by employee id, with the counts per state
    on the first page."""
    today = business_today()
    where: list[ColumnElement[bool]] = [
        employee_scope(actor),
        Employee.status == "active",
        Employee.hire_date <= today,
    ]
    if branch_id is not None:
        where.append(Employee.branch_id == branch_id)
    if department_id is not None:
        where.append(Employee.department_id == department_id)
    cols = (
        Employee.id, Employee.code, Employee.name_en, Employee.name_ar, Employee.branch_id,
        Employee.department_id, Employee.weekly_off_days, Employee.work_start,
    )  # fmt: skip
    counts: dict[str, int] | None = None
    if after_id is None:
        everyone = list(await session.execute(select(*cols).where(*where)))
        states = await today_states(session, everyone, today)
        counts = {s: 0 for s in TODAY_STATES}
        for v in states.values():
            counts[v["state"]] += 1
    stmt = select(*cols).where(*where)
    if after_id is not None:
        stmt = stmt.where(Employee.id > after_id)
    rows = list(await session.execute(stmt.order_by(Employee.id).limit(limit + 1)))
    states = await today_states(session, rows, today)
    refs = await names(
        session, departments={r.department_id for r in rows}, branches={r.branch_id for r in rows}
    )
    items = []
    for e in rows:
        st = states[e.id]
        r = st["record"]
        items.append(
            {
                "employee": person(e),
                "branch": refs["branches"].get(e.branch_id),
                "department": refs["departments"].get(e.department_id),
                "state": st["state"],
                "work_start": e.work_start.strftime("%H:%M"),
                "check_in_at": r.check_in_at if r is not None else None,
                "check_out_at": r.check_out_at if r is not None else None,
                "distance_m": r.check_in_distance_m if r is not None else None,
                "late_min": r.late_min if r is not None else 0,
                "flags": list(r.flags or []) if r is not None else [],
                "leave_type": st["leave_type"],
            }
        )
    return {"items": items, "counts": counts}
