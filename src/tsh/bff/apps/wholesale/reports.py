"""WHO-01 account home and WHO-18 purchase report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.catalog import follow_branch
from tsh.bff.apps.wholesale.views import Dashboard, PurchaseReport
from tsh.bff.call import Call
from tsh.bff.schemas import DateIn, Query
from tsh.domain.wholesale import reports


@app.screen(
    "WHO-01",
    "/dashboard",
    roles=CLIENT,
    scope="own",
    cache="dashboard",
    events=(
        "OrderCreated",
        "OrderChanged",
        "InvoiceIssued",
        "PaymentReceived",
        "CreditChanged",
        "PriceChanged",
    ),
    errors=("ACCOUNT_MISSING", "NO_PRICE_LIST"),
    response=Dashboard,
    vary_by_language=True,
)
async def dashboard(call: Call) -> dict[str, Any]:
    """Account home: credit and hold, open orders, unpaid invoices, spend, quick reorder, price changes."""
    await follow_branch(call)
    return await reports.dashboard(call.session, call.actor)


class ReportQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    group_by: Literal["month", "category", "product"] = "month"


@app.screen(
    "WHO-18",
    "/reports/purchases",
    roles=CLIENT,
    scope="own",
    cache="financial",
    events=("OrderCreated", "OrderChanged"),
    errors=("ACCOUNT_MISSING", "RANGE_TOO_LONG", "NO_PRICE_LIST"),
    response=PurchaseReport,
    vary_by_language=True,
)
async def purchases(call: Call, *, query: ReportQuery) -> dict[str, Any]:
    """Purchase report: spend by month, category or product, top 20, quantity trend, savings."""
    return await reports.purchase_report(
        call.session, call.actor, date_from=query.date_from, date_to=query.date_to, group_by=query.group_by
    )
