"""SAL-09..11: order-taking catalogue, taking an order, and the orders taken."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select

from tsh.bff.apps.salesperson import MANAGERS, app, own_customer, owner_for
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, LongText, Money, Page, Pct, Qty, decode_cursor, page
from tsh.domain.catalog.models import PriceList
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models import Invoice, Order, Visit
from tsh.domain.sales.ordering import main_warehouse_id, place_order
from tsh.domain.sales.queries import money
from tsh.domain.sales.worklists import catalogue, order_list
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

DEFAULT_DISCOUNT_LIMIT = Decimal(5)


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
)
async def products(call: Call, *, query: ProductsQuery) -> dict[str, Any]:
    """Order-taking catalogue for one customer: its prices, promotions, availability, last price sold."""
    customer = await own_customer(call, query.customer_id)
    branch_id = customer.branch_id or call.branch_id
    if branch_id is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    rows, position = await catalogue(
        call.session,
        customer=customer,
        warehouse_id=await main_warehouse_id(call.session, branch_id),
        branch_id=branch_id,
        language=call.principal.language,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        barcode=query.barcode,
        category_id=query.category_id,
        in_stock=query.in_stock,
    )
    return page(rows, query.limit, position) | {
        "customer": {"id": customer.id, "name": customer.name, "currency": customer.currency}
    }


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


async def order_view(call: Call, order: Order) -> dict[str, Any]:
    """An order as the app shows it after taking it (SAL-11 row plus lines and invoice)."""
    invoice = await call.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    cur = order.currency
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "placed_at": order.placed_at,
        "customer_id": order.customer_id,
        "payment_terms": order.payment_terms,
        "payment_status": order.payment_status,
        "visit_id": order.visit_id,
        "subtotal": money(order.subtotal, cur),
        "discount": money(order.discount, cur),
        "tax": money(order.tax, cur),
        "total": money(order.total, cur),
        "lines": [
            {
                "product_id": ln.product_id,
                "sku": ln.sku,
                "name": ln.product_name,
                "qty": ln.qty,
                "unit_price": money(ln.unit_price, cur),
                "discount_pct": str(ln.discount_pct),
                "tax": money(ln.tax, cur),
                "line_total": money(ln.line_total, cur),
            }
            for ln in order.lines
        ],
        "invoice": None
        if invoice is None
        else {
            "id": invoice.id,
            "number": invoice.number,
            "due_date": invoice.due_date,
            "total": money(invoice.total, cur),
            "balance": money(invoice.balance, cur),
        },
    }


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
    ),
)
async def create_order(call: Call, *, body: NewOrder) -> Created:
    """Creates and confirms an order at the customer's prices: reserves stock, invoices, commission."""
    customer = await own_customer(call, body.customer_id)
    price_list = await call.session.get(PriceList, customer.price_list_id) if customer.price_list_id else None
    if price_list is None:
        raise Conflict("The customer has no price list", code="NO_PRICE_LIST")
    if body.expected_total.currency != price_list.currency:
        raise Invalid(details=[field_error("expected_total.currency", f"must be {price_list.currency}")])
    if (
        body.visit_id is not None
        and await call.session.scalar(
            select(Visit.id).where(
                Visit.id == body.visit_id,
                Visit.salesperson_id == call.user_id,
                Visit.customer_id == customer.id,
            )
        )
        is None
    ):
        raise NotFound("Visit not found", code="VISIT_NOT_FOUND")
    branch_id = customer.branch_id or call.branch_id
    if branch_id is None:
        raise Conflict("The customer has no supplying branch", code="NO_BRANCH")
    limit = await call.session.scalar(
        select(Branch.salesperson_discount_pct).where(Branch.id == (call.branch_id or branch_id))
    )
    order = await place_order(
        call.session,
        channel="salesperson",
        customer_id=customer.id,
        branch_id=branch_id,
        lines=[(ln.product_id, ln.qty, ln.discount_pct) for ln in body.lines],
        payment_terms=body.payment_terms,
        price_list_id=price_list.id,
        placed_by_user_id=call.user_id,
        currency=price_list.currency,
        salesperson_id=call.user_id,
        visit_id=body.visit_id,
        expected_total=body.expected_total.amount,
        note=body.note,
        confirm=True,
        max_discount_pct=DEFAULT_DISCOUNT_LIMIT if limit is None else limit,
    )
    call.audit("order", order.id, after={"number": order.number, "total": str(order.total)})
    return Created(await order_view(call, order))


class OrdersQuery(Page):
    status: Literal["pending", "confirmed", "shipped", "delivered", "cancelled"] | None = None
    customer_id: Id | None = None
    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    salesperson_id: Id | None = None


@app.screen(
    "SAL-11",
    "/orders",
    roles=MANAGERS,
    scope={"salesperson": "own", "branch_manager": "branch"},
    cache="orders",
    events=("OrderCreated", "OrderChanged", "PaymentReceived"),
    errors=("SALESPERSON_NOT_FOUND",),
)
async def orders(call: Call, *, query: OrdersQuery) -> dict[str, Any]:
    """Orders taken, newest first: number, customer, date, status, total, invoice balance."""
    owner = await owner_for(call, query.salesperson_id)
    rows, position = await order_list(
        call.session,
        owner=owner,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        customer_id=query.customer_id,
        date_from=query.from_,
        date_to=query.to,
    )
    return page(rows, query.limit, position)
