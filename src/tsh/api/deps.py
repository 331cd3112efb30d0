"""FastAPI dependencies shared by the auth routes and the legacy resource API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from tsh.context import AppContext
from tsh.platform.auth.principal import Principal
from tsh.platform.db.uow import unit_of_work
from tsh.platform.http.client_ip import client_ip as client_ip  # re-exported: the one rule
from tsh.platform.http.envelope import metadata, success_bytes
from tsh.platform.http.json import dumps


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


AppCtx = Annotated[AppContext, Depends(get_ctx)]


async def get_principal(request: Request, ctx: AppCtx) -> Principal:
    return await ctx.authenticator.authenticate(request.headers.get("authorization"))


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def write_session(ctx: AppCtx) -> AsyncIterator[AsyncSession]:
    """A request-scoped unit of work: commits after the route returns, then publishes events.

    `scope="function"` makes FastAPI run the code after `yield` when the route returns and
    before the response is sent, so invalidation happens before the client sees the answer.
    """
    async with unit_of_work(ctx.db, ctx.bus) as session:
        yield session


WriteSession = Annotated[AsyncSession, Depends(write_session, scope="function")]


async def read_session(ctx: AppCtx) -> AsyncIterator[AsyncSession]:
    async with ctx.db.read_session() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]


def envelope(request: Request, data: Any, status: int = 200) -> Response:
    state = request.scope.get("state") or {}
    meta = metadata(request_id=state.get("request_id", ""), started=state["started"])
    return Response(success_bytes(dumps(data), meta), status_code=status, media_type="application/json")
