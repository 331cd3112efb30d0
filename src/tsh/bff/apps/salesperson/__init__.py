"""Salesperson app (apps/salesperson.md, 13 endpoints): field sales for salespeople and their managers.

Whose rows an endpoint acts on is decided once, by `owner_for`:
- salesperson: themself (naming anyone else as `salesperson_id` is a 404);
- branch_manager: the named salesperson of their branch (404 outside it), or every salesperson of
  the branch on list screens; SAL-05/06 must name one (422 VALIDATION_ERROR);
- admin: any named salesperson, else everyone on list screens; on the own-only rows admin acts as itself.
"""

from __future__ import annotations

from sqlalchemy import select

from tsh.bff.call import Call
from tsh.bff.spec import BffApp
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import Role, User
from tsh.domain.sales.queries import Owner
from tsh.platform.errors import Invalid, NotFound, field_error

app = BffApp("salesperson")
MANAGERS = ("salesperson", "branch_manager")


async def owner_for(call: Call, salesperson_id: int | None = None, *, required: bool = False) -> Owner:
    """The salesperson (or set of salespeople) the caller may act for on this request."""
    if call.scope == "own":
        if salesperson_id is not None and salesperson_id != call.user_id:
            raise NotFound("Salesperson not found", code="SALESPERSON_NOT_FOUND")
        return Owner(salesperson_id=call.user_id)
    if salesperson_id is None:
        if required:
            raise Invalid(details=[field_error("salesperson_id", "required for your role")])
        return Owner(branch_id=call.branch_id if call.scope == "branch" else None)
    stmt = (
        select(User.id)
        .join(Role, Role.id == User.role_id)
        .where(User.id == salesperson_id, Role.code == "salesperson")
    )
    if call.scope == "branch":
        stmt = stmt.where(User.branch_id == call.branch_id)
    if await call.session.scalar(stmt) is None:
        raise NotFound("Salesperson not found", code="SALESPERSON_NOT_FOUND")
    return Owner(salesperson_id=salesperson_id)


async def own_customer(call: Call, customer_id: int, owner: Owner | None = None) -> Customer:
    """A customer of `owner` (default: the caller itself), else 404."""
    owner = owner or Owner(salesperson_id=call.user_id)
    customer = await call.session.scalar(
        select(Customer).where(Customer.id == customer_id, owner.clause(Customer.salesperson_id))
    )
    if customer is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    return customer


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
    "own_customer",
    "owner_for",
    "route",
]
