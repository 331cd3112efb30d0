"""Field-sales rules that moved out of the salesperson handlers into `tsh.domain.sales.field*`:
whose rows an `Actor` acts for, the customer scope and the salesperson discount ceiling.

Each test builds its own branch and users (unique codes), so it does not depend on the demo data.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tsh.context import AppContext
from tsh.domain.actor import Actor
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import Role, User
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.field import salesperson_for, scoped_customer, sellers_for
from tsh.domain.sales.field_actions import DEFAULT_DISCOUNT_LIMIT, discount_limit
from tsh.platform.errors import AppError


def _uid() -> str:
    return uuid.uuid4().hex[:10].upper()


async def _branch(s: Any, discount: Decimal = Decimal("12.5")) -> int:
    code = _uid()
    branch = Branch(
        code=f"F{code[:8]}", name_ar="فرع", name_en=f"Field {code}", city="Baghdad", address="x",
        lat=33.31, lng=44.36, geofence_radius_m=150, salesperson_discount_pct=discount,
    )  # fmt: skip
    s.add(branch)
    await s.flush()
    return branch.id


async def _user(s: Any, role: str, branch_id: int) -> int:
    role_id = await s.scalar(select(Role.id).where(Role.code == role))
    user = User(
        name=f"Field {role}", email=f"f-{_uid().lower()}@test.tsh.iq", role_id=role_id, branch_id=branch_id
    )
    s.add(user)
    await s.flush()
    return user.id


async def _customer(s: Any, salesperson_id: int, branch_id: int) -> int:
    code = _uid()
    c = Customer(
        code=f"FC{code}", type="retail_shop", name=f"Shop {code}", phone=f"+9647{code[:9]}",
        branch_id=branch_id, salesperson_id=salesperson_id, currency="IQD", credit_limit=0,
        payment_terms_days=0, status="active",
    )  # fmt: skip
    s.add(c)
    await s.flush()
    return c.id


def _actor(user_id: int, role: str, scope: Any, branch_id: int | None) -> Actor:
    return Actor(user_id=user_id, role=role, scope=scope, branch_id=branch_id)


async def _code(coro: Any) -> str:
    with pytest.raises(AppError) as err:
        await coro
    return err.value.code


async def test_sellers_follow_the_actor_scope(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        home, other = await _branch(s), await _branch(s)
        sp, sp_other = await _user(s, "salesperson", home), await _user(s, "salesperson", other)
        manager = await _user(s, "branch_manager", home)
        salesperson = _actor(sp, "salesperson", "own", home)
        branch = _actor(manager, "branch_manager", "branch", home)
        admin = _actor(1, "admin", "all", None)

        assert (await sellers_for(s, salesperson)).salesperson_id == sp
        assert (await sellers_for(s, salesperson, sp)).salesperson_id == sp
        assert await _code(sellers_for(s, salesperson, sp_other)) == "SALESPERSON_NOT_FOUND"

        mine = await sellers_for(s, branch)
        assert (mine.salesperson_id, mine.branch_id) == (None, home)
        assert (await sellers_for(s, branch, sp)).salesperson_id == sp
        assert await _code(sellers_for(s, branch, sp_other)) == "SALESPERSON_NOT_FOUND"
        # A user who is not a salesperson is not a seller, even inside the branch.
        assert await _code(sellers_for(s, branch, manager)) == "SALESPERSON_NOT_FOUND"

        everyone = await sellers_for(s, admin)
        assert (everyone.salesperson_id, everyone.branch_id) == (None, None)
        assert (await sellers_for(s, admin, sp_other)).salesperson_id == sp_other

        # Per-person screens: a manager must name one; a salesperson is itself.
        assert await salesperson_for(s, salesperson, None) == sp
        assert await _code(salesperson_for(s, branch, None)) == "VALIDATION_ERROR"
        assert await salesperson_for(s, branch, sp) == sp
        await s.rollback()


async def test_customers_outside_the_sellers_are_not_found(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        home, other = await _branch(s), await _branch(s)
        sp, sp_other = await _user(s, "salesperson", home), await _user(s, "salesperson", other)
        manager = await _user(s, "branch_manager", home)
        mine, theirs = await _customer(s, sp, home), await _customer(s, sp_other, other)
        salesperson = _actor(sp, "salesperson", "own", home)
        branch = _actor(manager, "branch_manager", "branch", home)

        assert (await scoped_customer(s, salesperson, mine)).id == mine
        assert await _code(scoped_customer(s, salesperson, theirs)) == "CUSTOMER_NOT_FOUND"
        # A manager's default is its own customers; with its branch's sellers it sees the branch's.
        assert await _code(scoped_customer(s, branch, mine)) == "CUSTOMER_NOT_FOUND"
        sellers = await sellers_for(s, branch)
        assert (await scoped_customer(s, branch, mine, sellers)).id == mine
        assert await _code(scoped_customer(s, branch, theirs, sellers)) == "CUSTOMER_NOT_FOUND"
        await s.rollback()


async def test_discount_ceiling_is_the_branch_setting_else_the_default(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        branch_id = await _branch(s, Decimal("12.5"))
        assert await discount_limit(s, branch_id) == Decimal("12.5")
        missing = (await s.scalar(select(Branch.id).order_by(Branch.id.desc()).limit(1))) + 1000
        assert await discount_limit(s, missing) == DEFAULT_DISCOUNT_LIMIT == Decimal(5)
        await s.rollback()
