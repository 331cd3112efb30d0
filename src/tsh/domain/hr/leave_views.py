"""Leave screens and the caller-facing leave commands (apps/hr.md HR-11..14).

The rules live in `tsh.domain.hr.leave`; this module puts the Actor's scope in front of them:
an employee acts on their own requests, a branch manager on their branch, HR on everyone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.hr import leave
from tsh.domain.hr.models import Employee, LeaveRequest
from tsh.domain.hr.scope import check_media, employee_scope, names, own_employee_id, person, scoped_employee
from tsh.domain.shared import business_today
from tsh.platform.errors import Forbidden, NotFound


def leave_row(lr: LeaveRequest, employee: Any, refs: dict[str, dict[int, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": lr.id,
        "employee": person(employee),
        "type": lr.type,
        "from": lr.from_date,
        "to": lr.to_date,
        "half_day": lr.half_day,
        "days": str(lr.days),
        "status": lr.status,
        "reason": lr.reason,
        "media_id": lr.media_id,
        "decided_by": refs["users"].get(lr.decided_by_id) if lr.decided_by_id is not None else None,
        "decided_at": lr.decided_at,
        "note": lr.note,
        "created_at": lr.created_at,
    }


async def leave_requests(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after_id: int | None = None,
    status: str | None = None,
    type: str | None = None,
    employee_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """HR-11: requests of the employees in scope, newest first (limit + 1 rows)."""
    where: list[ColumnElement[bool]] = [employee_scope(actor)]
    if after_id is not None:
        where.append(LeaveRequest.id < after_id)
    for column, value in (
        (LeaveRequest.status, status),
        (LeaveRequest.type, type),
        (LeaveRequest.employee_id, employee_id),
    ):
        if value is not None:
            where.append(column == value)
    if date_from is not None:
        where.append(LeaveRequest.to_date >= date_from)
    if date_to is not None:
        where.append(LeaveRequest.from_date <= date_to)
    rows = list(
        await session.execute(
            select(LeaveRequest, Employee.id, Employee.code, Employee.name_en, Employee.name_ar)
            .join(Employee, Employee.id == LeaveRequest.employee_id)
            .where(*where)
            .order_by(LeaveRequest.id.desc())
            .limit(limit + 1)
        )
    )
    refs = await names(session, users={r[0].decided_by_id for r in rows})
    return [leave_row(r[0], r, refs) for r in rows]


async def leave_request_view(session: AsyncSession, request_id: int) -> dict[str, Any]:
    row = (
        await session.execute(
            select(LeaveRequest, Employee.id, Employee.code, Employee.name_en, Employee.name_ar)
            .join(Employee, Employee.id == LeaveRequest.employee_id)
            .where(LeaveRequest.id == request_id)
        )
    ).one()
    refs = await names(session, users={row[0].decided_by_id})
    return leave_row(row[0], row, refs)


async def request_leave(
    session: AsyncSession,
    actor: Actor,
    *,
    type: str,
    from_date: dt.date,
    to_date: dt.date,
    half_day: bool = False,
    reason: str | None = None,
    media_id: int | None = None,
) -> LeaveRequest:
    """HR-12 for the caller's own employee record (404 EMPLOYEE_PROFILE_MISSING); the rules and
    codes of `leave.submit_leave`."""
    employee_id = own_employee_id(actor)
    await check_media(session, actor, media_id, "media_id")
    return await leave.submit_leave(
        session, employee_id=employee_id, type=type, from_date=from_date, to_date=to_date,
        half_day=half_day, reason=reason, media_id=media_id,
    )  # fmt: skip


async def set_leave_status(
    session: AsyncSession, actor: Actor, *, request_id: int, status: str, note: str | None = None
) -> LeaveRequest:
    """HR-13: `cancelled` by the requester (404 for anyone else, 409 INVALID_STATE, 409
    LEAVE_STARTED); `approved` / `rejected` by a manager in scope (403 FORBIDDEN with scope own,
    403 SELF_APPROVAL, 409 NOT_PENDING, 409 INSUFFICIENT_LEAVE_BALANCE)."""
    owner = await session.scalar(
        select(Employee.id)
        .join(LeaveRequest, LeaveRequest.employee_id == Employee.id)
        .where(LeaveRequest.id == request_id, employee_scope(actor))
    )
    if owner is None:
        raise NotFound("Leave request not found", code="LEAVE_REQUEST_NOT_FOUND")
    if status == "cancelled":
        return await leave.cancel_leave(session, request_id=request_id, actor=actor, note=note)
    if actor.scope == "own":
        raise Forbidden("Only a manager or HR approves or rejects leave")
    return await leave.decide_leave(
        session, request_id=request_id, status=status, actor=actor, note=note,
    )  # fmt: skip


async def leave_balances(
    session: AsyncSession, actor: Actor, *, employee_id: int | None = None, year: int | None = None
) -> dict[str, Any]:
    """HR-14: balances of one employee (default the caller) for a year (404 outside scope)."""
    target = employee_id if employee_id is not None else own_employee_id(actor)
    e = await scoped_employee(session, actor, target)
    year = year or business_today().year
    rows = await leave.balances(session, employee_id=e.id, year=year)
    return {
        "employee": person(e),
        "year": year,
        "balances": [{k: (v if k == "type" else str(v)) for k, v in b.items()} for b in rows],
    }
