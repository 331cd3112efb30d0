"""Ledger set-up: ACC-23 tax codes, ACC-27/28 fiscal periods, ACC-29/30 exchange rates."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from tsh.bff.apps.accounting import ACCOUNTANT, app
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateTimeIn, DecimalIn, LongText, Page, Query, decode_cursor, page
from tsh.bff.views import Date, DecimalText, Named, RowId, Timestamp, View
from tsh.domain.accounting.rates import set_rate
from tsh.domain.finance.closing import close_period
from tsh.domain.finance.closing import fiscal_periods as periods_of_year
from tsh.domain.finance.queries import exchange_rate, exchange_rates, rate_position, tax_rates
from tsh.domain.shared import BUSINESS_TZ, business_today


class TaxAccount(View):
    id: RowId
    code: str
    name: str


class TaxRateRow(View):
    id: RowId
    code: str
    name: str
    rate: DecimalText
    kind: Literal["sales", "purchase"]
    effective_from: Date
    effective_to: Date | None
    account: TaxAccount
    product_count: int


class TaxRates(View):
    items: list[TaxRateRow]


@app.screen(
    "ACC-23",
    "/tax-rates",
    roles=ACCOUNTANT,
    scope="all",
    cache="reference",
    events=("LedgerSetupChanged", "ProductChanged"),
    response=TaxRates,
)
async def tax_codes(call: Call) -> dict[str, Any]:
    """Tax codes: every version, newest first per code, with the products using the code."""
    return {"items": await tax_rates(call.session)}


class RatesQuery(Page):
    date_from: DateTimeIn | None = Field(default=None, alias="from")
    date_to: DateTimeIn | None = Field(default=None, alias="to")


class RateRow(View):
    """`rate`: IQD per 1 USD."""

    id: RowId
    rate: DecimalText
    effective_from: Timestamp
    set_by: Named | None


class Rates(View):
    current: RateRow | None
    items: list[RateRow]
    next_cursor: str | None


DEFAULT_DAYS = 90


@app.screen(
    "ACC-29",
    "/exchange-rates",
    roles=ACCOUNTANT,
    scope="all",
    cache="reference",
    events=("PriceChanged",),
    response=Rates,
)
async def rates(call: Call, *, query: RatesQuery) -> dict[str, Any]:
    """Current USD→IQD rate and its history (default: the last 90 days), newest first."""
    end = query.date_to or datetime.combine(business_today() + timedelta(days=1), time(0), BUSINESS_TZ)
    start = query.date_from or end - timedelta(days=DEFAULT_DAYS)
    data = await exchange_rates(
        call.session,
        date_from=start.astimezone(UTC),
        date_to=end.astimezone(UTC),
        limit=query.limit,
        after=decode_cursor(query.cursor),
    )
    return {"current": data["current"], **page(data["items"], query.limit, rate_position)}


class NewRate(Body):
    rate: Annotated[
        DecimalIn, Field(gt=0, le=1_000_000, max_digits=18, decimal_places=6, allow_inf_nan=False)
    ]
    effective_from: DateTimeIn | None = None
    confirm: bool = False


@app.action(
    "ACC-30",
    "POST",
    "/exchange-rates",
    roles=ACCOUNTANT,
    scope="all",
    events=("PriceChanged",),
    errors=("RATE_OUT_OF_BAND", "PERIOD_CLOSED", "DUPLICATE"),
    response=RateRow,
    audit_entity="exchange_rate",
)
async def set_exchange_rate(call: Call, *, body: NewRate) -> Created:
    """Sets the USD→IQD rate from a moment (default now); posted amounts are never revalued."""
    row = await set_rate(
        call.session,
        rate=body.rate,
        effective_from=body.effective_from,
        confirm=body.confirm,
        set_by_id=call.user_id,
    )
    call.audit(
        "exchange_rate", row.id, after={"rate": str(body.rate), "effective_from": str(row.effective_from)}
    )
    return Created(await exchange_rate(call.session, row.id))


class PeriodsQuery(Query):
    year: int | None = Field(default=None, ge=2000, le=2100)


class ChecklistItem(View):
    code: Literal["unreconciled_bank", "unfiled_tax", "open_pos_shifts", "unpaid_payroll"]
    label: str
    count: int
    blocking: bool


class PeriodRow(View):
    """`checklist`: the closing checklist of an open month (empty once closed)."""

    id: RowId
    year: int
    month: int
    starts_on: Date
    ends_on: Date
    status: Literal["open", "closed"]
    closed_at: Timestamp | None
    closed_by_id: RowId | None
    note: str | None
    closing_entry_id: RowId | None
    checklist: list[ChecklistItem]
    ready: bool


class Periods(View):
    year: int
    items: list[PeriodRow]


@app.screen(
    "ACC-27",
    "/fiscal-periods",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("LedgerSetupChanged", "JournalPosted", "BankReconciled", "ShiftChanged", "PayrollProcessed"),
    response=Periods,
)
async def fiscal_periods(call: Call, *, query: PeriodsQuery) -> dict[str, Any]:
    """Fiscal periods of a year (default: this year) with status and closing checklist."""
    year = query.year or business_today().year
    return {"year": year, "items": await periods_of_year(call.session, year=year)}


class PeriodClosure(Body):
    note: LongText | None = None


@app.action(
    "ACC-28",
    "POST",
    "/fiscal-periods/{id}/closure",
    roles=ACCOUNTANT,
    scope="all",
    events=("LedgerSetupChanged", "JournalPosted"),
    idempotency="required",
    errors=("PREVIOUS_PERIOD_OPEN", "CHECKLIST_INCOMPLETE", "INVALID_TRANSITION"),
    response=PeriodRow,
    audit_entity="fiscal_period",
)
async def close_fiscal_period(call: Call, *, body: PeriodClosure, id: int) -> dict[str, Any]:
    """Closes a month so nothing can be dated in it; December also posts the year-end closing entry."""
    row = await close_period(call.session, call.actor, period_id=id, note=body.note)
    call.audit("fiscal_period", id, before={"status": "open"}, after={"status": "closed"})
    return row
