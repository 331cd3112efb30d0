"""WHO-01 account home and WHO-18 purchase report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.catalog import follow_branch
from tsh.bff.apps.wholesale.views import Dashboard, PurchaseReport
from tsh.bff.call import Call, Section
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
    errors=("ACCOUNT_MISSING", "NO_PRICE_LIST", "SECTION_TIMEOUT"),
    response=Dashboard,
    vary_by_language=True,
)
async def dashboard(call: Call) -> dict[str, Any]:
    """Account home: credit and hold, open orders, unpaid invoices, spend, quick reorder, price changes.

    Sections: `account` (credit, hold, open orders, unpaid and overdue invoices; required: what
    the client owes and may still buy is never shown stale), `spend`, `quick_reorder`,
    `price_changes`: a late or failed one is its last good value (stale) or null.
    """
    await follow_branch(call)
    parts = await reports.dashboard_parts(call.session, call.actor)
    got = await call.sections(
        {
            "account": Section(parts["account"], budget_ms=5000, required=True),
            "spend": Section(parts["spend"], budget_ms=1000),
            "quick_reorder": Section(parts["quick_reorder"], budget_ms=1000),
            "price_changes": Section(parts["price_changes"], budget_ms=1000),
        }
    )
    data: dict[str, Any] = got["account"]
    for name in ("spend", "quick_reorder", "price_changes"):
        data |= got[name] or {name: None}
    return data


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
