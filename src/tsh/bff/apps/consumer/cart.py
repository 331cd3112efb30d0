"""Consumer cart (CON-08 … CON-12): never cached, re-priced on every read at the serving branch."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tsh.bff.apps.consumer.common import CONSUMER, app, customer_id, language, now, serving
from tsh.bff.apps.consumer.views import ConCart
from tsh.bff.call import Call
from tsh.bff.schemas import Body, Id
from tsh.domain.customers import cart as carts

LINE_QTY = Field(ge=1, le=99)


class AddItem(Body):
    product_id: Id
    qty: int = LINE_QTY


class SetQty(Body):
    qty: int = LINE_QTY


async def cart_payload(call: Call) -> dict[str, Any]:
    """The cart as CON-08 shows it (also the answer of every cart action)."""
    cid = customer_id(call)
    return await carts.cart_view(
        call.session, customer_id=cid, serving=await serving(call), language=language(call), at=now()
    )


@app.screen(
    "CON-08",
    "/cart",
    roles=CONSUMER,
    scope="own",
    cache="none",
    errors=("CUSTOMER_PROFILE_MISSING",),
    response=ConCart,
)
async def view_cart(call: Call) -> dict[str, Any]:
    """Cart: lines re-priced now, stock warnings, promotions, totals and item count."""
    return await cart_payload(call)


@app.action(
    "CON-09",
    "POST",
    "/cart/items",
    roles=CONSUMER,
    scope="own",
    audit_entity="cart",
    errors=("PRODUCT_NOT_FOUND", "INSUFFICIENT_STOCK", "CART_LIMIT"),
    response=ConCart,
)
async def add_to_cart(call: Call, *, body: AddItem) -> dict[str, Any]:
    """Adds a product to the cart or raises the quantity of its line; returns the cart."""
    cid = customer_id(call)
    await carts.add_item(
        call.session,
        customer_id=cid,
        product_id=body.product_id,
        qty=body.qty,
        serving=await serving(call),
        at=now(),
    )
    return await cart_payload(call)


@app.action(
    "CON-10",
    "PATCH",
    "/cart/items/{id}",
    roles=CONSUMER,
    scope="own",
    audit_entity="cart_item",
    errors=("INSUFFICIENT_STOCK", "CART_ITEM_NOT_FOUND"),
    response=ConCart,
)
async def set_cart_qty(call: Call, *, id: int, body: SetQty) -> dict[str, Any]:
    """Sets the quantity of one cart line; returns the cart."""
    cid = customer_id(call)
    await carts.set_item_qty(
        call.session, customer_id=cid, item_id=id, qty=body.qty, serving=await serving(call)
    )
    return await cart_payload(call)


@app.action(
    "CON-11",
    "DELETE",
    "/cart/items/{id}",
    roles=CONSUMER,
    scope="own",
    audit_entity="cart_item",
    errors=("CART_ITEM_NOT_FOUND",),
    response=ConCart,
)
async def remove_cart_line(call: Call, *, id: int) -> dict[str, Any]:
    """Removes one cart line; returns the cart."""
    await carts.remove_item(call.session, customer_id=customer_id(call), item_id=id)
    return await cart_payload(call)


@app.action(
    "CON-12",
    "DELETE",
    "/cart",
    roles=CONSUMER,
    scope="own",
    audit_entity="cart",
    response=ConCart,
)
async def clear_cart(call: Call) -> dict[str, Any]:
    """Empties the cart; returns the empty cart."""
    await carts.empty_cart(call.session, customer_id=customer_id(call))
    return await cart_payload(call)
