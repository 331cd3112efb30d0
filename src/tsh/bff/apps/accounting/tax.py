"""Tax: ACC-24 new tax code or rate version, ACC-25 tax summary, ACC-26 filing a return."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from tsh.bff.apps.accounting import ACCOUNTANT, app
from tsh.bff.apps.accounting.setup import TaxRateRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, DecimalIn, Id, Query, Text
from tsh.bff.views import Date, MoneyOut, RowId, Timestamp, View
from tsh.domain.finance.queries import tax_rates
from tsh.domain.finance.tax import create_rate_version, file_return, tax_summary


class NewTaxRate(Body):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_-]{1,20}$")]
    name: Text
    # Percent as a decimal string; the range is the service's rule (422 RATE_OUT_OF_RANGE).
    rate: Annotated[DecimalIn, Field(max_digits=9, decimal_places=3)]
    kind: Literal["sales", "purchase"]
    effective_from: DateIn
    account_id: Id


@app.action(
    "ACC-24",
    "POST",
    "/tax-rates",
    roles=ACCOUNTANT,
    scope="all",
    events=("LedgerSetupChanged", "PriceChanged"),
    errors=("PERIOD_CLOSED", "RATE_OUT_OF_RANGE", "ACCOUNT_NOT_FOUND", "ACCOUNT_NOT_POSTABLE", "DUPLICATE"),
    response=TaxRateRow,
    audit_entity="tax_rate",
)
async def new_tax_rate(call: Call, *, body: NewTaxRate) -> Created:
    """Creates a tax code or a new rate version from a date (the previous version ends the day before)."""
    row = await create_rate_version(call.session, call.actor, **body.model_dump())
    call.audit("tax_rate", row.id, after=body.model_dump(mode="json"))
    shown = next(t for t in await tax_rates(call.session) if t["id"] == row.id)
    return Created(shown)


class TaxQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    branch_id: Id | None = None


class BranchTax(View):
    """`branch_id` null: lines posted without a branch."""

    branch_id: RowId | None
    output_tax: MoneyOut
    input_tax: MoneyOut
    net: MoneyOut


class CodeTax(View):
    """Output tax of invoiced and POS lines by their product's tax code (null: no code)."""

    code: str | None
    branch_id: RowId
    output_tax: MoneyOut


class FiledReturn(View):
    id: RowId
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    reference: str | None
    net: MoneyOut
    filed_at: Timestamp


class TaxSummary(View):
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    branch_id: RowId | None
    output_tax: MoneyOut
    input_tax: MoneyOut
    net_payable: MoneyOut
    by_branch: list[BranchTax]
    by_code: list[CodeTax]
    filed_status: Literal["filed", "partly_filed", "not_filed"]
    returns: list[FiledReturn]


@app.screen(
    "ACC-25",
    "/reports/tax",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted", "LedgerSetupChanged"),
    errors=("INVALID_PERIOD",),
    response=TaxSummary,
)
async def tax_report(call: Call, *, query: TaxQuery) -> dict[str, Any]:
    """Tax summary for a period: output and input tax, net payable, by code and branch, filed status."""
    return await tax_summary(
        call.session, date_from=query.date_from, date_to=query.date_to, branch_id=query.branch_id
    )


class NewReturn(Body):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    reference: Text | None = None


class ReturnOut(View):
    id: RowId
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    output_tax: MoneyOut
    input_tax: MoneyOut
    net: MoneyOut
    reference: str | None
    journal_entry_id: RowId | None
    filed_at: Timestamp


@app.action(
    "ACC-26",
    "POST",
    "/tax-returns",
    roles=ACCOUNTANT,
    scope="all",
    events=("JournalPosted",),
    idempotency="required",
    errors=("ALREADY_FILED", "INVALID_PERIOD", "PERIOD_CLOSED", "TAX_PERIOD_FILED"),
    response=ReturnOut,
    audit_entity="tax_return",
)
async def file_tax_return(call: Call, *, body: NewReturn) -> Created:
    """Files the tax return of a period: freezes its figures and posts the settlement."""
    ret = await file_return(
        call.session, call.actor, date_from=body.date_from, date_to=body.date_to, reference=body.reference
    )
    out = {
        "id": ret.id,
        "from": ret.period_from,
        "to": ret.period_to,
        "output_tax": {"amount": f"{ret.output_tax:.2f}", "currency": "IQD"},
        "input_tax": {"amount": f"{ret.input_tax:.2f}", "currency": "IQD"},
        "net": {"amount": f"{ret.net:.2f}", "currency": "IQD"},
        "reference": ret.reference,
        "journal_entry_id": ret.journal_entry_id,
        "filed_at": ret.filed_at,
    }
    call.audit("tax_return", ret.id, after={"from": str(ret.period_from), "to": str(ret.period_to)})
    return Created(out)
