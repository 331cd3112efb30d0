"""Turns the declaration table into routes: list/get for every resource, writes where declared."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tsh.api.legacy import writes
from tsh.api.legacy.commands import run_command
from tsh.api.legacy.http import (
    bare,
    client_ip,
    parse_query,
    path_id,
    principal_of,
    query_model,
    request_id,
    run_write,
)
from tsh.api.legacy.resource import Op, Resource, get_record, list_records
from tsh.domain.identity.detectors import detect_privilege_probe, watch_export
from tsh.domain.identity.service import record_audit
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError, Forbidden, NotFound

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]

# Only digits reach a record route: `PATCH /api/orders/stats` is then the 405 of the `stats` route
# (with `Allow: GET`) instead of a 404 for a record named "stats"; any other path id is the
# router's 404 NOT_FOUND, as before. The document still says `{id}` (FastAPI drops the converter).
ID = "/{id:int}"


def _list(res: Resource) -> Endpoint:
    query = query_model(res.model.__name__, res.model, res.filters)

    async def endpoint(request: Request) -> Response:
        principal = await principal_of(request)
        res.access.scope_for(principal)  # 403 before parameter validation
        params = parse_query(request, query).model_dump()
        skip, limit = params.pop("skip"), params.pop("limit")
        ctx = request.app.state.ctx
        async with ctx.db.read_session() as session:
            records, total = await list_records(session, res, principal, params, skip=skip, limit=limit)
        if res.exports is not None:
            await watch_export(
                cache=ctx.cache, db=ctx.db, bus=ctx.bus, settings=ctx.settings, user_id=principal.user_id,
                ip=client_ip(request), kind=res.exports, row_ids=[r["id"] for r in records],
            )  # fmt: skip
        return bare(records, total=total)

    return endpoint


def _get(res: Resource) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        principal = await principal_of(request)
        res.access.scope_for(principal)
        id_ = path_id(request)
        async with request.app.state.ctx.db.read_session() as session:
            return bare(await get_record(session, res, principal, id_))

    return endpoint


def _write(res: Resource, op: Op) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        principal = await principal_of(request)
        writes.write_scope(res, principal)
        id_ = path_id(request) if op != "create" else 0
        meta = {"ip": client_ip(request), "request_id": request_id(request)}

        async def action(session: Any, raw: bytes) -> Any:
            if op in res.commands:
                return await run_command(session, res, principal, op, id_, raw, **meta)
            if op == "create":
                return await writes.create(session, res, principal, raw, **meta)
            if op == "update":
                return await writes.update(session, res, principal, id_, raw, **meta)
            return await writes.delete(session, res, principal, id_, **meta)

        status = 201 if op == "create" else 200
        return await run_write(
            request, principal, action, status=status, key_required=res.idempotency == "required"
        )

    return endpoint


def _audited(res: Resource, method: str, endpoint: Endpoint) -> Endpoint:
    """Denials go to the audit trail as on the BFF: 403 by role, and 404 for a caller whose scope
    is narrower than `all` (a foreign record answered like a missing one)."""

    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (Forbidden, NotFound) as exc:
            await _audit_denial(request, res, method, "role" if isinstance(exc, Forbidden) else "scope")
            raise

    return wrapped


async def _audit_denial(request: Request, res: Resource, method: str, reason: str) -> None:
    try:
        principal = await principal_of(request)
    except AppError:
        return  # no caller to hold to account
    if reason == "scope":
        try:
            if res.access.scope_for(principal) == "all":
                return  # a missing record, not a denial
        except Forbidden:
            reason = "role"
    raw = str(request.path_params.get("id", ""))
    ctx = request.app.state.ctx
    async with unit_of_work(ctx.db, ctx.bus) as session:
        record_audit(
            session,
            actor_id=principal.user_id,
            app=None,
            action=f"{method} /api/{res.path}"[:64],
            entity_type=res.entity,
            entity_id=raw or None,
            decision="denied",
            reason=reason,
            ip=client_ip(request),
            request_id=request_id(request),
        )
        await session.flush()
        await detect_privilege_probe(session, ctx.settings, user_id=principal.user_id, ip=client_ip(request))


def add_resources(router: APIRouter, resources: Sequence[Resource]) -> None:
    for res in resources:
        base = f"/api/{res.path}"
        tag: list[str | Enum] = [res.path]
        if "list" in res.ops:
            router.add_api_route(
                base, _audited(res, "GET", _list(res)), methods=["GET"], tags=tag, summary=f"List {res.path}"
            )
        if "create" in res.ops:
            router.add_api_route(
                base,
                _audited(res, "POST", _write(res, "create")),
                methods=["POST"],
                tags=tag,
                summary=f"Create in {res.path}",
            )
        if "get" in res.ops:
            router.add_api_route(
                base + ID,
                _audited(res, "GET", _get(res)),
                methods=["GET"],
                tags=tag,
                summary=f"Get one of {res.path}",
            )
        if "update" in res.ops:
            router.add_api_route(
                base + ID,
                _audited(res, "PATCH", _write(res, "update")),
                methods=["PATCH"],
                tags=tag,
                summary=f"Update one of {res.path}",
            )
        if "delete" in res.ops:
            router.add_api_route(
                base + ID,
                _audited(res, "DELETE", _write(res, "delete")),
                methods=["DELETE"],
                tags=tag,
                summary=f"Delete one of {res.path}",
            )
