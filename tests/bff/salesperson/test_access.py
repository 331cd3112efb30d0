"""Roles (403) and ownership (404) across the 13 salesperson endpoints."""

from __future__ import annotations

import pytest

import tsh.bff.apps  # noqa: F401  (registers the declarations)
from tests.bff.salesperson.conftest import BM1, BM2, CASHIER, CONSUMER, SP1, SP2, Api
from tsh.bff.spec import REGISTRY

ENDPOINTS = [
    ("SAL-01", "GET", "/dashboard"),
    ("SAL-02", "GET", "/customers"),
    ("SAL-03", "GET", "/customers/1"),
    ("SAL-04", "POST", "/customers"),
    ("SAL-05", "GET", "/route"),
    ("SAL-06", "PUT", "/route"),
    ("SAL-07", "POST", "/visits"),
    ("SAL-08", "POST", "/visits/1/check-out"),
    ("SAL-09", "GET", "/products"),
    ("SAL-10", "POST", "/orders"),
    ("SAL-11", "GET", "/orders"),
    ("SAL-12", "GET", "/collections"),
    ("SAL-13", "POST", "/collections"),
]
MANAGER_ROWS = {"SAL-01", "SAL-02", "SAL-03", "SAL-04", "SAL-05", "SAL-06", "SAL-11", "SAL-12"}


def test_the_app_declares_13_endpoints() -> None:
    declared = {(s.id, s.method, s.path) for s in REGISTRY if s.app == "salesperson"}
    expected = {(i, m, "/api/bff/mobile/salesperson" + p.replace("/1", "/{id}")) for i, m, p in ENDPOINTS}
    assert declared == expected


@pytest.mark.parametrize(("eid", "method", "path"), ENDPOINTS)
async def test_roles_outside_the_row_get_403(api: Api, eid: str, method: str, path: str) -> None:
    outsiders = [CASHIER, CONSUMER] + ([] if eid in MANAGER_ROWS else [BM1])
    for email in outsiders:
        if method == "GET":
            r = await api.get(email, path)
        else:
            r = await api.send(email, method, path, {})
        assert r.status_code == 403, (email, r.text)
        assert r.json()["error_code"] == "FORBIDDEN"


async def test_naming_another_salesperson(api: Api) -> None:
    sp1, sp2 = await api.user_id(SP1), await api.user_id(SP2)
    for path in ("/dashboard", "/customers", "/orders", "/collections", "/route"):
        assert (await api.get(SP1, path, salesperson_id=sp2)).status_code == 404
        assert (await api.get(BM1, path, salesperson_id=sp2)).status_code == 404
        assert (await api.get(BM2, path, salesperson_id=sp2)).status_code == 200
    data = await api.data(BM1, "/dashboard", salesperson_id=sp1)
    assert data["profile"]["id"] == sp1
    for email in (BM1,):
        r = await api.get(email, "/route")
        assert r.status_code == 422 and r.json()["error_code"] == "VALIDATION_ERROR"
        r = await api.send(email, "PUT", "/route", {"date": "2030-01-01", "stops": []}, key=None)
        assert r.status_code == 422 and r.json()["error_code"] == "VALIDATION_ERROR"
