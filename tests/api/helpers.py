"""Shared look-ups for the legacy API tests: demo users and database counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tsh.context import AppContext
from tsh.domain.identity.models import User

SP1 = "salesperson1@demo.tsh.iq"
SP2 = "salesperson2@demo.tsh.iq"
ADMIN = "admin1@demo.tsh.iq"
CONSUMER = "consumer1@demo.tsh.iq"


async def user(ctx: AppContext, email: str) -> User:
    async with ctx.db.session() as s:
        found = (await s.scalars(select(User).where(User.email == email))).one()
        s.expunge(found)
        return found


async def count(ctx: AppContext, model: Any, *where: Any) -> int:
    async with ctx.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def scalar(ctx: AppContext, stmt: Any) -> Any:
    async with ctx.db.session() as s:
        return await s.scalar(stmt)


async def branch_manager(ctx: AppContext, branch_id: int | None, *, same: bool) -> str:
    """The e-mail of a branch_manager demo user of (or not of) the given branch."""
    for n in (1, 2):
        u = await user(ctx, f"branch_manager{n}@demo.tsh.iq")
        if (u.branch_id == branch_id) is same:
            return u.email
    raise AssertionError("the demo seed has no such branch_manager")
