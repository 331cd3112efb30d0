"""Consumer delivery addresses (CON-21 … CON-24)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from tsh.bff.apps.consumer.common import CONSUMER, app, customer_id, language
from tsh.bff.apps.consumer.views import ConAddress
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Geo, Phone
from tsh.bff.views import Page as PageOf
from tsh.domain.customers import consumer

Label = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Place = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Line = Annotated[str, StringConstraints(max_length=300)]


class NewAddress(Body):
    label: Label
    city: Place
    district: Place
    street: Line | None = None
    landmark: Line | None = None
    phone: Phone | None = None
    geo: Geo | None = None
    is_default: bool = False


class AddressChanges(Body):
    label: Label | None = None
    city: Place | None = None
    district: Place | None = None
    street: Line | None = None
    landmark: Line | None = None
    phone: Phone | None = None
    geo: Geo | None = None
    is_default: bool | None = None


async def _list(call: Call) -> dict[str, Any]:
    items = await consumer.list_addresses(
        call.session, customer_id=customer_id(call), language=language(call)
    )
    return {"items": items, "next_cursor": None}


async def _one(call: Call, address_id: int) -> dict[str, Any]:
    items = (await _list(call))["items"]
    return next(a for a in items if a["id"] == address_id)


def _fields(body: Body) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    for required in ("label", "city", "district"):
        if required in fields and fields[required] is None:
            del fields[required]
    return fields


@app.screen(
    "CON-21",
    "/addresses",
    roles=CONSUMER,
    scope="own",
    cache="customers",
    events=("CustomerChanged", "BranchChanged"),
    errors=("CUSTOMER_PROFILE_MISSING",),
    response=PageOf[ConAddress],
)
async def addresses(call: Call) -> dict[str, Any]:
    """Delivery addresses with zone, fee and serving branch; the default is marked."""
    await consumer.customer_of(call.session, customer_id(call))
    return await _list(call)


@app.action(
    "CON-22",
    "POST",
    "/addresses",
    roles=CONSUMER,
    scope="own",
    events=("CustomerChanged",),
    audit_entity="address",
    errors=("OUTSIDE_DELIVERY_ZONE", "ADDRESS_LIMIT"),
    response=ConAddress,
)
async def add_address(call: Call, *, body: NewAddress) -> Created:
    """Adds a delivery address and assigns it to a delivery zone."""
    new_id = await consumer.add_address(call.session, customer_id=customer_id(call), fields=_fields(body))
    call.audit("address", new_id)
    return Created(await _one(call, new_id))


@app.action(
    "CON-23",
    "PATCH",
    "/addresses/{id}",
    roles=CONSUMER,
    scope="own",
    events=("CustomerChanged",),
    audit_entity="address",
    errors=("OUTSIDE_DELIVERY_ZONE", "ADDRESS_NOT_FOUND"),
    response=ConAddress,
)
async def edit_address(call: Call, *, id: int, body: AddressChanges) -> dict[str, Any]:
    """Edits an address or makes it the default."""
    await consumer.edit_address(
        call.session, customer_id=customer_id(call), address_id=id, fields=_fields(body)
    )
    await call.session.flush()
    return await _one(call, id)


@app.action(
    "CON-24",
    "DELETE",
    "/addresses/{id}",
    roles=CONSUMER,
    scope="own",
    events=("CustomerChanged",),
    audit_entity="address",
    errors=("ADDRESS_NOT_FOUND",),
    response=PageOf[ConAddress],
)
async def delete_address(call: Call, *, id: int) -> dict[str, Any]:
    """Deletes an address (the newest remaining one becomes the default)."""
    await consumer.delete_address(call.session, customer_id=customer_id(call), address_id=id)
    await call.session.flush()
    return await _list(call)
