"""The caller's after-sales scope, read from the Actor once for every service and query.

`own` (a technician) limits rows to the jobs assigned to the caller's technician record and the
service requests holding such a job; `branch` to the caller's branch; `all` to nothing. The
command services in this package take the resulting `branch_id` / `technician_id` filters so
that a row outside the scope is a 404 before any rule runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.aftersales.models import Technician
from tsh.platform.errors import Invalid, field_error


@dataclass(frozen=True, slots=True)
class Reach:
    branch_id: int | None  # None: every branch
    technician_id: int | None  # set for `own`: only this technician's jobs


async def reach(session: AsyncSession, actor: Actor) -> Reach:
    """The filters of the actor's scope. A technician without a technician record sees nothing
    (technician id 0 matches no row), never everything."""
    if actor.scope == "all":
        return Reach(None, None)
    if actor.scope == "own":
        tech = await session.scalar(
            select(Technician.id).where(Technician.employee_id == (actor.employee_id or 0))
        )
        return Reach(actor.branch_id, tech or 0)
    return Reach(actor.branch_id or 0, None)


def home_branch(actor: Actor, branch_id: int | None = None) -> int:
    """The branch a new request or claim is opened in: the caller's (admin: `branch_id`)."""
    if actor.branch_id is not None:
        return actor.branch_id
    if branch_id is None:
        raise Invalid(details=[field_error("branch_id", "required for a caller without a branch")])
    return branch_id
