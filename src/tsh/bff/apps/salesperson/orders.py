"""SAL-09..11: order-taking catalogue, taking an order, and the orders taken."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.salesperson import MANAGERS, app
from tsh.bff.apps.salesperson.views import SalOrderPlaced, SalOrderRow, SalProducts
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, LongText, Money, Page, Pct, Qty, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.sales.field import orders_screen
from tsh.domain.sales.field_actions import order_view, products_screen, take_order


class ProductsQuery(Page):
    customer_id: Id
    q: str | None = Field(default=None, max_length=100)
    barcode: str | None = Field(default=None, max_length=64)
    category_id: Id | None = None
    in_stock: bool | None = None


@app.screen(
    "SAL-09",
    "/products",
    roles=("salesperson",),
    scope="own",
    cache="catalog",
    events=("ProductChanged", "PriceChanged", "StockChanged", "OrderCreated", "CustomerChanged"),
    vary_by_language=True,
    errors=("CUSTOMER_NOT_FOUND",),
    response=SalProducts,
)
async def products(call: Call, *, query: ProductsQuery) -> dict[str, Any]:
    """Order-taking catalogue for one customer: its prices, promotions, availability, last price sold."""
    rows, position, customer = await products_screen(
        call.session,
        call.actor,
        customer_id=query.customer_id,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        barcode=query.barcode,
        category_id=query.category_id,
        in_stock=query.in_stock,
    )
    return page(rows, query.limit, position) | {"customer": customer}


class OrderLineIn(Body):
    product_id: Id
    qty: Qty
    discount_pct: Pct = Decimal(0)


class NewOrder(Body):
    customer_id: Id
    lines: list[OrderLineIn] = Field(min_length=1, max_length=100)
    payment_terms: Literal["cash", "credit"]
    visit_id: Id | None = None
    expected_total: Money
    note: LongText | None = None


@app.action(
    "SAL-10",
    "POST",
    "/orders",
    roles=("salesperson",),
    scope="own",
    events=(
        "OrderCreated",
        "StockChanged",
        "InvoiceIssued",
        "CreditChanged",
        "CommissionChanged",
        "JournalPosted",
    ),
    idempotency="required",
    audit_entity="order",
    errors=(
        "INSUFFICIENT_STOCK",
        "CREDIT_LIMIT_EXCEEDED",
        "CUSTOMER_ON_HOLD",
        "PRICE_CHANGED",
        "DISCOUNT_OVER_LIMIT",
        "CUSTOMER_NOT_FOUND",
        "VISIT_NOT_FOUND",
        "NO_PRICE_LIST",
        "NO_BRANCH",
    ),
    response=SalOrderPlaced,
)
async def create_order(call: Call, *, body: NewOrder) -> Created:
    """Creates and confirms an order at the customer's prices: reserves stock, invoices, commission."""
    order = await take_order(
        call.session,
        call.actor,
        customer_id=body.customer_id,
        lines=[(ln.product_id, ln.qty, ln.discount_pct) for ln in body.lines],
        payment_terms=body.payment_terms,
        expected_total=body.expected_total.amount,
        expected_currency=body.expected_total.currency,
        visit_id=body.visit_id,
        note=body.note,
    )
    call.audit("order", order.id, after={"number": order.number, "total": str(order.total)})
    return Created(await order_view(call.session, order))


class OrdersQuery(Page):
    status: Literal["pending", "confirmed", "shipped", "delivered", "cancelled"] | None = None
    customer_id: Id | None = None
    from_: DateIn | None = Field(default=None, alias="from")
    to: DateIn | None = None
    salesperson_id: Id | None = None


@app.screen(
    "SAL-11",
    "/orders",
    exports="orders",
    roles=MANAGERS,
    scope={"salesperson": "own", "branch_manager": "branch"},
    cache="orders",
    events=("OrderCreated", "OrderChanged", "PaymentReceived"),
    errors=("SALESPERSON_NOT_FOUND",),
    response=PageOf[SalOrderRow],
)
async def orders(call: Call, *, query: OrdersQuery) -> dict[str, Any]:
    """Orders taken, newest first: number, customer, date, status, total, invoice balance."""
    rows, position = await orders_screen(
        call.session,
        call.actor,
        salesperson_id=query.salesperson_id,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        customer_id=query.customer_id,
        date_from=query.from_,
        date_to=query.to,
    )
    return page(rows, query.limit, position)
