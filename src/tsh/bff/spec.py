"""One declaration per BFF endpoint, and the registry every consumer reads.

`tsh routes`, docs/endpoints.md, the OpenAPI document and the generic tests all read `REGISTRY`,
so the count per app, the roles, scopes, cache categories, events, error codes and response
shapes cannot drift apart. A declaration naming an unknown app, event or error code fails at
import, i.e. at start-up.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any, Literal, get_args, get_type_hints

from pydantic import BaseModel

from tsh.domain.apps import SEGMENTS, SHARED_GROUPS, AppName, is_app
from tsh.domain.events import EventName, check_event
from tsh.platform.auth.principal import Scope
from tsh.platform.errors import ERROR_CODES, GENERIC_ERRORS, IDEMPOTENCY_ERRORS

BFF_PREFIX = "/api/bff/mobile"
Kind = Literal["screen", "action"]
Category = Literal["dashboard", "catalog", "customers", "orders", "financial", "people", "reference", "none"]
Idempotency = Literal["required", "optional"]

CACHE_TTL_S: dict[str, int] = {
    "dashboard": 300,
    "catalog": 600,
    "customers": 120,
    "orders": 180,
    "financial": 120,
    "people": 300,
    "reference": 3600,
    "none": 0,
}

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Deprecation:
    """An endpoint on its way out (docs/contract/mobile.md §4): every answer carries
    `Deprecation: @<since, unix time>` (RFC 9745) and, with a sunset date, `Sunset: <HTTP date>`
    (RFC 8594); the OpenAPI operation is marked deprecated."""

    since: dt.date
    sunset: dt.date | None = None

    def headers(self) -> dict[str, str]:
        def midnight(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

        out = {"Deprecation": f"@{int(midnight(self.since).timestamp())}"}
        if self.sunset is not None:
            out["Sunset"] = format_datetime(midnight(self.sunset), usegmt=True)
        return out


KeyPart = Callable[..., Awaitable[str]]


@dataclass(frozen=True)
class EndpointSpec:
    id: str
    app: str
    method: str
    path: str
    kind: Kind
    summary: str
    roles: frozenset[str]
    scopes: Mapping[str, Scope]
    cache: str
    events: tuple[str, ...]
    handler: Handler
    # Business error codes the endpoint may answer besides the generic ones (GENERIC_ERRORS).
    errors: frozenset[str] = frozenset()
    # The model of `data` in a success response (documents it; validated by the test suite).
    response_model: type[BaseModel] | None = None
    idempotency: Idempotency | None = None
    rate_limit: str | None = None
    status_code: int = 200
    vary_by_role: bool = False
    vary_by_language: bool = False
    key_part: KeyPart | None = None
    query_model: type[BaseModel] | None = None
    body_model: type[BaseModel] | None = None
    path_params: tuple[str, ...] = ()
    audit_entity: str | None = None
    deprecated: Deprecation | None = None
    # An action that runs other actions, each in its own unit of work (the outbox): the runner
    # opens no transaction around it and writes no audit row of its own.
    own_transactions: bool = False
    # A list screen that hands out customer or order rows (`items` or sync `changes` with ids):
    # counted per user for the mass_export detector (clarifications: threat detectors).
    exports: Literal["customers", "orders"] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ttl_s(self) -> int:
        return CACHE_TTL_S[self.cache]

    @property
    def cached(self) -> bool:
        return self.kind == "screen" and self.ttl_s > 0

    @property
    def allowed_errors(self) -> frozenset[str]:
        """Every error code this endpoint may answer."""
        extra = IDEMPOTENCY_ERRORS if self.kind == "action" else frozenset()
        return self.errors | GENERIC_ERRORS | extra

    @property
    def operation_id(self) -> str:
        return self.id.lower().replace("-", "_") + "_" + re.sub(r"\W+", "_", self.handler.__name__).strip("_")

    def scope_for(self, role: str) -> Scope | None:
        """The scope a role gets on this row; None when the role may not call it (403)."""
        if role == "admin":
            return "all"
        return self.scopes.get(role)


REGISTRY: list[EndpointSpec] = []


def _model_error_codes(model: Any, seen: set[Any] | None = None) -> frozenset[str]:
    """Codes a body or query model's own validators raise (a `validation_codes` ClassVar on the
    model or on a nested one, e.g. Money's INVALID_AMOUNT), so declarations need not repeat them."""
    seen = seen if seen is not None else set()
    if model in seen:
        return frozenset()
    seen.add(model)
    codes: set[str] = set()
    if isinstance(model, type) and issubclass(model, BaseModel):
        codes.update(getattr(model, "validation_codes", ()))
        for info in model.model_fields.values():
            codes |= _model_error_codes(info.annotation, seen)
    else:
        for arg in get_args(model):
            codes |= _model_error_codes(arg, seen)
    return frozenset(codes)


def _inspect_handler(fn: Handler) -> tuple[type[BaseModel] | None, type[BaseModel] | None, tuple[str, ...]]:
    hints = get_type_hints(fn)
    query = hints.get("query")
    body = hints.get("body")
    path_params = tuple(
        name
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("query", "body")
    )
    return query, body, path_params


class BffApp:
    """Collects the declarations of one Flutter app; `tsh.bff.apps` mounts them all."""

    def __init__(self, name: AppName) -> None:
        if not is_app(name):
            raise ValueError(f"unknown app {name!r}; the apps are listed in tsh.domain.apps")
        self._start(name, SEGMENTS[name])

    @classmethod
    def for_tests(cls, name: str) -> BffApp:
        """An app outside the product's list, mounted only by the test suite (probe endpoints)."""
        app = cls.__new__(cls)
        app._start(name, name)
        return app

    @classmethod
    def platform(cls, name: str) -> BffApp:
        """Endpoints every app shares outside the 239 app rows (mobile.md: delta sync, outbox),
        mounted directly under /api/bff/mobile. They have no contract table (the contract test
        skips them); the generic tests and docs/endpoints.md cover them like the apps."""
        if name not in SHARED_GROUPS:
            raise ValueError(f"unknown shared group {name!r}; the groups are tsh.domain.apps.SHARED_GROUPS")
        app = cls.__new__(cls)
        app._start(name, None)
        return app

    def _start(self, name: str, segment: str | None) -> None:
        self.name = name
        self.prefix = BFF_PREFIX + (f"/{segment}" if segment else "")
        self.endpoints: list[EndpointSpec] = []

    def _declare(
        self,
        kind: Kind,
        endpoint_id: str,
        method: str,
        path: str,
        *,
        roles: Iterable[str],
        scope: Scope | Mapping[str, Scope],
        cache: str = "none",
        events: Iterable[EventName] = (),
        errors: Iterable[str] = (),
        response: type[BaseModel] | None = None,
        idempotency: Idempotency | None = None,
        rate_limit: str | None = None,
        status_code: int = 200,
        vary_by_role: bool = False,
        vary_by_language: bool = False,
        key_part: KeyPart | None = None,
        audit_entity: str | None = None,
        deprecated: Deprecation | None = None,
        own_transactions: bool = False,
        exports: Literal["customers", "orders"] | None = None,
    ) -> Callable[[Handler], Handler]:
        role_set = frozenset(roles)
        scopes: Mapping[str, Scope] = {r: scope for r in role_set} if isinstance(scope, str) else dict(scope)
        if cache not in CACHE_TTL_S:
            raise ValueError(f"{endpoint_id}: unknown cache category {cache!r}")
        if kind == "action" and cache != "none":
            raise ValueError(f"{endpoint_id}: actions are never cached")
        event_names = tuple(events)
        for name in event_names:
            check_event(name)
        error_codes = frozenset(errors)
        unknown = sorted(code for code in error_codes if code not in ERROR_CODES)
        if unknown:
            raise ValueError(f"{endpoint_id}: undeclared error codes {unknown} (tsh.domain.error_codes)")

        def register(fn: Handler) -> Handler:
            query, body, path_params = _inspect_handler(fn)
            spec = EndpointSpec(
                id=endpoint_id,
                app=self.name,
                method=method,
                path=self.prefix + path,
                kind=kind,
                summary=(fn.__doc__ or endpoint_id).strip().splitlines()[0],
                roles=role_set,
                scopes=scopes,
                cache=cache,
                events=event_names,
                handler=fn,
                errors=error_codes | _model_error_codes(body) | _model_error_codes(query),
                response_model=response,
                idempotency=idempotency if kind == "action" else None,
                rate_limit=rate_limit,
                status_code=status_code,
                vary_by_role=vary_by_role,
                vary_by_language=vary_by_language,
                key_part=key_part,
                query_model=query,
                body_model=body,
                path_params=path_params,
                audit_entity=audit_entity,
                deprecated=deprecated,
                own_transactions=own_transactions,
                exports=exports,
            )
            self.endpoints.append(spec)
            REGISTRY.append(spec)
            return fn

        return register

    def screen(self, endpoint_id: str, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self._declare("screen", endpoint_id, "GET", path, **kw)

    def action(self, endpoint_id: str, method: str, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self._declare("action", endpoint_id, method, path, **kw)
