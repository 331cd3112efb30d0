"""People screens (apps/hr.md HR-01 dashboard, HR-02 my HR, HR-03 directory, HR-04 employee file).

Salary (base salary, payroll totals, payslips) is shown only to callers with scope `all`
(hr_manager, admin); branch managers see the same screens without pay. The directory never
contains salary.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.hr.attendance_views import attendance_records, today_states
from tsh.domain.hr.leave import balances
from tsh.domain.hr.models import (
    Employee,
    LeaveRequest,
    PayrollRun,
    Payslip,
    PerformanceReview,
    ReviewCycle,
)
from tsh.domain.hr.payroll import month_bounds
from tsh.domain.hr.scope import employee_scope, names, own_employee_id, person, scoped_employee
from tsh.domain.money import wire
from tsh.domain.organisation.models import Branch
from tsh.domain.shared import business_today


def _money_pair(iqd: Decimal, usd: Decimal) -> list[dict[str, Any]]:
    return [m for m in (wire(iqd, "IQD"), wire(usd, "USD")) if m is not None]


def run_summary(
    run: PayrollRun, branches: dict[int, dict[str, Any]], *, with_pay: bool = True
) -> dict[str, Any]:
    return {
        "id": run.id,
        "year": run.year,
        "month": run.month,
        "branch": branches.get(run.branch_id) if run.branch_id is not None else None,
        "status": run.status,
        "employee_count": run.employee_count,
        "gross": _money_pair(run.gross_iqd, run.gross_usd) if with_pay else None,
        "net": _money_pair(run.net_iqd, run.net_usd) if with_pay else None,
        "calculated_at": run.calculated_at,
        "approved_at": run.approved_at,
        "paid_on": run.paid_on,
    }


DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


def dashboard_parts(
    actor: Actor, *, branch_id: int | None = None, department_id: int | None = None
) -> dict[str, DashboardPart]:
    """HR-01 as the parts the screen runs as sections: `people` (headcount, today's attendance,
    pending leave, hires and exits this month), `payroll` (the current run, totals only with scope
    all), `reviews` (open review cycles' progress)."""
    today = business_today()
    where: list[ColumnElement[bool]] = [employee_scope(actor)]
    if branch_id is not None:
        where.append(Employee.branch_id == branch_id)
    if department_id is not None:
        where.append(Employee.department_id == department_id)
    return {
        "people": lambda s: _people(s, where, today),
        "payroll": lambda s: _payroll(s, actor),
        "reviews": lambda s: _reviews(s, where),
    }


async def _people(session: AsyncSession, where: list[ColumnElement[bool]], today: dt.date) -> dict[str, Any]:
    start, end = month_bounds(today.year, today.month)
    active = list(
        await session.execute(
            select(
                Employee.id, Employee.branch_id, Employee.department_id, Employee.weekly_off_days,
                Employee.hire_date, Employee.termination_date,
            ).where(*where, Employee.status == "active", Employee.hire_date <= today)
        )
    )  # fmt: skip
    by_dept = Counter(e.department_id for e in active)
    by_branch = Counter(e.branch_id for e in active)
    refs = await names(session, departments=set(by_dept), branches=set(by_branch))
    states = Counter(s["state"] for s in (await today_states(session, active, today)).values())
    pending = await session.scalar(
        select(func.count())
        .select_from(LeaveRequest)
        .join(Employee, Employee.id == LeaveRequest.employee_id)
        .where(*where, LeaveRequest.status == "pending")
    )
    hires = await session.scalar(
        select(func.count())
        .select_from(Employee)
        .where(*where, Employee.hire_date >= start, Employee.hire_date <= end)
    )
    exits = await session.scalar(
        select(func.count())
        .select_from(Employee)
        .where(*where, Employee.termination_date >= start, Employee.termination_date <= end)
    )
    return {
        "headcount": len(active),
        "by_department": [
            {"department": refs["departments"][d], "count": n}
            for d, n in sorted(by_dept.items())
            if d in refs["departments"]
        ],
        "by_branch": [
            {"branch": refs["branches"][b], "count": n}
            for b, n in sorted(by_branch.items())
            if b in refs["branches"]
        ],
        "today": {
            "date": today,
            "present": states["present"],
            "late": states["late"],
            "absent": states["not_in"],
            "on_leave": states["on_leave"],
        },
        "pending_leave_requests": int(pending or 0),
        "hires_this_month": int(hires or 0),
        "exits_this_month": int(exits or 0),
    }


async def _payroll(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    run_where: list[ColumnElement[bool]] = []
    if not actor.sees_all:
        run_where.append(or_(PayrollRun.branch_id.is_(None), PayrollRun.branch_id == actor.branch_id))
    run = await session.scalar(
        select(PayrollRun)
        .where(*run_where)
        .order_by(PayrollRun.year.desc(), PayrollRun.month.desc(), PayrollRun.id.desc())
        .limit(1)
    )
    if run is None:
        return {"payroll": None}
    run_branches = await names(session, branches={run.branch_id})
    return {"payroll": run_summary(run, run_branches["branches"], with_pay=actor.sees_all)}


async def _reviews(session: AsyncSession, where: list[ColumnElement[bool]]) -> dict[str, Any]:
    cycles: list[dict[str, Any]] = []
    for c_id, c_name, manager_due, status, count in await session.execute(
        select(
            ReviewCycle.id, ReviewCycle.name, ReviewCycle.manager_due, PerformanceReview.status, func.count()
        )
        .join(PerformanceReview, PerformanceReview.cycle_id == ReviewCycle.id)
        .join(Employee, Employee.id == PerformanceReview.employee_id)
        .where(ReviewCycle.status == "open", *where)
        .group_by(ReviewCycle.id, ReviewCycle.name, ReviewCycle.manager_due, PerformanceReview.status)
        .order_by(ReviewCycle.id)
    ):
        if not cycles or cycles[-1]["id"] != c_id:
            cycles.append(
                {"id": c_id, "name": c_name, "manager_due": manager_due, "total": 0, "awaiting_self": 0,
                 "awaiting_manager": 0, "completed": 0}
            )  # fmt: skip
        cycles[-1][status] += count
        cycles[-1]["total"] += count
    return {"review_cycles": cycles}


def _schedule(e: Employee) -> dict[str, Any]:
    return {
        "start": e.work_start.strftime("%H:%M"),
        "end": e.work_end.strftime("%H:%M"),
        "weekly_off_days": [int(d) for d in e.weekly_off_days],
    }


async def _profile(session: AsyncSession, e: Employee) -> dict[str, Any]:
    refs = await names(
        session, employees={e.manager_id}, departments={e.department_id}, branches={e.branch_id}
    )
    return {
        **person(e),
        "job_title": e.job_title,
        "department": refs["departments"].get(e.department_id),
        "branch": refs["branches"].get(e.branch_id),
        "manager": refs["employees"].get(e.manager_id) if e.manager_id is not None else None,
        "hire_date": e.hire_date,
        "status": e.status,
        "field_staff": e.field_staff,
        "work_schedule": _schedule(e),
    }


def payslip_summary(p: Payslip, run: PayrollRun) -> dict[str, Any]:
    return {
        "id": p.id,
        "run_id": run.id,
        "year": run.year,
        "month": run.month,
        "gross": wire(p.gross, p.currency),
        "net": wire(p.net, p.currency),
        "paid_on": run.paid_on,
    }


async def _payslips(session: AsyncSession, employee_id: int, limit: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Payslip, PayrollRun)
        .join(PayrollRun, PayrollRun.id == Payslip.run_id)
        .where(Payslip.employee_id == employee_id, Payslip.published_at.is_not(None))
        .order_by(PayrollRun.year.desc(), PayrollRun.month.desc(), Payslip.id.desc())
        .limit(limit)
    )
    return [payslip_summary(p, r) for p, r in rows]


async def me(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """HR-02: the caller's own HR home (404 EMPLOYEE_PROFILE_MISSING without an employee record)."""
    e = await scoped_employee(session, actor.with_scope("own"), own_employee_id(actor))
    today = business_today()
    state = (await today_states(session, [e], today))[e.id]
    r = state["record"]
    branch = await session.get(Branch, e.branch_id)
    distance = r.check_in_distance_m if r is not None else None
    radius = branch.geofence_radius_m if branch is not None else None
    pending = list(
        await session.scalars(
            select(LeaveRequest)
            .where(LeaveRequest.employee_id == e.id, LeaveRequest.status == "pending")
            .order_by(LeaveRequest.from_date)
        )
    )
    slips = await _payslips(session, e.id, 1)
    awaiting = []
    for rv, c_name, self_due, manager_due, emp_id, emp_code, emp_en, emp_ar in await session.execute(
        select(
            PerformanceReview, ReviewCycle.name, ReviewCycle.self_due, ReviewCycle.manager_due,
            Employee.id, Employee.code, Employee.name_en, Employee.name_ar,
        )
        .join(ReviewCycle, ReviewCycle.id == PerformanceReview.cycle_id)
        .join(Employee, Employee.id == PerformanceReview.employee_id)
        .where(
            ReviewCycle.status == "open",
            or_(
                and_(PerformanceReview.employee_id == e.id, PerformanceReview.status == "awaiting_self"),
                and_(
                    PerformanceReview.reviewer_user_id == actor.user_id,
                    PerformanceReview.status == "awaiting_manager",
                ),
            ),
        )
        .order_by(PerformanceReview.id)
    ):  # fmt: skip
        as_self = rv.status == "awaiting_self"
        awaiting.append(
            {
                "id": rv.id,
                "cycle": {"id": rv.cycle_id, "name": c_name},
                "employee": {"id": emp_id, "code": emp_code, "name": emp_en, "name_ar": emp_ar},
                "as": "reviewee" if as_self else "reviewer",
                "due": self_due if as_self else manager_due,
            }
        )
    return {
        "profile": await _profile(session, e),
        "today": {
            "date": today,
            "state": state["state"],
            "check_in_at": r.check_in_at if r is not None else None,
            "check_out_at": r.check_out_at if r is not None else None,
            "late_min": r.late_min if r is not None else 0,
            "geofence": {
                "distance_m": distance,
                "radius_m": radius,
                "inside": None if distance is None or radius is None else distance <= radius,
                "field_staff": e.field_staff,
            },
        },
        "leave_balances": _balances_out(await balances(session, employee_id=e.id, year=today.year)),
        "pending_requests": [leave_summary(lr) for lr in pending],
        "latest_payslip": slips[0] if slips else None,
        "reviews_awaiting": awaiting,
    }


def _balances_out(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in b.items()} for b in rows]


def leave_summary(lr: LeaveRequest) -> dict[str, Any]:
    return {
        "id": lr.id,
        "type": lr.type,
        "from": lr.from_date,
        "to": lr.to_date,
        "half_day": lr.half_day,
        "days": str(lr.days),
        "status": lr.status,
    }


def _on_leave_today(today: dt.date) -> ColumnElement[bool]:
    return exists().where(
        LeaveRequest.employee_id == Employee.id,
        LeaveRequest.status == "approved",
        LeaveRequest.from_date <= today,
        LeaveRequest.to_date >= today,
    )


async def directory(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after_id: int | None = None,
    q: str | None = None,
    department_id: int | None = None,
    branch_id: int | None = None,
    status: str | None = None,
    manager_id: int | None = None,
) -> list[dict[str, Any]]:
    """HR-03: employees in scope by id (limit + 1 rows), never with salary."""
    today = business_today()
    on_leave = _on_leave_today(today)
    stmt = select(Employee, on_leave.label("on_leave")).where(employee_scope(actor))
    if after_id is not None:
        stmt = stmt.where(Employee.id > after_id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Employee.name_en).like(like),
                Employee.name_ar.like(f"%{q}%"),
                func.lower(Employee.code).like(like),
            )
        )
    for column, value in (
        (Employee.department_id, department_id),
        (Employee.branch_id, branch_id),
        (Employee.manager_id, manager_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if status == "terminated":
        stmt = stmt.where(Employee.status == "terminated")
    elif status == "on_leave":
        stmt = stmt.where(Employee.status == "active", on_leave)
    elif status == "active":
        stmt = stmt.where(Employee.status == "active", ~on_leave)
    rows = list(await session.execute(stmt.order_by(Employee.id).limit(limit + 1)))
    refs = await names(
        session,
        employees={e.manager_id for e, _ in rows},
        departments={e.department_id for e, _ in rows},
        branches={e.branch_id for e, _ in rows},
    )
    return [
        {
            **person(e),
            "job_title": e.job_title,
            "department": refs["departments"].get(e.department_id),
            "branch": refs["branches"].get(e.branch_id),
            "manager": refs["employees"].get(e.manager_id) if e.manager_id is not None else None,
            "status": "terminated" if e.status == "terminated" else ("on_leave" if leave else "active"),
            "hire_date": e.hire_date,
        }
        for e, leave in rows
    ]


async def employee_file(session: AsyncSession, actor: Actor, employee_id: int) -> dict[str, Any]:
    """HR-04: the employee file (404 EMPLOYEE_NOT_FOUND outside scope); salary and payslips only
    with scope all."""
    e = await scoped_employee(session, actor, employee_id)
    today = business_today()
    start, _ = month_bounds(today.year, today.month)
    reports = list(
        await session.execute(
            select(Employee.id, Employee.code, Employee.name_en, Employee.name_ar)
            .where(Employee.manager_id == e.id, Employee.status == "active")
            .order_by(Employee.id)
        )
    )
    month = await attendance_records(
        session, actor, date_from=start, date_to=today, limit=1, employee_id=e.id
    )
    summary = (month["summary"] or [None])[0]
    reviews = []
    for rv, c_name in await session.execute(
        select(PerformanceReview, ReviewCycle.name)
        .join(ReviewCycle, ReviewCycle.id == PerformanceReview.cycle_id)
        .where(PerformanceReview.employee_id == e.id)
        .order_by(ReviewCycle.period_to.desc(), PerformanceReview.id.desc())
        .limit(3)
    ):
        reviews.append(
            {
                "id": rv.id,
                "cycle": {"id": rv.cycle_id, "name": c_name},
                "status": rv.status,
                "overall_score": str(rv.overall_score) if rv.overall_score is not None else None,
                "completed_at": rv.completed_at,
            }
        )
    with_pay = actor.sees_all
    return {
        **await _profile(session, e),
        "national_id": e.national_id,
        "phone": e.phone,
        "user_id": e.user_id,
        "termination_date": e.termination_date,
        "termination_reason": e.termination_reason,
        "annual_leave_days": e.annual_leave_days,
        "direct_reports": [person(r) for r in reports],
        "salary": {
            "base_salary": wire(e.base_salary, e.currency),
            "effective_from": e.salary_effective_from,
            "previous_base_salary": wire(e.previous_base_salary, e.currency),
        }
        if with_pay
        else None,
        "attendance_this_month": {k: v for k, v in summary.items() if k != "employee"} if summary else None,
        "leave_balances": _balances_out(await balances(session, employee_id=e.id, year=today.year)),
        "reviews": reviews,
        "payslips": await _payslips(session, e.id, 3) if with_pay else None,
    }
