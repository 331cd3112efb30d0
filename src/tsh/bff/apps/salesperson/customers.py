"""SAL-02..04: assigned customers, customer 360 and registering a shop customer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select

from tsh.bff.apps.salesperson import MANAGERS, app, own_customer, owner_for
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Geo, Id, LongText, Page, Phone, Text, decode_cursor, page
from tsh.domain.accounting.posting import rate_in_force
from tsh.domain.identity.models import User
from tsh.domain.sales.customers import register_shop_customer
from tsh.domain.sales.queries import customer_360, customer_list
from tsh.domain.shared import business_today
from tsh.platform.db.base import utcnow

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
    roles=MANAGERS,
    scope=SCOPES,
    cache="customers",
    events=("CustomerChanged", "CreditChanged", "VisitRecorded", "OrderCreated"),
    errors=("SALESPERSON_NOT_FOUND",),
)
async def list_customers(call: Call, *, query: CustomersQuery) -> dict[str, Any]:
    """Assigned customers with balance, overdue amount, hold flag, last visit and last order."""
    owner = await owner_for(call, query.salesperson_id)
    rows, position = await customer_list(
        call.session,
        owner=owner,
        today=business_today(),
        rate=await rate_in_force(call.session, utcnow()),
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
)
async def customer_detail(call: Call, *, id: int) -> dict[str, Any]:
    """Customer 360: profile, addresses, price list, credit, aging, open invoices, recent activity."""
    customer = await own_customer(call, id, await owner_for(call))
    return await customer_360(
        call.session,
        customer=customer,
        today=business_today(),
        rate=await rate_in_force(call.session, utcnow()),
    )


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
)
async def register_customer(call: Call, *, body: NewCustomer) -> Created:
    """Registers a new shop customer assigned to the caller (or the named salesperson), on cash terms."""
    owner = await owner_for(call, body.salesperson_id)
    salesperson_id = owner.salesperson_id or call.user_id
    customer = await register_shop_customer(
        call.session,
        salesperson_id=salesperson_id,
        branch_id=await call.session.scalar(select(User.branch_id).where(User.id == salesperson_id)),
        name=body.name,
        shop_name=body.shop_name,
        phone=body.phone,
        city=body.city,
        address=body.address,
        lat=body.geo.lat,
        lng=body.geo.lng,
        accuracy_m=body.geo.accuracy_m,
        notes=body.notes,
        viewer_id=call.user_id,
        viewer_scope=call.scope,
        viewer_branch_id=call.branch_id,
    )
    call.audit("customer", customer.id, after={"name": customer.name, "phone": customer.phone})
    return Created(
        await customer_360(
            call.session,
            customer=customer,
            today=business_today(),
            rate=await rate_in_force(call.session, utcnow()),
        )
    )
