"""Ownership (404) across the salesperson endpoints; roles (403) are tested for every row by
tests/bff/test_generic.py."""

from __future__ import annotations

import tsh.bff.apps  # noqa: F401  (registers the declarations)
from tests.bff.salesperson.conftest import BM1, BM2, SP1, SP2, Api


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
