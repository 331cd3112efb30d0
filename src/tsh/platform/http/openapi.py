"""Finishing the OpenAPI document so that validators and client generators accept it.

FastAPI documents what it can infer from handler signatures; the legacy resources and the auth
routes read their inputs from the request themselves, and Pydantic leaves nested models under
local `$defs`. `complete_document` makes the whole document valid OpenAPI 3.1 in one pass:
- every `$defs` is hoisted into `components/schemas` and its `$ref`s rewritten;
- every `{param}` of a path is declared (ids: integers 1..2^31-1, as the columns are);
- non-BFF operations get a stable id from method and path (`get_api_orders_by_id`);
- FastAPI's `{detail}` 422 is replaced by the error envelope the server really sends, and the
  generic error responses (401, 403, 404, 413, 422, 429, 503) are documented where they apply;
- the bearer scheme is required except on the public operations named by the caller;
- a closed object says so with `unevaluatedProperties: false`, and optional parameters are
  plain types (see `_closed_object` and `_plain_parameters`: what openapi-generator needed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

MAX_ROW_ID = 2**31 - 1
ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
WRITE_METHODS = {"post", "put", "patch", "delete"}
_PARAM = re.compile(r"\{([^}]+)\}")
# What `tsh.platform.idempotency.validate_key` takes: 1..200 printable ASCII characters, no
# surrounding space (a uuid in practice).
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": r"^[!-~]([ -~]*[!-~])?$",
}


def id_parameter(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
    }


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The query parameters of a route that parses its query string with `model` itself."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


# How pydantic renders a Decimal input (`DecimalIn` and the types built on it): `number | string`
# (`| null` when optional), its bounds either as pydantic's own `ge`/`le` beside the `anyOf` or as
# JSON Schema keywords on the number.
_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}
_NULL = {"type": "null"}


def _is_pydantic_decimal(any_of: Any) -> bool:
    if not isinstance(any_of, list):
        return False
    members = [m for m in any_of if m != _NULL]
    return (
        len(members) == 2
        and members[0].get("type") == "number"
        and set(members[0]) <= {"type", *_BOUNDS.values()}
        and members[1] == {"type": "string"}
    )


def _decimal_input(node: dict[str, Any]) -> None:
    """Say what a decimal input takes: an integer or a decimal string, never a float (a float has
    already lost digits), with its bounds as JSON Schema keywords, and a pattern for the string
    that keeps inside them where a pattern can (digits below the maximum, a non-zero digit when it
    must be above 0), so that a fuzzer's schema-valid string is one the server takes."""
    number = next(m for m in node["anyOf"] if m != _NULL)
    bounds = {_BOUNDS[k]: node.pop(k) for k in list(node) if k in _BOUNDS}
    bounds |= {k: v for k, v in number.items() if k != "type"}
    numeric = {k: float(v) if isinstance(v, str) else v for k, v in bounds.items()}
    unsigned = numeric.get("minimum", -1) >= 0 or numeric.get("exclusiveMinimum", -1) >= 0
    whole = r"\d+"
    if "maximum" in numeric and numeric["maximum"] >= 10 and unsigned:
        digits = len(str(int(numeric["maximum"]))) - 1  # 10**digits <= maximum
        whole = r"\d{1," + str(digits) + "}"
    positive = r"(?=[^1-9]*[1-9])" if numeric.get("exclusiveMinimum", -1) == 0 else ""
    sign = "" if unsigned else "-?"
    text: dict[str, Any] = {"type": "string", "pattern": rf"^{positive}{sign}{whole}(\.\d+)?$"}
    if bounds:
        text["description"] = "a decimal within " + ", ".join(f"{k} {v}" for k, v in bounds.items())
    nullable = [_NULL] if _NULL in node["anyOf"] else []
    node["anyOf"] = [{"type": "integer", **numeric}, text, *nullable]


def _closed_object(node: dict[str, Any]) -> None:
    """Pydantic's `additionalProperties: false` (a model that forbids extra fields) as
    `unevaluatedProperties: false`: the same rule for these flat objects in JSON Schema 2020-12
    (validators and schemathesis honour it), but openapi-generator 7.26 reads the boolean
    `additionalProperties` of a 3.1 document as a schema without a name and warns ("Failed to get
    the schema name: null") for every model."""
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]
        node["unevaluatedProperties"] = False


def _hoist(node: Any, defs: dict[str, Any]) -> Any:
    """Move nested `$defs` into `defs` and point `#/$defs/X` references at the components."""
    if isinstance(node, dict):
        _closed_object(node)
        if _is_pydantic_decimal(node.get("anyOf")):
            _decimal_input(node)
        for name, schema in (node.pop("$defs", None) or {}).items():
            schema = _hoist(schema, defs)
            if defs.setdefault(name, schema) != schema:
                # Two models of one name would share a component: rename one of the classes.
                raise ValueError(f"two different schemas are named {name!r}")
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for key, value in node.items():
            node[key] = _hoist(value, defs)
    elif isinstance(node, list):
        return [_hoist(v, defs) for v in node]
    return node


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _operation_id(method: str, path: str) -> str:
    words = [("by_" + m.group(1)) if (m := _PARAM.fullmatch(p)) else p for p in path.split("/") if p]
    return "_".join([method, *words]).replace("-", "_")


def _plain_parameters(op: dict[str, Any]) -> None:
    """An optional parameter as its type, not `anyOf: [type, null]`: a query string cannot carry a
    null (leaving the parameter out is the null). Generators make a named type of the `anyOf`,
    named after the parameter (`date` -> `Date`, `source` -> `Source`, reserved in Dart:
    openapi-generator renames them `ModelDate`, with a warning). FastAPI's title (the parameter's
    name again) goes too."""
    for param in op.get("parameters", []):
        schema = param.get("schema")
        if not isinstance(schema, dict):
            continue
        schema.pop("title", None)
        if param.get("required") or _NULL not in schema.get("anyOf", ()):
            continue
        members = [m for m in schema["anyOf"] if m != _NULL]
        if len(members) == 1:
            del schema["anyOf"]
            schema.update(members[0])
        else:  # a decimal: integer | decimal string
            schema["anyOf"] = members


def _complete_operation(
    path: str, method: str, op: dict[str, Any], *, public: bool, no_idempotency: tuple[str, ...]
) -> None:
    _plain_parameters(op)
    declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
    missing = [id_parameter(n) for n in _PARAM.findall(path) if n not in declared]
    if missing:
        op["parameters"] = [*missing, *op.get("parameters", [])]
    if "x-endpoint-id" in op:  # BFF operations are described from their declaration
        return
    # FastAPI's default ids repeat the handler's name (`endpoint_api_orders__id__get`); method and
    # path give short ids that stay the same when a handler is renamed.
    op["operationId"] = _operation_id(method, path)
    responses = op.setdefault("responses", {})
    responses["422"] = _error("VALIDATION_ERROR: `details` names each field (or a business-rule code)")
    responses.setdefault("429", _error("RATE_LIMITED, with Retry-After"))
    responses.setdefault("503", _error("SERVICE_UNAVAILABLE: the database is unavailable; retry"))
    if method in WRITE_METHODS:
        responses.setdefault("400", _error("MALFORMED_REQUEST (no JSON body), IDEMPOTENCY_KEY_REQUIRED"))
        responses.setdefault("409", _error("A conflict with the current state"))
        responses.setdefault("413", _error("PAYLOAD_TOO_LARGE"))
        honoured = not any(path.startswith(p) for p in no_idempotency)
        if honoured and not any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", [])):
            op.setdefault("parameters", []).append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": IDEMPOTENCY_KEY_SCHEMA,
                    "description": "replays the first answer for the same key and body (24 h)",
                }
            )
    # A route's own `responses={401: {"description": ...}}` (login, refresh) gets the envelope.
    for status, response in responses.items():
        if status[0] in "45" and "content" not in response:
            response["content"] = {"application/json": {"schema": ERROR_REF}}
    if missing:
        responses.setdefault("404", _error("NOT_FOUND, also for a record outside the caller's scope"))
    if not public:
        op["security"] = [{"bearer": []}]
        responses.setdefault("401", _error("AUTH_REQUIRED, INVALID_TOKEN, TOKEN_EXPIRED or SESSION_REVOKED"))
        responses.setdefault("403", _error("FORBIDDEN: the caller's role may not use this function"))


def complete_document(
    doc: dict[str, Any], *, public_paths: Iterable[str] = (), no_idempotency: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`no_idempotency`: path prefixes whose writes ignore an Idempotency-Key (not documented there)."""
    public = set(public_paths)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and method in {"get", *WRITE_METHODS}:
                _complete_operation(path, method, op, public=path in public, no_idempotency=no_idempotency)
    defs: dict[str, Any] = {}
    doc["paths"] = _hoist(doc.get("paths", {}), defs)
    for name in list(components):
        components[name] = _hoist(components[name], defs)
    for name, schema in defs.items():
        if components.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are named {name!r}")
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return doc
