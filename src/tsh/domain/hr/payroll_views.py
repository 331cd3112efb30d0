"""Payroll screens (apps/hr.md HR-15 runs, HR-16 run detail, HR-20 payslips, HR-21 payslip).

Payroll screens are for hr_manager and accountant (scope all); employees see only their own
payslips, and only once the run is paid (published). HR managers also list only published slips
on HR-20/21: a calculated run is reviewed through HR-16.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.hr.models import Employee, PayrollRun, Payslip
from tsh.domain.hr.people_views import payslip_summary, run_summary
from tsh.domain.hr.scope import employee_scope, names, person
from tsh.domain.money import wire
from tsh.platform.errors import NotFound

ZERO = Decimal("0")


def run_not_found() -> NotFound:
    return NotFound("Payroll run not found", code="PAYROLL_RUN_NOT_FOUND")


async def run_view(session: AsyncSession, run_id: int) -> dict[str, Any]:
    run = await session.get(PayrollRun, run_id)
    if run is None:
        raise run_not_found()
    refs = await names(session, branches={run.branch_id})
    return run_summary(run, refs["branches"])


async def payroll_runs(
    session: AsyncSession,
    *,
    limit: int,
    after_id: int | None = None,
    year: int | None = None,
    status: str | None = None,
    branch_id: int | None = None,
) -> list[dict[str, Any]]:
    """HR-15: runs, newest first (limit + 1 rows)."""
    where: list[ColumnElement[bool]] = []
    if after_id is not None:
        where.append(PayrollRun.id < after_id)
    for column, value in (
        (PayrollRun.year, year),
        (PayrollRun.status, status),
        (PayrollRun.branch_id, branch_id),
    ):
        if value is not None:
            where.append(column == value)
    runs = list(
        await session.scalars(
            select(PayrollRun).where(*where).order_by(PayrollRun.id.desc()).limit(limit + 1)
        )
    )
    refs = await names(session, branches={r.branch_id for r in runs})
    return [run_summary(r, refs["branches"]) for r in runs]


def _deduction(p: Payslip, code: str) -> Decimal:
    return sum((-Decimal(line["amount"]) for line in p.lines or [] if line.get("code") == code), ZERO)


async def run_detail(
    session: AsyncSession,
    *,
    run_id: int,
    limit: int,
    after_id: int | None = None,
    department_id: int | None = None,
    with_warnings: bool | None = None,
) -> dict[str, Any]:
    """HR-16: the run and its payslips by id (limit + 1 rows); 404 PAYROLL_RUN_NOT_FOUND."""
    run = await run_view(session, run_id)
    where: list[ColumnElement[bool]] = [Payslip.run_id == run_id]
    if after_id is not None:
        where.append(Payslip.id > after_id)
    if department_id is not None:
        where.append(Employee.department_id == department_id)
    stmt = (
        select(
            Payslip, Employee.id, Employee.code, Employee.name_en, Employee.name_ar, Employee.department_id
        )
        .join(Employee, Employee.id == Payslip.employee_id)
        .where(*where)
        .order_by(Payslip.id)
    )
    rows: list[Any] = []
    # The warnings are a JSON list: filtered here, reading on in chunks until the page is full.
    async for chunk in _chunks(session, stmt, limit + 1 if not with_warnings else 200):
        rows += [r for r in chunk if with_warnings is None or bool(r[0].warnings) == with_warnings]
        if len(rows) > limit or not with_warnings:
            break
    rows = rows[: limit + 1]
    refs = await names(session, departments={r.department_id for r in rows})
    items = []
    for r in rows:
        p: Payslip = r[0]
        cur = p.currency
        items.append(
            {
                "id": p.id,
                "employee": person(r),
                "department": refs["departments"].get(r.department_id),
                "base": wire(p.base, cur),
                "overtime": wire(p.overtime, cur),
                "commission": wire(p.commission, cur),
                "allowances": wire(p.allowances, cur),
                "absence_deduction": wire(_deduction(p, "ABS"), cur),
                "unpaid_leave_deduction": wire(_deduction(p, "UNPAID"), cur),
                "deductions": wire(p.deductions, cur),
                "gross": wire(p.gross, cur),
                "net": wire(p.net, cur),
                "working_days": p.working_days,
                "overtime_hours": str((Decimal(p.overtime_min) / 60).quantize(Decimal("0.01"))),
                "warnings": [
                    {"code": str(w.get("code")), "detail": {k: str(v) for k, v in w.items() if k != "code"}}
                    for w in p.warnings or []
                ],
            }
        )
    return {"run": run, "items": items}


async def _chunks(session: AsyncSession, stmt: Any, size: int) -> Any:
    last = 0
    while True:
        chunk = list(await session.execute(stmt.where(Payslip.id > last).limit(size)))
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0].id
        if len(chunk) < size:
            return


def _payslip_scope(actor: Actor) -> list[ColumnElement[bool]]:
    return [employee_scope(actor), Payslip.published_at.is_not(None)]


async def payslips(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after_id: int | None = None,
    year: int | None = None,
    employee_id: int | None = None,
) -> list[dict[str, Any]]:
    """HR-20: published payslips in scope, newest first (limit + 1 rows)."""
    where = _payslip_scope(actor)
    if after_id is not None:
        where.append(Payslip.id < after_id)
    if year is not None:
        where.append(PayrollRun.year == year)
    if employee_id is not None:
        where.append(Payslip.employee_id == employee_id)
    rows = await session.execute(
        select(Payslip, PayrollRun, Employee.id, Employee.code, Employee.name_en, Employee.name_ar)
        .join(PayrollRun, PayrollRun.id == Payslip.run_id)
        .join(Employee, Employee.id == Payslip.employee_id)
        .where(*where)
        .order_by(Payslip.id.desc())
        .limit(limit + 1)
    )
    return [{**payslip_summary(r[0], r[1]), "employee": person(_Ref(r[2:]))} for r in rows]


class _Ref:
    def __init__(self, values: Any) -> None:
        self.id, self.code, self.name_en, self.name_ar = values


async def payslip(session: AsyncSession, actor: Actor, payslip_id: int) -> dict[str, Any]:
    """HR-21: one published payslip in scope with year-to-date totals (404 PAYSLIP_NOT_FOUND)."""
    row = (
        await session.execute(
            select(Payslip, PayrollRun, Employee.id, Employee.code, Employee.name_en, Employee.name_ar)
            .join(PayrollRun, PayrollRun.id == Payslip.run_id)
            .join(Employee, Employee.id == Payslip.employee_id)
            .where(Payslip.id == payslip_id, *_payslip_scope(actor))
        )
    ).first()
    if row is None:
        raise NotFound("Payslip not found", code="PAYSLIP_NOT_FOUND")
    p, run = row[0], row[1]
    ytd = (
        await session.execute(
            select(func.coalesce(func.sum(Payslip.gross), 0), func.coalesce(func.sum(Payslip.net), 0))
            .join(PayrollRun, PayrollRun.id == Payslip.run_id)
            .where(
                Payslip.employee_id == p.employee_id,
                Payslip.currency == p.currency,
                Payslip.published_at.is_not(None),
                PayrollRun.year == run.year,
                PayrollRun.month <= run.month,
            )
        )
    ).one()
    cur = p.currency
    lines = [
        {"code": line["code"], "label": line["label"], "amount": wire(abs(Decimal(line["amount"])), cur)}
        for line in p.lines or []
    ]
    return {
        **payslip_summary(p, run),
        "employee": person(_Ref(row[2:])),
        "earnings": [ln for ln, raw in zip(lines, p.lines or [], strict=True) if Decimal(raw["amount"]) >= 0],
        "deductions": [
            ln for ln, raw in zip(lines, p.lines or [], strict=True) if Decimal(raw["amount"]) < 0
        ],
        "total_deductions": wire(p.deductions, cur),
        "working_days": p.working_days,
        "overtime_hours": str((Decimal(p.overtime_min) / 60).quantize(Decimal("0.01"))),
        "leave_days": str(p.leave_days),
        "year_to_date": {"gross": wire(Decimal(ytd[0]), cur), "net": wire(Decimal(ytd[1]), cur)},
    }
