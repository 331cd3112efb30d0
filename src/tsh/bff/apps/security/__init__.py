"""Security app (apps/security.md, 20 endpoints): security officers watch threats and logins, lift
lockouts, block IP ranges, revoke sessions, read the audit trail and review who may do what.

Every row is company-wide (`all`) for security_officer (and admin). Security data is live, so the
screens are not cached, except the immutable audit entry and the permission views (reference,
dropped by UserRoleChanged / UserChanged). The rules live in `tsh.domain.identity`.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp

app = BffApp("security")
OFFICERS = ("security_officer",)

from tsh.bff.apps.security import (  # noqa: E402  (the modules register on `app`)
    access,
    audit,
    permissions,
    threats,
)

__all__ = ["OFFICERS", "access", "app", "audit", "permissions", "threats"]
