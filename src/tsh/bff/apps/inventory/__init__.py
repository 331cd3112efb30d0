"""Inventory app (apps/inventory.md, 20 endpoints): inventory managers (company-wide), warehouse
staff and branch managers (their branch's warehouses) watch stock, move it between warehouses,
adjust it, count it and read its valuation.

Handlers parse, call `tsh.domain.inventory` (commands for actions, queries/documents/reports for
screens) with `call.actor`, and shape; scope (404 outside it) and every rule live in the domain.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp
from tsh.platform.auth.principal import Scope

app = BffApp("inventory")

STAFF = ("inventory_manager", "warehouse_staff", "branch_manager")
STAFF_SCOPE: dict[str, Scope] = {
    "inventory_manager": "all",
    "warehouse_staff": "branch",
    "branch_manager": "branch",
}
MANAGERS = ("inventory_manager", "branch_manager")
MANAGER_SCOPE: dict[str, Scope] = {"inventory_manager": "all", "branch_manager": "branch"}
MOVERS = ("inventory_manager", "warehouse_staff")
MOVER_SCOPE: dict[str, Scope] = {"inventory_manager": "all", "warehouse_staff": "branch"}
REPORTERS = ("inventory_manager", "branch_manager", "accountant")
REPORTER_SCOPE: dict[str, Scope] = {
    "inventory_manager": "all",
    "accountant": "all",
    "branch_manager": "branch",
}

from tsh.bff.apps.inventory import (  # noqa: E402  (the modules register on `app`)
    adjustments,
    counts,
    reports,
    stock,
    transfers,
)

__all__ = [
    "MANAGERS",
    "MANAGER_SCOPE",
    "MOVERS",
    "MOVER_SCOPE",
    "REPORTERS",
    "REPORTER_SCOPE",
    "STAFF",
    "STAFF_SCOPE",
    "adjustments",
    "app",
    "counts",
    "reports",
    "stock",
    "transfers",
]
