"""HTTP plumbing shared by the legacy routes: bare JSON answers, paging, ids, idempotent writes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tsh.api.legacy.bodies import python_type
from tsh.context import AppContext
from tsh.platform.auth.principal import Principal
from tsh.platform.db.uow import unit_of_work
from tsh.platform.http.client_ip import client_ip as client_ip  # re-exported: the one rule
from tsh.platform.http.idempotent import idempotency_key, run_idempotent
from tsh.platform.http.ids import RowIdIn, path_row_id
from tsh.platform.http.json import dumps
from tsh.platform.http.validation import parse_params

JSON = "application/json"
NO_CACHE = {"Cache-Control": "private, no-store"}
MAX_LIMIT = 500


class Paging(BaseModel):
    model_config = ConfigDict(extra="forbid")
    skip: int = Field(0, ge=0, le=10_000_000)
    limit: int = Field(100, ge=1, le=MAX_LIMIT)


def query_model(name: str, model: type[Any] | None, filters: Mapping[str, str], **extra: Any) -> type[Paging]:
    """Paging plus one optional equality filter per declared parameter, typed from its column."""
    fields: dict[str, Any] = dict(extra)
    if model is not None:
        columns = {a.key: a.columns[0] for a in inspect(model).column_attrs}
        for param, column in filters.items():
            kind = python_type(columns[column])
            # Filters on ids follow the id rule; other int filters are ints of the column's range.
            if kind is int and (columns[column].foreign_keys or columns[column].primary_key):
                fields[param] = (RowIdIn | None, None)
            elif kind is int:
                fields[param] = (int | None, Field(None, ge=-(2**31), le=2**31 - 1))
            else:
                fields[param] = (kind | None, None)
    return create_model(f"{name}Query", __base__=Paging, **fields)


def parse_query(request: Request, model: type[Paging]) -> Paging:
    return parse_params(model, dict(request.query_params))


def path_id(request: Request) -> int:
    return path_row_id(str(request.path_params.get("id", "")))


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def principal_of(request: Request) -> Principal:
    return await context(request).authenticator.authenticate(request.headers.get("authorization"))


def bare(data: Any, status: int = 200, total: int | None = None) -> Response:
    headers = dict(NO_CACHE)
    if total is not None:
        headers["X-Total-Count"] = str(total)
    return Response(dumps(data), status_code=status, media_type=JSON, headers=headers)


def request_id(request: Request) -> str:
    state = request.scope.get("state") or {}
    return str(state.get("request_id", ""))


Action = Callable[[AsyncSession, bytes], Awaitable[Any]]


async def run_write(
    request: Request, principal: Principal, action: Action, *, status: int, key_required: bool
) -> Response:
    """One unit of work with Idempotency-Key semantics (README "Writes"), reusing ctx.idempotency.

    Call it after the role check: a missing required key is 400 before body validation.
    """
    ctx = context(request)
    key = idempotency_key(request, required=key_required)
    body = await request.body()

    async def execute() -> tuple[int, bytes]:
        async with unit_of_work(ctx.db, ctx.bus) as session:
            payload = dumps(await action(session, body))
        return status, payload

    return await run_idempotent(
        request,
        ctx.idempotency,
        user_id=principal.user_id,
        key=key,
        body=body,
        execute=execute,
        headers=NO_CACHE,
    )
