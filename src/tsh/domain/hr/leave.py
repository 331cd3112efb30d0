"""Leave requests and balances (domain.md §9, apps/hr.md HR-12..14).

- Leave days count working days only: the employee's weekly off days and the public holidays of
  their branch or of the whole company are excluded; a half day (one working day) counts 0.5.
- Balances per (employee, year, type): remaining = entitled + carried_over − taken − pending. A
  request books its days as pending; approval moves them to taken; rejection releases them;
  cancellation gives back pending or taken days. Unpaid leave is tracked but never limited.
- A balance row missing for the year is created on first use with the employee's annual_leave_days
  (annual) or the company defaults of DEFAULT_ENTITLEMENTS.
- Sick leave may be requested for past days (it is reported after the fact); other types start
  today at the earliest. A request stays inside one calendar year (balances are yearly).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.hr.models import LEAVE_TYPES, Employee, LeaveBalance, LeaveRequest, PublicHoliday
from tsh.domain.shared import business_today
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

ZERO = Decimal("0")
HALF = Decimal("0.5")
# Working days per year for the types that are not the employee's annual_leave_days.
DEFAULT_ENTITLEMENTS: dict[str, Decimal] = {
    "sick": Decimal(15),
    "emergency": Decimal(5),
    "maternity": Decimal(84),  # 14 weeks of six working days
    "unpaid": ZERO,
}
SICK_NOTE_DAYS = Decimal(2)
MANAGING_ROLES = ("hr_manager", "branch_manager", "admin")


async def holidays(
    session: AsyncSession, branch_id: int | None, start: dt.date, end: dt.date
) -> set[dt.date]:
    """Public holidays between start and end (inclusive): company-wide and those of branch_id."""
    stmt = select(PublicHoliday.date).where(
        PublicHoliday.date >= start,
        PublicHoliday.date <= end,
        or_(PublicHoliday.branch_id.is_(None), PublicHoliday.branch_id == branch_id),
    )
    return set(await session.scalars(stmt))


def working_dates(
    start: dt.date, end: dt.date, weekly_off_days: list[Any], off: set[dt.date]
) -> list[dt.date]:
    """Dates in [start, end] that are neither a weekly off day (ISO weekday) nor in `off`."""
    weekly = {int(d) for d in weekly_off_days}
    days = (end - start).days + 1
    dates = (start + dt.timedelta(days=i) for i in range(max(0, days)))
    return [d for d in dates if d.isoweekday() not in weekly and d not in off]


async def leave_days(
    session: AsyncSession, *, employee: Employee, from_date: dt.date, to_date: dt.date, half_day: bool = False
) -> Decimal:
    """Working days of the employee in [from_date, to_date]; 0.5 for a half day on a working day."""
    off = await holidays(session, employee.branch_id, from_date, to_date)
    count = Decimal(len(working_dates(from_date, to_date, employee.weekly_off_days, off)))
    return count * HALF if half_day else count


def remaining(balance: LeaveBalance) -> Decimal:
    return balance.entitled + balance.carried_over - balance.taken - balance.pending


async def _employee(session: AsyncSession, employee_id: int) -> Employee:
    employee = await session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("Employee not found", code="EMPLOYEE_NOT_FOUND")
    return employee


async def _balance(session: AsyncSession, employee: Employee, year: int, type_: str) -> LeaveBalance:
    """The (employee, year, type) balance row, locked; created with the default entitlement."""
    where = (LeaveBalance.employee_id == employee.id, LeaveBalance.year == year, LeaveBalance.type == type_)
    row = await session.scalar(select(LeaveBalance).where(*where).with_for_update())
    if row is None:
        entitled = Decimal(employee.annual_leave_days) if type_ == "annual" else DEFAULT_ENTITLEMENTS[type_]
        row = LeaveBalance(
            employee_id=employee.id, year=year, type=type_, entitled=entitled, carried_over=ZERO, taken=ZERO,
            pending=ZERO,
        )  # fmt: skip
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:  # a concurrent request created the row first: wait for its lock
            row = (await session.scalars(select(LeaveBalance).where(*where).with_for_update())).one()
    return row


def _insufficient(balance: LeaveBalance, days: Decimal) -> Conflict:
    return Conflict(
        "Not enough leave left",
        code="INSUFFICIENT_LEAVE_BALANCE",
        details=[
            field_error("to", "insufficient balance", remaining=str(remaining(balance)), days=str(days))
        ],
    )


def _changed(session: AsyncSession, employee: Employee) -> None:
    raise_event(session, "LeaveChanged", users=[employee.user_id], branches=[employee.branch_id])


async def balances(session: AsyncSession, *, employee_id: int, year: int) -> list[dict[str, Any]]:
    """The employee's balances of `year` by type (stored rows; defaults for types never used)."""
    employee = await _employee(session, employee_id)
    rows = {
        b.type: b
        for b in await session.scalars(
            select(LeaveBalance).where(LeaveBalance.employee_id == employee_id, LeaveBalance.year == year)
        )
    }
    out = []
    for type_ in LEAVE_TYPES:
        b = rows.get(type_)
        entitled = Decimal(employee.annual_leave_days) if type_ == "annual" else DEFAULT_ENTITLEMENTS[type_]
        values = (b.entitled, b.carried_over, b.taken, b.pending) if b else (entitled, ZERO, ZERO, ZERO)
        out.append(
            {
                "type": type_,
                "entitled": values[0],
                "carried_over": values[1],
                "taken": values[2],
                "pending": values[3],
                "remaining": values[0] + values[1] - values[2] - values[3],
            }
        )
    return out


async def submit_leave(
    session: AsyncSession,
    *,
    employee_id: int,
    type: str,
    from_date: dt.date,
    to_date: dt.date,
    half_day: bool = False,
    reason: str | None = None,
    media_id: int | None = None,
    today: dt.date | None = None,
) -> LeaveRequest:
    """Request leave (HR-12): 422 INVALID_DATES, 409 OVERLAPPING_LEAVE, 409 INSUFFICIENT_LEAVE_BALANCE
    (not for unpaid), 422 MEDICAL_NOTE_REQUIRED (sick over 2 days without media). Emits LeaveChanged."""
    if type not in LEAVE_TYPES:
        raise Invalid("Unknown leave type", details=[field_error("type", "unknown leave type")])
    employee = await _employee(session, employee_id)
    today = today or business_today()
    problems = []
    if to_date < from_date:
        problems.append(field_error("to", "before from"))
    if from_date.year != to_date.year:
        problems.append(field_error("to", "a request stays inside one calendar year"))
    if half_day and from_date != to_date:
        problems.append(field_error("half_day", "a half day is a single date"))
    if from_date < today and type != "sick":
        problems.append(field_error("from", "in the past"))
    if employee.status == "terminated" or (employee.termination_date and to_date > employee.termination_date):
        problems.append(field_error("to", "after the termination date"))
    if not problems:
        days = await leave_days(
            session, employee=employee, from_date=from_date, to_date=to_date, half_day=half_day
        )
        if days <= 0:
            problems.append(field_error("from", "no working day in the range"))
    if problems:
        raise Invalid("The leave dates are invalid", code="INVALID_DATES", details=problems)
    if type == "sick" and days > SICK_NOTE_DAYS and media_id is None:
        raise Invalid(
            "Sick leave over 2 days needs a medical note",
            code="MEDICAL_NOTE_REQUIRED",
            details=[field_error("media_id", "required for sick leave over 2 days")],
        )
    balance = await _balance(session, employee, from_date.year, type)  # locks: serialises requests
    overlap = await session.scalar(
        select(LeaveRequest.id).where(
            LeaveRequest.employee_id == employee.id,
            LeaveRequest.status.in_(("pending", "approved")),
            LeaveRequest.from_date <= to_date,
            LeaveRequest.to_date >= from_date,
        )
    )
    if overlap is not None:
        raise Conflict(
            "Another leave request covers these dates",
            code="OVERLAPPING_LEAVE",
            details=[field_error("from", "overlaps", leave_request_id=overlap)],
        )
    if type != "unpaid" and remaining(balance) < days:
        raise _insufficient(balance, days)
    balance.pending += days
    request = LeaveRequest(
        employee_id=employee.id, type=type, from_date=from_date, to_date=to_date, half_day=half_day,
        days=days, reason=reason, media_id=media_id, status="pending",
    )  # fmt: skip
    session.add(request)
    await session.flush()
    _changed(session, employee)
    return request


async def _request(session: AsyncSession, request_id: int) -> tuple[LeaveRequest, Employee]:
    request = await session.scalar(
        select(LeaveRequest).where(LeaveRequest.id == request_id).with_for_update()
    )
    if request is None:
        raise NotFound("Leave request not found", code="LEAVE_REQUEST_NOT_FOUND")
    return request, await _employee(session, request.employee_id)


async def decide_leave(
    session: AsyncSession,
    actor: Actor,
    *,
    request_id: int,
    status: str,
    note: str | None = None,
) -> LeaveRequest:
    """Approve or reject a pending request (HR-13) as hr_manager/admin, or branch_manager of the
    employee's branch (404 outside the actor's scope). 403 SELF_APPROVAL, 409 NOT_PENDING, 409
    INSUFFICIENT_LEAVE_BALANCE at approval. Emits LeaveChanged."""
    if status not in ("approved", "rejected"):
        raise Invalid("Decide with approved or rejected", details=[field_error("status", "invalid")])
    request, employee = await _request(session, request_id)
    if actor.role not in MANAGING_ROLES:
        raise Forbidden("Only a manager or HR decides leave")
    if not actor.in_branch(employee.branch_id):
        raise NotFound("Leave request not found", code="LEAVE_REQUEST_NOT_FOUND")
    if employee.user_id == actor.user_id:
        raise Forbidden("You cannot decide your own leave", code="SELF_APPROVAL")
    if request.status != "pending":
        raise Conflict("The request is not pending", code="NOT_PENDING")
    balance = await _balance(session, employee, request.from_date.year, request.type)
    balance.pending = max(ZERO, balance.pending - request.days)
    if status == "approved":
        if request.type != "unpaid" and remaining(balance) < request.days:
            raise _insufficient(balance, request.days)
        balance.taken += request.days
    request.status, request.decided_by_id, request.decided_at, request.note = (
        status,
        actor.user_id,
        utcnow(),
        note,
    )
    await session.flush()
    _changed(session, employee)
    return request


async def cancel_leave(
    session: AsyncSession,
    actor: Actor,
    *,
    request_id: int,
    note: str | None = None,
    today: dt.date | None = None,
) -> LeaveRequest:
    """The requester cancels a pending or approved request before it starts (HR-13): 404 when not
    their own, 409 INVALID_STATE when already rejected/cancelled, 409 LEAVE_STARTED. Gives the
    days back (pending or taken). Emits LeaveChanged."""
    request, employee = await _request(session, request_id)
    if employee.user_id != actor.user_id:
        raise NotFound("Leave request not found", code="LEAVE_REQUEST_NOT_FOUND")
    if request.status not in ("pending", "approved"):
        raise Conflict("The request is already closed", code="INVALID_STATE")
    if request.from_date <= (today or business_today()):
        raise Conflict("The leave has already started", code="LEAVE_STARTED")
    balance = await _balance(session, employee, request.from_date.year, request.type)
    if request.status == "pending":
        balance.pending = max(ZERO, balance.pending - request.days)
    else:
        balance.taken = max(ZERO, balance.taken - request.days)
    request.status, request.note = "cancelled", note if note is not None else request.note
    await session.flush()
    _changed(session, employee)
    return request
