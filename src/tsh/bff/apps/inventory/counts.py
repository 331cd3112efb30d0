"""INV-14 counts, INV-15 start a count, INV-16 count sheet, INV-17 record counted quantities,
INV-18 complete a count."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.inventory import MANAGER_SCOPE, MANAGERS, STAFF, STAFF_SCOPE, app
from tsh.bff.apps.inventory.views import CountRow, CountSheet
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, LongText, Page, Text, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.domain.inventory import commands, documents, queries


class ListQuery(Page):
    warehouse_id: Id | None = None
    status: Literal["open", "completed"] | None = None


@app.screen(
    "INV-14",
    "/counts",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="orders",
    events=("CountChanged",),
    errors=("WAREHOUSE_NOT_FOUND",),
    response=PageOf[CountRow],
    vary_by_language=True,
)
async def list_(call: Call, *, query: ListQuery) -> dict[str, Any]:
    """Count sessions: warehouse, scope, blind flag, status, progress, variance value once completed."""
    rows = await documents.count_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        warehouse_id=query.warehouse_id,
        status=query.status,
    )
    return page(rows, query.limit, lambda c: queries.position(c["started_at"], c["id"]))


class NewCount(Body):
    warehouse_id: Id
    scope: Literal["full", "category", "products"]
    category_id: Id | None = None
    product_ids: list[Id] = Field(default_factory=list, max_length=500)
    blind: bool = True


@app.action(
    "INV-15",
    "POST",
    "/counts",
    roles=MANAGERS,
    scope=MANAGER_SCOPE,
    events=("CountChanged",),
    idempotency="optional",
    audit_entity="count",
    errors=(
        "WAREHOUSE_NOT_FOUND",
        "CATEGORY_NOT_FOUND",
        "PRODUCT_NOT_FOUND",
        "COUNT_IN_PROGRESS",
        "EMPTY_SCOPE",
    ),
    response=CountRow,
)
async def start(call: Call, *, body: NewCount) -> Created:
    """Starts a count session and snapshots the system quantity of every line in scope."""
    count = await commands.start_count(
        call.session,
        call.actor,
        warehouse_id=body.warehouse_id,
        scope=body.scope,
        category_id=body.category_id,
        product_ids=body.product_ids,
        blind=body.blind,
    )
    call.audit("count", count.id, after={"number": count.number, "scope": count.scope})
    return Created((await documents.count_rows(call.session, call.actor, [count]))[0])


class SheetQuery(Page):
    q: Text | None = None
    uncounted_only: bool = False


@app.screen(
    "INV-16",
    "/counts/{id}",
    roles=STAFF,
    scope=STAFF_SCOPE,
    cache="none",
    errors=("COUNT_NOT_FOUND",),
    response=CountSheet,
)
async def sheet(call: Call, *, query: SheetQuery, id: int) -> dict[str, Any]:
    """Count sheet: counted quantities; system quantity and variance unless blind for the caller."""
    data = await documents.count_sheet(
        call.session,
        call.actor,
        count_id=id,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        text=query.q,
        uncounted_only=query.uncounted_only,
    )
    data["lines"] = page(data["lines"], query.limit, lambda ln: {"i": ln["id"]})
    return data


class CountedLine(Body):
    product_id: Id
    counted_qty: int = Field(ge=0, le=1_000_000)


class Counted(Body):
    lines: list[CountedLine] = Field(min_length=1, max_length=500)


@app.action(
    "INV-17",
    "PUT",
    "/counts/{id}/lines",
    roles=STAFF,
    scope=STAFF_SCOPE,
    events=("CountChanged",),
    idempotency="optional",
    audit_entity="count",
    errors=("COUNT_NOT_FOUND", "PRODUCT_NOT_FOUND", "COUNT_CLOSED", "DUPLICATE_LINE", "PRODUCT_NOT_IN_COUNT"),
    response=CountRow,
)
async def record(call: Call, *, body: Counted, id: int) -> dict[str, Any]:
    """Records counted quantities for one or more lines (sets the value, does not add)."""
    count = await commands.record_counts(
        call.session, call.actor, count_id=id, lines=[(ln.product_id, ln.counted_qty) for ln in body.lines]
    )
    call.audit("count", count.id, after={"lines": len(body.lines)})
    return (await documents.count_rows(call.session, call.actor, [count]))[0]


class Completion(Body):
    apply: bool
    uncounted: Literal["ignore", "zero"] = "ignore"
    note: LongText | None = None


@app.action(
    "INV-18",
    "POST",
    "/counts/{id}/completion",
    roles=MANAGERS,
    scope=MANAGER_SCOPE,
    events=("CountChanged", "StockChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="count",
    errors=("COUNT_NOT_FOUND", "COUNT_CLOSED", "APPROVAL_REQUIRED"),
    response=CountRow,
)
async def complete(call: Call, *, body: Completion, id: int) -> dict[str, Any]:
    """Closes a count; with apply=true one adjustment (source count) books all variances."""
    count = await commands.complete_count(
        call.session, call.actor, count_id=id, apply=body.apply, uncounted=body.uncounted, note=body.note
    )
    call.audit("count", count.id, before={"status": "open"}, after={"status": "completed"})
    return (await documents.count_rows(call.session, call.actor, [count]))[0]
