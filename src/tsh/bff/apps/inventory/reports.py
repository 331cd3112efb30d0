"""INV-19 valuation, INV-20 stock aging."""

from __future__ import annotations

from typing import Any, Literal

from tsh.bff.apps.inventory import REPORTER_SCOPE, REPORTERS, app
from tsh.bff.apps.inventory.views import Aging, Valuation
from tsh.bff.call import Call
from tsh.bff.schemas import DateIn, Id, Page, Query, decode_cursor, page
from tsh.domain.inventory import reports


class ValuationQuery(Query):
    as_of: DateIn | None = None
    warehouse_id: Id | None = None
    category_id: Id | None = None
    group_by: Literal["warehouse", "category", "product"] = "warehouse"


@app.screen(
    "INV-19",
    "/valuation",
    roles=REPORTERS,
    scope=REPORTER_SCOPE,
    cache="financial",
    events=("StockChanged", "PriceChanged"),
    errors=("WAREHOUSE_NOT_FOUND", "NO_EXCHANGE_RATE"),
    response=Valuation,
    vary_by_language=True,
)
async def valuation(call: Call, *, query: ValuationQuery) -> dict[str, Any]:
    """Inventory valuation at weighted average cost as of a date, in IQD with the USD equivalent."""
    return await reports.valuation(
        call.session,
        call.actor,
        as_of=query.as_of,
        warehouse_id=query.warehouse_id,
        category_id=query.category_id,
        group_by=query.group_by,
    )


class AgingQuery(Page):
    warehouse_id: Id | None = None
    category_id: Id | None = None


@app.screen(
    "INV-20",
    "/reports/aging",
    roles=REPORTERS,
    scope=REPORTER_SCOPE,
    cache="financial",
    events=("StockChanged",),
    errors=("WAREHOUSE_NOT_FOUND",),
    response=Aging,
    vary_by_language=True,
)
async def aging(call: Call, *, query: AgingQuery) -> dict[str, Any]:
    """Stock aging by days since the last receipt; slow-moving and dead stock."""
    data = await reports.aging(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        warehouse_id=query.warehouse_id,
        category_id=query.category_id,
    )
    return {**data, **page(data.pop("items"), query.limit, reports.aging_position)}
