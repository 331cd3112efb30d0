"""The legacy resource API (core.md §2): bare JSON records for the web back office and benchmark.

Everything here is generated from the declaration tables (`table_sales`, `table_backoffice`,
`table_operations`, `table_people`); business writes run domain services (`commands`);
the §2.1 computed calls (`dashboard`), the price-list item bulk replace (`extras`), the
spare-parts receipt (`part_receipts`) and media upload/download (`media`) are the only
hand-written routes. Static paths are registered before `/{id}` paths.
"""

from __future__ import annotations

from fastapi import APIRouter

from tsh.api.legacy.dashboard import add_dashboard_routes
from tsh.api.legacy.extras import add_extra_routes
from tsh.api.legacy.media import add_media_routes
from tsh.api.legacy.part_receipts import add_part_receipt_route
from tsh.api.legacy.resource import Resource
from tsh.api.legacy.routes import add_resources
from tsh.api.legacy.table_backoffice import BACKOFFICE
from tsh.api.legacy.table_operations import OPERATIONS
from tsh.api.legacy.table_people import PEOPLE
from tsh.api.legacy.table_sales import SALES

RESOURCES: dict[str, Resource] = {r.path: r for r in (*SALES, *BACKOFFICE, *OPERATIONS, *PEOPLE)}


def build_router() -> APIRouter:
    router = APIRouter()
    add_dashboard_routes(router, RESOURCES["orders"])
    add_extra_routes(router, RESOURCES["price-lists"])
    add_part_receipt_route(router, RESOURCES["parts"])
    add_media_routes(router)
    add_resources(router, list(RESOURCES.values()))
    return router
