"""SAL-01: the salesperson dashboard."""

from __future__ import annotations

from typing import Any, Literal

from tsh.bff.apps.salesperson import MANAGERS, app
from tsh.bff.apps.salesperson.views import SalDashboard
from tsh.bff.call import Call, Section
from tsh.bff.schemas import Id, Query
from tsh.domain.sales.dashboard import assemble_dashboard
from tsh.domain.sales.field import dashboard_screen


class DashboardQuery(Query):
    date_range: Literal["today", "week", "month"] = "today"
    salesperson_id: Id | None = None


@app.screen(
    "SAL-01",
    "/dashboard",
    roles=MANAGERS,
    scope={"salesperson": "own", "branch_manager": "branch"},
    cache="dashboard",
    events=(
        "OrderCreated",
        "OrderChanged",
        "PaymentReceived",
        "CreditChanged",
        "VisitRecorded",
        "CustomerChanged",
        "CommissionChanged",
    ),
    vary_by_language=True,
    errors=("SALESPERSON_NOT_FOUND", "SECTION_TIMEOUT"),
    response=SalDashboard,
)
async def dashboard(call: Call, *, query: DashboardQuery) -> dict[str, Any]:
    """Salesperson dashboard: orders, pending, top customers/products, collections, visits, targets.

    A branch manager without `salesperson_id` sees the totals of every salesperson of the branch.
    Sections: `figures` (required), `top_lists` (top customers and products), `money` (payments
    collected, receivables, commission): a late or failed optional one is stale or null.
    """
    parts = await dashboard_screen(
        call.session, call.actor, salesperson_id=query.salesperson_id, date_range=query.date_range
    )
    got = await call.sections(
        {
            "figures": Section(parts["figures"], budget_ms=5000, required=True),
            "top_lists": Section(parts["top_lists"], budget_ms=1500),
            "money": Section(parts["money"], budget_ms=1500),
        }
    )
    return assemble_dashboard(got["figures"], got["top_lists"], got["money"])
