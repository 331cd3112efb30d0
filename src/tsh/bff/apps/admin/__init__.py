"""Admin app (apps/admin.md): system administrators manage users, roles and their permissions,
branches, warehouses and delivery zones, read the activity log and repair the screen cache.

Only admin uses this app and every row has scope `all`. Handlers parse, call the identity and
organisation services with `call.actor`, and shape; every action is audited with before/after.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp

app = BffApp("admin")
ADMINS = ("admin",)

from tsh.bff.apps.admin import (  # noqa: E402  (the modules register on `app`)
    branches,
    roles,
    system,
    users,
)

__all__ = ["ADMINS", "app", "branches", "roles", "system", "users"]
