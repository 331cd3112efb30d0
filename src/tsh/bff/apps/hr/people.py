"""HR-01 dashboard, HR-02 my HR, HR-03 directory, HR-04 employee file, HR-05 hire, HR-06 change."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from tsh.bff.apps.hr import MANAGER_SCOPES, MANAGERS, app
from tsh.bff.apps.hr.views import Balance, LeaveSummary, PayslipSummary, Person, Profile, RunSummary
from tsh.bff.call import Call, Created, Section
from tsh.bff.schemas import (
    Body,
    DateIn,
    Id,
    LongText,
    MoneyNonNegative,
    Page,
    Phone,
    Query,
    Text,
    decode_cursor,
    page,
)
from tsh.bff.views import Date, DecimalText, MoneyOut, Named, RowId, Timestamp, View
from tsh.domain.hr import hiring
from tsh.domain.hr.people_views import dashboard_parts, directory, employee_file, me
from tsh.domain.hr.scope import after_id

PEOPLE_EVENTS = (
    "EmployeeChanged",
    "AttendanceRecorded",
    "LeaveChanged",
    "PayrollProcessed",
    "ReviewCycleChanged",
)

# -- HR-01 -----------------------------------------------------------------------------------------


class DashboardQuery(Query):
    branch_id: Id | None = None
    department_id: Id | None = None


class DepartmentCount(View):
    department: Named
    count: int


class BranchCount(View):
    branch: Named
    count: int


class Today(View):
    date: Date
    present: int
    late: int
    absent: int
    on_leave: int


class CycleProgress(View):
    id: RowId
    name: str
    manager_due: Date
    total: int
    awaiting_self: int
    awaiting_manager: int
    completed: int


class Dashboard(View):
    """`payroll` is null when there is no run yet; `payroll` and `review_cycles` are null when
    their section could not be had (metadata.sections: timeout or error, no last good value)."""

    headcount: int
    by_department: list[DepartmentCount]
    by_branch: list[BranchCount]
    today: Today
    pending_leave_requests: int
    payroll: RunSummary | None
    review_cycles: list[CycleProgress] | None
    hires_this_month: int
    exits_this_month: int


@app.screen(
    "HR-01",
    "/dashboard",
    roles=MANAGERS,
    scope=MANAGER_SCOPES,
    cache="dashboard",
    events=PEOPLE_EVENTS,
    errors=("SECTION_TIMEOUT",),
    response=Dashboard,
)
async def hr_dashboard(call: Call, *, query: DashboardQuery) -> dict[str, Any]:
    """HR dashboard: headcount, today's attendance, pending leave, payroll, reviews, hires and exits.

    Sections: `people` (headcount, today, pending leave, hires and exits; required), `payroll`,
    `reviews`: a late or failed one is its last good value (stale) or null.
    """
    parts = dashboard_parts(call.actor, branch_id=query.branch_id, department_id=query.department_id)
    got = await call.sections(
        {
            "people": Section(parts["people"], budget_ms=5000, required=True),
            "payroll": Section(parts["payroll"], budget_ms=1000),
            "reviews": Section(parts["reviews"], budget_ms=1000),
        }
    )
    data: dict[str, Any] = got["people"]
    data |= got["payroll"] or {"payroll": None}
    data |= got["reviews"] or {"review_cycles": None}
    return data


# -- HR-02 -----------------------------------------------------------------------------------------


class Geofence(View):
    distance_m: float | None
    radius_m: int | None
    inside: bool | None
    field_staff: bool


class TodayState(View):
    date: Date
    state: Literal["present", "late", "on_leave", "not_in", "off"]
    check_in_at: Timestamp | None
    check_out_at: Timestamp | None
    late_min: int
    geofence: Geofence


class Awaiting(View):
    id: RowId
    cycle: Named
    employee: Person
    as_: Literal["reviewee", "reviewer"] = Field(alias="as")
    due: Date


class Me(View):
    profile: Profile
    today: TodayState
    leave_balances: list[Balance]
    pending_requests: list[LeaveSummary]
    latest_payslip: PayslipSummary | None
    reviews_awaiting: list[Awaiting]


@app.screen(
    "HR-02",
    "/me",
    roles=("employee",),
    scope="own",
    cache="people",
    events=PEOPLE_EVENTS,
    errors=("EMPLOYEE_PROFILE_MISSING",),
    response=Me,
)
async def my_hr(call: Call) -> dict[str, Any]:
    """Self-service home: profile, today's attendance, balances, requests, payslip, reviews."""
    return await me(call.session, call.actor)


# -- HR-03 -----------------------------------------------------------------------------------------


class DirectoryQuery(Page):
    q: str | None = Field(default=None, min_length=1, max_length=100)
    department_id: Id | None = None
    branch_id: Id | None = None
    status: Literal["active", "on_leave", "terminated"] | None = None
    manager_id: Id | None = None


class DirectoryRow(Person):
    job_title: str
    department: Named | None
    branch: Named | None
    manager: Person | None
    status: Literal["active", "on_leave", "terminated"]
    hire_date: Date


class DirectoryPage(View):
    items: list[DirectoryRow]
    next_cursor: str | None


def _by_id(row: dict[str, Any]) -> dict[str, Any]:
    return {"i": row["id"]}


@app.screen(
    "HR-03",
    "/employees",
    roles=MANAGERS,
    scope=MANAGER_SCOPES,
    cache="people",
    events=("EmployeeChanged",),
    response=DirectoryPage,
)
async def employees(call: Call, *, query: DirectoryQuery) -> dict[str, Any]:
    """Employee directory (never with salary)."""
    rows = await directory(
        call.session,
        call.actor,
        limit=query.limit,
        after_id=after_id(decode_cursor(query.cursor)),
        q=query.q,
        department_id=query.department_id,
        branch_id=query.branch_id,
        status=query.status,
        manager_id=query.manager_id,
    )
    return page(rows, query.limit, _by_id)


# -- HR-04 -----------------------------------------------------------------------------------------


class Salary(View):
    base_salary: MoneyOut
    effective_from: Date | None
    previous_base_salary: MoneyOut | None


class MonthAttendance(View):
    days_present: int
    late_days: int
    late_minutes: int
    absences: int
    leave_days: int
    overtime_hours: DecimalText


class ReviewRef(View):
    id: RowId
    cycle: Named
    status: Literal["awaiting_self", "awaiting_manager", "completed"]
    overall_score: DecimalText | None
    completed_at: Timestamp | None


class EmployeeFile(Profile):
    national_id: str
    phone: str
    user_id: RowId | None
    termination_date: Date | None
    termination_reason: str | None
    annual_leave_days: int
    direct_reports: list[Person]
    salary: Salary | None
    attendance_this_month: MonthAttendance | None
    leave_balances: list[Balance]
    reviews: list[ReviewRef]
    payslips: list[PayslipSummary] | None


@app.screen(
    "HR-04",
    "/employees/{id}",
    roles=MANAGERS,
    scope=MANAGER_SCOPES,
    cache="people",
    events=PEOPLE_EVENTS,
    errors=("EMPLOYEE_NOT_FOUND",),
    response=EmployeeFile,
)
async def employee(call: Call, *, id: int) -> dict[str, Any]:
    """Employee file: job, manager, reports, salary (HR only), attendance, leave, reviews, payslips."""
    return await employee_file(call.session, call.actor, id)


# -- HR-05 / HR-06 ---------------------------------------------------------------------------------


class WorkSchedule(Body):
    start: dt.time
    end: dt.time
    weekly_off_days: list[int] = Field(max_length=6)

    @model_validator(mode="after")
    def _days(self) -> WorkSchedule:
        if any(not 1 <= d <= 7 for d in self.weekly_off_days):
            raise ValueError("weekly_off_days are ISO weekdays 1..7")
        return self

    def domain(self) -> hiring.Schedule:
        return hiring.Schedule(self.start, self.end, list(self.weekly_off_days))


class NewUser(Body):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    role: str = Field(min_length=1, max_length=32)


class EmployeeIn(Body):
    """The employee fields of HR-05; ADM-04 takes them too (an admin hires and creates the user
    in one call, clarifications: staff users)."""

    name_ar: Text
    name_en: Text
    national_id: str = Field(min_length=4, max_length=30)
    phone: Phone
    department_id: Id
    branch_id: Id
    job_title: str = Field(min_length=1, max_length=100)
    manager_id: Id | None = None
    hire_date: DateIn
    base_salary: MoneyNonNegative
    field_staff: bool = False
    work_schedule: WorkSchedule | None = None
    annual_leave_days: int | None = Field(default=None, ge=0, le=60)

    def hire_fields(self) -> dict[str, Any]:
        """The keyword arguments of `hiring.hire_employee`."""
        return {
            "name_ar": self.name_ar,
            "name_en": self.name_en,
            "national_id": self.national_id,
            "phone": self.phone,
            "department_id": self.department_id,
            "branch_id": self.branch_id,
            "job_title": self.job_title,
            "hire_date": self.hire_date,
            "base_salary": self.base_salary.amount,
            "currency": self.base_salary.currency,
            "manager_id": self.manager_id,
            "field_staff": self.field_staff,
            "schedule": self.work_schedule.domain() if self.work_schedule else None,
            "annual_leave_days": self.annual_leave_days,
        }


class Hire(EmployeeIn):
    user_id: Id | None = None
    create_user: NewUser | None = None


class Hired(View):
    employee: EmployeeFile
    user_id: RowId | None
    setup_token: str | None


@app.action(
    "HR-05",
    "POST",
    "/employees",
    roles=("hr_manager",),
    scope="all",
    events=("EmployeeChanged", "UserChanged"),
    idempotency="optional",
    audit_entity="employee",
    errors=("NATIONAL_ID_TAKEN", "USER_ALREADY_LINKED", "ROLE_NOT_STAFF", "EMAIL_TAKEN"),
    response=Hired,
)
async def hire(call: Call, *, body: Hire) -> Created:
    """Hires an employee, optionally linking a user or creating a staff user with a setup link."""
    result = await hiring.hire_employee(
        call.session,
        call.actor,
        **body.hire_fields(),
        user_id=body.user_id,
        create_user=(body.create_user.email, body.create_user.role) if body.create_user else None,
    )
    call.audit(
        "employee", result.employee.id, after={"code": result.employee.code, "user_id": result.user_id}
    )
    return Created(
        {
            "employee": await employee_file(call.session, call.actor, result.employee.id),
            "user_id": result.user_id,
            "setup_token": result.setup_token,
        }
    )


class Change(Body):
    department_id: Id | None = None
    branch_id: Id | None = None
    job_title: str | None = Field(default=None, min_length=1, max_length=100)
    manager_id: Id | None = None
    base_salary: MoneyNonNegative | None = None
    salary_effective_from: DateIn | None = None
    field_staff: bool | None = None
    work_schedule: WorkSchedule | None = None
    annual_leave_days: int | None = Field(default=None, ge=0, le=60)
    status: Literal["terminated"] | None = None
    termination_date: DateIn | None = None
    termination_reason: LongText | None = None


@app.action(
    "HR-06",
    "PATCH",
    "/employees/{id}",
    roles=("hr_manager",),
    scope="all",
    events=("EmployeeChanged", "UserChanged"),
    idempotency="optional",
    audit_entity="employee",
    errors=("EMPLOYEE_NOT_FOUND", "MANAGER_CYCLE", "ALREADY_TERMINATED", "EFFECTIVE_IN_PROCESSED_MONTH"),
    response=EmployeeFile,
)
async def change(call: Call, *, body: Change, id: int) -> dict[str, Any]:
    """Changes job data, salary, manager, branch or schedule, or terminates the employee."""
    sent = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {k: v for k, v in sent.items() if k not in ("base_salary", "work_schedule")}
    if body.base_salary is not None:
        changes["base_salary"] = (body.base_salary.amount, body.base_salary.currency)
    if body.work_schedule is not None:
        changes["work_schedule"] = body.work_schedule.domain()
    employee_ = await hiring.update_employee(call.session, call.actor, employee_id=id, changes=changes)
    call.audit("employee", id, after={k: str(v) for k, v in sent.items()})
    return await employee_file(call.session, call.actor, employee_.id)
