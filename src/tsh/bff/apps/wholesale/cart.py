"""WHO-04..07 cart, WHO-08 place the order, WHO-11 reorder: never cached, re-priced on every read."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.views import CartOut, OrderDetail, ReorderOut
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, LongText, Money, Qty
from tsh.domain.wholesale import cart as carts
from tsh.domain.wholesale.documents import order_detail

Unit = Literal["piece", "carton"]


@app.screen(
    "WHO-04",
    "/cart",
    roles=CLIENT,
    scope="own",
    cache="none",
    errors=("ACCOUNT_MISSING", "NO_PRICE_LIST", "NO_MAIN_WAREHOUSE"),
    response=CartOut,
)
async def view_cart(call: Call) -> dict[str, Any]:
    """Cart at volume-break prices with MOQ and pack flags, totals and credit available after it."""
    return await carts.cart_view(call.session, call.actor)


class AddItem(Body):
    product_id: Id
    qty: Qty
    unit: Unit


@app.action(
    "WHO-05",
    "POST",
    "/cart/items",
    roles=CLIENT,
    scope="own",
    audit_entity="cart",
    errors=(
        "ACCOUNT_MISSING",
        "PRODUCT_NOT_FOUND",
        "NOT_PACK_MULTIPLE",
        "CART_LIMIT",
        "NO_PRICE_LIST",
        "NO_MAIN_WAREHOUSE",
    ),
    response=CartOut,
)
async def add_to_cart(call: Call, *, body: AddItem) -> dict[str, Any]:
    """Adds a product in pieces or cartons, merging with its line; returns the cart."""
    return await carts.add_item(
        call.session, call.actor, product_id=body.product_id, qty=body.qty, unit=body.unit
    )


class SetItem(Body):
    qty: Qty
    unit: Unit | None = None


@app.action(
    "WHO-06",
    "PATCH",
    "/cart/items/{id}",
    roles=CLIENT,
    scope="own",
    audit_entity="cart_item",
    errors=(
        "ACCOUNT_MISSING",
        "CART_ITEM_NOT_FOUND",
        "NOT_PACK_MULTIPLE",
        "NO_PRICE_LIST",
        "NO_MAIN_WAREHOUSE",
    ),
    response=CartOut,
)
async def set_cart_line(call: Call, *, id: int, body: SetItem) -> dict[str, Any]:
    """Sets the quantity (and unit) of a cart line; returns the cart."""
    return await carts.set_item(call.session, call.actor, item_id=id, qty=body.qty, unit=body.unit)


@app.action(
    "WHO-07",
    "DELETE",
    "/cart/items/{id}",
    roles=CLIENT,
    scope="own",
    audit_entity="cart_item",
    errors=("ACCOUNT_MISSING", "CART_ITEM_NOT_FOUND", "NO_PRICE_LIST", "NO_MAIN_WAREHOUSE"),
    response=CartOut,
)
async def remove_cart_line(call: Call, *, id: int) -> dict[str, Any]:
    """Removes a cart line; returns the cart."""
    return await carts.remove_item(call.session, call.actor, item_id=id)


class PlaceOrder(Body):
    address_id: Id | None = None
    pickup_branch_id: Id | None = None
    payment_terms: Literal["credit", "prepaid"]
    po_number: str | None = Field(default=None, min_length=1, max_length=64)
    expected_total: Money
    note: LongText | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> PlaceOrder:
        if (self.address_id is None) == (self.pickup_branch_id is None):
            raise ValueError("give exactly one of address_id and pickup_branch_id")
        return self


@app.action(
    "WHO-08",
    "POST",
    "/orders",
    roles=CLIENT,
    scope="own",
    events=("OrderCreated", "StockChanged", "InvoiceIssued", "CreditChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="order",
    errors=(
        "ACCOUNT_MISSING",
        "CART_EMPTY",
        "BELOW_MOQ",
        "NOT_PACK_MULTIPLE",
        "PRODUCT_NOT_AVAILABLE",
        "ADDRESS_NOT_FOUND",
        "BRANCH_NOT_FOUND",
        "INSUFFICIENT_STOCK",
        "CREDIT_LIMIT_EXCEEDED",
        "ACCOUNT_ON_HOLD",
        "CUSTOMER_ON_HOLD",
        "PRICE_CHANGED",
        "NO_PRICE_LIST",
        "NO_MAIN_WAREHOUSE",
    ),
    response=OrderDetail,
)
async def place(call: Call, *, body: PlaceOrder) -> Created:
    """Places the cart as a confirmed order with its invoice (credit or prepaid) and empties the cart."""
    order = await carts.place_from_cart(
        call.session,
        call.actor,
        payment_terms=body.payment_terms,
        expected_total=body.expected_total.amount,
        expected_currency=body.expected_total.currency,
        address_id=body.address_id,
        pickup_branch_id=body.pickup_branch_id,
        po_number=body.po_number,
        note=body.note,
    )
    call.audit("order", order.id, after={"number": order.number, "total": str(order.total)})
    return Created(await order_detail(call.session, call.actor, order_id=order.id))


class Reorder(Body):
    replace_cart: bool = False


@app.action(
    "WHO-11",
    "POST",
    "/orders/{id}/reorder",
    roles=CLIENT,
    scope="own",
    audit_entity="cart",
    errors=("ACCOUNT_MISSING", "ORDER_NOT_FOUND", "NO_PRICE_LIST", "NO_MAIN_WAREHOUSE"),
    response=ReorderOut,
)
async def reorder(call: Call, *, id: int, body: Reorder) -> dict[str, Any]:
    """Copies an earlier order's lines into the cart at today's prices; lists the skipped lines."""
    return await carts.reorder(call.session, call.actor, order_id=id, replace_cart=body.replace_cart)
