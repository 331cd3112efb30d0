"""HR rules through the domain services: leave, attendance, payroll and performance reviews.

Every test builds its own branch, department, employees and users (unique codes), so it does not
depend on the demo data or on other tests. Rejected commands must change nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from tsh.context import AppContext
from tsh.domain.accounting import posting
from tsh.domain.accounting.models import FiscalPeriod, JournalEntry
from tsh.domain.actor import Actor
from tsh.domain.hr import attendance, leave, payroll, reviews
from tsh.domain.hr.models import (
    AttendanceRecord,
    Department,
    Employee,
    LeaveBalance,
    LeaveRequest,
    PayrollRun,
    Payslip,
    PerformanceReview,
    PublicHoliday,
    ReviewCycle,
)
from tsh.domain.identity.models import Media, Role, User
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models import Order
from tsh.domain.sales.models.field import Commission
from tsh.domain.shared import BUSINESS_TZ, business_today
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError
from tsh.platform.events import DomainEvent

D = Decimal
T = TypeVar("T")
EVENTS: list[DomainEvent] = []
BRANCH_LAT, BRANCH_LNG = 33.3152, 44.3661


@pytest.fixture
async def events(ctx: AppContext) -> list[DomainEvent]:
    if not getattr(ctx.bus, "_hr_rules_subscribed", False):

        async def collect(batch: list[DomainEvent]) -> None:
            EVENTS.extend(batch)

        ctx.bus.subscribe(collect)
        ctx.bus._hr_rules_subscribed = True  # type: ignore[attr-defined]
    EVENTS.clear()
    return EVENTS


# The scope each role's HR screens grant (the services check it as the BFF would pass it).
SCOPES: dict[str, Any] = {"employee": "own", "branch_manager": "branch", "hr_manager": "all", "admin": "all"}


def _as(user_id: int | None, role: str = "employee", branch_id: int | None = None) -> Actor:
    assert user_id is not None
    return Actor(user_id=user_id, role=role, scope=SCOPES[role], branch_id=branch_id)


def _uid() -> str:
    return uuid.uuid4().hex[:10].upper()


@dataclass
class World:
    branch_id: int
    department_id: int
    hr_user: int
    manager: Employee
    manager_user: int


async def _user(s: Any, role: str, branch_id: int) -> int:
    role_id = await s.scalar(select(Role.id).where(Role.code == role))
    user = User(
        name=f"HR test {role}", email=f"hr-{_uid().lower()}@test.tsh.iq", role_id=role_id, branch_id=branch_id
    )
    s.add(user)
    await s.flush()
    return user.id


async def _world(ctx: AppContext) -> World:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        code = _uid()
        branch = Branch(
            code=f"H{code[:8]}", name_ar="فرع", name_en=f"HR {code}", city="Baghdad", address="x",
            lat=BRANCH_LAT, lng=BRANCH_LNG, geofence_radius_m=150,
        )  # fmt: skip
        s.add(branch)
        await s.flush()
        dept = Department(name_ar="قسم", name_en=f"Dept {code}", branch_id=branch.id)
        s.add(dept)
        await s.flush()
        hr_user = await _user(s, "hr_manager", branch.id)
        manager_user = await _user(s, "branch_manager", branch.id)
        manager = _new_employee(branch.id, dept.id, user_id=manager_user, job_title="Branch manager")
        s.add(manager)
        await s.flush()
        return World(branch.id, dept.id, hr_user, manager, manager_user)


def _new_employee(branch_id: int, department_id: int, **kw: Any) -> Employee:
    code = _uid()
    values: dict[str, Any] = {
        "code": f"E{code}", "name_ar": "موظف", "name_en": f"Employee {code}", "national_id": f"N{code}",
        "phone": "+9647700000000", "department_id": department_id, "branch_id": branch_id,
        "job_title": "Clerk",
        "hire_date": dt.date(2014, 1, 1), "base_salary": D(2_500_000), "currency": "IQD",
        "weekly_off_days": [5], "annual_leave_days": 21,
    }  # fmt: skip
    return Employee(**{**values, **kw})


async def _employee(ctx: AppContext, w: World, *, with_user: bool = True, **kw: Any) -> Employee:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        user_id = await _user(s, "employee", w.branch_id) if with_user else None
        e = _new_employee(w.branch_id, w.department_id, user_id=user_id, manager_id=w.manager.id, **kw)
        s.add(e)
        await s.flush()
        return e


async def _cmd(ctx: AppContext, fn: Callable[..., Awaitable[T]], **kw: Any) -> T:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        return await fn(s, **kw)


async def _snapshot(ctx: AppContext) -> tuple[Any, ...]:
    async with ctx.db.session() as s:
        out = []
        for model in (LeaveRequest, LeaveBalance, AttendanceRecord, PayrollRun, Payslip, JournalEntry):
            out.append(await s.scalar(select(func.count()).select_from(model)))
        out.append(await s.scalar(select(func.sum(LeaveBalance.pending + LeaveBalance.taken))))
        out.append(await s.scalar(select(func.count()).where(Commission.status == "paid")))
        out.append(await s.scalar(select(func.count()).where(PerformanceReview.status == "completed")))
        return tuple(out)


async def _rejected(ctx: AppContext, fn: Callable[..., Awaitable[Any]], **kw: Any) -> AppError:
    before = await _snapshot(ctx)
    with pytest.raises(AppError) as exc:
        await _cmd(ctx, fn, **kw)
    assert await _snapshot(ctx) == before
    return exc.value


def _code(err: AppError) -> tuple[int, str]:
    return err.status, err.code


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), BUSINESS_TZ).astimezone(dt.UTC)


def _next_weekday(start: dt.date, iso: int) -> dt.date:
    return start + dt.timedelta(days=(iso - start.isoweekday()) % 7)


# --- leave ------------------------------------------------------------------------------------


async def test_leave_days_count_working_days_only(ctx: AppContext) -> None:
    w = await _world(ctx)
    other = await _world(ctx)
    e = await _employee(ctx, w, weekly_off_days=[5, 6])
    year = business_today().year + 1
    may_day = dt.date(year, 5, 1)  # seeded company-wide holiday
    monday = may_day - dt.timedelta(days=may_day.isoweekday() - 1)
    probe = next(monday + dt.timedelta(days=i) for i in (1, 2, 3) if monday + dt.timedelta(days=i) != may_day)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        s.add(PublicHoliday(date=monday, name="Branch day", branch_id=w.branch_id))
        s.add(PublicHoliday(date=probe, name="Other branch day", branch_id=other.branch_id))
    week = [monday + dt.timedelta(days=i) for i in range(7)]
    expected = [d for d in week if d.isoweekday() not in (5, 6) and d not in (monday, may_day)]
    async with ctx.db.session() as s:
        got = await leave.leave_days(s, employee=e, from_date=week[0], to_date=week[-1])
        assert got == D(len(expected))
        # Another branch's holiday is a working day here.
        assert await leave.leave_days(s, employee=e, from_date=probe, to_date=probe) == D(1)
        assert await leave.leave_days(s, employee=e, from_date=probe, to_date=probe, half_day=True) == D(
            "0.5"
        )
        assert await leave.leave_days(s, employee=e, from_date=monday, to_date=monday, half_day=True) == D(0)


async def test_submit_leave_rules(ctx: AppContext, events: list[DomainEvent]) -> None:
    w = await _world(ctx)
    e = await _employee(ctx, w)
    year = business_today().year + 1
    start = _next_weekday(dt.date(year, 2, 1), 7)  # a Sunday: Sunday..Thursday are working days
    sub = leave.submit_leave
    base = {"employee_id": e.id, "type": "annual"}
    for bad in (
        {"from_date": start + dt.timedelta(days=2), "to_date": start},
        {
            "from_date": business_today() - dt.timedelta(days=3),
            "to_date": business_today() + dt.timedelta(days=1),
        },
        {"from_date": start, "to_date": start + dt.timedelta(days=1), "half_day": True},
        {"from_date": dt.date(year, 12, 30), "to_date": dt.date(year + 1, 1, 2)},
        {"from_date": start + dt.timedelta(days=5), "to_date": start + dt.timedelta(days=5)},  # a Friday
    ):
        assert _code(await _rejected(ctx, sub, **base, **bad)) == (422, "INVALID_DATES")
    err = await _rejected(
        ctx, sub, employee_id=e.id, type="sick", from_date=start, to_date=start + dt.timedelta(days=2)
    )
    assert _code(err) == (422, "MEDICAL_NOTE_REQUIRED")
    err = await _rejected(ctx, sub, **base, from_date=start, to_date=start + dt.timedelta(days=40))
    assert _code(err) == (409, "INSUFFICIENT_LEAVE_BALANCE")

    req = await _cmd(ctx, sub, **base, from_date=start, to_date=start + dt.timedelta(days=6), reason="Trip")
    assert req.status == "pending" and req.days == D(6)  # Sunday..Saturday minus Friday
    assert any(ev.name == "LeaveChanged" and f"user:{e.user_id}" in ev.scopes for ev in events)
    async with ctx.db.session() as s:
        rows = {b["type"]: b for b in await leave.balances(s, employee_id=e.id, year=year)}
    assert (rows["annual"]["entitled"], rows["annual"]["pending"], rows["annual"]["remaining"]) == (21, 6, 15)
    err = await _rejected(
        ctx, sub, **base, from_date=start + dt.timedelta(days=3), to_date=start + dt.timedelta(days=8)
    )
    assert _code(err) == (409, "OVERLAPPING_LEAVE")
    # Unpaid leave is never limited by a balance; a sick note allows more than 2 days.
    later = start + dt.timedelta(days=14)
    unpaid = await _cmd(
        ctx, sub, employee_id=e.id, type="unpaid", from_date=later, to_date=later + dt.timedelta(days=30)
    )
    assert unpaid.days > 20
    sick = later + dt.timedelta(days=35)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        key = _uid()
        note = Media(
            uploaded_by_id=e.user_id, content_type="image/jpeg", size=10, storage_key=key, url=f"/m/{key}"
        )
        s.add(note)
        await s.flush()
    ok = await _cmd(
        ctx,
        sub,
        employee_id=e.id,
        type="sick",
        from_date=sick,
        to_date=sick + dt.timedelta(days=3),
        media_id=note.id,
    )
    assert ok.days >= 3 and ok.media_id == note.id


async def test_decide_and_cancel_leave(ctx: AppContext, events: list[DomainEvent]) -> None:
    w = await _world(ctx)
    other = await _world(ctx)
    e = await _employee(ctx, w)
    year = business_today().year + 1
    start = _next_weekday(dt.date(year, 3, 1), 1)
    r1 = await _cmd(
        ctx,
        leave.submit_leave,
        employee_id=e.id,
        type="annual",
        from_date=start,
        to_date=start + dt.timedelta(days=1),
    )
    r2 = await _cmd(
        ctx,
        leave.submit_leave,
        employee_id=e.id,
        type="annual",
        from_date=start + dt.timedelta(days=7),
        to_date=start + dt.timedelta(days=8),
    )
    decide = leave.decide_leave
    err = await _rejected(
        ctx,
        decide,
        request_id=r1.id,
        status="approved",
        actor=_as(other.manager_user, "branch_manager", other.branch_id),
    )
    assert _code(err) == (404, "LEAVE_REQUEST_NOT_FOUND")
    err = await _rejected(
        ctx, decide, request_id=r1.id, status="approved", actor=_as(e.user_id, "hr_manager")
    )
    assert _code(err) == (403, "SELF_APPROVAL")
    err = await _rejected(ctx, decide, request_id=r1.id, status="approved", actor=_as(e.user_id, "employee"))
    assert err.status == 403
    # The manager's own request cannot be decided by the manager.
    mine = await _cmd(
        ctx, leave.submit_leave, employee_id=w.manager.id, type="annual", from_date=start, to_date=start
    )
    err = await _rejected(
        ctx,
        decide,
        request_id=mine.id,
        status="approved",
        actor=_as(w.manager_user, "branch_manager", w.branch_id),
    )
    assert _code(err) == (403, "SELF_APPROVAL")

    ok = await _cmd(
        ctx,
        decide,
        request_id=r1.id,
        status="approved",
        actor=_as(w.manager_user, "branch_manager", w.branch_id),
        note="ok",
    )
    assert ok.status == "approved" and ok.decided_by_id == w.manager_user
    err = await _rejected(
        ctx, decide, request_id=r1.id, status="rejected", actor=_as(w.hr_user, "hr_manager")
    )
    assert _code(err) == (409, "NOT_PENDING")
    await _cmd(ctx, decide, request_id=r2.id, status="rejected", actor=_as(w.hr_user, "hr_manager"))

    def annual(rows: list[dict[str, Any]]) -> tuple[Decimal, Decimal]:
        row = next(r for r in rows if r["type"] == "annual")
        return row["taken"], row["pending"]

    async with ctx.db.session() as s:
        assert annual(await leave.balances(s, employee_id=e.id, year=year)) == (D(2), D(0))
    err = await _rejected(ctx, leave.cancel_leave, request_id=r2.id, actor=_as(e.user_id))
    assert _code(err) == (409, "INVALID_STATE")
    err = await _rejected(
        ctx, leave.cancel_leave, request_id=r1.id, actor=_as(w.manager_user, "branch_manager", w.branch_id)
    )
    assert err.status == 404
    err = await _rejected(ctx, leave.cancel_leave, request_id=r1.id, actor=_as(e.user_id), today=start)
    assert _code(err) == (409, "LEAVE_STARTED")
    events.clear()
    done = await _cmd(ctx, leave.cancel_leave, request_id=r1.id, actor=_as(e.user_id))
    assert done.status == "cancelled" and any(ev.name == "LeaveChanged" for ev in events)
    async with ctx.db.session() as s:
        assert annual(await leave.balances(s, employee_id=e.id, year=year)) == (D(0), D(0))
    # Approval re-checks the balance: an entitlement lowered after the request is refused.
    r3 = await _cmd(
        ctx,
        leave.submit_leave,
        employee_id=e.id,
        type="annual",
        from_date=start,
        to_date=start + dt.timedelta(days=2),
    )
    async with unit_of_work(ctx.db, ctx.bus) as s:
        bal = await s.scalar(
            select(LeaveBalance).where(
                LeaveBalance.employee_id == e.id, LeaveBalance.year == year, LeaveBalance.type == "annual"
            )
        )
        assert bal is not None
        bal.entitled = D(1)
    err = await _rejected(
        ctx, decide, request_id=r3.id, status="approved", actor=_as(w.hr_user, "hr_manager")
    )
    assert _code(err) == (409, "INSUFFICIENT_LEAVE_BALANCE")


# --- attendance -------------------------------------------------------------------------------


async def test_check_in_and_out(ctx: AppContext, events: list[DomainEvent]) -> None:
    w = await _world(ctx)
    e = await _employee(ctx, w)
    field = await _employee(ctx, w, field_staff=True)
    day = dt.date(2016, 3, 6)
    now = _at(day, 8, 20)
    rec = attendance.record_attendance
    geo = {"lat": BRANCH_LAT + 0.0003, "lng": BRANCH_LNG, "accuracy_m": 10.0}
    far = {"lat": BRANCH_LAT + 0.02, "lng": BRANCH_LNG, "accuracy_m": 10.0}
    err = await _rejected(ctx, rec, employee_id=e.id, type="check_in", device_time=now, now=now, **far)
    assert _code(err) == (422, "OUTSIDE_GEOFENCE")
    low = {**geo, "accuracy_m": 150.0}
    err = await _rejected(ctx, rec, employee_id=e.id, type="check_in", device_time=now, now=now, **low)
    assert _code(err) == (422, "LOW_GPS_ACCURACY")
    err = await _rejected(ctx, rec, employee_id=e.id, type="check_out", device_time=now, now=now, **geo)
    assert _code(err) == (409, "NOT_CHECKED_IN")

    r = await _cmd(ctx, rec, employee_id=e.id, type="check_in", device_time=now, now=now, **geo)
    assert (r.date, r.status, r.late_min, r.flags) == (day, "late", 20, [])
    assert r.check_in_distance_m is not None and r.check_in_distance_m < 150
    assert any(ev.name == "AttendanceRecorded" and f"branch:{w.branch_id}" in ev.scopes for ev in events)
    err = await _rejected(ctx, rec, employee_id=e.id, type="check_in", device_time=now, now=now, **geo)
    assert _code(err) == (409, "ALREADY_CHECKED_IN")
    out = _at(day, 17, 30)
    r = await _cmd(
        ctx,
        rec,
        employee_id=e.id,
        type="check_out",
        device_time=out - dt.timedelta(minutes=9),
        now=out,
        **geo,
    )
    assert (r.worked_min, r.overtime_min, r.flags) == (550, 90, ["clock_skew"])
    err = await _rejected(ctx, rec, employee_id=e.id, type="check_out", device_time=out, now=out, **geo)
    assert _code(err) == (409, "NOT_CHECKED_IN")
    # Field staff outside the fence are recorded and flagged; on time is `present`.
    early = _at(day, 7, 55)
    r = await _cmd(ctx, rec, employee_id=field.id, type="check_in", device_time=early, now=early, **far)
    assert (r.status, r.late_min, r.flags) == ("present", 0, ["off_site"])
    assert r.check_in_distance_m is not None and r.check_in_distance_m > 2000


async def test_attendance_corrections(ctx: AppContext) -> None:
    w = await _world(ctx)
    other = await _world(ctx)
    e = await _employee(ctx, w)
    day = dt.date(2016, 4, 4)
    fix = attendance.correct_attendance
    common = {"employee_id": e.id, "day": day}
    err = await _rejected(
        ctx,
        fix,
        **common,
        reason="x",
        actor=_as(other.manager_user, "branch_manager", other.branch_id),
    )
    assert err.status == 404
    err = await _rejected(ctx, fix, **common, reason="x", actor=_as(e.user_id, "hr_manager"))
    assert _code(err) == (403, "SELF_CORRECTION")
    err = await _rejected(ctx, fix, **common, reason="  ", actor=_as(w.hr_user, "hr_manager"))
    assert _code(err) == (422, "VALIDATION_ERROR")
    err = await _rejected(
        ctx,
        fix,
        **common,
        reason="x",
        check_out_at=_at(day, 16),
        actor=_as(w.hr_user, "hr_manager"),
    )
    assert err.status == 422
    r = await _cmd(
        ctx,
        fix,
        **common,
        reason="Forgot to check in",
        check_in_at=_at(day, 8, 10),
        check_out_at=_at(day, 16, 30),
        actor=_as(w.manager_user, "branch_manager", w.branch_id),
    )
    assert (r.status, r.late_min, r.overtime_min, r.worked_min, r.corrected_by_id) == (
        "late",
        10,
        30,
        500,
        w.manager_user,
    )
    r = await _cmd(
        ctx,
        fix,
        **common,
        reason="Approved late arrival",
        status="present",
        actor=_as(w.hr_user, "hr_manager"),
    )
    assert (r.status, r.correction_reason, r.late_min) == ("present", "Approved late arrival", 10)


# --- payroll ----------------------------------------------------------------------------------


async def test_payroll_calculate_approve_pay(ctx: AppContext, events: list[DomainEvent]) -> None:
    w = await _world(ctx)
    june = dt.date(2015, 6, 1)  # June 2015: 30 days, Fridays 5, 12, 19, 26; branch holiday on the 10th
    async with unit_of_work(ctx.db, ctx.bus) as s:
        s.add(PublicHoliday(date=dt.date(2015, 6, 10), name="Branch day", branch_id=w.branch_id))
    a = await _employee(ctx, w)  # full month, absence, unpaid leave and overtime
    hired = await _employee(ctx, w, hire_date=dt.date(2015, 6, 15))
    raised = await _employee(
        ctx,
        w,
        base_salary=D(2_500_000),
        previous_base_salary=D(2_000_000),
        salary_effective_from=dt.date(2015, 6, 16),
    )
    left = await _employee(
        ctx, w, termination_date=dt.date(2015, 6, 11), termination_reason="Resigned", status="terminated"
    )
    seller = await _employee(ctx, w)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        order_id = await s.scalar(select(func.min(Order.id)))
        assert order_id is not None
        mk = {
            "salesperson_id": seller.user_id,
            "order_id": order_id,
            "base_amount": D(2_000_000),
            "rate": D("2.5"),
            "currency": "IQD",
        }
        due = Commission(**mk, amount=D(50_000), status="payable", payable_at=_at(dt.date(2015, 6, 20), 12))
        late = Commission(**mk, amount=D(7_000), status="payable", payable_at=_at(dt.date(2015, 7, 2), 12))
        accrued = Commission(**mk, amount=D(9_000), status="accrued")
        s.add_all([due, late, accrued])
    leave_req = await _cmd(
        ctx,
        leave.submit_leave,
        employee_id=a.id,
        type="unpaid",
        from_date=dt.date(2015, 6, 2),
        to_date=dt.date(2015, 6, 3),
        today=june,
    )
    await _cmd(
        ctx,
        leave.decide_leave,
        request_id=leave_req.id,
        status="approved",
        actor=_as(w.hr_user, "hr_manager"),
    )
    hr = {"actor": _as(w.hr_user, "hr_manager"), "reason": "Back office"}
    await _cmd(
        ctx, attendance.correct_attendance, employee_id=a.id, day=dt.date(2015, 6, 4), status="absent", **hr
    )
    await _cmd(
        ctx,
        attendance.correct_attendance,
        employee_id=a.id,
        day=dt.date(2015, 6, 8),
        check_in_at=_at(dt.date(2015, 6, 8), 8),
        check_out_at=_at(dt.date(2015, 6, 8), 18),
        **hr,
    )

    calc = payroll.calculate_run
    err = await _rejected(
        ctx,
        calc,
        year=2015,
        month=6,
        branch_id=w.branch_id,
        actor=_as(w.hr_user, "hr_manager"),
        today=dt.date(2015, 6, 24),
    )
    assert _code(err) == (422, "TOO_EARLY")
    run = await _cmd(ctx, calc, year=2015, month=6, branch_id=w.branch_id, actor=_as(w.hr_user, "hr_manager"))
    run = await _cmd(
        ctx, calc, year=2015, month=6, branch_id=w.branch_id, actor=_as(w.hr_user, "hr_manager")
    )  # replaces
    err = await _rejected(ctx, calc, year=2015, month=6, branch_id=None, actor=_as(w.hr_user, "hr_manager"))
    assert _code(err) == (409, "RUN_OVERLAP")
    async with ctx.db.session() as s:
        slips = {p.employee_id: p for p in await s.scalars(select(Payslip).where(Payslip.run_id == run.id))}
        linked = set(await s.scalars(select(Commission.id).where(Commission.payroll_run_id == run.id)))
    assert len(slips) == run.employee_count == 6  # the five plus the branch manager
    assert (slips[a.id].base, slips[a.id].overtime, slips[a.id].deductions) == (
        D(2_500_000),
        D(37_500),
        D(300_000),
    )
    assert (slips[a.id].net, slips[a.id].working_days, slips[a.id].leave_days) == (D(2_237_500), 25, D(2))
    assert {ln["code"] for ln in slips[a.id].lines} == {"BASE", "OT", "ABS", "UNPAID"}
    assert slips[hired.id].base == D(1_400_000) and slips[hired.id].working_days == 14
    assert slips[raised.id].base == D(2_260_000)
    assert any(x["code"] == "salary_change" for x in slips[raised.id].warnings)
    assert slips[left.id].base == D(900_000)
    assert (slips[seller.id].commission, slips[seller.id].gross) == (D(50_000), D(2_550_000))
    assert any(x["code"] == "missing_attendance" for x in slips[seller.id].warnings)
    assert linked == {due.id}
    assert run.net_iqd == sum((p.net for p in slips.values()), D(0)) and run.gross_iqd == sum(
        (p.gross for p in slips.values()), D(0)
    )

    err = await _rejected(ctx, payroll.approve_run, run_id=run.id, actor=_as(w.hr_user, "hr_manager"))
    assert _code(err) == (403, "SELF_APPROVAL")
    err = await _rejected(
        ctx,
        payroll.pay_run,
        run_id=run.id,
        paid_on=dt.date(2015, 7, 3),
        accounts={"IQD": 1},
        actor=_as(w.hr_user, "hr_manager"),
    )
    assert _code(err) == (409, "INVALID_STATE")
    events.clear()
    approver = w.manager_user
    run = await _cmd(ctx, payroll.approve_run, run_id=run.id, actor=_as(approver))
    assert run.status == "approved" and run.accrual_entry_id is not None
    assert {"PayrollProcessed", "CommissionChanged", "JournalPosted"} <= {ev.name for ev in events}
    err = await _rejected(ctx, payroll.approve_run, run_id=run.id, actor=_as(approver))
    assert _code(err) == (409, "INVALID_STATE")
    err = await _rejected(
        ctx, calc, year=2015, month=6, branch_id=w.branch_id, actor=_as(w.hr_user, "hr_manager")
    )
    assert _code(err) == (409, "RUN_ALREADY_APPROVED")
    err = await _rejected(
        ctx, attendance.correct_attendance, employee_id=a.id, day=dt.date(2015, 6, 9), status="absent", **hr
    )
    assert _code(err) == (409, "PAYROLL_LOCKED")
    async with ctx.db.session() as s:
        assert await s.scalar(select(Commission.status).where(Commission.id == due.id)) == "paid"
        assert await s.scalar(select(Commission.status).where(Commission.id == late.id)) == "payable"
        revenue = await posting.account_id(s, "sales_revenue")
        bank = await posting.account_id(s, "bank_iqd")
    err = await _rejected(
        ctx,
        payroll.pay_run,
        run_id=run.id,
        paid_on=dt.date(2015, 7, 3),
        accounts={"IQD": revenue},
        actor=_as(w.hr_user, "hr_manager"),
    )
    assert _code(err) == (422, "NOT_A_CASH_ACCOUNT")
    run = await _cmd(
        ctx,
        payroll.pay_run,
        run_id=run.id,
        paid_on=dt.date(2015, 7, 3),
        accounts={"IQD": bank},
        actor=_as(w.hr_user, "hr_manager"),
        reference="TRF-1",
    )
    assert run.status == "paid" and run.payment_entry_id is not None
    err = await _rejected(
        ctx,
        payroll.pay_run,
        run_id=run.id,
        paid_on=dt.date(2015, 7, 3),
        accounts={"IQD": bank},
        actor=_as(w.hr_user, "hr_manager"),
    )
    assert _code(err) == (409, "INVALID_STATE")
    async with ctx.db.session() as s:
        assert await posting.unbalanced_entries(s) == []
        entries = list(
            await s.scalars(
                select(JournalEntry).where(
                    JournalEntry.source_type == "payroll_run", JournalEntry.source_id == run.id
                )
            )
        )
        assert sorted(e.total for e in entries) == [run.net_iqd, run.net_iqd]
        unpublished = await s.scalar(
            select(func.count()).where(Payslip.run_id == run.id, Payslip.published_at.is_(None))
        )
        assert unpublished == 0


async def test_payroll_period_closed(ctx: AppContext) -> None:
    w = await _world(ctx)
    await _employee(ctx, w)
    async with unit_of_work(ctx.db, ctx.bus) as s:
        period = await s.scalar(
            select(FiscalPeriod).where(FiscalPeriod.year == 2014, FiscalPeriod.month == 3)
        )
        if period is None:
            s.add(
                FiscalPeriod(
                    year=2014,
                    month=3,
                    starts_on=dt.date(2014, 3, 1),
                    ends_on=dt.date(2014, 3, 31),
                    status="closed",
                )
            )
        else:
            period.status = "closed"
    run = await _cmd(
        ctx,
        payroll.calculate_run,
        year=2014,
        month=3,
        branch_id=w.branch_id,
        actor=_as(w.hr_user, "hr_manager"),
    )
    err = await _rejected(
        ctx, payroll.approve_run, run_id=run.id, actor=_as(w.manager_user, "branch_manager", w.branch_id)
    )
    assert _code(err) == (409, "PERIOD_CLOSED")


# --- performance reviews ----------------------------------------------------------------------

CRITERIA = [
    {"code": "quality", "title": "Quality", "weight": 50},
    {"code": "teamwork", "title": "Teamwork", "weight": 30},
    {"code": "punctuality", "title": "Punctuality", "weight": 20},
]


async def test_review_cycle_and_reviews(ctx: AppContext, events: list[DomainEvent]) -> None:
    w = await _world(ctx)
    e = await _employee(ctx, w)
    no_user = await _employee(ctx, w, with_user=False)
    today = business_today()
    cycle_args: dict[str, Any] = {
        "name": "H1", "period_from": today - dt.timedelta(days=180), "period_to": today,
        "self_due": today + dt.timedelta(days=7), "manager_due": today + dt.timedelta(days=14),
        "actor": _as(w.hr_user, "hr_manager"), "branch_id": w.branch_id,
    }  # fmt: skip
    bad = [{**c, "weight": 40} if c["code"] == "quality" else c for c in CRITERIA]
    err = await _rejected(ctx, reviews.open_cycle, criteria=bad, **cycle_args)
    assert _code(err) == (422, "WEIGHTS_NOT_100")
    cycle = await _cmd(ctx, reviews.open_cycle, criteria=CRITERIA, **cycle_args)
    assert any(ev.name == "ReviewCycleChanged" for ev in events)
    err = await _rejected(
        ctx,
        reviews.open_cycle,
        criteria=CRITERIA,
        **{**cycle_args, "branch_id": None, "department_id": w.department_id},
    )
    assert _code(err) == (409, "CYCLE_OVERLAP")
    async with ctx.db.session() as s:
        rows = {
            r.employee_id: r
            for r in await s.scalars(select(PerformanceReview).where(PerformanceReview.cycle_id == cycle.id))
        }
    assert set(rows) == {w.manager.id, e.id, no_user.id}
    assert (rows[e.id].status, rows[e.id].reviewer_user_id, rows[e.id].reviewer_id) == (
        "awaiting_self",
        w.manager_user,
        w.manager.id,
    )
    assert (rows[no_user.id].status, rows[no_user.id].reviewer_user_id) == (
        "awaiting_manager",
        w.manager_user,
    )
    assert (rows[w.manager.id].reviewer_user_id, rows[w.manager.id].reviewer_id) == (w.hr_user, None)

    save = reviews.save_review
    rid = rows[e.id].id
    full = [
        {"code": "quality", "score": 4},
        {"code": "teamwork", "score": 5, "comment": "great"},
        {"code": "punctuality", "score": 3},
    ]
    err = await _rejected(ctx, save, review_id=rid, actor=_as(w.hr_user, "hr_manager"), scores=full)
    assert err.status == 404
    err = await _rejected(
        ctx,
        save,
        review_id=rid,
        actor=_as(w.manager_user, "branch_manager", w.branch_id),
        scores=full,
        submit=True,
    )
    assert _code(err) == (409, "NOT_YOUR_TURN")
    err = await _rejected(ctx, save, review_id=rid, actor=_as(e.user_id), scores=full[:2], submit=True)
    assert _code(err) == (422, "MISSING_CRITERIA")
    err = await _rejected(
        ctx, save, review_id=rid, actor=_as(e.user_id), scores=[{"code": "quality", "score": 6}]
    )
    assert _code(err) == (422, "VALIDATION_ERROR")
    draft = await _cmd(ctx, save, review_id=rid, actor=_as(e.user_id), scores=full[:2])
    assert draft.status == "awaiting_self" and len(draft.self_scores) == 2
    done = await _cmd(
        ctx, save, review_id=rid, actor=_as(e.user_id), scores=full, summary="Good half", submit=True
    )
    assert done.status == "awaiting_manager" and done.self_submitted_at is not None
    err = await _rejected(ctx, save, review_id=rid, actor=_as(e.user_id), scores=full)
    assert _code(err) == (409, "NOT_YOUR_TURN")
    done = await _cmd(
        ctx,
        save,
        review_id=rid,
        actor=_as(w.manager_user, "branch_manager", w.branch_id),
        scores=full,
        summary="Solid",
        submit=True,
    )
    assert (done.status, done.overall_score) == ("completed", D("4.10"))  # (4*50 + 5*30 + 3*20) / 100
    err = await _rejected(
        ctx,
        save,
        review_id=rid,
        actor=_as(w.manager_user, "branch_manager", w.branch_id),
        scores=full,
        submit=True,
    )
    assert _code(err) == (409, "NOT_YOUR_TURN")

    err = await _rejected(ctx, reviews.close_cycle, cycle_id=cycle.id, actor=_as(w.hr_user, "hr_manager"))
    assert _code(err) == (422, "TOO_EARLY")
    closed = await _cmd(
        ctx,
        reviews.close_cycle,
        cycle_id=cycle.id,
        actor=_as(w.hr_user, "hr_manager"),
        today=today + dt.timedelta(days=15),
    )
    assert closed.status == "closed"
    err = await _rejected(
        ctx,
        reviews.close_cycle,
        cycle_id=cycle.id,
        actor=_as(w.hr_user, "hr_manager"),
        today=today + dt.timedelta(days=15),
    )
    assert _code(err) == (409, "CYCLE_CLOSED")
    err = await _rejected(
        ctx,
        save,
        review_id=rows[no_user.id].id,
        actor=_as(w.manager_user, "branch_manager", w.branch_id),
        scores=full,
        submit=True,
    )
    assert _code(err) == (409, "CYCLE_CLOSED")
    async with ctx.db.session() as s:
        assert await s.scalar(select(ReviewCycle.status).where(ReviewCycle.id == cycle.id)) == "closed"
