"""The one mechanism every BFF endpoint runs through.

Order of checks (core.md §0): authentication (401) → role (403) → Idempotency-Key (400) →
body and parameter validation (422) → the handler (scope and existence 404, business rules).
Screens: the cache is consulted only after the permission and scope are known, under a key
built from endpoint + canonical parameters + scope marker (+ role / language where declared);
a hit is the stored bytes spliced into the envelope. Actions: one transaction, events published
after commit (which invalidates) and before the response, an audit row in the same transaction,
and the first response kept for Idempotency-Key replays.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from tsh.bff.call import Call, Created, scope_marker
from tsh.bff.spec import EndpointSpec
from tsh.context import AppContext
from tsh.domain.identity.rbac import ENDPOINT_PERMISSION
from tsh.domain.identity.service import record_audit
from tsh.platform.auth.principal import Principal, Scope
from tsh.platform.cache.backend import CacheError, Entry
from tsh.platform.cache.tags import entry_tags
from tsh.platform.db.read_your_writes import mark_write, screen_session
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError, Forbidden, NotFound
from tsh.platform.http.envelope import metadata, success_bytes
from tsh.platform.http.handlers import error_response
from tsh.platform.http.idempotent import idempotency_key, run_idempotent
from tsh.platform.http.json import dumps
from tsh.platform.http.validation import parse_json_body, parse_params, validation_error
from tsh.platform.metrics import CACHE, IDEMPOTENT_REPLAYS

log = logging.getLogger("tsh.bff")
MAX_ROW_ID = 2**31 - 1  # ids are 32-bit integer columns
STAFF_EXCLUDED = frozenset({"consumer", "partner", "wholesale_client"})
JSON = "application/json"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def resolve_scope(spec: EndpointSpec, principal: Principal) -> Scope:
    scope = spec.scope_for(principal.role)
    if (
        scope is None
        and "employee" in spec.scopes
        and principal.employee_id is not None
        and principal.role not in STAFF_EXCLUDED
    ):
        # `employee` stands for any staff user linked to an Employee record (core.md §0).
        scope = spec.scopes["employee"]
    if scope is None:
        raise Forbidden()
    # The role table of the contract says who may call the row; the permission set in the
    # database (roles, overrides) may take it away again without a deployment.
    permission = ENDPOINT_PERMISSION.get(spec.id)
    if permission is not None and not principal.is_admin and permission not in principal.permissions:
        raise Forbidden()
    return scope


def _path_ids(spec: EndpointSpec, request: Request) -> dict[str, int]:
    out: dict[str, int] = {}
    errors = []
    for name in spec.path_params:
        raw = request.path_params.get(name, "")
        if not (raw.isdigit() and raw[0] != "0" and len(raw) <= 18):
            errors.append({"loc": ("path", name), "msg": "must be a positive integer", "type": "path"})
        else:
            out[name] = int(raw)
    if errors:
        raise validation_error(errors)
    if any(value > MAX_ROW_ID for value in out.values()):
        raise NotFound()  # a well-formed id no row can have
    return out


class EndpointRunner:
    def __init__(self, spec: EndpointSpec) -> None:
        self.spec = spec
        self._inflight: dict[str, asyncio.Future[Entry]] = {}

    async def __call__(self, request: Request) -> Response:
        try:
            return await self._run(request)
        except AppError as exc:
            ctx: AppContext = request.app.state.ctx
            if ctx.settings.check_contract and exc.code not in self.spec.allowed_errors:
                ctx.contract_violations.append(f"{self.spec.id} answered undeclared {exc.status} {exc.code}")
            return error_response(request, exc)

    def _check_data(self, ctx: AppContext, data: bytes) -> None:
        """Contract check (tests only): `data` matches the declared response model."""
        model = self.spec.response_model
        if not ctx.settings.check_contract or model is None:
            return
        try:
            model.model_validate_json(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)[:5]
            )
            ctx.contract_violations.append(f"{self.spec.id} data breaks {model.__name__}: {problems}")

    async def _run(self, request: Request) -> Response:
        spec = self.spec
        ctx: AppContext = request.app.state.ctx
        principal = await ctx.authenticator.authenticate(request.headers.get("authorization"))
        try:
            scope = resolve_scope(spec, principal)
        except Forbidden:
            if spec.kind == "action":
                await self._audit_denied(ctx, request, principal)
            raise
        await ctx.limiter.hit(
            f"ep:{spec.id}:u{principal.user_id}", spec.rate_limit or ctx.settings.rate_limit_default
        )
        if spec.kind == "screen":
            return await self._screen(ctx, request, principal, scope)
        return await self._action(ctx, request, principal, scope)

    # -- screens -------------------------------------------------------------------------

    def _inputs(self, request: Request, body: bytes | None) -> dict[str, Any]:
        spec = self.spec
        kwargs: dict[str, Any] = dict(_path_ids(spec, request))
        if spec.query_model is not None:
            kwargs["query"] = parse_params(spec.query_model, dict(request.query_params))
        if spec.body_model is not None:
            kwargs["body"] = parse_json_body(spec.body_model, body or b"")
        return kwargs

    async def _cache_key(self, call: Call, kwargs: dict[str, Any]) -> str:
        spec = self.spec
        params = {
            k: (v.model_dump(mode="json") if hasattr(v, "model_dump") else v) for k, v in kwargs.items()
        }
        parts = [spec.id, scope_marker(call.principal, call.scope), dumps(params).decode()]
        if spec.vary_by_role:
            parts.append("role=" + call.principal.role)
        if spec.vary_by_language:
            parts.append("lang=" + call.principal.language)
        if spec.key_part is not None:
            parts.append(await spec.key_part(call, **kwargs))
        digest = hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()
        return f"s:{spec.id}:{digest}"

    async def _screen(
        self, ctx: AppContext, request: Request, principal: Principal, scope: Scope
    ) -> Response:
        spec = self.spec
        kwargs = self._inputs(request, None)
        async with await screen_session(ctx.db, ctx.cache, principal.user_id) as session:
            call = Call(
                spec=spec,
                ctx=ctx,
                principal=principal,
                scope=scope,
                session=session,
                request_id=request.scope["state"]["request_id"],
                ip=_client_ip(request),
            )
            if not spec.cached or not ctx.settings.cache_screens:
                data = await spec.handler(call, **kwargs)
                return self._screen_response(request, Entry.build(dumps(data)), cached=False)
            key = await self._cache_key(call, kwargs)
            entry = await self._cache_get(ctx, key)
            if entry is not None:
                CACHE.labels(spec.cache, "hit").inc()
                return self._screen_response(request, entry, cached=True)
            CACHE.labels(spec.cache, "miss").inc()
            entry = await self._fill(ctx, call, key, kwargs)
        return self._screen_response(request, entry, cached=False)

    async def _cache_get(self, ctx: AppContext, key: str) -> Entry | None:
        try:
            return await ctx.cache.get(key)
        except CacheError:
            CACHE.labels(self.spec.cache, "error").inc()
            return None

    async def _fill(self, ctx: AppContext, call: Call, key: str, kwargs: dict[str, Any]) -> Entry:
        """Compute a missed screen once per key at a time (no stampede on a hot miss)."""
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            entry = await self._compute_and_store(ctx, call, key, kwargs)
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._inflight[key]

    async def _compute_and_store(
        self, ctx: AppContext, call: Call, key: str, kwargs: dict[str, Any]
    ) -> Entry:
        spec = self.spec
        try:
            generation: int | None = await ctx.cache.generation()
        except CacheError:
            CACHE.labels(spec.cache, "error").inc()
            generation = None
        entry = Entry.build(dumps(await spec.handler(call, **kwargs)))
        if generation is not None:
            tags = entry_tags(spec.events, scope_marker(call.principal, call.scope))
            for marker in call.cache_markers:
                tags += entry_tags(spec.events, marker)
            try:
                await ctx.cache.set(key, entry, spec.ttl_s, tags, generation)
            except CacheError:
                CACHE.labels(spec.cache, "error").inc()
        return entry

    def _screen_response(self, request: Request, entry: Entry, *, cached: bool) -> Response:
        headers = {"ETag": entry.etag, "Cache-Control": "private, no-cache"}
        if request.headers.get("if-none-match") == entry.etag:
            return Response(status_code=304, headers=headers)
        self._check_data(request.app.state.ctx, entry.value)
        state = request.scope["state"]
        meta = metadata(
            request_id=state["request_id"],
            started=state["started"],
            cached=cached,
            cache_age_s=entry.age_s() if cached else 0,
        )
        return Response(success_bytes(entry.value, meta), media_type=JSON, headers=headers)

    # -- actions -------------------------------------------------------------------------

    async def _action(
        self, ctx: AppContext, request: Request, principal: Principal, scope: Scope
    ) -> Response:
        spec = self.spec
        key = idempotency_key(request, required=spec.idempotency == "required")
        body = await request.body()
        kwargs = self._inputs(request, body)
        return await run_idempotent(
            request,
            ctx.idempotency,
            user_id=principal.user_id,
            key=key,
            body=body,
            execute=lambda: self._execute(ctx, request, principal, scope, kwargs),
            on_replay=IDEMPOTENT_REPLAYS.labels(spec.id).inc,
        )

    async def _execute(
        self, ctx: AppContext, request: Request, principal: Principal, scope: Scope, kwargs: dict[str, Any]
    ) -> tuple[int, bytes]:
        spec = self.spec
        state = request.scope["state"]
        async with unit_of_work(ctx.db, ctx.bus) as session:
            call = Call(
                spec=spec,
                ctx=ctx,
                principal=principal,
                scope=scope,
                session=session,
                request_id=state["request_id"],
                ip=_client_ip(request),
            )
            result = await spec.handler(call, **kwargs)
            status = spec.status_code
            if isinstance(result, Created):
                status, result = 201, result.data
            target = call.audit_target or {"entity_type": spec.audit_entity, "entity_id": kwargs.get("id")}
            record_audit(
                session,
                actor_id=principal.user_id,
                app=spec.app,
                action=spec.id,
                ip=call.ip,
                request_id=call.request_id,
                **target,
            )
            data = dumps(result)
        # The unit of work has committed and published (invalidated) by now.
        self._check_data(ctx, data)
        await mark_write(ctx.db, ctx.cache, principal.user_id)
        meta = metadata(request_id=state["request_id"], started=state["started"])
        return status, success_bytes(data, meta)

    async def _audit_denied(self, ctx: AppContext, request: Request, principal: Principal) -> None:
        async with unit_of_work(ctx.db, ctx.bus) as session:
            record_audit(
                session,
                actor_id=principal.user_id,
                app=self.spec.app,
                action=self.spec.id,
                entity_type=self.spec.audit_entity,
                entity_id=None,
                decision="denied",
                reason="role",
                ip=_client_ip(request),
                request_id=request.scope["state"]["request_id"],
            )
