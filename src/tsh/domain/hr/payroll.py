"""Monthly payroll: calculate → approve → pay (domain.md §9, apps/hr.md HR-17..19).

Calculation, per employee employed during the month (branch run: that branch's employees):
- working days are the month's days off neither the weekly off days nor public holidays; the base
  salary is prorated by the working days employed (hire / termination mid-month), at
  previous_base_salary before a salary_effective_from inside the month (warning `salary_change`);
- deductions: one daily rate (base salary / month working days) per `absent` day and per approved
  unpaid-leave working day (0.5 for a half day); working days without attendance or leave only
  raise the warning `missing_attendance`;
- overtime minutes of the month at 1.5 × the hourly rate (daily rate / scheduled hours);
- commissions of the employee's user that are payable by the end of the month, unpaid and unsettled,
  in the salary currency, are linked to the run (others stay payable: warning `commission_currency`).
Recalculating a calculated run replaces its payslips and commission links (409 RUN_ALREADY_APPROVED
once approved). Approval (not by the calculator) posts the accrual per currency on the PAY journal
dated the month end: salaries_expense (earned pay net of deductions) and commission_payable (the
commissions, already expensed at accrual) against salaries_payable (net), and marks the
commissions paid. Payment posts salaries_payable against a cash/bank account per currency and
publishes the payslips.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.accounting.models import Account
from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.hr.leave import holidays, working_dates
from tsh.domain.hr.models import CURRENCIES, AttendanceRecord, Employee, LeaveRequest, PayrollRun, Payslip
from tsh.domain.money import round_money
from tsh.domain.sales.models.field import Commission
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Forbidden, Invalid, NotFound, field_error

ZERO = Decimal("0")
OVERTIME_FACTOR = Decimal("1.5")
EARLIEST_DAY = 25


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    return start, (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _hours(employee: Employee) -> Decimal:
    minutes = (employee.work_end.hour * 60 + employee.work_end.minute) - (
        employee.work_start.hour * 60 + employee.work_start.minute
    )
    return Decimal(max(minutes, 60)) / 60


async def _payslip(
    session: AsyncSession, run: PayrollRun, e: Employee, start: dt.date, end: dt.date
) -> Payslip:
    cur = e.currency
    off = await holidays(session, e.branch_id, start, end)
    month_days = working_dates(start, end, e.weekly_off_days, off)
    first, last = max(start, e.hire_date), min(end, e.termination_date or end)
    employed = [d for d in month_days if first <= d <= last]
    warnings: list[Any] = []
    n = Decimal(max(len(month_days), 1))
    change = e.salary_effective_from
    changed = e.previous_base_salary is not None and change is not None and start < change <= end

    previous = e.previous_base_salary if changed else None

    def salary(day: dt.date) -> Decimal:
        return previous if previous is not None and change is not None and day < change else e.base_salary

    if changed:
        warnings.append({"code": "salary_change", "effective_from": str(change)})
    base = round_money(sum((salary(d) for d in employed), ZERO) / n, cur)
    records = {
        r.date: r
        for r in await session.scalars(
            select(AttendanceRecord).where(
                AttendanceRecord.employee_id == e.id,
                AttendanceRecord.date >= start,
                AttendanceRecord.date <= end,
            )
        )
    }
    leaves = list(
        await session.scalars(
            select(LeaveRequest).where(
                LeaveRequest.employee_id == e.id,
                LeaveRequest.status == "approved",
                LeaveRequest.from_date <= end,
                LeaveRequest.to_date >= start,
            )
        )
    )
    leave_dates: dict[dt.date, tuple[str, Decimal]] = {}
    for lv in leaves:
        for d in employed:
            if lv.from_date <= d <= lv.to_date:
                leave_dates[d] = (lv.type, Decimal("0.5") if lv.half_day else Decimal(1))
    unpaid = [(d, share) for d, (t, share) in leave_dates.items() if t == "unpaid"]
    absent = [d for d in employed if d in records and records[d].status == "absent" and d not in leave_dates]
    missing = [d for d in employed if d not in records and d not in leave_dates]
    if missing:
        warnings.append({"code": "missing_attendance", "days": len(missing)})
    unpaid_amount = round_money(sum((salary(d) * share for d, share in unpaid), ZERO) / n, cur)
    absent_amount = round_money(sum((salary(d) for d in absent), ZERO) / n, cur)
    overtime_min = sum(r.overtime_min for d, r in records.items() if first <= d <= last)
    hourly = e.base_salary / n / _hours(e)
    overtime = round_money(hourly * OVERTIME_FACTOR * overtime_min / 60, cur)
    commission = ZERO
    if e.user_id is not None:
        due = select(Commission).where(
            Commission.salesperson_id == e.user_id,
            Commission.status == "payable",
            Commission.payable_at < day_start_utc(end + dt.timedelta(days=1)),
            Commission.payroll_run_id.is_(None),
            Commission.payout_id.is_(None),
        )
        for c in await session.scalars(due.with_for_update()):
            if c.currency != cur:
                warnings.append({"code": "commission_currency", "commission_id": c.id})
                continue
            c.payroll_run_id = run.id
            commission += c.amount
    deductions = min(unpaid_amount + absent_amount, base)
    gross = base + overtime + commission
    lines = [{"code": "BASE", "label": "Basic salary", "amount": str(base)}]
    for code, label, amount in (
        ("OT", "Overtime", overtime),
        ("COMM", "Sales commission", commission),
        ("ABS", "Absence deduction", -absent_amount),
        ("UNPAID", "Unpaid leave deduction", -unpaid_amount),
    ):
        if amount:
            lines.append({"code": code, "label": label, "amount": str(amount)})
    return Payslip(
        run_id=run.id, employee_id=e.id, currency=cur, base=base, overtime=overtime, commission=commission,
        allowances=ZERO, deductions=deductions, gross=gross, net=gross - deductions,
        working_days=len(employed), overtime_min=overtime_min,
        leave_days=sum((share for _, share in leave_dates.values()), ZERO), lines=lines, warnings=warnings,
    )  # fmt: skip


def _processed(session: AsyncSession, run: PayrollRun) -> None:
    raise_event(session, "PayrollProcessed", everyone=True, run_id=run.id, status=run.status)


async def calculate_run(
    session: AsyncSession,
    actor: Actor,
    *,
    year: int,
    month: int,
    branch_id: int | None = None,
    today: dt.date | None = None,
) -> PayrollRun:
    """Calculate or recalculate a month's payroll (HR-17): 422 TOO_EARLY before the 25th, 409
    RUN_ALREADY_APPROVED, 409 RUN_OVERLAP between a company-wide and a branch run. Emits
    PayrollProcessed (and CommissionChanged when commissions are linked)."""
    if not 1 <= month <= 12:
        raise Invalid("Unknown month", details=[field_error("month", "1..12")])
    start, end = month_bounds(year, month)
    if (today or business_today()) < start.replace(day=EARLIEST_DAY):
        raise Invalid("Payroll is calculated from the 25th of the month", code="TOO_EARLY")
    same_month = list(
        await session.scalars(
            select(PayrollRun).where(PayrollRun.year == year, PayrollRun.month == month).with_for_update()
        )
    )
    run = next((r for r in same_month if r.branch_id == branch_id), None)
    others = [r for r in same_month if r is not run and (branch_id is None or r.branch_id is None)]
    if run is not None and run.status != "calculated":
        raise Conflict("The month's run is already approved", code="RUN_ALREADY_APPROVED")
    if others:
        raise Conflict(
            "Another run of the month covers these employees",
            code="RUN_OVERLAP",
            details=[field_error("branch_id", "overlaps", run_id=others[0].id)],
        )
    if run is None:
        run = PayrollRun(year=year, month=month, branch_id=branch_id, status="calculated")
        session.add(run)
        await session.flush()
    else:
        await session.execute(
            update(Commission).where(Commission.payroll_run_id == run.id).values(payroll_run_id=None)
        )
        await session.execute(delete(Payslip).where(Payslip.run_id == run.id))
    stmt = select(Employee).where(
        Employee.hire_date <= end,
        or_(Employee.termination_date.is_(None), Employee.termination_date >= start),
    )
    if branch_id is not None:
        stmt = stmt.where(Employee.branch_id == branch_id)
    slips = [
        await _payslip(session, run, e, start, end) for e in await session.scalars(stmt.order_by(Employee.id))
    ]
    session.add_all(slips)
    totals = {
        c: (
            sum((p.gross for p in slips if p.currency == c), ZERO),
            sum((p.net for p in slips if p.currency == c), ZERO),
        )
        for c in CURRENCIES
    }
    run.gross_iqd, run.net_iqd = totals["IQD"]
    run.gross_usd, run.net_usd = totals["USD"]
    run.employee_count, run.calculated_by_id, run.calculated_at = len(slips), actor.user_id, utcnow()
    await session.flush()
    _processed(session, run)
    if any(p.commission for p in slips):
        raise_event(session, "CommissionChanged", everyone=True, payroll_run_id=run.id)
    return run


async def _run(session: AsyncSession, run_id: int) -> PayrollRun:
    run = await session.scalar(select(PayrollRun).where(PayrollRun.id == run_id).with_for_update())
    if run is None:
        raise NotFound("Payroll run not found", code="PAYROLL_RUN_NOT_FOUND")
    return run


async def _slips(session: AsyncSession, run: PayrollRun) -> list[Payslip]:
    return list(await session.scalars(select(Payslip).where(Payslip.run_id == run.id).order_by(Payslip.id)))


async def approve_run(
    session: AsyncSession, actor: Actor, *, run_id: int, note: str | None = None
) -> PayrollRun:
    """Approve a calculated run (HR-18): 403 SELF_APPROVAL, 409 INVALID_STATE, 409 PERIOD_CLOSED.
    Posts the accrual, marks the linked commissions paid. Emits PayrollProcessed, CommissionChanged,
    JournalPosted."""
    run = await _run(session, run_id)
    if run.calculated_by_id == actor.user_id:
        raise Forbidden("The user who calculated the run cannot approve it", code="SELF_APPROVAL")
    if run.status != "calculated":
        raise Conflict("Only a calculated run can be approved", code="INVALID_STATE")
    _, end = month_bounds(run.year, run.month)
    slips = await _slips(session, run)
    for cur in CURRENCIES:
        mine = [p for p in slips if p.currency == cur]
        commission = sum((p.commission for p in mine), ZERO)
        net = sum((p.net for p in mine), ZERO)
        lines = [
            posting.Line("salaries_expense", debit=net - commission, branch_id=run.branch_id),
            posting.Line("commission_payable", debit=commission, branch_id=run.branch_id),
            posting.Line("salaries_payable", credit=net, branch_id=run.branch_id),
        ]
        lines = [ln for ln in lines if ln.debit or ln.credit]
        if not lines:
            continue
        entry = await posting.post_entry(
            session, journal="PAY", entry_date=end, currency=cur, lines=lines,
            memo=f"Payroll accrual {end:%Y-%m}", source_type="payroll_run", source_id=run.id,
            branch_id=run.branch_id, posted_by_id=actor.user_id,
        )  # fmt: skip
        run.accrual_entry_id = run.accrual_entry_id or entry.id
    now = utcnow()
    paid = await session.execute(
        update(Commission)
        .where(Commission.payroll_run_id == run.id, Commission.status == "payable")
        .values(status="paid", paid_at=now)
    )
    run.status, run.approved_by_id, run.approved_at, run.note = "approved", actor.user_id, now, note
    await session.flush()
    _processed(session, run)
    if getattr(paid, "rowcount", 0):
        raise_event(session, "CommissionChanged", everyone=True, payroll_run_id=run.id)
    return run


async def pay_run(
    session: AsyncSession,
    actor: Actor,
    *,
    run_id: int,
    paid_on: dt.date,
    accounts: Mapping[str, int],
    reference: str | None = None,
) -> PayrollRun:
    """Pay an approved run (HR-19) from one cash/bank account per currency ({"IQD": account_id}):
    409 INVALID_STATE, 422 NOT_A_CASH_ACCOUNT, 409 PERIOD_CLOSED. Publishes the payslips. Emits
    PayrollProcessed, JournalPosted."""
    run = await _run(session, run_id)
    if run.status != "approved":
        raise Conflict("Only an approved run can be paid", code="INVALID_STATE")
    nets = {"IQD": run.net_iqd, "USD": run.net_usd}
    for cur, net in nets.items():
        if net <= 0:
            continue
        if cur not in accounts:
            raise Invalid(
                "An account is needed per currency", details=[field_error("accounts", f"{cur} missing")]
            )
        acc = await session.get(Account, accounts[cur])
        if (
            acc is None
            or acc.cash_flow_class != "cash"
            or not acc.is_postable
            or acc.currency not in (None, cur)
        ):
            raise Invalid(
                "Pay from a cash or bank account of the currency",
                code="NOT_A_CASH_ACCOUNT",
                details=[
                    field_error("accounts", "not a cash account", currency=cur, account_id=accounts[cur])
                ],
            )
        entry = await posting.post_entry(
            session, journal="PAY", entry_date=paid_on, currency=cur,
            lines=[
                posting.Line("salaries_payable", debit=net, branch_id=run.branch_id),
                posting.Line(acc.id, credit=net, branch_id=run.branch_id),
            ],
            memo=f"Salaries paid {run.year}-{run.month:02d}", source_type="payroll_run", source_id=run.id,
            branch_id=run.branch_id, posted_by_id=actor.user_id, reference=reference,
        )  # fmt: skip
        run.payment_entry_id = run.payment_entry_id or entry.id
    now = utcnow()
    await session.execute(update(Payslip).where(Payslip.run_id == run.id).values(published_at=now))
    run.status, run.paid_by_id, run.paid_at, run.paid_on, run.reference = (
        "paid",
        actor.user_id,
        now,
        paid_on,
        reference,
    )
    await session.flush()
    _processed(session, run)
    return run
