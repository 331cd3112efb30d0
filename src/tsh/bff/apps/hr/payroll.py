"""HR-15 runs, HR-16 run detail, HR-17 calculate, HR-18 approve, HR-19 pay, HR-20/21 payslips."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tsh.bff.apps.hr import PAYROLL, app
from tsh.bff.apps.hr.views import PayslipSummary, Person, RunStatus, RunSummary
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, LongText, Page, decode_cursor, page
from tsh.bff.views import Currency, DecimalText, MoneyOut, Named, RowId, View
from tsh.domain.hr.payroll import approve_run, calculate_run, pay_run
from tsh.domain.hr.payroll_views import payroll_runs, payslip, payslips, run_detail, run_view
from tsh.domain.hr.scope import after_id
from tsh.platform.errors import Invalid, field_error

PAYSLIP_SCOPES = {"employee": "own", "hr_manager": "all"}


class RunsQuery(Page):
    year: int | None = Field(default=None, ge=2000, le=2100)
    status: RunStatus | None = None
    branch_id: Id | None = None


class RunsPage(View):
    items: list[RunSummary]
    next_cursor: str | None


def _by_id(row: dict[str, Any]) -> dict[str, Any]:
    return {"i": row["id"]}


@app.screen(
    "HR-15",
    "/payroll-runs",
    roles=PAYROLL,
    scope="all",
    cache="financial",
    events=("PayrollProcessed",),
    response=RunsPage,
)
async def runs(call: Call, *, query: RunsQuery) -> dict[str, Any]:
    """Payroll runs: month, branch, status, employee count, gross and net per currency."""
    rows = await payroll_runs(
        call.session,
        limit=query.limit,
        after_id=after_id(decode_cursor(query.cursor)),
        year=query.year,
        status=query.status,
        branch_id=query.branch_id,
    )
    return page(rows, query.limit, _by_id)


class DetailQuery(Page):
    department_id: Id | None = None
    with_warnings: bool | None = None


class Warning_(View):
    code: str
    detail: dict[str, str]


class SlipRow(View):
    id: RowId
    employee: Person
    department: Named | None
    base: MoneyOut
    overtime: MoneyOut
    commission: MoneyOut
    allowances: MoneyOut
    absence_deduction: MoneyOut
    unpaid_leave_deduction: MoneyOut
    deductions: MoneyOut
    gross: MoneyOut
    net: MoneyOut
    working_days: int
    overtime_hours: DecimalText
    warnings: list[Warning_]


class RunDetail(View):
    run: RunSummary
    items: list[SlipRow]
    next_cursor: str | None


@app.screen(
    "HR-16",
    "/payroll-runs/{id}",
    roles=PAYROLL,
    scope="all",
    cache="financial",
    events=("PayrollProcessed",),
    errors=("PAYROLL_RUN_NOT_FOUND",),
    response=RunDetail,
)
async def run(call: Call, *, query: DetailQuery, id: int) -> dict[str, Any]:
    """Run detail per employee: earnings, deductions, gross, net and warnings."""
    result = await run_detail(
        call.session,
        run_id=id,
        limit=query.limit,
        after_id=after_id(decode_cursor(query.cursor)),
        department_id=query.department_id,
        with_warnings=query.with_warnings,
    )
    return {"run": result["run"], **page(result["items"], query.limit, _by_id)}


class Calculate(Body):
    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)
    branch_id: Id | None = None


@app.action(
    "HR-17",
    "POST",
    "/payroll-runs",
    roles=("hr_manager",),
    scope="all",
    events=("PayrollProcessed",),
    idempotency="required",
    audit_entity="payroll_run",
    errors=("RUN_ALREADY_APPROVED", "RUN_OVERLAP", "TOO_EARLY"),
    response=RunSummary,
)
async def calculate(call: Call, *, body: Calculate) -> Created:
    """Calculates or recalculates a month's payroll (company-wide or one branch)."""
    result = await calculate_run(
        call.session, year=body.year, month=body.month, branch_id=body.branch_id, actor=call.actor
    )
    call.audit("payroll_run", result.id, after={"status": result.status, "employees": result.employee_count})
    return Created(await run_view(call.session, result.id))


class Approval(Body):
    note: LongText | None = None


@app.action(
    "HR-18",
    "POST",
    "/payroll-runs/{id}/approval",
    roles=("hr_manager",),
    scope="all",
    events=("PayrollProcessed", "CommissionChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="payroll_run",
    errors=("PAYROLL_RUN_NOT_FOUND", "SELF_APPROVAL", "INVALID_STATE", "PERIOD_CLOSED"),
    response=RunSummary,
)
async def approve(call: Call, *, body: Approval, id: int) -> dict[str, Any]:
    """Approves a calculated run: locks the month, pays its commissions, posts the accrual."""
    result = await approve_run(call.session, run_id=id, actor=call.actor, note=body.note)
    call.audit("payroll_run", id, before={"status": "calculated"}, after={"status": result.status})
    return await run_view(call.session, id)


class PayAccount(Body):
    currency: Currency
    account_id: Id


class Payment(Body):
    paid_on: DateIn
    accounts: list[PayAccount] = Field(min_length=1, max_length=2)
    reference: str | None = Field(default=None, max_length=100)


@app.action(
    "HR-19",
    "POST",
    "/payroll-runs/{id}/payment",
    roles=("accountant",),
    scope="all",
    events=("PayrollProcessed", "JournalPosted"),
    idempotency="required",
    audit_entity="payroll_run",
    errors=("PAYROLL_RUN_NOT_FOUND", "INVALID_STATE", "PERIOD_CLOSED", "NOT_A_CASH_ACCOUNT"),
    response=RunSummary,
)
async def pay(call: Call, *, body: Payment, id: int) -> dict[str, Any]:
    """Records payment of an approved run per currency and publishes the payslips."""
    accounts: dict[str, int] = {a.currency: a.account_id for a in body.accounts}
    if len(accounts) != len(body.accounts):
        raise Invalid(details=[field_error("accounts", "at most one account per currency")])
    result = await pay_run(
        call.session,
        run_id=id,
        paid_on=body.paid_on,
        accounts=accounts,
        actor=call.actor,
        reference=body.reference,
    )
    call.audit("payroll_run", id, before={"status": "approved"}, after={"status": result.status})
    return await run_view(call.session, id)


class SlipsQuery(Page):
    year: int | None = Field(default=None, ge=2000, le=2100)
    employee_id: Id | None = None


class SlipListRow(PayslipSummary):
    employee: Person


class SlipsPage(View):
    items: list[SlipListRow]
    next_cursor: str | None


@app.screen(
    "HR-20",
    "/payslips",
    roles=("employee", "hr_manager"),
    scope=PAYSLIP_SCOPES,
    cache="financial",
    events=("PayrollProcessed",),
    response=SlipsPage,
)
async def slips(call: Call, *, query: SlipsQuery) -> dict[str, Any]:
    """Payslips of paid runs: month, gross, net, currency, paid date."""
    rows = await payslips(
        call.session,
        call.actor,
        limit=query.limit,
        after_id=after_id(decode_cursor(query.cursor)),
        year=query.year,
        employee_id=query.employee_id,
    )
    return page(rows, query.limit, _by_id)


class Line(View):
    code: str
    label: str
    amount: MoneyOut


class Totals(View):
    gross: MoneyOut
    net: MoneyOut


class Slip(SlipListRow):
    earnings: list[Line]
    deductions: list[Line]
    total_deductions: MoneyOut
    working_days: int
    overtime_hours: DecimalText
    leave_days: DecimalText
    year_to_date: Totals


@app.screen(
    "HR-21",
    "/payslips/{id}",
    roles=("employee", "hr_manager"),
    scope=PAYSLIP_SCOPES,
    cache="financial",
    events=("PayrollProcessed",),
    errors=("PAYSLIP_NOT_FOUND",),
    response=Slip,
)
async def slip(call: Call, *, id: int) -> dict[str, Any]:
    """Payslip: earning and deduction lines, gross, net, days, overtime, leave, year to date."""
    return await payslip(call.session, call.actor, id)
