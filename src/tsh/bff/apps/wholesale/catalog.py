"""WHO-02 bulk catalogue and WHO-03 product, at the account's price list (cached per account)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.views import CatalogCard, CatalogProduct
from tsh.bff.call import Call
from tsh.bff.schemas import Id, Page, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.wholesale import catalog
from tsh.domain.wholesale.account import supplying_branch

SETUP_ERRORS = ("ACCOUNT_MISSING", "NO_PRICE_LIST", "NO_MAIN_WAREHOUSE")


async def follow_branch(call: Call) -> None:
    """Stock and price events name the supplying branch, not the account: listen to both."""
    branch = await supplying_branch(call.session, call.actor)
    if branch is not None:
        call.also_cached_under(f"branch:{branch}")


class CatalogQuery(Page):
    q: str | None = Field(default=None, min_length=1, max_length=100)
    category_id: Id | None = None
    brand: str | None = Field(default=None, min_length=1, max_length=100)
    in_stock: bool | None = None
    sort: Literal["name", "price", "newest"] = "name"


@app.screen(
    "WHO-02",
    "/catalog",
    roles=CLIENT,
    scope="own",
    cache="catalog",
    events=("ProductChanged", "PriceChanged", "StockChanged", "CustomerChanged"),
    errors=SETUP_ERRORS,
    response=PageOf[CatalogCard],
    vary_by_language=True,
)
async def bulk_catalog(call: Call, *, query: CatalogQuery) -> dict[str, Any]:
    """Bulk catalogue: pack size, MOQ, base price and volume breaks, availability band."""
    await follow_branch(call)
    cards, position_of = await catalog.catalogue(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        category_id=query.category_id,
        brand=query.brand,
        in_stock=query.in_stock,
        sort=query.sort,
    )
    return page(cards, query.limit, position_of)


@app.screen(
    "WHO-03",
    "/catalog/{id}",
    roles=CLIENT,
    scope="own",
    cache="catalog",
    events=("ProductChanged", "PriceChanged", "StockChanged", "OrderCreated", "CustomerChanged"),
    errors=(*SETUP_ERRORS, "PRODUCT_NOT_FOUND"),
    response=CatalogProduct,
    vary_by_language=True,
)
async def catalog_product(call: Call, *, id: int) -> dict[str, Any]:
    """Product for wholesale: specs, images, volume breaks, pack, MOQ, band, last 5 purchases."""
    await follow_branch(call)
    return await catalog.product(call.session, call.actor, product_id=id)
