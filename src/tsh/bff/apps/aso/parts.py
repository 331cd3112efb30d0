"""ASO-18 spare parts, ASO-19 reserve parts for a job."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tsh.bff.apps.aso import ALL_STAFF, FIELD, FIELD_SCOPE, app
from tsh.bff.apps.aso.views import PartRequestRow, PartRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, Page, Qty, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.aftersales import parts, queries
from tsh.domain.aftersales.access import reach
from tsh.platform.auth.principal import Scope

PART_ROLES = (*ALL_STAFF, "inventory_manager")
PART_SCOPE: dict[str, Scope] = {
    "inventory_manager": "all",
    "service_agent": "branch",
    "technician": "branch",
    "branch_manager": "branch",
}


class ListQuery(Page):
    q: str | None = Field(default=None, min_length=1, max_length=100)
    product_id: Id | None = None
    in_stock: bool | None = None


@app.screen(
    "ASO-18",
    "/parts",
    roles=PART_ROLES,
    scope=PART_SCOPE,
    cache="catalog",
    events=("PartsChanged",),
    response=PageOf[PartRow],
    vary_by_language=True,
)
async def list_(call: Call, *, query: ListQuery) -> dict[str, Any]:
    """Spare parts: SKU, name, compatible products, price, on hand and reserved at the caller's
    branch, other branches holding stock."""
    rows = await queries.part_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        product_id=query.product_id,
        in_stock=query.in_stock,
    )
    return page(rows, query.limit, lambda r: {"s": r["sku"]})


class ReservationLine(Body):
    part_id: Id
    qty: Qty


class NewPartRequest(Body):
    job_id: Id
    lines: list[ReservationLine] = Field(min_length=1, max_length=50)


@app.action(
    "ASO-19",
    "POST",
    "/part-requests",
    roles=FIELD,
    scope=FIELD_SCOPE,
    events=("PartsChanged", "ServiceRequestChanged"),
    idempotency="required",
    audit_entity="part_request",
    errors=("JOB_NOT_FOUND", "PART_NOT_FOUND", "INSUFFICIENT_PARTS", "JOB_CLOSED"),
    response=PartRequestRow,
)
async def reserve(call: Call, *, body: NewPartRequest) -> Created:
    """Reserves spare parts at the branch for a job (consumed at completion, released on cancel)."""
    r = await reach(call.session, call.actor)
    pr = await parts.reserve_parts(
        call.session,
        job_id=body.job_id,
        lines=[(ln.part_id, ln.qty) for ln in body.lines],
        requested_by_id=call.actor.user_id,
        branch_id=r.branch_id,
        technician_id=r.technician_id,
    )
    call.audit("part_request", pr.id, after={"job_id": pr.job_id})
    return Created(
        {
            "id": pr.id,
            "job_id": pr.job_id,
            "status": pr.status,
            "lines": [{"part_id": ln.part_id, "qty": ln.qty} for ln in pr.lines],
        }
    )
