"""INV-12 adjustments, INV-13 apply an adjustment."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.inventory import MANAGER_SCOPE, MANAGERS, STAFF, STAFF_SCOPE, app
from tsh.bff.apps.inventory.views import AdjustmentRow
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, LongText, Page, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.inventory import commands, documents, queries


class ListQuery(Page):
    warehouse_id: Id | None = None
    reason: Literal["damage", "loss", "found", "expiry", "correction", "count"] | None = None
    source: Literal["manual", "count"] | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


@app.screen(
    "INV-12",
    "/adjustments",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="orders",
    events=("StockChanged",),
    errors=("WAREHOUSE_NOT_FOUND",),
    response=PageOf[AdjustmentRow],
    vary_by_language=True,
)
async def list_(call: Call, *, query: ListQuery) -> dict[str, Any]:
    """Stock adjustments: number, warehouse, reason, source, line count, value impact, user, date."""
    rows = await documents.adjustment_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        warehouse_id=query.warehouse_id,
        reason=query.reason,
        source=query.source,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, lambda a: queries.position(a["created_at"], a["id"]))


class AdjustmentLine(Body):
    product_id: Id
    # Signed, not 0 (the service answers 422 for 0).
    qty_delta: int = Field(ge=-100_000, le=100_000)


class NewAdjustment(Body):
    warehouse_id: Id
    reason: Literal["damage", "loss", "found", "expiry", "correction"]
    lines: list[AdjustmentLine] = Field(min_length=1, max_length=200)
    note: LongText = Field(min_length=1)
    media_ids: list[Id] = Field(default_factory=list, max_length=10)


@app.action(
    "INV-13",
    "POST",
    "/adjustments",
    roles=MANAGERS,
    scope=MANAGER_SCOPE,
    events=("StockChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="adjustment",
    errors=(
        "WAREHOUSE_NOT_FOUND",
        "PRODUCT_NOT_FOUND",
        "DUPLICATE_LINE",
        "NEGATIVE_STOCK",
        "APPROVAL_REQUIRED",
    ),
    response=AdjustmentRow,
)
async def create(call: Call, *, body: NewAdjustment) -> Created:
    """Applies a stock adjustment at average cost and posts its value to inventory loss/gain."""
    adjustment = await commands.adjust_stock(
        call.session,
        call.actor,
        warehouse_id=body.warehouse_id,
        reason=body.reason,
        lines=[(ln.product_id, ln.qty_delta) for ln in body.lines],
        note=body.note,
        media_ids=body.media_ids,
    )
    call.audit(
        "adjustment", adjustment.id, after={"number": adjustment.number, "value": str(adjustment.value)}
    )
    return Created((await documents.adjustment_rows(call.session, call.actor, [adjustment]))[0])
