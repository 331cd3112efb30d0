"""POS-01 terminal home and POS-02 quick-sale catalogue / barcode lookup."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tsh.bff.apps.pos import OWN_OR_BRANCH, STAFF, RowId, actor_of, app
from tsh.bff.apps.pos.views import PosCatalogue, PosDashboard
from tsh.bff.call import Call, Section
from tsh.bff.schemas import Page, Query, decode_cursor, page
from tsh.domain.pos.catalogue import pos_products
from tsh.domain.pos.dashboard import dashboard_parts


class DashboardQuery(Query):
    terminal_id: RowId | None = None


@app.screen(
    "POS-01",
    "/dashboard",
    roles=STAFF,
    scope=OWN_OR_BRANCH,
    cache="dashboard",
    events=("PosSaleCompleted", "RefundIssued", "ShiftChanged", "ProductChanged"),
    errors=("SECTION_TIMEOUT",),
    response=PosDashboard,
)
async def home(call: Call, *, query: DashboardQuery) -> dict[str, Any]:
    """Terminal home: shift status, today's sales by payment method, last sales, top products, tiles.

    Sections: `till` (shift, today, last sales; required), `top_products`, `quick_tiles`: a late
    or failed list is its last good value (stale) or null.
    """
    parts = await dashboard_parts(call.session, actor_of(call), terminal_id=query.terminal_id)
    got = await call.sections(
        {
            "till": Section(parts["till"], budget_ms=5000, required=True),
            "top_products": Section(parts["top_products"], budget_ms=1000),
            "quick_tiles": Section(parts["quick_tiles"], budget_ms=1000),
        }
    )
    return {**got["till"], "top_products": got["top_products"], "quick_tiles": got["quick_tiles"]}


class ProductsQuery(Page):
    terminal_id: RowId
    q: str | None = Field(default=None, min_length=1, max_length=100)
    barcode: str | None = Field(default=None, min_length=1, max_length=64)
    category_id: RowId | None = None


@app.screen(
    "POS-02",
    "/products",
    roles=STAFF,
    scope="branch",
    cache="catalog",
    events=("ProductChanged", "PriceChanged", "StockChanged"),
    errors=("PRODUCT_NOT_FOUND", "TERMINAL_NOT_FOUND"),
    response=PosCatalogue,
)
async def products(call: Call, *, query: ProductsQuery) -> dict[str, Any]:
    """Quick-sale catalogue and barcode lookup with POS prices and terminal availability."""
    found = await pos_products(
        call.session,
        actor_of(call),
        terminal_id=query.terminal_id,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        barcode=query.barcode,
        category_id=query.category_id,
    )
    items = found.pop("items")
    return page(items, query.limit, lambda item: {"p": item["id"]}) | found
