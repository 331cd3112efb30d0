"""The offline outbox, `POST /api/bff/mobile/outbox` (mobile.md §2).

Each item is run as the request the phone would have sent: a request of the same caller (the
outer headers, Authorization included) to the item's endpoint with the item's Idempotency-Key,
through that endpoint's own `EndpointRunner`. So an item gets every check, event, audit row,
rate-limit hit and idempotent replay of a direct call, in its own transaction, and a retried
outbox replays the stored answers instead of running anything twice. The outbox itself is
declared `own_transactions`: it holds no transaction while its items run (on SQLite a held write
transaction would wait forever for theirs) and writes no audit row of its own.

What the outbox adds around an item:
- `"$ref:<client_id>.<field>"` strings (whole strings, anywhere in `params` or `body`) are replaced
  by that field of an earlier item's `data` (dotted path). A reference to an item that failed is
  424 FAILED_DEPENDENCY without running; one to a field the result lacks is 422.
- `if_version`: checked in the item's own unit of work before its handler (a `Precondition`), so
  the 409 VERSION_CONFLICT is the answer kept for the item's key. Only endpoints in VERSIONED
  take it; others answer 422 IF_VERSION_UNSUPPORTED.
- `created_at` goes into the request state as `client_at` and from there into the audit row.

An item naming no endpoint is 404, a screen (or the outbox) 422 OUTBOX_NOT_AN_ACTION, another
app's action 403 (its runner's role check, with the denial audited), all as that item's result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from pydantic import Field, StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import Response

from tsh.bff.call import Call
from tsh.bff.runtime import EndpointRunner, Precondition, resolve_scope
from tsh.bff.schemas import Body, Text
from tsh.bff.spec import REGISTRY, BffApp, EndpointSpec
from tsh.bff.views import View
from tsh.domain.identity.rbac import ROLE_CODES
from tsh.domain.sales.sync import ORDERS
from tsh.domain.sync.feed import Collection, current_version
from tsh.platform.auth.principal import Principal
from tsh.platform.errors import Conflict, Forbidden, NotFound, field_error
from tsh.platform.http.dates import DateTimeIn

app = BffApp.platform("mobile")
log = logging.getLogger("tsh.bff.outbox")

ENDPOINT_ID = "MOB-OUTBOX"
MAX_ITEMS = 50
REF = "$ref:"

# Endpoints whose row has a sync version, and the path parameter naming the row: only there does
# `if_version` mean something. Cancelling an order is the update a phone queues offline (the
# consumer and partner apps); the other queued writes create rows.
VERSIONED: dict[str, tuple[Collection, str]] = {
    "CON-27": (ORDERS, "id"),
    "PAR-08": (ORDERS, "id"),
}

# Headers of the outer request an item does not inherit: the item brings its own key and body.
_OWN_HEADERS = frozenset({b"idempotency-key", b"content-length", b"content-type", b"if-none-match"})


class OutboxItem(Body):
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^.\s]+$")]
    endpoint: Annotated[str, StringConstraints(max_length=40, pattern=r"^[A-Z]+(-[A-Z0-9]+)+$")]
    params: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    idempotency_key: Text
    created_at: DateTimeIn | None = None
    if_version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class OutboxIn(Body):
    device_id: Text
    items: list[OutboxItem] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _references_point_back(self) -> OutboxIn:
        """client_id unique in the batch; every `$ref` names an earlier item (else nothing runs)."""
        seen: set[str] = set()
        for item in self.items:
            if item.client_id in seen:
                raise ValueError(f"client_id {item.client_id!r} appears twice")
            for ref in _refs([item.params, item.body]):
                if ref.split(".", 1)[0] not in seen:
                    raise ValueError(f"{item.client_id}: {REF}{ref} names no earlier item")
            seen.add(item.client_id)
        return self


class ItemResult(View):
    client_id: str
    status: int
    data: Any = None
    error_code: str | None = None
    error: str | None = None
    details: Any = None


class OutboxOut(View):
    results: list[ItemResult]


def _refs(value: Any) -> list[str]:
    """Every `$ref:` target in a JSON value, without the prefix."""
    if isinstance(value, str):
        return [value[len(REF) :]] if value.startswith(REF) else []
    if isinstance(value, Mapping):
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


class ItemFailed(Exception):
    """An item answered by the outbox without running it."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _resolve(value: Any, results: Mapping[str, dict[str, Any]]) -> Any:
    if isinstance(value, str) and value.startswith(REF):
        client_id, _, path = value[len(REF) :].partition(".")
        earlier = results[client_id]  # the body model checked it is an earlier item
        if earlier["status"] >= 400:
            raise ItemFailed(
                424,
                "FAILED_DEPENDENCY",
                f"Item {client_id} failed, so this item did not run",
                [field_error(value, "dependency failed", status=earlier["status"])],
            )
        found: Any = earlier.get("data")
        for part in path.split(".") if path else ():
            if isinstance(found, Mapping) and part in found:
                found = found[part]
            elif isinstance(found, list) and part.isdecimal() and int(part) < len(found):
                found = found[int(part)]
            else:
                raise ItemFailed(
                    422,
                    "VALIDATION_ERROR",
                    "A reference names no field of that result",
                    [field_error(value, "no such field in the result")],
                )
        return found
    if isinstance(value, Mapping):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    return value


_specs: dict[str, EndpointSpec] = {}
_runners: dict[str, EndpointRunner] = {}


def _spec(endpoint: str) -> EndpointSpec:
    if endpoint not in _specs:  # the registry is complete once the apps are imported
        _specs.update((s.id, s) for s in REGISTRY)
    spec = _specs.get(endpoint)
    if spec is None:
        raise ItemFailed(404, "NOT_FOUND", f"There is no endpoint {endpoint}", [])
    if spec.kind != "action" or spec.own_transactions:
        raise ItemFailed(422, "OUTBOX_NOT_AN_ACTION", f"{endpoint} is not an action the outbox can queue", [])
    return spec


def _runner(spec: EndpointSpec) -> EndpointRunner:
    if spec.id not in _runners:
        _runners[spec.id] = EndpointRunner(spec)
    return _runners[spec.id]


Target = tuple[str, dict[str, str], bytes]


def _path(spec: EndpointSpec, params: Mapping[str, Any], *, denied: bool = False) -> Target:
    """The item's path, its path parameters and its query string (the other params)."""
    path_params: dict[str, str] = {}
    path = spec.path
    for name in spec.path_params:
        if denied:
            params = {**params, name: params.get(name, "")}
        if name not in params:
            raise ItemFailed(
                422, "VALIDATION_ERROR", "The request is invalid", [field_error(f"params.{name}", "missing")]
            )
        path_params[name] = str(params[name])
        path = path.replace("{" + name + "}", path_params[name])
    query = {k: v for k, v in params.items() if k not in path_params}
    return path, path_params, urlencode(query, doseq=True).encode()


def _version_check(collection: Collection, param: str, expected: int) -> Precondition:
    async def check(call: Call, kwargs: dict[str, Any]) -> None:
        row = await current_version(call.session, call.actor, collection, kwargs[param])
        if row is None:
            raise NotFound()
        if row["version"] != expected:
            raise Conflict(
                "The record changed since the version the app edited",
                code="VERSION_CONFLICT",
                details=[{"current": row["data"], "version": row["version"]}],
            )

    return Precondition(check, frozenset({"VERSION_CONFLICT"}))


def _may_call(spec: EndpointSpec, principal: Principal) -> bool:
    try:
        resolve_scope(spec, principal)
    except Forbidden:
        return False
    return True


def _precondition(spec: EndpointSpec, item: OutboxItem) -> Precondition | None:
    if item.if_version is None:
        return None
    if spec.id not in VERSIONED:
        raise ItemFailed(422, "IF_VERSION_UNSUPPORTED", f"{spec.id} does not take if_version", [])
    collection, param = VERSIONED[spec.id]
    return _version_check(collection, param, item.if_version)


def _item_request(
    outer: Request,
    item: OutboxItem,
    n: int,
    spec: EndpointSpec,
    target: Target,
    body: Any,
    precondition: Precondition | None,
) -> Request:
    """The request the phone would have sent for this item, as the same caller."""
    path, path_params, query = target
    payload = b"" if body is None else orjson.dumps(body)
    headers = [(k, v) for k, v in outer.scope["headers"] if k not in _OWN_HEADERS]
    headers += [
        (b"idempotency-key", item.idempotency_key.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    state: dict[str, Any] = {
        # The item's request id ties its log line and audit row to the outbox call.
        "request_id": f"{outer.scope['state']['request_id']}.{n}",
        "started": time.perf_counter(),
        "client_at": item.created_at,
    }
    if precondition is not None:
        state["precondition"] = precondition
    scope = {k: outer.scope[k] for k in _INHERITED if k in outer.scope}
    scope.update(
        method=spec.method,
        path=path,
        raw_path=path.encode(),
        query_string=query,
        headers=headers,
        path_params=path_params,
        state=state,
    )
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    return Request(scope, receive)


_INHERITED = ("type", "asgi", "http_version", "scheme", "server", "client", "root_path", "app")


def _result(client_id: str, response: Response) -> dict[str, Any]:
    answer = orjson.loads(bytes(response.body))
    if response.status_code < 400:
        return {"client_id": client_id, "status": response.status_code, "data": answer.get("data")}
    return _error(
        client_id, response.status_code, answer.get("error_code"), answer.get("error"), answer.get("details")
    )


def _error(client_id: str, status: int, code: Any, message: Any, details: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "status": status,
        "error_code": code,
        "error": message,
        "details": details or None,
    }


async def _run_item(
    call: Call, item: OutboxItem, n: int, results: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    assert call.request is not None  # own_transactions: the runner passes the request
    try:
        spec = _spec(item.endpoint)
        if _may_call(spec, call.principal):
            body = _resolve(item.body, results)
            target = _path(spec, _resolve(item.params, results))
            precondition = _precondition(spec, item)
        else:
            # Its runner answers 403 (and audits the denial) before it reads anything else, as
            # for a direct call: no reference, path or version is looked at.
            body, precondition = None, None
            target = _path(spec, item.params, denied=True)
        request = _item_request(call.request, item, n, spec, target, body, precondition)
    except ItemFailed as failed:
        return _error(item.client_id, failed.status, failed.code, failed.message, failed.details)
    try:
        response = await _runner(spec)(request)
    except Exception:
        # A bug in one endpoint: its transaction rolled back and its key was released (a retry
        # runs it again); the other items still get their answers.
        log.exception("outbox item failed", extra={"request_id": request.scope["state"]["request_id"]})
        return _error(item.client_id, 500, "INTERNAL_ERROR", "An unexpected server error", None)
    return _result(item.client_id, response)


@app.action(
    ENDPOINT_ID,
    "POST",
    "/outbox",
    roles=ROLE_CODES,
    # The outbox reads nothing itself: each item gets its own endpoint's scope.
    scope="own",
    response=OutboxOut,
    own_transactions=True,
)
async def outbox(call: Call, *, body: OutboxIn) -> dict[str, Any]:
    """Run the writes a phone queued offline, in order, each as its own request."""
    results: dict[str, dict[str, Any]] = {}
    for n, item in enumerate(body.items, start=1):
        results[item.client_id] = await _run_item(call, item, n, results)
    return {"results": list(results.values())}
