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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from tsh.bff.call import Call, Created, scope_marker
from tsh.bff.schemas import cursor_list
from tsh.bff.sections import parse_deadline
from tsh.bff.spec import EndpointSpec
from tsh.context import AppContext
from tsh.domain.identity.detectors import detect_privilege_probe, watch_export
from tsh.domain.identity.rbac import ENDPOINT_PERMISSION
from tsh.domain.identity.service import record_audit
from tsh.platform.auth.principal import Principal, Scope
from tsh.platform.cache.backend import CacheError, Entry
from tsh.platform.cache.tags import entry_tags, screen_tags
from tsh.platform.db import Session
from tsh.platform.db.read_your_writes import mark_write, screen_session
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError, Forbidden, NotFound
from tsh.platform.http.app_version import check_app_version
from tsh.platform.http.client_ip import client_ip
from tsh.platform.http.envelope import metadata, success_bytes
from tsh.platform.http.handlers import error_response
from tsh.platform.http.idempotent import idempotency_key, run_idempotent
from tsh.platform.http.ids import path_row_id
from tsh.platform.http.json import dumps
from tsh.platform.http.validation import parse_json_body, parse_params
from tsh.platform.metrics import CACHE, IDEMPOTENT_REPLAYS

log = logging.getLogger("tsh.bff")
STAFF_EXCLUDED = frozenset({"consumer", "partner", "wholesale_client"})
JSON = "application/json"
# A computed screen: its encoded data and, when it ran sections, the status of each.
Computed = tuple[Entry, dict[str, dict[str, Any]]]


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
    # One id rule for both back ends (tsh.platform.http.ids): anything else names no row, 404.
    return {name: path_row_id(request.path_params.get(name, "")) for name in spec.path_params}


def _row_id_or_none(raw: str) -> int | None:
    """Only an id a row can have goes into the audit trail (the one id rule of path_row_id)."""
    try:
        return path_row_id(raw)
    except NotFound:
        return None


def _list_filters(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a cursor of this screen is bound to: path ids and every query parameter but paging."""
    out = {k: v for k, v in kwargs.items() if k != "query"}
    query = kwargs.get("query")
    if query is not None:
        out["query"] = query.model_dump(mode="json", exclude={"cursor", "limit"})
    return out


@dataclass(frozen=True, slots=True)
class Precondition:
    """A check one request adds to its action (request state `precondition`): it runs in the
    action's unit of work, after validation and before the handler, and its AppError is the
    answer kept for the Idempotency-Key. The outbox's `if_version` is one (mobile.md §2)."""

    check: Callable[[Call, dict[str, Any]], Awaitable[None]]
    errors: frozenset[str]


class EndpointRunner:
    def __init__(self, spec: EndpointSpec) -> None:
        self.spec = spec
        self._inflight: dict[str, asyncio.Future[Computed]] = {}

    async def __call__(self, request: Request) -> Response:
        try:
            response = await self._run(request)
        except AppError as exc:
            response = error_response(request, exc)
        ctx: AppContext = request.app.state.ctx
        if self.spec.deprecated is not None:
            response.headers.update(self.spec.deprecated.headers())
        if ctx.settings.check_contract and response.status_code >= 400:
            # Checked on the answer itself: an idempotent action turns its error into a stored
            # response before it reaches this frame, and a replay never raises at all.
            code = orjson.loads(bytes(response.body)).get("error_code")
            precondition: Precondition | None = request.scope["state"].get("precondition")
            extra = precondition.errors if precondition is not None else frozenset()
            if code not in self.spec.allowed_errors | extra:
                ctx.contract_violations.append(
                    f"{self.spec.id} answered undeclared {response.status_code} {code}"
                )
        return response

    def _call(
        self,
        ctx: AppContext,
        request: Request,
        principal: Principal,
        scope: Scope,
        session: Session,
        *,
        deadline: float | None = None,
        own_transactions: bool = False,
    ) -> Call:
        """What the handler receives, for a screen or an action. A screen gets its deadline; an
        `own_transactions` action also gets the request, to run other actions as its caller."""
        return Call(
            spec=self.spec,
            ctx=ctx,
            principal=principal,
            scope=scope,
            session=session,
            request_id=request.scope["state"]["request_id"],
            ip=client_ip(request),
            deadline=deadline,
            request=request if own_transactions else None,
        )

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
        headers = request.headers
        check_app_version(
            headers.get("x-app-name"),
            headers.get("x-app-version"),
            request.app.state.min_app_versions,
            require=ctx.settings.require_app_version,
        )
        principal = await ctx.authenticator.authenticate(request.headers.get("authorization"))
        request.scope["state"]["user_id"] = principal.user_id  # for the request log
        try:
            scope = resolve_scope(spec, principal)
        except Forbidden:
            await self._audit_denied(ctx, request, principal, reason="role")
            raise
        await ctx.limiter.hit(
            f"ep:{spec.id}:u{principal.user_id}", spec.rate_limit or ctx.settings.rate_limit_default
        )
        # A path id no row can have (`/１`, `/0`, beyond 2^31-1) is a plain 404, before any lookup
        # and so never a denial by scope in the audit trail.
        _path_ids(spec, request)
        try:
            if spec.kind == "screen":
                return await self._screen(ctx, request, principal, scope)
            return await self._action(ctx, request, principal, scope)
        except NotFound as exc:
            # A record outside the caller's scope is answered 404 like a missing one (no existence
            # oracle) but is a denial for the audit trail (clarifications.md: denied/scope).
            if scope != "all" and (exc.code == "NOT_FOUND" or exc.code.endswith("_NOT_FOUND")):
                await self._audit_denied(ctx, request, principal, reason="scope")
            raise

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
        with cursor_list(spec.id, _list_filters(kwargs)):
            response = await self._screen_call(ctx, request, principal, scope, kwargs)
        if spec.exports is not None and response.status_code == 200:
            await self._watch_export(ctx, request, principal, response)
        return response

    async def _watch_export(
        self, ctx: AppContext, request: Request, principal: Principal, response: Response
    ) -> None:
        """Count the customer or order rows this page handed out (mass_export detector)."""
        data = orjson.loads(bytes(response.body))["data"]
        rows = data.get("items") if "items" in data else data.get("changes", ())
        ids = [r["id"] for r in rows if isinstance(r, dict) and isinstance(r.get("id"), int)]
        if ids:
            await watch_export(
                cache=ctx.cache, db=ctx.db, bus=ctx.bus, settings=ctx.settings, user_id=principal.user_id,
                ip=client_ip(request), kind=str(self.spec.exports), row_ids=ids,
            )  # fmt: skip

    async def _screen_call(
        self, ctx: AppContext, request: Request, principal: Principal, scope: Scope, kwargs: dict[str, Any]
    ) -> Response:
        spec = self.spec
        state = request.scope["state"]
        async with await screen_session(ctx.db, ctx.cache, principal.user_id) as session:
            call = self._call(
                ctx, request, principal, scope, session,
                deadline=parse_deadline(request.headers.get("x-request-deadline"), state["started"]),
            )  # fmt: skip
            keys: list[str] = []

            async def screen_key() -> str:
                # The identity of this answer, also for the last good values of its sections.
                if not keys:
                    keys.append(await self._cache_key(call, kwargs))
                return keys[0]

            call.screen_key = screen_key
            if not spec.cached or not ctx.settings.cache_screens:
                data = Entry.build(dumps(await spec.handler(call, **kwargs)))
                return self._screen_response(request, data, cached=False, sections=call.section_statuses)
            key = await screen_key()
            hit = await self._cache_get(ctx, key)
            if hit is not None:
                CACHE.labels(spec.cache, "hit").inc()
                state["cached"] = True
                return self._screen_response(request, hit, cached=True)
            CACHE.labels(spec.cache, "miss").inc()
            entry, sections = await self._fill(ctx, call, key, kwargs)
        return self._screen_response(request, entry, cached=False, sections=sections)

    async def _cache_get(self, ctx: AppContext, key: str) -> Entry | None:
        try:
            return await ctx.cache.get(key)
        except CacheError:
            CACHE.labels(self.spec.cache, "error").inc()
            return None

    async def _fill(self, ctx: AppContext, call: Call, key: str, kwargs: dict[str, Any]) -> Computed:
        """Compute a missed screen once per key at a time (no stampede on a hot miss)."""
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Computed] = asyncio.get_running_loop().create_future()
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
    ) -> Computed:
        spec = self.spec
        try:
            generation: int | None = await ctx.cache.generation()
        except CacheError:
            CACHE.labels(spec.cache, "error").inc()
            generation = None
        entry = Entry.build(dumps(await spec.handler(call, **kwargs)))
        sections = call.section_statuses
        # A partial answer (a section stale, timed out or failed) is never stored: the next
        # request tries the missing sections again, and a cache hit is always a whole answer.
        whole = all(s["status"] == "ok" for s in sections.values())
        if generation is not None and whole:
            tags = entry_tags(spec.events, scope_marker(call.principal, call.scope))
            tags += screen_tags(spec.cache, spec.app)
            for marker in call.cache_markers:
                tags += entry_tags(spec.events, marker)
            try:
                await ctx.cache.set(key, entry, spec.ttl_s, tags, generation)
            except CacheError:
                CACHE.labels(spec.cache, "error").inc()
        return entry, sections

    def _screen_response(
        self,
        request: Request,
        entry: Entry,
        *,
        cached: bool,
        sections: dict[str, dict[str, Any]] | None = None,
    ) -> Response:
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
        if sections:
            meta["sections"] = sections
        return Response(success_bytes(entry.value, meta), media_type=JSON, headers=headers)

    # -- actions -------------------------------------------------------------------------

    async def _action(
        self, ctx: AppContext, request: Request, principal: Principal, scope: Scope
    ) -> Response:
        spec = self.spec
        key = idempotency_key(request, required=spec.idempotency == "required")
        body = await request.body()
        # Validation runs under the key: a first request refused with a 4xx is the answer kept
        # for that key, so a retry with a corrected body and the same key is IDEMPOTENCY_KEY_REUSED,
        # never a second, different execution.
        return await run_idempotent(
            request,
            ctx.idempotency,
            user_id=principal.user_id,
            key=key,
            body=body,
            execute=lambda: self._execute(ctx, request, principal, scope, body),
            on_replay=IDEMPOTENT_REPLAYS.labels(spec.id).inc,
        )

    async def _execute(
        self, ctx: AppContext, request: Request, principal: Principal, scope: Scope, body: bytes
    ) -> tuple[int, bytes]:
        spec = self.spec
        state = request.scope["state"]
        kwargs = self._inputs(request, body)
        if spec.own_transactions:
            return await self._execute_unwrapped(ctx, request, principal, scope, kwargs)
        async with unit_of_work(ctx.db, ctx.bus) as session:
            call = self._call(ctx, request, principal, scope, session)
            precondition: Precondition | None = state.get("precondition")
            if precondition is not None:
                await precondition.check(call, kwargs)
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
                client_at=state.get("client_at"),
                **target,
            )
            data = dumps(result)
        # The unit of work has committed and published (invalidated) by now.
        self._check_data(ctx, data)
        await mark_write(ctx.db, ctx.cache, principal.user_id)
        meta = metadata(request_id=state["request_id"], started=state["started"])
        return status, success_bytes(data, meta)

    async def _execute_unwrapped(
        self, ctx: AppContext, request: Request, principal: Principal, scope: Scope, kwargs: dict[str, Any]
    ) -> tuple[int, bytes]:
        """An `own_transactions` action: no unit of work around it (on SQLite an open write
        transaction here would wait forever for the ones the handler opens), so the session it gets
        is never begun unless the handler reads through it."""
        state = request.scope["state"]
        async with ctx.db.read_session() as session:
            call = self._call(ctx, request, principal, scope, session, own_transactions=True)
            result = await self.spec.handler(call, **kwargs)
        data = dumps(result)
        self._check_data(ctx, data)
        meta = metadata(request_id=state["request_id"], started=state["started"])
        return self.spec.status_code, success_bytes(data, meta)

    async def _audit_denied(
        self, ctx: AppContext, request: Request, principal: Principal, *, reason: str
    ) -> None:
        """Write the denial to the audit trail (role: 403, scope: a foreign id answered 404) and
        let the privilege-probe detector count it."""
        ids = [_row_id_or_none(str(request.path_params.get(n, ""))) for n in self.spec.path_params]
        async with unit_of_work(ctx.db, ctx.bus) as session:
            record_audit(
                session,
                actor_id=principal.user_id,
                app=self.spec.app,
                action=self.spec.id,
                entity_type=self.spec.audit_entity,
                entity_id=ids[0] if len(ids) == 1 else None,
                decision="denied",
                reason=reason,
                ip=client_ip(request),
                request_id=request.scope["state"]["request_id"],
                client_at=request.scope["state"].get("client_at"),
            )
            await session.flush()
            await detect_privilege_probe(
                session, ctx.settings, user_id=principal.user_id, ip=client_ip(request)
            )
