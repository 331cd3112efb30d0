"""Response models shared by the HR screens (the documented shape of `data`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tsh.bff.views import Date, DecimalText, MoneyOut, Named, RowId, Timestamp, View

LeaveType = Literal["annual", "sick", "unpaid", "emergency", "maternity"]
LeaveStatus = Literal["pending", "approved", "rejected", "cancelled"]
AttendanceStatus = Literal["present", "late", "absent", "on_leave", "half_day"]
ReviewStatus = Literal["awaiting_self", "awaiting_manager", "completed"]
RunStatus = Literal["calculated", "approved", "paid"]


class Person(View):
    id: RowId
    code: str
    name: str
    name_ar: str


class Schedule(View):
    start: str
    end: str
    weekly_off_days: list[int]


class Profile(Person):
    job_title: str
    department: Named | None
    branch: Named | None
    manager: Person | None
    hire_date: Date
    status: Literal["active", "terminated"]
    field_staff: bool
    work_schedule: Schedule


class Balance(View):
    type: LeaveType
    entitled: DecimalText
    carried_over: DecimalText
    taken: DecimalText
    pending: DecimalText
    remaining: DecimalText


class LeaveSummary(View):
    id: RowId
    type: LeaveType
    from_: Date = Field(alias="from")
    to: Date
    half_day: bool
    days: DecimalText
    status: LeaveStatus


class PayslipSummary(View):
    id: RowId
    run_id: RowId
    year: int
    month: int
    gross: MoneyOut
    net: MoneyOut
    paid_on: Date | None


class RunSummary(View):
    id: RowId
    year: int
    month: int
    branch: Named | None
    status: RunStatus
    employee_count: int
    gross: list[MoneyOut] | None
    net: list[MoneyOut] | None
    calculated_at: Timestamp | None
    approved_at: Timestamp | None
    paid_on: Date | None


class CycleRef(View):
    id: RowId
    name: str
