"""Field sales as the calling `Actor` sees it: whose rows it may act on, and the read screens.

Whose rows a request covers is decided once, here, from the actor's scope:
- `own` (salesperson): themself; naming anyone else as `salesperson_id` is a 404;
- `branch` (branch manager): the named salesperson of their branch (404 outside it), or every
  salesperson of the branch on list screens; the route screens must name one (422);
- `all` (admin): any named salesperson, else every salesperson.
A customer outside those sellers is a 404 CUSTOMER_NOT_FOUND, never a 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.posting import rate_in_force
from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import Role, User
from tsh.domain.sales import visits
from tsh.domain.sales.dashboard import DashboardPart, dashboard_parts
from tsh.domain.sales.queries import Sellers, customer_360, customer_list
from tsh.domain.sales.worklists import collections_worklist, order_list
from tsh.domain.shared import business_today
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, NotFound, field_error

# A page of rows and the function giving a row's keyset position (for `tsh.bff.schemas.page`).
Rows = tuple[list[dict[str, Any]], Any]


def _no_salesperson() -> NotFound:
    return NotFound("Salesperson not found", code="SALESPERSON_NOT_FOUND")


async def sellers_for(session: AsyncSession, actor: Actor, salesperson_id: int | None = None) -> Sellers:
    """The salespeople `actor` acts for: the named one (404 SALESPERSON_NOT_FOUND outside the
    actor's scope), else themself (`own`), their branch's (`branch`) or everyone (`all`)."""
    if actor.scope == "own":
        if salesperson_id is not None and salesperson_id != actor.user_id:
            raise _no_salesperson()
        return Sellers(salesperson_id=actor.user_id)
    if salesperson_id is None:
        return Sellers(branch_id=actor.branch_id if actor.scope == "branch" else None)
    stmt = (
        select(User.id)
        .join(Role, Role.id == User.role_id)
        .where(User.id == salesperson_id, Role.code == "salesperson")
    )
    if actor.scope == "branch":
        stmt = stmt.where(User.branch_id == actor.branch_id)
    if await session.scalar(stmt) is None:
        raise _no_salesperson()
    return Sellers(salesperson_id=salesperson_id)


async def salesperson_for(session: AsyncSession, actor: Actor, salesperson_id: int | None) -> int:
    """The one salesperson a per-person screen (the route) is about: 422 VALIDATION_ERROR when a
    manager names nobody, 404 SALESPERSON_NOT_FOUND outside the actor's scope."""
    if salesperson_id is None and actor.scope != "own":
        raise Invalid(details=[field_error("salesperson_id", "required for your role")])
    sellers = await sellers_for(session, actor, salesperson_id)
    assert sellers.salesperson_id is not None  # one was named, or the actor is the salesperson
    return sellers.salesperson_id


async def scoped_customer(
    session: AsyncSession, actor: Actor, customer_id: int, sellers: Sellers | None = None
) -> Customer:
    """A customer of `sellers` (default: the actor's own customers), else 404 CUSTOMER_NOT_FOUND."""
    sellers = sellers or Sellers(salesperson_id=actor.user_id)
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, sellers.clause(Customer.salesperson_id))
    )
    if customer is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    return customer


async def dashboard_screen(
    session: AsyncSession, actor: Actor, *, salesperson_id: int | None, date_range: str
) -> dict[str, DashboardPart]:
    """SAL-01 parts to run (tsh.domain.sales.dashboard.dashboard_parts) once the scope is checked;
    without a named salesperson a manager sees the totals of all its sellers.
    404 SALESPERSON_NOT_FOUND."""
    sellers = await sellers_for(session, actor, salesperson_id)
    return dashboard_parts(
        sellers=sellers,
        profile_user_id=sellers.salesperson_id or actor.user_id,
        date_range=date_range,
        today=business_today(),
        language=actor.language,
    )


async def customers_screen(
    session: AsyncSession,
    actor: Actor,
    *,
    salesperson_id: int | None,
    limit: int,
    after: dict[str, Any] | None,
    q: str | None,
    city: str | None,
    status: str | None,
    sort: str,
) -> Rows:
    """SAL-02: a page of the sellers' customers with balance, overdue, last visit and last order.
    404 SALESPERSON_NOT_FOUND."""
    return await customer_list(
        session,
        sellers=await sellers_for(session, actor, salesperson_id),
        today=business_today(),
        rate=await rate_in_force(session, utcnow()),
        limit=limit,
        after=after,
        q=q,
        city=city,
        status=status,
        sort=sort,
    )


async def customer_card(session: AsyncSession, customer: Customer) -> dict[str, Any]:
    """Customer 360 of a customer already in scope, as of today at the rate in force."""
    return await customer_360(
        session, customer=customer, today=business_today(), rate=await rate_in_force(session, utcnow())
    )


async def customer_screen(session: AsyncSession, actor: Actor, *, customer_id: int) -> dict[str, Any]:
    """SAL-03: customer 360 of a customer of the actor's sellers. 404 CUSTOMER_NOT_FOUND."""
    customer = await scoped_customer(session, actor, customer_id, await sellers_for(session, actor))
    return await customer_card(session, customer)


async def route_screen(
    session: AsyncSession, actor: Actor, *, salesperson_id: int | None, day: dt.date | None
) -> dict[str, Any]:
    """SAL-05: the route of a day (default today). 422 without a salesperson for a manager,
    404 SALESPERSON_NOT_FOUND."""
    return await visits.route_view(
        session,
        salesperson_id=await salesperson_for(session, actor, salesperson_id),
        day=day or business_today(),
    )


async def orders_screen(
    session: AsyncSession,
    actor: Actor,
    *,
    salesperson_id: int | None,
    limit: int,
    after: dict[str, Any] | None,
    status: str | None,
    customer_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> Rows:
    """SAL-11: the sellers' orders, newest first. 404 SALESPERSON_NOT_FOUND."""
    return await order_list(
        session,
        sellers=await sellers_for(session, actor, salesperson_id),
        limit=limit,
        after=after,
        status=status,
        customer_id=customer_id,
        date_from=date_from,
        date_to=date_to,
    )


async def collections_screen(
    session: AsyncSession,
    actor: Actor,
    *,
    salesperson_id: int | None,
    customer_id: int | None,
    overdue_only: bool,
    limit: int,
    after: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
    """SAL-12: open invoices of the sellers' customers (one of them with `customer_id`), the
    totals and today's collections. 404 SALESPERSON_NOT_FOUND, CUSTOMER_NOT_FOUND."""
    sellers = await sellers_for(session, actor, salesperson_id)
    if customer_id is not None:
        await scoped_customer(session, actor, customer_id, sellers)
    return await collections_worklist(
        session,
        sellers=sellers,
        today=business_today(),
        limit=limit,
        after=after,
        customer_id=customer_id,
        overdue_only=overdue_only,
    )
