"""Salesperson app (apps/salesperson.md, 13 endpoints): field sales for salespeople and their managers.

Whose rows an endpoint acts on is decided by the domain from `call.actor`
(`tsh.domain.sales.field.sellers_for`): a salesperson acts for themself; a branch manager for the
named salesperson of their branch, or every salesperson of it on list screens; an admin for anyone.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp

app = BffApp("salesperson")
MANAGERS = ("salesperson", "branch_manager")


from tsh.bff.apps.salesperson import (  # noqa: E402  (the modules register on `app`)
    collections,
    customers,
    dashboard,
    orders,
    route,
)

__all__ = [
    "MANAGERS",
    "app",
    "collections",
    "customers",
    "dashboard",
    "orders",
    "route",
]
