"""The fixed roles and the permission catalogue (pure data, no database)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tsh.domain.identity import models, rbac

README_ROLES = [
    "admin", "security_officer", "accountant", "hr_manager", "employee", "inventory_manager",
    "warehouse_staff", "salesperson", "cashier", "branch_manager", "partner", "wholesale_client",
    "technician", "service_agent", "consumer",
]  # fmt: skip
# Per-app endpoint counts of the contract (README.md "Counts").
ENDPOINTS_PER_APP = {
    "CON": 37, "SAL": 13, "POS": 16, "ADM": 25, "INV": 20, "ACC": 30,
    "HR": 25, "SEC": 20, "PAR": 15, "WHO": 18, "ASO": 20,
}  # fmt: skip
NON_STAFF = {"consumer", "partner", "wholesale_client"}


def test_the_fifteen_fixed_roles() -> None:
    assert len(rbac.ROLES) == 15
    assert list(rbac.ROLE_CODES) == README_ROLES
    for role in rbac.ROLES:
        assert role.description
        assert role.default_scope in models.SCOPES
    assert set(README_ROLES) - NON_STAFF == rbac.STAFF_ROLES


def test_admin_holds_every_permission() -> None:
    assert rbac.ROLE_PERMISSIONS["admin"] == rbac.ALL_PERMISSIONS
    assert rbac.effective_permissions([], {"admin.users": "deny"}, role_code="admin") == rbac.ALL_PERMISSIONS


def test_every_role_permission_is_in_the_catalogue() -> None:
    assert set(rbac.ROLE_PERMISSIONS) == set(README_ROLES)
    for role, perms in rbac.ROLE_PERMISSIONS.items():
        assert perms <= rbac.ALL_PERMISSIONS, role
        assert perms, f"{role} can do nothing"


def test_catalogue_codes_are_module_dot_function() -> None:
    codes = [p.code for p in rbac.PERMISSIONS]
    assert len(codes) == len(set(codes))
    for perm in rbac.PERMISSIONS:
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", perm.code), perm.code
        assert perm.module in rbac.MODULES
        assert perm.description
        assert perm.roles <= set(README_ROLES) - {"admin"}
    assert {p.module for p in rbac.PERMISSIONS} == set(rbac.MODULES)
    assert set(rbac.MODULES) == set(models.APPS)


def test_every_bff_endpoint_has_exactly_one_permission() -> None:
    listed = [e for p in rbac.PERMISSIONS for e in p.endpoints]
    assert len(listed) == len(set(listed)) == 239
    per_app = Counter(e.split("-")[0] for e in listed)
    assert dict(per_app) == ENDPOINTS_PER_APP
    for app, count in ENDPOINTS_PER_APP.items():
        expected = {f"{app}-{n:02d}" for n in range(1, count + 1)}
        assert {e for e in listed if e.startswith(f"{app}-")} == expected
    assert rbac.permission_for_endpoint("SAL-01") == "salesperson.dashboard"
    with pytest.raises(KeyError):
        rbac.permission_for_endpoint("SAL-99")


def test_default_sets_follow_the_role_columns() -> None:
    perms = rbac.ROLE_PERMISSIONS
    assert {p.split(".")[0] for p in perms["consumer"]} == {"consumer"}
    assert {p.split(".")[0] for p in perms["partner"]} == {"partner"}
    assert {p.split(".")[0] for p in perms["wholesale_client"]} == {"wholesale"}
    assert not any(p.startswith("admin.") for role, ps in perms.items() if role != "admin" for p in ps)
    # Rows open to "employee" are open to every staff role (core.md §0).
    for role in rbac.STAFF_ROLES:
        assert {"hr.self_service", "hr.attendance", "hr.leave", "hr.payslips", "hr.reviews"} <= perms[role]
    for role in NON_STAFF:
        assert "hr.self_service" not in perms[role]
    assert "pos.sales_report" in perms["accountant"] and "pos.sales_report" not in perms["cashier"]
    assert "inventory.transfer_shipping" in perms["warehouse_staff"]
    assert "inventory.transfer_shipping" not in perms["branch_manager"]
    assert "aso.parts" in perms["inventory_manager"]


def test_effective_permissions_grants_and_denials() -> None:
    role = ["salesperson.dashboard", "salesperson.orders"]
    assert rbac.effective_permissions(role) == frozenset(role)
    granted = rbac.effective_permissions(role, {"pos.sell": "grant"})
    assert granted == frozenset([*role, "pos.sell"])
    # A denial beats the role grant; pairs work as well as a mapping.
    denied = rbac.effective_permissions(role, [("salesperson.orders", "deny"), ("pos.sell", "grant")])
    assert denied == frozenset(["salesperson.dashboard", "pos.sell"])
    assert rbac.effective_permissions(role, {"x.y": "unknown-effect"}) == frozenset(role)
