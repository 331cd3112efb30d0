"""POS app (apps/pos.md, 16 endpoints): cashiers selling at a branch terminal inside a shift with its
own cash drawer; branch managers supervising shifts, approving and reporting.

Every handler turns the call into a domain `Actor` (user, role, branch, scope) and calls the POS
services in `tsh.domain.pos`; the services apply scope (404 outside it) and the rules.
"""

from __future__ import annotations

from tsh.bff.call import Call
from tsh.bff.schemas import Id
from tsh.bff.spec import BffApp
from tsh.domain.pos.common import Actor

app = BffApp("pos")
STAFF = ("cashier", "branch_manager")
# cashier: own; branch_manager: branch (admin: all).
OWN_OR_BRANCH = {"cashier": "own", "branch_manager": "branch"}


# An id in a body or query: the shared id rule (ASCII digits, 1..2^31-1, else 422).
RowId = Id


def actor_of(call: Call) -> Actor:
    return Actor(user_id=call.user_id, role=call.principal.role, branch_id=call.branch_id, scope=call.scope)


from tsh.bff.apps.pos import (  # noqa: E402  (the modules register on `app`)
    drawer,
    home,
    reports,
    sales,
    shifts,
)

__all__ = [
    "OWN_OR_BRANCH",
    "STAFF",
    "RowId",
    "actor_of",
    "app",
    "drawer",
    "home",
    "reports",
    "sales",
    "shifts",
]
