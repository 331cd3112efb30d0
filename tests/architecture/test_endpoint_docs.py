"""docs/endpoints.md and the OpenAPI document are generated from the registry: both must list every
endpoint with the error codes it may answer, and the committed file must be current."""

from __future__ import annotations

from pathlib import Path

from tsh.bff.endpoint_docs import render_markdown
from tsh.bff.spec import REGISTRY
from tsh.domain.apps import APPS, SHARED_GROUPS
from tsh.main import create_app, load_apps

ENDPOINTS_MD = Path(__file__).resolve().parents[2] / "docs" / "endpoints.md"


def _product_specs() -> list:
    return [s for s in load_apps() if s.app in APPS or s.app in SHARED_GROUPS]


def test_endpoints_md_is_current() -> None:
    expected = render_markdown(sorted(_product_specs(), key=lambda s: (s.app, s.id)))
    assert ENDPOINTS_MD.read_text() == expected, "docs/endpoints.md is stale: run `make routes`"


def test_endpoints_md_lists_every_endpoint_and_its_codes() -> None:
    text = ENDPOINTS_MD.read_text()
    for spec in _product_specs():
        row = next(line for line in text.splitlines() if line.startswith(f"| {spec.id} |"))
        assert f"`{spec.path}`" in row
        for code in spec.errors:
            assert code in row or code in text.split("## Apps")[0], (spec.id, code)


def test_openapi_lists_error_codes_and_success_schema_per_operation() -> None:
    schema = create_app().openapi()
    ops = {
        op["x-endpoint-id"]: op
        for item in schema["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "x-endpoint-id" in op
    }
    product = [s for s in REGISTRY if s.app in APPS]
    assert set(ops) >= {s.id for s in product}
    for spec in product:
        op = ops[spec.id]
        assert set(op["x-error-codes"]) == set(spec.allowed_errors), spec.id
        listed = {c for status, r in op["responses"].items() if status[0] in "45" for c in r["x-error-codes"]}
        assert listed == set(spec.allowed_errors) - {"INTERNAL_ERROR"}, spec.id
        success = op["responses"][str(spec.status_code)]["content"]["application/json"]["schema"]
        assert success["required"] == ["success", "data", "metadata"], spec.id
        assert op["x-cache"]["category"] == spec.cache
