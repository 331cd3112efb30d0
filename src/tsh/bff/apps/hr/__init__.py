"""HR app (apps/hr.md, 25 endpoints): HR managers and branch managers manage employees,
attendance, leave, payroll and reviews; every staff user linked to an Employee (`employee`) uses
the self-service part; accountants pay approved payroll.

Handlers parse, call the HR services and queries in `tsh.domain.hr` with `call.actor` (scope is
applied there: 404 outside it), and shape. Salary is shown only with scope `all`.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp

app = BffApp("hr")
MANAGERS = ("hr_manager", "branch_manager")
MANAGER_SCOPES = {"hr_manager": "all", "branch_manager": "branch"}
EVERYONE = ("employee", "branch_manager", "hr_manager")
EVERYONE_SCOPES = {"employee": "own", "branch_manager": "branch", "hr_manager": "all"}
PAYROLL = ("hr_manager", "accountant")

from tsh.bff.apps.hr import (  # noqa: E402  (the modules register on `app`)
    attendance,
    leave,
    payroll,
    people,
    reviews,
)

__all__ = [
    "EVERYONE",
    "EVERYONE_SCOPES",
    "MANAGERS",
    "MANAGER_SCOPES",
    "PAYROLL",
    "app",
    "attendance",
    "leave",
    "payroll",
    "people",
    "reviews",
]
