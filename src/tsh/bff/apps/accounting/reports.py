"""ACC-01 finance dashboard and the statements: ACC-10 general ledger, ACC-11 trial balance,
ACC-12 balance sheet, ACC-13 income statement, ACC-14 cash flow."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.accounting import ACCOUNTANT, ALL_OR_BRANCH, READERS, app
from tsh.bff.apps.accounting.ledger import AccountType, Currency, FlowClass
from tsh.bff.call import Call, Section
from tsh.bff.schemas import DateIn, Id, Page, Query, decode_cursor, encode_cursor
from tsh.bff.views import Date, DecimalText, MoneyOut, RowId, View
from tsh.domain.finance.dashboard import dashboard_parts
from tsh.domain.finance.reports import (
    balance_sheet as balance_sheet_report,
)
from tsh.domain.finance.reports import (
    cash_flow as cash_flow_report,
)
from tsh.domain.finance.reports import (
    general_ledger as general_ledger_report,
)
from tsh.domain.finance.reports import (
    income_statement as income_statement_report,
)
from tsh.domain.finance.reports import (
    ledger_position,
)
from tsh.domain.finance.reports import (
    trial_balance as trial_balance_report,
)
from tsh.domain.shared import business_today


class DashboardQuery(Query):
    branch_id: Id | None = None
    currency: Literal["base", "IQD", "USD"] = "base"


class Results(View):
    revenue: MoneyOut
    expenses: MoneyOut
    net_profit: MoneyOut


class PeriodStatus(View):
    id: RowId
    year: int
    month: int
    status: Literal["open", "closed"]


class Dashboard(View):
    """`cash` and `bank`: balances per currency in that currency; the other figures in `currency`.

    `month_to_date` and `last_month_same_days` are null when their section could not be had
    (metadata.sections: timeout or error without a last good value)."""

    as_of: Date
    branch_id: RowId | None
    currency: Currency
    cash: list[MoneyOut]
    bank: list[MoneyOut]
    receivables_total: MoneyOut
    receivables_overdue: MoneyOut
    month_to_date: Results | None
    last_month_same_days: Results | None
    unreconciled_bank_lines: int | None
    tax_payable: MoneyOut
    fiscal_period: PeriodStatus | None


@app.screen(
    "ACC-01",
    "/dashboard",
    roles=READERS,
    scope=ALL_OR_BRANCH,
    cache="dashboard",
    events=("JournalPosted", "InvoiceIssued", "PaymentReceived", "BankReconciled", "LedgerSetupChanged"),
    errors=("NO_EXCHANGE_RATE", "SECTION_TIMEOUT"),
    response=Dashboard,
)
async def dashboard(call: Call, *, query: DashboardQuery) -> dict[str, Any]:
    """Finance dashboard: cash, bank, receivables, month-to-date results, bank lines, tax, period.

    Sections: `balances` (cash, bank, receivables, tax payable, period; required: money a user
    acts on is never shown stale), `results` (month to date and last month's same days) and
    `bank_lines` (unreconciled lines): a late or failed one is its last good value (stale) or null.
    """
    currency = "IQD" if query.currency == "base" else query.currency
    parts = await dashboard_parts(
        call.session, call.actor, branch_id=query.branch_id, currency=currency, today=business_today()
    )
    got = await call.sections(
        {
            "balances": Section(parts["balances"], budget_ms=5000, required=True),
            "bank_lines": Section(parts["bank_lines"], budget_ms=1000),
            "results": Section(parts["results"], budget_ms=2000),
        }
    )
    results = got["results"] or {"month_to_date": None, "last_month_same_days": None}
    bank_lines = got["bank_lines"] or {"unreconciled_bank_lines": None}
    return {**got["balances"], **results, **bank_lines}


class LedgerQuery(Page):
    account_id: Id
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    branch_id: Id | None = None
    currency: Currency | None = None


class AccountBrief(View):
    id: RowId
    code: str
    name_ar: str
    name_en: str
    type: AccountType
    parent_id: RowId | None
    is_postable: bool
    currency: Currency | None
    cash_flow_class: FlowClass | None
    is_active: bool


class LedgerLine(View):
    line_id: RowId
    entry_id: RowId
    entry_number: str
    date: Date
    memo: str
    entry_currency: Currency
    debit: MoneyOut
    credit: MoneyOut
    running_balance: MoneyOut
    branch_id: RowId | None


class GeneralLedger(View):
    """Balances on the account's normal side; `currency` null in the query = base IQD."""

    account: AccountBrief
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    currency: Currency
    opening_balance: MoneyOut
    closing_balance: MoneyOut
    items: list[LedgerLine]
    next_cursor: str | None


@app.screen(
    "ACC-10",
    "/reports/general-ledger",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted",),
    errors=("ACCOUNT_NOT_FOUND", "INVALID_PERIOD"),
    response=GeneralLedger,
)
async def general_ledger(call: Call, *, query: LedgerQuery) -> dict[str, Any]:
    """General ledger of one account: opening balance, lines with running balance, closing balance."""
    data = await general_ledger_report(
        call.session,
        call.actor,
        account_id=query.account_id,
        date_from=query.date_from,
        date_to=query.date_to,
        branch_id=query.branch_id,
        currency=query.currency,
        limit=query.limit,
        after=decode_cursor(query.cursor),
    )
    items = data["items"]
    more = len(items) > query.limit
    data["items"] = items[: query.limit]
    data["next_cursor"] = encode_cursor(ledger_position(data["items"][-1])) if more else None
    return data


class TrialQuery(Query):
    as_of: DateIn
    branch_id: Id | None = None
    level: int | None = Field(default=None, ge=1, le=5)


class TrialRow(View):
    """`debit`/`credit`: totals of the lines up to the date; `balance` = debit − credit."""

    account_id: RowId
    code: str
    name_ar: str
    name_en: str
    type: AccountType
    level: int
    debit: MoneyOut
    credit: MoneyOut
    balance: MoneyOut


class TrialBalance(View):
    as_of: Date
    level: int
    branch_id: RowId | None
    items: list[TrialRow]
    total_debit: MoneyOut
    total_credit: MoneyOut
    balanced: bool


@app.screen(
    "ACC-11",
    "/reports/trial-balance",
    roles=READERS,
    scope=ALL_OR_BRANCH,
    cache="financial",
    events=("JournalPosted", "LedgerSetupChanged"),
    response=TrialBalance,
)
async def trial_balance(call: Call, *, query: TrialQuery) -> dict[str, Any]:
    """Trial balance as of a date at a chart level, with grand totals and a balanced flag."""
    return await trial_balance_report(
        call.session, call.actor, as_of=query.as_of, branch_id=query.branch_id, level=query.level
    )


class SheetQuery(Query):
    as_of: DateIn
    compare_to: DateIn | None = None
    branch_id: Id | None = None
    currency: Literal["base", "IQD", "USD"] = "base"


class SheetLine(View):
    """`amounts`: one per date of `dates` (as_of, then compare_to)."""

    account_id: RowId | None
    code: str
    name_en: str
    name_ar: str
    amounts: list[MoneyOut]


class SheetSection(View):
    type: Literal["asset", "liability", "equity"]
    lines: list[SheetLine]
    total: list[MoneyOut]


class BalanceSheet(View):
    dates: list[Date]
    branch_id: RowId | None
    currency: Currency
    sections: list[SheetSection]
    total_assets: list[MoneyOut]
    total_liabilities_and_equity: list[MoneyOut]
    balanced: list[bool]


@app.screen(
    "ACC-12",
    "/reports/balance-sheet",
    roles=READERS,
    scope=ALL_OR_BRANCH,
    cache="financial",
    events=("JournalPosted", "LedgerSetupChanged"),
    errors=("NO_EXCHANGE_RATE",),
    response=BalanceSheet,
)
async def balance_sheet(call: Call, *, query: SheetQuery) -> dict[str, Any]:
    """Balance sheet as of a date (and a comparison date), equity including current-year profit."""
    return await balance_sheet_report(
        call.session,
        call.actor,
        as_of=query.as_of,
        compare_to=query.compare_to,
        branch_id=query.branch_id,
        currency="IQD" if query.currency == "base" else query.currency,
    )


class IncomeQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    compare_from: DateIn | None = None
    compare_to: DateIn | None = None
    branch_id: Id | None = None


class PlLine(View):
    account_id: RowId
    code: str
    name_en: str
    name_ar: str
    amount: MoneyOut


class PlPeriod(View):
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    revenue: list[PlLine]
    cost_of_sales: list[PlLine]
    operating_expenses: list[PlLine]
    total_revenue: MoneyOut
    total_cost_of_sales: MoneyOut
    gross_profit: MoneyOut
    total_operating_expenses: MoneyOut
    net_profit: MoneyOut
    gross_margin_pct: DecimalText | None
    net_margin_pct: DecimalText | None


class IncomeStatement(View):
    branch_id: RowId | None
    currency: Currency
    current: PlPeriod
    compare: PlPeriod | None


@app.screen(
    "ACC-13",
    "/reports/income-statement",
    roles=READERS,
    scope=ALL_OR_BRANCH,
    cache="financial",
    events=("JournalPosted", "LedgerSetupChanged"),
    errors=("INVALID_PERIOD",),
    response=IncomeStatement,
)
async def income_statement(call: Call, *, query: IncomeQuery) -> dict[str, Any]:
    """Income statement for a period and a comparison period, with margins."""
    return await income_statement_report(
        call.session,
        call.actor,
        date_from=query.date_from,
        date_to=query.date_to,
        compare_from=query.compare_from,
        compare_to=query.compare_to,
        branch_id=query.branch_id,
    )


class CashFlowQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    branch_id: Id | None = None


class FlowLine(View):
    account_id: RowId
    code: str
    name_en: str
    name_ar: str
    amount: MoneyOut


class CashFlow(View):
    """`inter_branch`: zero company-wide; for one branch, cash moved by entries shared with others."""

    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    branch_id: RowId | None
    currency: Currency
    net_profit: MoneyOut
    operating: list[FlowLine]
    investing: list[FlowLine]
    financing: list[FlowLine]
    net_operating: MoneyOut
    net_investing: MoneyOut
    net_financing: MoneyOut
    inter_branch: MoneyOut
    net_change: MoneyOut
    opening_cash: MoneyOut
    closing_cash: MoneyOut


@app.screen(
    "ACC-14",
    "/reports/cash-flow",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted", "LedgerSetupChanged"),
    errors=("INVALID_PERIOD",),
    response=CashFlow,
)
async def cash_flow(call: Call, *, query: CashFlowQuery) -> dict[str, Any]:
    """Cash flow statement (indirect method): operating, investing, financing, opening and closing cash."""
    return await cash_flow_report(
        call.session, call.actor, date_from=query.date_from, date_to=query.date_to, branch_id=query.branch_id
    )
