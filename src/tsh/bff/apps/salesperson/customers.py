"""SAL-02..04: assigned customers, customer 360 and registering a shop customer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.salesperson import MANAGERS, app
from tsh.bff.apps.salesperson.views import SalCustomerDetail, SalCustomerRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Geo, Id, LongText, Page, Phone, Text, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.sales.field import customer_card, customer_screen, customers_screen
from tsh.domain.sales.field_actions import register_customer as register_shop

SCOPES = {"salesperson": "own", "branch_manager": "branch"}


class CustomersQuery(Page):
    q: str | None = Field(default=None, max_length=100)
    city: str | None = Field(default=None, max_length=100)
    status: Literal["active", "overdue", "on_hold", "inactive"] | None = None
    sort: Literal["name", "last_visit", "balance"] = "name"
    salesperson_id: Id | None = None


@app.screen(
    "SAL-02",
    "/customers",
    exports="customers",
    roles=MANAGERS,
    scope=SCOPES,
    cache="customers",
    events=("CustomerChanged", "CreditChanged", "VisitRecorded", "OrderCreated"),
    errors=("SALESPERSON_NOT_FOUND",),
    response=PageOf[SalCustomerRow],
)
async def list_customers(call: Call, *, query: CustomersQuery) -> dict[str, Any]:
    """Assigned customers with balance, overdue amount, hold flag, last visit and last order."""
    rows, position = await customers_screen(
        call.session,
        call.actor,
        salesperson_id=query.salesperson_id,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        city=query.city,
        status=query.status,
        sort=query.sort,
    )
    return page(rows, query.limit, position)


@app.screen(
    "SAL-03",
    "/customers/{id}",
    roles=MANAGERS,
    scope=SCOPES,
    cache="customers",
    events=(
        "CustomerChanged",
        "CreditChanged",
        "InvoiceIssued",
        "PaymentReceived",
        "OrderCreated",
        "OrderChanged",
        "VisitRecorded",
    ),
    errors=("CUSTOMER_NOT_FOUND",),
    response=SalCustomerDetail,
)
async def customer_detail(call: Call, *, id: int) -> dict[str, Any]:
    """Customer 360: profile, addresses, price list, credit, aging, open invoices, recent activity."""
    return await customer_screen(call.session, call.actor, customer_id=id)


class NewCustomer(Body):
    name: Text
    shop_name: Text
    phone: Phone
    city: Text
    address: Text
    geo: Geo
    notes: LongText | None = None
    salesperson_id: Id | None = None


@app.action(
    "SAL-04",
    "POST",
    "/customers",
    roles=MANAGERS,
    scope=SCOPES,
    events=("CustomerChanged",),
    audit_entity="customer",
    errors=("DUPLICATE_PHONE", "SALESPERSON_NOT_FOUND"),
    response=SalCustomerDetail,
)
async def register_customer(call: Call, *, body: NewCustomer) -> Created:
    """Registers a new shop customer assigned to the caller (or the named salesperson), on cash terms."""
    customer = await register_shop(
        call.session,
        call.actor,
        salesperson_id=body.salesperson_id,
        name=body.name,
        shop_name=body.shop_name,
        phone=body.phone,
        city=body.city,
        address=body.address,
        lat=body.geo.lat,
        lng=body.geo.lng,
        accuracy_m=body.geo.accuracy_m,
        notes=body.notes,
    )
    call.audit("customer", customer.id, after={"name": customer.name, "phone": customer.phone})
    return Created(await customer_card(call.session, customer))
