"""`POST /api/parts/{id}/receipts`: spare-parts stock intake per branch (core.md §2.2), through
`tsh.domain.aftersales.parts.receive_parts` (raises on hand, emits PartsChanged)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tsh.api.legacy import writes
from tsh.api.legacy.http import client_ip, path_id, principal_of, request_id, run_write
from tsh.api.legacy.resource import Resource, load_scoped
from tsh.api.legacy.serialize import to_dict
from tsh.api.legacy.services import Id, Strict
from tsh.domain.aftersales.parts import receive_parts
from tsh.domain.organisation.models import Branch
from tsh.platform.errors import Invalid, field_error
from tsh.platform.http.validation import parse_json_body


class PartReceipt(Strict):
    branch_id: Id
    qty: int = Field(gt=0, le=1_000_000)


def add_part_receipt_route(router: APIRouter, parts: Resource) -> None:
    async def receive(request: Request) -> Response:
        principal = await principal_of(request)
        scope = writes.write_scope(parts, principal)  # inventory_manager (and admin)
        id_ = path_id(request)

        async def action(session: AsyncSession, raw: bytes) -> Any:
            body = parse_json_body(PartReceipt, raw)
            part = await load_scoped(session, parts, principal, id_, scope)
            active = await session.scalar(
                select(Branch.id).where(Branch.id == body.branch_id, Branch.status == "active")
            )
            if active is None:
                raise Invalid(
                    "Unknown or inactive branch",
                    code="REFERENCE_NOT_FOUND",
                    details=[field_error("branch_id", "unknown or inactive branch")],
                )
            (stock,) = await receive_parts(session, branch_id=body.branch_id, lines=[(part.id, body.qty)])
            after = to_dict(stock)
            before = {**after, "on_hand": stock.on_hand - body.qty}
            writes.audit(
                session, parts, principal, "receipts", part.id, before, after,
                client_ip(request), request_id(request),
            )  # fmt: skip
            return after

        return await run_write(request, principal, action, status=201, key_required=False)

    router.add_api_route(
        "/api/parts/{id}/receipts",
        receive,
        methods=["POST"],
        tags=["parts"],
        summary="Receive spare parts into a branch's stock",
    )
