"""Hiring and changing employees (apps/hr.md HR-05, HR-06; clarifications: staff users).

- A hire creates the Employee and optionally links an existing staff user or creates one through
  ADM-04's service (`register_user`: same rules, setup link and notification row; the raw token
  is returned once so a person can pass it on). Admin users are created only by
  ADM-04 (403), customer-side roles never get an employee (422 ROLE_NOT_STAFF).
- A salary change keeps the previous salary so payroll can prorate the month it starts in; it may
  not start in a month whose payroll is already approved or paid (422 EFFECTIVE_IN_PROCESSED_MONTH).
- A termination dated today or earlier disables the linked user at once (sessions revoked); a
  future one is stored and applied on its date by `apply_due_terminations` (the scheduled job).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.hr.models import Department, Employee, PayrollRun
from tsh.domain.hr.scope import scoped_employee
from tsh.domain.identity.administration import register_user
from tsh.domain.identity.models import Role, User
from tsh.domain.identity.rbac import STAFF_ROLES
from tsh.domain.identity.sessions import revoke_user_sessions
from tsh.domain.organisation.models import Branch
from tsh.domain.shared import business_today
from tsh.platform.errors import Conflict, Forbidden, Invalid, field_error

NOT_STAFF = ("consumer", "partner", "wholesale_client")


@dataclass(frozen=True)
class Schedule:
    start: dt.time
    end: dt.time
    weekly_off_days: list[int]


@dataclass
class Hired:
    employee: Employee
    user_id: int | None
    setup_token: str | None


async def _check_refs(
    session: AsyncSession, *, department_id: int | None, branch_id: int | None, manager_id: int | None
) -> None:
    problems = []
    if department_id is not None and await session.get(Department, department_id) is None:
        problems.append(field_error("department_id", "no such department"))
    if branch_id is not None and await session.get(Branch, branch_id) is None:
        problems.append(field_error("branch_id", "no such branch"))
    if manager_id is not None:
        manager = await session.get(Employee, manager_id)
        if manager is None or manager.status == "terminated":
            problems.append(field_error("manager_id", "no such active employee"))
    if problems:
        raise Invalid("Unknown references", details=problems)


def _check_schedule(schedule: Schedule | None) -> None:
    if schedule is None:
        return
    problems = []
    if schedule.end <= schedule.start:
        problems.append(field_error("work_schedule.end", "after start"))
    if len(set(schedule.weekly_off_days)) >= 7:
        problems.append(field_error("work_schedule.weekly_off_days", "at least one working day"))
    if problems:
        raise Invalid("The work schedule is invalid", details=problems)


async def _next_code(session: AsyncSession) -> str:
    last = await session.scalar(select(func.max(Employee.code)).where(Employee.code.like("EMP-%")))
    number = int(last[4:]) if last and last[4:].isdigit() else 0
    return f"EMP-{number + 1:04d}"


async def _staff_role(session: AsyncSession, role_code: str) -> Role:
    if role_code == "admin":
        raise Forbidden("Admin users are created only by the admin app (ADM-04)")
    if role_code in NOT_STAFF:
        raise Invalid(
            "Consumer, partner and wholesale client users have no employee",
            code="ROLE_NOT_STAFF",
            details=[field_error("role", "not a staff role")],
        )
    role = await session.scalar(select(Role).where(Role.code == role_code))
    if role is None or role_code not in STAFF_ROLES:
        raise Invalid("Unknown role", details=[field_error("create_user.role", "unknown role")])
    return role


async def hire_employee(
    session: AsyncSession,
    actor: Actor,
    *,
    name_ar: str,
    name_en: str,
    national_id: str,
    phone: str,
    department_id: int,
    branch_id: int,
    job_title: str,
    hire_date: dt.date,
    base_salary: Decimal,
    currency: str,
    manager_id: int | None = None,
    field_staff: bool = False,
    schedule: Schedule | None = None,
    annual_leave_days: int | None = None,
    user_id: int | None = None,
    create_user: tuple[str, str] | None = None,
) -> Hired:
    """Hire an employee (HR-05): 409 NATIONAL_ID_TAKEN, 409 USER_ALREADY_LINKED, 409 EMAIL_TAKEN,
    422 ROLE_NOT_STAFF, 403 FORBIDDEN for an admin user. Emits EmployeeChanged (and UserChanged when
    a user is created or linked)."""
    if user_id is not None and create_user is not None:
        raise Invalid(
            "Link a user or create one, not both", details=[field_error("create_user", "with user_id")]
        )
    await _check_refs(session, department_id=department_id, branch_id=branch_id, manager_id=manager_id)
    _check_schedule(schedule)
    if await session.scalar(select(Employee.id).where(Employee.national_id == national_id)) is not None:
        raise Conflict("Another employee has this national id", code="NATIONAL_ID_TAKEN")
    linked: User | None = None
    if user_id is not None:
        linked = await session.scalar(select(User).where(User.id == user_id).with_for_update())
        if linked is None:
            raise Invalid("Unknown user", details=[field_error("user_id", "no such user")])
        role_code = await session.scalar(select(Role.code).where(Role.id == linked.role_id))
        if role_code in NOT_STAFF:
            raise Invalid(
                "The user is not staff", code="ROLE_NOT_STAFF", details=[field_error("user_id", "not staff")]
            )
        if await session.scalar(select(Employee.id).where(Employee.user_id == user_id)) is not None:
            raise Conflict("The user is already linked to another employee", code="USER_ALREADY_LINKED")
    elif create_user is not None:
        await _staff_role(session, create_user[1])
    employee = Employee(
        code=await _next_code(session), name_ar=name_ar, name_en=name_en, national_id=national_id,
        phone=phone, department_id=department_id, branch_id=branch_id, job_title=job_title,
        manager_id=manager_id, hire_date=hire_date, status="active", base_salary=base_salary,
        currency=currency, field_staff=field_staff,
        annual_leave_days=21 if annual_leave_days is None else annual_leave_days,
    )  # fmt: skip
    if schedule is not None:
        employee.work_start, employee.work_end = schedule.start, schedule.end
        employee.weekly_off_days = sorted(set(schedule.weekly_off_days))
    session.add(employee)
    try:
        async with session.begin_nested():
            await session.flush()
            if linked is not None:
                employee.user_id = linked.id
                await session.flush()
    except IntegrityError as exc:  # a concurrent hire took the national id or the user
        if "user_id" in str(exc.orig).lower():
            raise Conflict(
                "The user is already linked to another employee", code="USER_ALREADY_LINKED"
            ) from None
        raise Conflict("Another employee has this national id", code="NATIONAL_ID_TAKEN") from None
    token: str | None = None
    if create_user is not None:
        # The same service as ADM-04 (EMAIL_TAKEN, the setup link and its notification row).
        user, link = await register_user(
            session, name=name_en, email=create_user[0], phone=phone, role=create_user[1],
            branch_id=branch_id, language=actor.language, employee_id=employee.id,
            customer_id=None, partner_id=None,
        )  # fmt: skip
        employee.user_id, token = user.id, link.token
    raise_event(
        session, "EmployeeChanged", users=[employee.user_id], branches=[branch_id], employee_id=employee.id
    )
    if linked is not None:
        raise_event(session, "UserChanged", users=[linked.id], branches=[branch_id], reason="employee_linked")
    return Hired(employee, employee.user_id, token)


async def _check_manager(session: AsyncSession, employee: Employee, manager_id: int) -> None:
    """422 MANAGER_CYCLE when the new manager is the employee or reports to them (at any depth)."""
    seen: set[int] = set()
    current: int | None = manager_id
    while current is not None and current not in seen:
        if current == employee.id:
            raise Invalid(
                "The manager chain would loop",
                code="MANAGER_CYCLE",
                details=[field_error("manager_id", "cycle")],
            )
        seen.add(current)
        current = await session.scalar(select(Employee.manager_id).where(Employee.id == current))


async def _processed_month(session: AsyncSession, employee: Employee, day: dt.date) -> bool:
    """Whether the month of `day` or a later one has an approved or paid run covering the employee."""
    found = await session.scalar(
        select(PayrollRun.id)
        .where(
            PayrollRun.status.in_(("approved", "paid")),
            (PayrollRun.year * 12 + PayrollRun.month) >= day.year * 12 + day.month,
            or_(PayrollRun.branch_id.is_(None), PayrollRun.branch_id == employee.branch_id),
        )
        .limit(1)
    )
    return found is not None


async def _disable_user(session: AsyncSession, employee: Employee) -> None:
    if employee.user_id is None:
        return
    user = await session.scalar(select(User).where(User.id == employee.user_id).with_for_update())
    if user is None or user.status == "disabled":
        return
    user.status = "disabled"
    user.permission_version += 1
    await revoke_user_sessions(session, user_id=user.id, reason="terminated")
    raise_event(session, "UserChanged", users=[user.id], branches=[employee.branch_id], reason="terminated")


async def update_employee(
    session: AsyncSession,
    actor: Actor,
    *,
    employee_id: int,
    changes: dict[str, Any],
    today: dt.date | None = None,
) -> Employee:
    """Change job data, salary, manager, branch or schedule, or terminate (HR-06): 404
    EMPLOYEE_NOT_FOUND, 409 ALREADY_TERMINATED, 422 MANAGER_CYCLE, 422 EFFECTIVE_IN_PROCESSED_MONTH.

    `changes` holds only the fields the caller sent (None clears manager_id). Emits EmployeeChanged,
    and UserChanged when a termination disables the linked user."""
    today = today or business_today()
    employee = await scoped_employee(session, actor, employee_id, lock=True)
    if employee.status == "terminated":
        raise Conflict("The employee is already terminated", code="ALREADY_TERMINATED")
    terminating = changes.get("status") == "terminated"
    if terminating and employee.termination_date is not None:
        raise Conflict("The employee's termination is already scheduled", code="ALREADY_TERMINATED")
    has_date, has_reason = (
        changes.get("termination_date") is not None,
        bool(changes.get("termination_reason")),
    )
    if terminating != has_date or has_date != has_reason:
        raise Invalid(
            "status terminated, termination_date and termination_reason go together",
            details=[field_error("termination_date", "required together with termination_reason and status")],
        )
    if terminating and changes["termination_date"] < employee.hire_date:
        raise Invalid(
            "Termination before the hire date", details=[field_error("termination_date", "before hire")]
        )
    await _check_refs(
        session,
        department_id=changes.get("department_id"),
        branch_id=changes.get("branch_id"),
        manager_id=changes.get("manager_id"),
    )
    schedule: Schedule | None = changes.get("work_schedule")
    _check_schedule(schedule)
    if changes.get("manager_id") is not None:
        await _check_manager(session, employee, changes["manager_id"])
    old_branch = employee.branch_id
    if "base_salary" in changes:
        amount, currency = changes["base_salary"]
        effective = changes.get("salary_effective_from") or today
        if await _processed_month(session, employee, effective):
            raise Invalid(
                "The salary change starts in a month whose payroll is approved",
                code="EFFECTIVE_IN_PROCESSED_MONTH",
                details=[field_error("salary_effective_from", "in an approved payroll month")],
            )
        employee.previous_base_salary = employee.base_salary
        employee.base_salary, employee.currency, employee.salary_effective_from = amount, currency, effective
    elif changes.get("salary_effective_from") is not None:
        raise Invalid(
            "salary_effective_from needs base_salary", details=[field_error("base_salary", "required")]
        )
    for name in ("department_id", "branch_id", "job_title", "field_staff", "annual_leave_days"):
        if changes.get(name) is not None:
            setattr(employee, name, changes[name])
    if "manager_id" in changes:
        employee.manager_id = changes["manager_id"]
    if schedule is not None:
        employee.work_start, employee.work_end = schedule.start, schedule.end
        employee.weekly_off_days = sorted(set(schedule.weekly_off_days))
    if terminating:
        employee.termination_date = changes["termination_date"]
        employee.termination_reason = changes["termination_reason"]
        if employee.termination_date <= today:
            employee.status = "terminated"
            await _disable_user(session, employee)
    await session.flush()
    raise_event(
        session,
        "EmployeeChanged",
        users=[employee.user_id],
        branches=[old_branch, employee.branch_id],
        employee_id=employee.id,
    )
    return employee


async def apply_due_terminations(session: AsyncSession, *, today: dt.date | None = None) -> list[int]:
    """The scheduled job: terminate the employees whose termination date has come and disable
    their users. Idempotent (already terminated employees are skipped). Returns their ids."""
    today = today or business_today()
    due = list(
        await session.scalars(
            select(Employee)
            .where(
                Employee.status == "active",
                Employee.termination_date.is_not(None),
                Employee.termination_date <= today,
            )
            .order_by(Employee.id)
            .with_for_update()
        )
    )
    for employee in due:
        employee.status = "terminated"
        await _disable_user(session, employee)
        raise_event(session, "EmployeeChanged", users=[employee.user_id], branches=[employee.branch_id])
    await session.flush()
    return [e.id for e in due]
