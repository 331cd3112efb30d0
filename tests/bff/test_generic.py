"""What every BFF endpoint does the same way, tested for every row of the registry.

Generated from `REGISTRY`, so an endpoint added tomorrow is covered without a line here: 401
without (or with a forged) token, 403 FORBIDDEN for every role its row does not name, 400
IDEMPOTENCY_KEY_REQUIRED where the key is required, 405 for the methods its path does not take,
and 422 VALIDATION_ERROR naming an unknown body field. Each of these is refused before the
handler runs, so none of them can change data; the apps' own tests cover what is particular to a
row (its data, 404 for other owners, cache and invalidation, business rules).
"""

from __future__ import annotations

import re

import pytest

from tests.http import Api, demo
from tsh.bff.spec import REGISTRY, EndpointSpec
from tsh.domain.apps import APPS, SHARED_GROUPS
from tsh.domain.identity.rbac import ADMIN, ROLE_CODES, STAFF_ROLES
from tsh.main import load_apps

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _product() -> list[EndpointSpec]:
    load_apps()
    return sorted((s for s in REGISTRY if s.app in APPS or s.app in SHARED_GROUPS), key=lambda s: s.id)


SPECS = _product()
BY_ID = {s.id: s for s in SPECS}


def _concrete(spec: EndpointSpec) -> str:
    """The row's path with each `{param}` filled (the checks under test come before any lookup)."""
    return re.sub(r"\{[^}]+\}", "1", spec.path)


def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(path)))


def _methods_served(path: str) -> set[str]:
    return {s.method for s in REGISTRY if _template(s.path).fullmatch(path)}


def _ids(pred: object = None) -> list[str]:
    return [s.id for s in SPECS if pred is None or pred(s)]  # type: ignore[operator]


def _caller(spec: EndpointSpec) -> str:
    return demo(sorted(spec.roles)[0] if spec.roles else ADMIN)


def _assert_error(r: object, status: int, code: str) -> dict:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["success"] is False and body["error_code"] == code, body
    assert body["metadata"]["request_id"]
    return body


def test_the_registry_covers_the_built_apps() -> None:
    assert len(SPECS) == len({s.id for s in SPECS}) >= 66
    assert len({(s.method, s.path) for s in SPECS}) == len(SPECS), "two rows on one method and path"


@pytest.mark.parametrize("endpoint_id", _ids())
async def test_without_a_valid_token_is_401(api: Api, endpoint_id: str) -> None:
    spec = BY_ID[endpoint_id]
    r = await api.send(None, spec.method, _concrete(spec), {} if spec.body_model else None)
    _assert_error(r, 401, "AUTH_REQUIRED")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    forged = {"Authorization": "Bearer not.a.token"}
    r = await api.send(None, spec.method, _concrete(spec), None, headers=forged)
    _assert_error(r, 401, "INVALID_TOKEN")


@pytest.mark.parametrize("endpoint_id", _ids())
async def test_every_role_the_row_does_not_name_is_403(api: Api, endpoint_id: str) -> None:
    spec = BY_ID[endpoint_id]
    # `employee` in a row stands for every staff role whose user is linked to an Employee record
    # (all staff demo users are), so only the customer roles stay outside it.
    named = set(spec.roles) | (STAFF_ROLES if "employee" in spec.roles else set())
    others = [role for role in ROLE_CODES if role not in named and role != ADMIN]
    for role in others:
        r = await api.send(demo(role), spec.method, _concrete(spec), {} if spec.body_model else None)
        _assert_error(r, 403, "FORBIDDEN")


@pytest.mark.parametrize("endpoint_id", _ids(lambda s: s.idempotency == "required"))
async def test_a_required_idempotency_key_missing_is_400(api: Api, endpoint_id: str) -> None:
    spec = BY_ID[endpoint_id]
    r = await api.send(_caller(spec), spec.method, _concrete(spec), {}, key=None)
    _assert_error(r, 400, "IDEMPOTENCY_KEY_REQUIRED")


@pytest.mark.parametrize("endpoint_id", _ids())
async def test_methods_the_path_does_not_take_are_405(api: Api, endpoint_id: str) -> None:
    spec = BY_ID[endpoint_id]
    path = _concrete(spec)
    served = _methods_served(path)
    for method in sorted(set(METHODS) - served):
        r = await api.send(_caller(spec), method, path, {})
        _assert_error(r, 405, "METHOD_NOT_ALLOWED")
        assert set(r.headers["Allow"].split(", ")) == served


@pytest.mark.parametrize("endpoint_id", _ids(lambda s: s.body_model is not None))
async def test_an_unknown_body_field_is_422(api: Api, endpoint_id: str) -> None:
    spec = BY_ID[endpoint_id]
    r = await api.send(_caller(spec), spec.method, _concrete(spec), {"zz_not_a_field": 1})
    body = _assert_error(r, 422, "VALIDATION_ERROR")
    assert any(d.get("field", "").endswith("zz_not_a_field") for d in body.get("details", [])), body
