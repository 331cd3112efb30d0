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

from sqlalchemy import ColumnElement, func, or_, select
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


class WorkingDays:
    """Working dates of a period per (weekly off days, branch): employees share schedules, so the
    screens test membership instead of recomputing weekday and holiday rules per day."""

    def __init__(self, start: dt.date, end: dt.date, off: dict[int | None, set[dt.date]]) -> None:
        self.start, self.end, self.off = start, end, off
        self._sets: dict[tuple[tuple[int, ...], int | None], frozenset[dt.date]] = {}

    def of(self, e: Any) -> frozenset[dt.date]:
        key = (tuple(sorted(int(d) for d in e.weekly_off_days)), e.branch_id)
        found = self._sets.get(key)
        if found is None:
            days = (self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1))
            found = self._sets[key] = frozenset(d for d in days if is_working(e, d, self.off))
        return found


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


async def _summaries(
    session: AsyncSession,
    employees: Sequence[Any],
    date_from: dt.date,
    date_to: dt.date,
    leave: dict[int, dict[dt.date, str]],
    off: dict[int | None, set[dt.date]],
    today: dt.date,
) -> list[dict[str, Any]]:
    """Per-employee figures of the period: stored records aggregated in SQL, derived absences and
    leave days from the record dates (no full rows: a company-wide quarter is many thousands)."""
    ids = [e.id for e in employees]
    agg: dict[int, Any] = {}
    dates: dict[int, set[dt.date]] = defaultdict(set)
    if ids:
        in_range = (
            AttendanceRecord.employee_id.in_(ids),
            AttendanceRecord.date >= date_from,
            AttendanceRecord.date <= date_to,
        )
        status = AttendanceRecord.status
        for row in await session.execute(
            select(
                AttendanceRecord.employee_id,
                func.count().filter(status.in_(("present", "late", "half_day"))).label("present"),
                func.count().filter(status == "late").label("late"),
                func.coalesce(func.sum(AttendanceRecord.late_min), 0).label("late_min"),
                func.coalesce(func.sum(AttendanceRecord.overtime_min), 0).label("overtime_min"),
                func.count().filter(status == "absent").label("absent"),
                func.count().filter(status == "on_leave").label("on_leave"),
            )
            .where(*in_range)
            .group_by(AttendanceRecord.employee_id)
        ):
            agg[row.employee_id] = row
        for eid, day in await session.execute(
            select(AttendanceRecord.employee_id, AttendanceRecord.date).where(*in_range)
        ):
            dates[eid].add(day)
    out = []
    working = WorkingDays(date_from, date_to, off)
    for e in employees:
        r = agg.get(e.id)
        seen, taken = dates.get(e.id, set()), leave.get(e.id, {})
        first, last = max(date_from, e.hire_date), min(date_to, e.termination_date or date_to)
        leave_days = sum(1 for d in taken if first <= d <= last and d not in seen)
        absences = sum(
            1 for d in working.of(e) if first <= d <= last and d < today and d not in seen and d not in taken
        )
        out.append(
            {
                "employee": person(e),
                "days_present": int(r.present) if r else 0,
                "late_days": int(r.late) if r else 0,
                "late_minutes": int(r.late_min) if r else 0,
                "absences": absences + (int(r.absent) if r else 0),
                "leave_days": leave_days + (int(r.on_leave) if r else 0),
                "overtime_hours": str(
                    (Decimal(int(r.overtime_min) if r else 0) / 60).quantize(Decimal("0.01"))
                ),
            }
        )
    return out


def _day_rows(
    day: dt.date, rec: Any, leave_type: str | None, working: frozenset[dt.date], today: dt.date
) -> dict[str, Any] | None:
    if rec is not None:
        return {**_record_row(rec), "leave_type": leave_type}
    if leave_type is not None:
        return _derived_row(day, "on_leave", leave_type)
    if day < today and day in working:
        return _derived_row(day, "absent")
    return None


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
    on_leave): up to limit + 1 rows; on the first page also the per-employee summary of the whole
    period. 422 INVALID_DATES, 422 RANGE_TOO_LONG above 92 days."""
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
    leave = await approved_leave(session, ids, date_from, date_to)
    off = await holiday_map(session, date_from, date_to)
    items: list[dict[str, Any]] = []
    working = WorkingDays(date_from, date_to, off)
    # Walk back from the cursor a few days at a time, reading only those days' records.
    span = max(1, -(-(limit + 1) // max(len(ids), 1)))
    day = min(start_day, date_to)
    while ids and day >= date_from and len(items) <= limit:
        low = max(date_from, day - dt.timedelta(days=span - 1))
        records = {
            (r.employee_id, r.date): r
            for r in await session.execute(
                select(*RECORD_COLUMNS).where(
                    AttendanceRecord.employee_id.in_(ids),
                    AttendanceRecord.date >= low,
                    AttendanceRecord.date <= day,
                )
            )
        }
        while day >= low and len(items) <= limit:
            for e in employees:
                if after is not None and day == start_day and e.id <= start_emp:
                    continue
                if not employed(e, day):
                    continue
                leave_type = leave.get(e.id, {}).get(day)
                row = _day_rows(day, records.get((e.id, day)), leave_type, working.of(e), today)
                if row is None or (status is not None and row["status"] != status):
                    continue
                items.append({**row, "employee": person(e)})
                if len(items) > limit:
                    break
            day -= dt.timedelta(days=1)
    summary = None
    if after is None:
        summary = await _summaries(session, employees, date_from, date_to, leave, off, today)
    return {"items": items, "summary": summary}


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
