"""Delta sync, `GET /api/bff/mobile/sync/{collection}` (mobile.md §1), one declaration per collection.

One declaration per collection rather than a `{collection}` path parameter: each collection has
its own roles (403 for the others by the one mechanism) and path ids are row ids in this codebase.
Pages are not cached on the server (cache "none"): a page is an index range read of the change log
and the caller's rows, and keying it would need the change log's position anyway. The runtime still
answers 304 to an `If-None-Match` equal to the page's ETag, and an unchanged collection gives the
same bytes (the cursor of an unchanged position is unchanged within a day).

The cursor is signed for the collection (a cursor of another collection is 422, like any cursor
the list did not issue); the user and scope inside it are checked by the service (410).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.call import Call
from tsh.bff.schemas import Query, cursor_list, decode_cursor, encode_cursor
from tsh.bff.spec import BffApp
from tsh.bff.views import View
from tsh.domain.catalog.sync import PRODUCTS
from tsh.domain.customers.sync import CUSTOMERS
from tsh.domain.identity.rbac import ROLE_CODES
from tsh.domain.partners.sync import PRICES
from tsh.domain.partners.sync_stock import STOCK
from tsh.domain.sales.sync import INVOICES, ORDERS
from tsh.domain.sync.feed import DEFAULT_LIMIT, MAX_LIMIT, SCHEMA_VERSION, Collection, read_feed

app = BffApp.platform("mobile")


class SyncQuery(Query):
    since: str | None = Field(default=None, max_length=16_000)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class SyncChange(View):
    op: Literal["upsert", "delete"]
    id: int
    version: int
    data: dict[str, Any] | None


class SyncPage(View):
    changes: list[SyncChange]
    next_cursor: str
    has_more: bool
    schema_version: int


async def _page(call: Call, collection: Collection, query: SyncQuery) -> dict[str, Any]:
    with cursor_list("sync:" + collection.name, {}):
        position = decode_cursor(query.since)
        page = await read_feed(
            call.session, call.actor, collection=collection, position=position, limit=query.limit
        )
        cursor = encode_cursor(page["position"])
    return {
        "changes": page["changes"],
        "next_cursor": cursor,
        "has_more": page["has_more"],
        "schema_version": SCHEMA_VERSION,
    }


# mobile.md §1: products, prices and stock are for every role.
EVERY_ROLE = tuple(ROLE_CODES)

_SYNC = {"errors": ("SYNC_CURSOR_EXPIRED",), "response": SyncPage, "cache": "none"}


@app.screen(
    "MOB-SYNC-CUSTOMERS",
    "/sync/customers",
    exports="customers",
    roles=("salesperson", "partner", "branch_manager", "cashier"),
    scope={"salesperson": "own", "partner": "own", "branch_manager": "branch", "cashier": "branch"},
    **_SYNC,
)
async def customers(call: Call, *, query: SyncQuery) -> dict[str, Any]:
    """Delta sync of the caller's customers (own or branch)."""
    return await _page(call, CUSTOMERS, query)


@app.screen("MOB-SYNC-PRODUCTS", "/sync/products", roles=EVERY_ROLE, scope="all", **_SYNC)
async def products(call: Call, *, query: SyncQuery) -> dict[str, Any]:
    """Delta sync of the active catalogue (fields of the caller's channel)."""
    return await _page(call, PRODUCTS, query)


@app.screen(
    "MOB-SYNC-PRICES",
    "/sync/prices",
    roles=EVERY_ROLE,
    scope="all",
    cache="none",
    response=SyncPage,
    errors=(
        "SYNC_CURSOR_EXPIRED",
        "NO_PRICE_LIST",
        "PARTNER_PROFILE_MISSING",
        "ACCOUNT_MISSING",
        "BRANCH_NOT_FOUND",
    ),
)
async def prices(call: Call, *, query: SyncQuery) -> dict[str, Any]:
    """Delta sync of the items of the price lists that apply to the caller."""
    return await _page(call, PRICES, query)


@app.screen(
    "MOB-SYNC-STOCK",
    "/sync/stock",
    roles=EVERY_ROLE,
    scope="all",
    cache="none",
    response=SyncPage,
    errors=(
        "SYNC_CURSOR_EXPIRED",
        "NO_PRICE_LIST",
        "NO_MAIN_WAREHOUSE",
        "PARTNER_PROFILE_MISSING",
        "ACCOUNT_MISSING",
        "BRANCH_NOT_FOUND",
    ),
)
async def stock(call: Call, *, query: SyncQuery) -> dict[str, Any]:
    """Delta sync of stock: levels of the branch's warehouses (staff), availability bands (customers)."""
    return await _page(call, STOCK, query)


@app.screen(
    "MOB-SYNC-ORDERS",
    "/sync/orders",
    exports="orders",
    roles=("salesperson", "partner", "branch_manager", "consumer", "wholesale_client"),
    scope={
        "salesperson": "own",
        "partner": "own",
        "branch_manager": "branch",
        "consumer": "own",
        "wholesale_client": "own",
    },
    **_SYNC,
)
async def orders(call: Call, *, query: SyncQuery) -> dict[str, Any]:
    """Delta sync of the caller's orders of the last 90 days (own or branch)."""
    return await _page(call, ORDERS, query)


@app.screen(
    "MOB-SYNC-INVOICES",
    "/sync/invoices",
    roles=("salesperson", "partner", "branch_manager", "wholesale_client"),
    scope={"salesperson": "own", "partner": "own", "branch_manager": "branch", "wholesale_client": "own"},
    **_SYNC,
)
async def invoices(call: Call, *, query: SyncQuery) -> dict[str, Any]:
    """Delta sync of the caller's open and last-90-days invoices (own or branch)."""
    return await _page(call, INVOICES, query)
