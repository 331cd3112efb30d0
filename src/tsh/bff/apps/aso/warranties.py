"""ASO-15 warranty lookup, ASO-16 warranty, ASO-17 file a claim."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.aso import ALL_STAFF, COMPANY_SCOPE, DESK, DESK_SCOPE, app
from tsh.bff.apps.aso.requests import Priority, request_row
from tsh.bff.apps.aso.views import RequestRow, WarrantyDetail, WarrantyRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, LongText, Page, Phone, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.aftersales import queries, service_requests
from tsh.domain.aftersales.access import home_branch


class ListQuery(Page):
    serial_number: str | None = Field(default=None, min_length=1, max_length=100)
    customer_id: Id | None = None
    phone: Phone | None = None
    status: Literal["active", "expired", "void"] | None = None
    expiring_within_days: int | None = Field(default=None, ge=0, le=3660)


@app.screen(
    "ASO-15",
    "/warranties",
    roles=ALL_STAFF,
    scope=COMPANY_SCOPE,
    cache="orders",
    events=("WarrantyChanged", "OrderChanged", "PosSaleCompleted"),
    response=PageOf[WarrantyRow],
    vary_by_language=True,
)
async def list_(call: Call, *, query: ListQuery) -> dict[str, Any]:
    """Warranty lookup and list, company-wide: serial, product, customer, start and end, status,
    claims count."""
    rows = await queries.warranty_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        serial_number=query.serial_number,
        customer_id=query.customer_id,
        phone=query.phone,
        status=query.status,
        expiring_within_days=query.expiring_within_days,
    )
    return page(rows, query.limit, lambda r: {"i": r["id"]})


@app.screen(
    "ASO-16",
    "/warranties/{id}",
    roles=ALL_STAFF,
    scope=COMPANY_SCOPE,
    cache="orders",
    events=("WarrantyChanged", "ServiceRequestChanged"),
    errors=("WARRANTY_NOT_FOUND",),
    response=WarrantyDetail,
    vary_by_language=True,
)
async def detail(call: Call, *, id: int) -> dict[str, Any]:
    """Warranty: product, serial, customer, sale, coverage terms, start and end, claims."""
    return await queries.warranty_detail(call.session, call.actor, warranty_id=id)


class NewClaim(Body):
    description: LongText = Field(min_length=1)
    priority: Priority
    address_id: Id | None = None
    media_ids: list[Id] = Field(default_factory=list, max_length=10)


@app.action(
    "ASO-17",
    "POST",
    "/warranties/{id}/claims",
    roles=DESK,
    scope=DESK_SCOPE,
    events=("WarrantyChanged", "ServiceRequestChanged"),
    audit_entity="service_request",
    errors=("WARRANTY_NOT_FOUND", "WARRANTY_EXPIRED", "WARRANTY_VOID", "CLAIM_OPEN"),
    response=RequestRow,
)
async def claim(call: Call, *, id: int, body: NewClaim) -> Created:
    """Files a warranty claim: a warranty_repair request in the caller's branch."""
    request = await service_requests.open_warranty_claim(
        call.session,
        warranty_id=id,
        branch_id=home_branch(call.actor),
        description=body.description,
        priority=body.priority,
        created_by_id=call.actor.user_id,
        address_id=body.address_id,
        media_ids=body.media_ids,
    )
    call.audit("service_request", request.id, after={"number": request.number, "warranty_id": id})
    return Created(await request_row(call, request.id))
