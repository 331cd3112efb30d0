"""`PUT /api/price-lists/{id}/items`: the items of a price list replaced in bulk (core.md §2.2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tsh.api.legacy import writes
from tsh.api.legacy.http import client_ip, path_id, principal_of, request_id, run_write
from tsh.api.legacy.resource import Resource, load_scoped, render
from tsh.domain.catalog.models import PriceListItem, Product
from tsh.platform.errors import Invalid, field_error
from tsh.platform.http.dates import DateTimeIn
from tsh.platform.http.ids import RowIdIn
from tsh.platform.http.validation import parse_json_body


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    product_id: RowIdIn
    min_qty: int = Field(1, ge=1, le=1_000_000)
    unit_price: Decimal = Field(ge=0, le=Decimal("1e13"), decimal_places=2)
    valid_from: DateTimeIn | None = None
    valid_to: DateTimeIn | None = None


class ItemsBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    items: list[ItemIn] = Field(max_length=5000)


async def _check(session: AsyncSession, items: list[ItemIn]) -> None:
    errors = []
    seen: set[tuple[int, int]] = set()
    for i, item in enumerate(items):
        if (item.product_id, item.min_qty) in seen:
            errors.append(
                field_error(f"items[{i}]", "duplicate product and min_qty", product_id=item.product_id)
            )
        seen.add((item.product_id, item.min_qty))
        if item.valid_from and item.valid_to and item.valid_to <= item.valid_from:
            errors.append(field_error(f"items[{i}].valid_to", "must be after valid_from"))
    ids = {item.product_id for item in items}
    known = (
        set((await session.scalars(select(Product.id).where(Product.id.in_(ids)))).all()) if ids else set()
    )
    errors += [
        field_error(f"items[{i}].product_id", "unknown product", product_id=it.product_id)
        for i, it in enumerate(items)
        if it.product_id not in known
    ]
    if errors:
        raise Invalid(details=errors)


def add_extra_routes(router: APIRouter, price_lists: Resource) -> None:
    async def replace_items(request: Request) -> Response:
        principal = await principal_of(request)
        scope = writes.write_scope(price_lists, principal)
        id_ = path_id(request)

        async def action(session: AsyncSession, raw: bytes) -> Any:
            body = parse_json_body(ItemsBody, raw)
            row = await load_scoped(session, price_lists, principal, id_, scope, lock=True)
            await _check(session, body.items)
            before = await render(session, price_lists, row)
            await session.execute(delete(PriceListItem).where(PriceListItem.price_list_id == id_))
            session.add_all(PriceListItem(price_list_id=id_, **item.model_dump()) for item in body.items)
            await session.flush()
            after = await render(session, price_lists, row)
            writes.emit_events(session, price_lists, before, after, {"items"})
            writes.audit(
                session, price_lists, principal, "items", id_, {"items": len(before["items"])},
                {"items": len(body.items)}, client_ip(request), request_id(request),
            )  # fmt: skip
            return after

        return await run_write(request, principal, action, status=200, key_required=False)

    router.add_api_route(
        "/api/price-lists/{id}/items",
        replace_items,
        methods=["PUT"],
        tags=["price-lists"],
        summary="Replace the items of a price list",
    )
