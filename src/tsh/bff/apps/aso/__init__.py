"""After-sales service (ASO) app (apps/aso.md): service agents and branch managers open and
supervise service requests, returns and refunds of their branch; technicians see and progress
their own jobs; warranties are looked up company-wide.

Handlers parse, call `tsh.domain.aftersales` with `call.actor` (scope becomes the services'
branch / technician filters in `tsh.domain.aftersales.access`), and shape.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp
from tsh.platform.auth.principal import Scope

app = BffApp("aso")

ALL_STAFF = ("service_agent", "technician", "branch_manager")
ALL_STAFF_SCOPE: dict[str, Scope] = {
    "technician": "own",
    "service_agent": "branch",
    "branch_manager": "branch",
}
DESK = ("service_agent", "branch_manager")
DESK_SCOPE: dict[str, Scope] = {"service_agent": "branch", "branch_manager": "branch"}
FIELD = ("technician", "service_agent")
FIELD_SCOPE: dict[str, Scope] = {"technician": "own", "service_agent": "branch"}
COMPANY_SCOPE: dict[str, Scope] = {"technician": "all", "service_agent": "all", "branch_manager": "all"}

from tsh.bff.apps.aso import (  # noqa: E402  (the modules register on `app`)
    jobs,
    parts,
    reports,
    requests,
    returns,
    schedule,
    warranties,
)

__all__ = [
    "ALL_STAFF",
    "ALL_STAFF_SCOPE",
    "COMPANY_SCOPE",
    "DESK",
    "DESK_SCOPE",
    "FIELD",
    "FIELD_SCOPE",
    "app",
    "jobs",
    "parts",
    "reports",
    "requests",
    "returns",
    "schedule",
    "warranties",
]
