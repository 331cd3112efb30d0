"""Roles (403) and the Idempotency-Key (400) on all 20 endpoints."""

from __future__ import annotations

import pytest

from tests.bff.inventory.conftest import ACCOUNTANT, CASHIER, CONSUMER, SALESPERSON, WS1, Inv
from tsh.bff.spec import REGISTRY
from tsh.main import load_apps

STAFF_ENDPOINTS = [
    ("GET", "/dashboard"),
    ("GET", "/stock-levels"),
    ("GET", "/stock-levels/1"),
    ("GET", "/movements"),
    ("GET", "/transfers"),
    ("GET", "/transfers/1"),
    ("POST", "/transfers"),
    ("POST", "/transfers/1/cancellation"),
    ("GET", "/adjustments"),
    ("GET", "/counts"),
    ("GET", "/counts/1"),
    ("PUT", "/counts/1/lines"),
]
MOVER_ENDPOINTS = [("POST", "/transfers/1/dispatch"), ("POST", "/transfers/1/receipt")]
MANAGER_ENDPOINTS = [
    ("GET", "/reorder-suggestions"),
    ("POST", "/adjustments"),
    ("POST", "/counts"),
    ("POST", "/counts/1/completion"),
]
REPORT_ENDPOINTS = [("GET", "/valuation"), ("GET", "/reports/aging")]
IDEMPOTENT = [
    "/transfers",
    "/transfers/1/dispatch",
    "/transfers/1/receipt",
    "/transfers/1/cancellation",
    "/adjustments",
    "/counts/1/completion",
]


def test_twenty_endpoints_declared() -> None:
    load_apps()
    specs = {s.id: s for s in REGISTRY if s.app == "inventory"}
    assert sorted(specs) == [f"INV-{i:02d}" for i in range(1, 21)]
    assert {s.id for s in specs.values() if s.idempotency == "required"} == {
        "INV-08", "INV-09", "INV-10", "INV-11", "INV-13", "INV-18",
    }  # fmt: skip
    assert all(s.response_model is not None for s in specs.values())


@pytest.mark.parametrize(
    ("method", "path", "forbidden"),
    [(m, p, (ACCOUNTANT, CASHIER)) for m, p in STAFF_ENDPOINTS + MOVER_ENDPOINTS + MANAGER_ENDPOINTS]
    + [(m, p, (WS1, CASHIER)) for m, p in REPORT_ENDPOINTS]
    + [(m, p, (WS1,)) for m, p in MANAGER_ENDPOINTS],
)
async def test_other_roles_get_403(inv: Inv, method: str, path: str, forbidden: tuple[str, ...]) -> None:
    for email in (*forbidden, SALESPERSON, CONSUMER):
        r = await inv.send(email, method, path, None if method == "GET" else {})
        assert r.status_code == 403, (email, method, path, r.text)
        assert r.json()["error_code"] == "FORBIDDEN"


async def test_branch_manager_may_not_move_stock(inv: Inv) -> None:
    for _, path in MOVER_ENDPOINTS:
        r = await inv.send("branch_manager1@demo.tsh.iq", "POST", path, {})
        assert r.status_code == 403


@pytest.mark.parametrize("path", IDEMPOTENT)
async def test_missing_idempotency_key_is_400(inv: Inv, path: str) -> None:
    email = "inventory_manager1@demo.tsh.iq"
    r = await inv.send(email, "POST", path, {}, key=None)
    assert r.status_code == 400 and r.json()["error_code"] == "IDEMPOTENCY_KEY_REQUIRED"
