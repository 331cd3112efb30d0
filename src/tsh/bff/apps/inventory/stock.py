"""INV-01 dashboard, INV-02 stock levels, INV-03 stock card, INV-04 movements, INV-05 reorder."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.inventory import MANAGER_SCOPE, MANAGERS, STAFF, STAFF_SCOPE, app
from tsh.bff.apps.inventory.views import Dashboard, Movement, StockCard, StockRow, Suggestion
from tsh.bff.call import Call, Section
from tsh.bff.schemas import DateIn, Id, Page, Query, Text, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.inventory import queries, reports

WORK_FIELDS = ("transfers_awaiting_dispatch", "transfers_awaiting_receipt", "open_counts")
ACTIVITY_FIELDS = ("adjustments_this_week", "recent_movements")


class DashboardQuery(Query):
    warehouse_id: Id | None = None


@app.screen(
    "INV-01",
    "/dashboard",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="dashboard",
    events=("StockChanged", "TransferChanged", "CountChanged", "ProductChanged"),
    errors=("WAREHOUSE_NOT_FOUND", "SECTION_TIMEOUT"),
    response=Dashboard,
    vary_by_language=True,
)
async def dashboard(call: Call, *, query: DashboardQuery) -> dict[str, Any]:
    """Stock dashboard: value by warehouse, low and out SKUs, transfers and counts to act on.

    Sections: `stock` (value, per warehouse, low and out; required), `work` (transfers awaiting
    dispatch or receipt, open counts), `activity` (this week's adjustments, recent movements): a
    late or failed one is its last good value (stale) or null.
    """
    parts = await queries.dashboard_parts(call.session, call.actor, warehouse_id=query.warehouse_id)
    got = await call.sections(
        {
            "stock": Section(parts["stock"], budget_ms=5000, required=True),
            "work": Section(parts["work"], budget_ms=1000),
            "activity": Section(parts["activity"], budget_ms=1500),
        }
    )
    work = got["work"] or dict.fromkeys(WORK_FIELDS)
    activity = got["activity"] or dict.fromkeys(ACTIVITY_FIELDS)
    return {**got["stock"], **work, **activity}


class LevelsQuery(Page):
    warehouse_id: Id | None = None
    q: Text | None = None
    category_id: Id | None = None
    status: Literal["ok", "low", "out"] | None = None


@app.screen(
    "INV-02",
    "/stock-levels",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="catalog",
    events=("StockChanged", "TransferChanged", "ProductChanged"),
    errors=("WAREHOUSE_NOT_FOUND",),
    response=PageOf[StockRow],
    vary_by_language=True,
)
async def levels(call: Call, *, query: LevelsQuery) -> dict[str, Any]:
    """Stock per product and warehouse: on hand, reserved, available, in transit, value, status."""
    rows = await queries.stock_levels(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        warehouse_id=query.warehouse_id,
        text=query.q,
        category_id=query.category_id,
        status=query.status,
    )
    return page(rows, query.limit, queries.level_position)


@app.screen(
    "INV-03",
    "/stock-levels/{id}",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="catalog",
    events=("StockChanged", "TransferChanged", "ProductChanged"),
    errors=("PRODUCT_NOT_FOUND",),
    response=StockCard,
    vary_by_language=True,
)
async def card(call: Call, *, id: int) -> dict[str, Any]:
    """Stock card of one product: per warehouse, in transit, last 20 movements, 90-day velocity."""
    return await queries.stock_card(call.session, call.actor, product_id=id)


class MovementsQuery(Page):
    product_id: Id | None = None
    warehouse_id: Id | None = None
    type: (
        Literal[
            "receipt", "sale", "pos_sale", "refund", "return", "transfer_out", "transfer_in",
            "transfer_loss", "adjustment", "count",
        ]
        | None
    ) = None  # fmt: skip
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


@app.screen(
    "INV-04",
    "/movements",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="catalog",
    events=("StockChanged",),
    errors=("WAREHOUSE_NOT_FOUND",),
    response=PageOf[Movement],
    vary_by_language=True,
)
async def movements(call: Call, *, query: MovementsQuery) -> dict[str, Any]:
    """Movement ledger (append-only), newest first."""
    rows = await queries.movements(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        product_id=query.product_id,
        warehouse_id=query.warehouse_id,
        movement_type=query.type,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, lambda m: queries.position(m["at"], m["id"]))


class ReorderQuery(Page):
    warehouse_id: Id | None = None
    category_id: Id | None = None


@app.screen(
    "INV-05",
    "/reorder-suggestions",
    roles=MANAGERS,
    scope=MANAGER_SCOPE,
    cache="catalog",
    events=("StockChanged", "TransferChanged", "ProductChanged"),
    errors=("WAREHOUSE_NOT_FOUND",),
    response=PageOf[Suggestion],
    vary_by_language=True,
)
async def reorder(call: Call, *, query: ReorderQuery) -> dict[str, Any]:
    """Products at or below their reorder point, with a suggested quantity and surplus elsewhere."""
    rows = await reports.reorder_suggestions(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        warehouse_id=query.warehouse_id,
        category_id=query.category_id,
    )
    return page(rows, query.limit, reports.suggestion_position)
