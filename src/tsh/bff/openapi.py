"""OpenAPI for the BFF routes, written from the declarations.

The runtime parses inputs itself (to keep the contract's order of checks: auth, role,
Idempotency-Key, then the body), so FastAPI cannot infer parameters, bodies or responses; this
module describes them from `EndpointSpec`: path/query parameters, the body schema, the `data`
schema of a success (the declaration's `response=` model inside the envelope), and every error
response by HTTP status with the exact codes the endpoint may answer (`x-error-codes`).
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from tsh.bff.spec import EndpointSpec
from tsh.platform.errors import ERROR_CODES
from tsh.platform.http.openapi import IDEMPOTENCY_KEY_SCHEMA, id_parameter

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorEnvelope"}
REF_TEMPLATE = "#/components/schemas/{model}"
STATUS_TEXT = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found (also another owner's record)",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Payload too large",
    422: "Invalid request or a business rule refused it",
    429: "Rate limited (Retry-After)",
    500: "Internal error",
    503: "Service unavailable",
}


def errors_by_status(codes: Iterable[str]) -> dict[int, list[str]]:
    """The codes grouped by each HTTP status they may be answered with (a code with two statuses,
    e.g. NO_OPEN_SHIFT 404/409, is listed under both)."""
    out: dict[int, list[str]] = defaultdict(list)
    for code in sorted(codes):
        for status in ERROR_CODES[code].statuses:
            out[status].append(code)
    return dict(sorted(out.items()))


def _error_response(status: int, codes: list[str]) -> dict[str, Any]:
    lines = "\n".join(f"- `{c}`: {ERROR_CODES[c].meaning}" for c in codes)
    return {
        "description": f"{STATUS_TEXT.get(status, 'Error')}. `error_code` is one of:\n{lines}",
        "x-error-codes": codes,
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }


def operation_extra(spec: EndpointSpec) -> dict[str, Any]:
    params: list[dict[str, Any]] = [id_parameter(name) for name in spec.path_params]
    if spec.query_model is not None:
        schema = spec.query_model.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if spec.idempotency:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": spec.idempotency == "required",
                "schema": IDEMPOTENCY_KEY_SCHEMA,
            }
        )
    responses: dict[str, Any] = {
        str(status): _error_response(status, codes)
        for status, codes in errors_by_status(spec.allowed_errors).items()
        if status != 500
    }
    if spec.kind == "screen":
        responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}
    extra: dict[str, Any] = {
        "parameters": params,
        "security": [{"bearer": []}],
        "x-endpoint-id": spec.id,
        "x-roles": sorted(spec.roles | {"admin"}),
        "x-scope": dict(spec.scopes),
        "x-cache": {"category": spec.cache, "ttl_s": spec.ttl_s},
        "x-events": list(spec.events),
        "x-idempotency": spec.idempotency,
        "x-error-codes": sorted(spec.allowed_errors),
        "responses": responses,
    }
    return extra


# One documented success: path, method, status, description and the model of `data` (or None).
Success = tuple[str, str, int, str, "type[BaseModel] | None"]


def document_responses(schema: dict[str, Any], specs: Iterable[EndpointSpec]) -> None:
    """Set each operation's success response to the envelope around its `response=` model; an
    action whose handler can return `Created` answers 201 with the same body."""
    specs = list(specs)
    document_successes(
        schema, [(s.path, s.method, s.status_code, s.summary, s.response_model) for s in specs]
    )
    for spec in specs:
        op = schema.get("paths", {}).get(spec.path, {}).get(spec.method.lower())
        if op is not None and spec.status_code == 200 and _may_create(spec):
            op["responses"]["201"] = {**op["responses"]["200"], "description": "Created: " + spec.summary}


def _may_create(spec: EndpointSpec) -> bool:
    """Whether the handler returns `Created` (the runtime answers 201 for it). Read from the
    handler's source: the declaration has no flag for it, and a wrong guess fails schemathesis'
    status check (tests/live/test_fuzz_schemathesis.py)."""
    try:
        return "Created(" in inspect.getsource(spec.handler)
    except (OSError, TypeError):
        return False


def document_successes(schema: dict[str, Any], successes: Iterable[Success]) -> None:
    """Set each listed operation's success response to the envelope around its `data` model.

    All models are rendered together so that two classes with the same name in different apps
    get distinct component names instead of overwriting each other."""
    rows = list(successes)
    models: list[type[BaseModel]] = sorted(
        {m for *_, m in rows if m is not None}, key=lambda m: m.__qualname__
    )
    refs, defs = models_json_schema([(m, "serialization") for m in models], ref_template=REF_TEMPLATE)
    add_components(schema, defs.get("$defs", {}))
    for path, method, status, summary, model in rows:
        op = schema.get("paths", {}).get(path, {}).get(method.lower())
        if op is None:
            continue
        data: dict[str, Any] = {}
        if model is not None:
            data = refs[(model, "serialization")]
        op["responses"][str(status)] = {
            "description": summary,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["success", "data", "metadata"],
                        "properties": {
                            "success": {"type": "boolean", "const": True},
                            "data": data,
                            "metadata": {"$ref": "#/components/schemas/Metadata"},
                        },
                    }
                }
            },
        }
        if status != 200:
            op["responses"].pop("200", None)


def add_components(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """Add model schemas to the components; two different schemas of one name are refused (the
    document would silently describe one model with the other's fields)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in defs.items():
        if "__" in name:
            # A module-qualified name (two apps' `Dashboard`): its title, which generators name the
            # class after, says which one (`tsh__bff__apps__aso__views__Dashboard` -> AsoViewsDashboard).
            *modules, cls = name.split("__")
            words = [w for m in modules if m not in ("tsh", "bff", "apps") for w in m.split("_")]
            definition = {**definition, "title": "".join(w.title() for w in words) + cls}
        if components.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are named {name!r}: rename one of the models")


def document_bodies(schema: dict[str, Any], specs: Iterable[EndpointSpec]) -> None:
    """Every BFF request body as a component. The body models of all apps are rendered together,
    so two models of one name in different apps (each app's `OrderLineIn`) get distinct,
    module-qualified names instead of colliding."""
    specs = [s for s in specs if s.body_model is not None]
    models = sorted({s.body_model for s in specs if s.body_model is not None}, key=lambda m: m.__qualname__)
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF_TEMPLATE)
    add_components(schema, defs.get("$defs", {}))
    for spec in specs:
        op = schema.get("paths", {}).get(spec.path, {}).get(spec.method.lower())
        if op is not None and spec.body_model is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(spec.body_model, "validation")]}},
            }


ENVELOPE_SCHEMAS: dict[str, Any] = {
    "ErrorEnvelope": {
        "type": "object",
        "required": ["success", "error", "error_code", "metadata"],
        "properties": {
            "success": {"type": "boolean", "const": False},
            "error": {"type": "string"},
            "error_code": {"type": "string", "description": "a code of the endpoint's x-error-codes"},
            "details": {"type": "array", "items": {"type": "object"}},
            "metadata": {"$ref": "#/components/schemas/Metadata"},
        },
    },
    "Metadata": {
        "type": "object",
        "properties": {
            "cached": {"type": "boolean"},
            "response_time_ms": {"type": "number"},
            "api_version": {"type": "string"},
            "request_id": {"type": "string"},
            "cache_age_s": {"type": "integer"},
        },
    },
}
