"""HR-11 leave requests, HR-12 request leave, HR-13 decide or cancel, HR-14 leave balances."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.hr import EVERYONE, EVERYONE_SCOPES, app
from tsh.bff.apps.hr.views import Balance, LeaveStatus, LeaveType, Person
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, LongText, Page, Query, decode_cursor, page
from tsh.bff.views import Date, DecimalText, Named, RowId, Timestamp, View
from tsh.domain.hr.leave_views import (
    leave_balances,
    leave_request_view,
    leave_requests,
    request_leave,
    set_leave_status,
)
from tsh.domain.hr.scope import after_id


class LeaveQuery(Page):
    status: LeaveStatus | None = None
    type: LeaveType | None = None
    employee_id: Id | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


class LeaveRow(View):
    id: RowId
    employee: Person
    type: LeaveType
    from_: Date = Field(alias="from")
    to: Date
    half_day: bool
    days: DecimalText
    status: LeaveStatus
    reason: str | None
    media_id: RowId | None
    decided_by: Named | None
    decided_at: Timestamp | None
    note: str | None
    created_at: Timestamp


class LeavePage(View):
    items: list[LeaveRow]
    next_cursor: str | None


@app.screen(
    "HR-11",
    "/leave-requests",
    roles=EVERYONE,
    scope=EVERYONE_SCOPES,
    cache="people",
    events=("LeaveChanged",),
    response=LeavePage,
)
async def requests(call: Call, *, query: LeaveQuery) -> dict[str, Any]:
    """Leave requests: employee, type, dates, working days, status, decided by."""
    rows = await leave_requests(
        call.session,
        call.actor,
        limit=query.limit,
        after_id=after_id(decode_cursor(query.cursor)),
        status=query.status,
        type=query.type,
        employee_id=query.employee_id,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, lambda r: {"i": r["id"]})


class NewLeave(Body):
    type: LeaveType
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    half_day: bool = False
    reason: LongText | None = None
    media_id: Id | None = None


@app.action(
    "HR-12",
    "POST",
    "/leave-requests",
    roles=("employee",),
    scope="own",
    events=("LeaveChanged",),
    idempotency="optional",
    audit_entity="leave_request",
    errors=(
        "EMPLOYEE_PROFILE_MISSING",
        "INVALID_DATES",
        "OVERLAPPING_LEAVE",
        "INSUFFICIENT_LEAVE_BALANCE",
        "MEDICAL_NOTE_REQUIRED",
    ),
    response=LeaveRow,
)
async def request(call: Call, *, body: NewLeave) -> Created:
    """Caller requests leave (working days only)."""
    lr = await request_leave(
        call.session,
        call.actor,
        type=body.type,
        from_date=body.date_from,
        to_date=body.date_to,
        half_day=body.half_day,
        reason=body.reason,
        media_id=body.media_id,
    )
    call.audit("leave_request", lr.id, after={"type": lr.type, "days": str(lr.days), "status": lr.status})
    return Created(await leave_request_view(call.session, lr.id))


class Decision(Body):
    status: Literal["approved", "rejected", "cancelled"]
    note: LongText | None = None


@app.action(
    "HR-13",
    "PUT",
    "/leave-requests/{id}/status",
    roles=EVERYONE,
    scope=EVERYONE_SCOPES,
    events=("LeaveChanged",),
    idempotency="optional",
    audit_entity="leave_request",
    errors=(
        "LEAVE_REQUEST_NOT_FOUND",
        "SELF_APPROVAL",
        "NOT_PENDING",
        "LEAVE_STARTED",
        "INSUFFICIENT_LEAVE_BALANCE",
        "INVALID_STATE",
    ),
    response=LeaveRow,
)
async def decide(call: Call, *, body: Decision, id: int) -> dict[str, Any]:
    """Approves or rejects a pending request, or the requester cancels it before it starts."""
    lr = await set_leave_status(call.session, call.actor, request_id=id, status=body.status, note=body.note)
    call.audit("leave_request", lr.id, after={"status": lr.status})
    return await leave_request_view(call.session, lr.id)


class BalanceQuery(Query):
    employee_id: Id | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)


class Balances(View):
    employee: Person
    year: int
    balances: list[Balance]


@app.screen(
    "HR-14",
    "/leave-balances",
    roles=EVERYONE,
    scope=EVERYONE_SCOPES,
    cache="people",
    events=("LeaveChanged", "EmployeeChanged"),
    errors=("EMPLOYEE_NOT_FOUND", "EMPLOYEE_PROFILE_MISSING"),
    response=Balances,
)
async def balances(call: Call, *, query: BalanceQuery) -> dict[str, Any]:
    """Leave balances of one employee for a year by type."""
    return await leave_balances(call.session, call.actor, employee_id=query.employee_id, year=query.year)
