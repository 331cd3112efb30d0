"""OpenAPI for the BFF routes: the runtime parses inputs itself (to keep the contract's order
of checks), so parameters, body and error responses are described here from the declaration."""

from __future__ import annotations

from typing import Any

from tsh.bff.spec import EndpointSpec

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorEnvelope"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}


def operation_extra(spec: EndpointSpec) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
        for name in spec.path_params
    ]
    if spec.query_model is not None:
        schema = spec.query_model.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    extra: dict[str, Any] = {
        "parameters": params,
        "security": [{"bearer": []}],
        "x-endpoint-id": spec.id,
        "x-roles": sorted(spec.roles | {"admin"}),
        "x-scope": dict(spec.scopes),
        "x-cache": spec.cache,
        "x-events": list(spec.events),
        "responses": {
            "401": _error("AUTH_REQUIRED, INVALID_TOKEN, TOKEN_EXPIRED or SESSION_REVOKED"),
            "403": _error("FORBIDDEN: the caller's role may not use this function"),
            "404": _error("NOT_FOUND, also for an object outside the caller's scope"),
            "422": _error("VALIDATION_ERROR or a business-rule code"),
            "429": _error("RATE_LIMITED, with Retry-After"),
        },
    }
    if spec.kind == "screen":
        extra["responses"]["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}
    else:
        extra["responses"]["409"] = _error("A conflict with the current state")
        if spec.idempotency:
            extra["parameters"].append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": spec.idempotency == "required",
                    "schema": {"type": "string", "maxLength": 200},
                }
            )
            extra["responses"]["400"] = _error("IDEMPOTENCY_KEY_REQUIRED or MALFORMED_REQUEST")
    if spec.body_model is not None:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": spec.body_model.model_json_schema()}},
        }
    return extra


ENVELOPE_SCHEMAS: dict[str, Any] = {
    "ErrorEnvelope": {
        "type": "object",
        "required": ["success", "error", "error_code", "metadata"],
        "properties": {
            "success": {"type": "boolean", "const": False},
            "error": {"type": "string"},
            "error_code": {"type": "string"},
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
