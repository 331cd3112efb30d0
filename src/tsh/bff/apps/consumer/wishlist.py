"""Consumer wishlist (CON-13 … CON-15)."""

from __future__ import annotations

from typing import Any

from tsh.bff.apps.consumer.common import (
    CONSUMER,
    app,
    cursor_position,
    customer_id,
    language,
    next_cursor,
    now,
    serving,
)
from tsh.bff.apps.consumer.views import ConWishlistRow, ConWishlistSaved
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, Page
from tsh.bff.views import Page as PageOf
from tsh.domain.customers import cart as carts


class SaveItem(Body):
    product_id: Id


@app.screen(
    "CON-13",
    "/wishlist",
    roles=CONSUMER,
    scope="own",
    cache="none",
    errors=("CUSTOMER_PROFILE_MISSING",),
    response=PageOf[ConWishlistRow],
)
async def wishlist(call: Call, *, query: Page) -> dict[str, Any]:
    """Saved products as product cards, newest first; inactive ones flagged `unavailable`."""
    items, position = await carts.wishlist_page(
        call.session,
        customer_id=customer_id(call),
        serving=await serving(call),
        language=language(call),
        at=now(),
        limit=query.limit,
        after=cursor_position(query.cursor),
    )
    return {"items": items, "next_cursor": next_cursor(position)}


@app.action(
    "CON-14",
    "POST",
    "/wishlist/items",
    roles=CONSUMER,
    scope="own",
    audit_entity="wishlist_item",
    errors=("PRODUCT_NOT_FOUND", "WISHLIST_FULL"),
    response=ConWishlistSaved,
)
async def save(call: Call, *, body: SaveItem) -> dict[str, Any] | Created:
    """Saves a product to the wishlist (201; saving it again answers 200 and changes nothing)."""
    added = await carts.save_to_wishlist(
        call.session, customer_id=customer_id(call), product_id=body.product_id
    )
    data = {"product_id": body.product_id, "saved": True}
    return Created(data) if added else data


@app.action(
    "CON-15",
    "DELETE",
    "/wishlist/items/{id}",
    roles=CONSUMER,
    scope="own",
    audit_entity="wishlist_item",
    response=ConWishlistSaved,
)
async def unsave(call: Call, *, id: int) -> dict[str, Any]:
    """Removes a product from the wishlist; `{id}` is the product id."""
    await carts.remove_from_wishlist(call.session, customer_id=customer_id(call), product_id=id)
    return {"product_id": id, "saved": False}
