"""The OpenAPI document is valid 3.1 that generators accept, and /docs renders offline."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from tsh.api import PUBLIC_PATHS
from tsh.config import Settings
from tsh.main import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(Settings(env="test")).openapi()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


# Pydantic's own constraint names, which leak into a schema when a constraint cannot be expressed
# (they are no JSON Schema keywords, so a generator or fuzzer silently ignores the bound).
PYDANTIC_CONSTRAINT_NAMES = {"gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length"}


def _schema_keys(node: Any, inside_properties: bool = False) -> set[str]:
    if isinstance(node, list):
        return {k for v in node for k in _schema_keys(v)}
    if not isinstance(node, dict):
        return set()
    keys = set() if inside_properties else set(node)
    return keys | {k for key, v in node.items() for k in _schema_keys(v, key == "properties")}


def test_bounds_are_json_schema_keywords(document: dict[str, Any]) -> None:
    """`?salesperson_id=0` was refused although the schema showed no bound (it said `gt: 0`)."""
    leaked = _schema_keys(document["components"]["schemas"]) | _schema_keys(document["paths"])
    assert not leaked & PYDANTIC_CONSTRAINT_NAMES


def test_the_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    errors = [e.message for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert not errors, errors[:5]


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs, "the document references its components"
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_every_operation_is_complete(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids)), "operation ids are unique"
    for path, method, op in _operations(document):
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), (method, path)
        if "x-endpoint-id" not in op:  # BFF ids are the row id and the handler's name
            assert not re.search(r"_(get|post|put|patch|delete)$", op["operationId"]), op["operationId"]
        assert "422" in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if status[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, status)
        if path not in PUBLIC_PATHS:
            assert op.get("security") == [{"bearer": []}], (method, path)


async def test_docs_are_served_from_local_assets(client) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    html = r.text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html)
    assert assets and all(a.startswith("/docs-assets/") for a in assets), assets
    assert "cdn" not in html.lower()
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    js = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in js.content
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")
    redoc = await client.get("/redoc")
    assert redoc.status_code == 200 and "/docs-assets/redoc.standalone.js" in redoc.text


def test_creates_document_201_and_auth_its_401(document: dict[str, Any]) -> None:
    """schemathesis found creates answering 201 where the document said 200, and login/refresh
    answering an undocumented 401."""
    leave = document["paths"]["/api/bff/mobile/hr/leave-requests"]["post"]["responses"]
    assert leave["201"]["content"] == leave["200"]["content"]
    for path in ("/api/auth/login", "/api/auth/refresh"):
        responses = document["paths"][path]["post"]["responses"]
        assert responses["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorEnvelope"
        }
        parameters = document["paths"][path]["post"].get("parameters", [])
        assert not any(p["name"] == "Idempotency-Key" for p in parameters)


def test_module_qualified_components_have_distinct_titles(document: dict[str, Any]) -> None:
    """Generators name a class after the title: two apps' `Dashboard` must not share one."""
    titles = [s.get("title") for s in document["components"]["schemas"].values() if s.get("title")]
    assert len(titles) == len(set(titles)), sorted({t for t in titles if titles.count(t) > 1})


def test_idempotency_keys_are_what_the_schema_says() -> None:
    from tsh.platform.errors import AppError
    from tsh.platform.http.openapi import IDEMPOTENCY_KEY_SCHEMA
    from tsh.platform.idempotency import validate_key

    assert IDEMPOTENCY_KEY_SCHEMA["pattern"] == r"^[!-~]([ -~]*[!-~])?$"
    assert validate_key("a1-b2 c3") == "a1-b2 c3"
    for bad in ("", " a", "a ", "clé", "a\tb", "x" * 201):
        with pytest.raises(AppError):
            validate_key(bad)


def test_suggestions_document_their_minimum(document: dict[str, Any]) -> None:
    """The 2-character minimum of `q` (QUERY_TOO_SHORT) was not in the schema."""
    params = document["paths"]["/api/bff/mobile/search/suggestions"]["get"]["parameters"]
    [q] = [p for p in params if p["name"] == "q"]
    assert q["schema"]["minLength"] == 2 and q["required"] is True


def test_computed_legacy_calls_declare_their_query(document: dict[str, Any]) -> None:
    """`GET /api/orders/stats` required `user_id` without declaring it."""
    params = document["paths"]["/api/orders/stats"]["get"]["parameters"]
    assert {"name": "user_id", "in": "query", "required": True}.items() <= next(
        p for p in params if p["name"] == "user_id"
    ).items()


def test_bounded_decimal_inputs_are_integer_or_decimal_string(document: dict[str, Any]) -> None:
    params = document["paths"]["/api/bff/mobile/products"]["get"]["parameters"]
    [price] = [p for p in params if p["name"] == "max_price"]
    integer, text = price["schema"]["anyOf"]  # optional: left out, not null (a query has no null)
    assert integer["type"] == "integer"
    assert re.fullmatch(text["pattern"].strip("^$"), "999999999999.99")
    assert not re.fullmatch(text["pattern"].strip("^$"), "1000000000000")


def test_closed_objects_and_optional_parameters_suit_generators(document: dict[str, Any]) -> None:
    # openapi-generator warns on a boolean additionalProperties in 3.1 ("schema name: null");
    # `unevaluatedProperties: false` says the same of these flat models (tests/platform/test_dart_client.py).
    assert '"additionalProperties": false' not in json.dumps(document)
    assert document["components"]["schemas"]["LoginBody"]["unevaluatedProperties"] is False
    # An optional query parameter is its type, not `anyOf [type, null]` (a query cannot carry null).
    [date] = document["paths"]["/api/bff/mobile/aso/dashboard"]["get"]["parameters"]
    assert date["schema"] == {"type": "string", "format": "date"}
    nullable = [
        (path, p["name"])
        for path, _, op in _operations(document)
        for p in op.get("parameters", [])
        if {"type": "null"} in p["schema"].get("anyOf", []) or "title" in p["schema"]
    ]
    assert nullable == []
