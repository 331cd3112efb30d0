"""Who sees which employees (apps/hr.md scope column) and the small helpers every HR screen shares.

`all` (hr_manager, accountant, admin): every employee; `branch` (branch_manager): employees of the
caller's branch; `own` (any staff user linked to an Employee): the caller's own record. A row
outside the scope is a 404, never a 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.hr.models import Department, Employee
from tsh.domain.identity.models import Media, User
from tsh.domain.organisation.models import Branch
from tsh.platform.errors import Invalid, NotFound, field_error


def employee_not_found() -> NotFound:
    return NotFound("Employee not found", code="EMPLOYEE_NOT_FOUND")


def profile_missing() -> NotFound:
    return NotFound("You have no employee record", code="EMPLOYEE_PROFILE_MISSING")


def own_employee_id(actor: Actor) -> int:
    """The caller's Employee id (404 EMPLOYEE_PROFILE_MISSING when the user has none)."""
    if actor.employee_id is None:
        raise profile_missing()
    return actor.employee_id


def employee_scope(actor: Actor) -> ColumnElement[bool]:
    """The condition on Employee for the rows inside the actor's scope."""
    if actor.sees_all:
        return true()
    if actor.scope == "branch":
        return Employee.branch_id == actor.branch_id if actor.branch_id is not None else false()
    return Employee.id == actor.employee_id if actor.employee_id is not None else false()


async def scoped_employee(
    session: AsyncSession, actor: Actor, employee_id: int, *, lock: bool = False
) -> Employee:
    """The employee if inside the actor's scope (404 EMPLOYEE_NOT_FOUND otherwise)."""
    stmt = select(Employee).where(Employee.id == employee_id, employee_scope(actor))
    if lock:
        stmt = stmt.with_for_update()
    employee = await session.scalar(stmt)
    if employee is None:
        raise employee_not_found()
    return employee


def check_range(date_from: dt.date, date_to: dt.date, max_days: int) -> None:
    """422 INVALID_DATES for a reversed range, 422 RANGE_TOO_LONG above `max_days` days."""
    if date_to < date_from:
        raise Invalid(
            "The range ends before it starts",
            code="INVALID_DATES",
            details=[field_error("to", "before from")],
        )
    if (date_to - date_from).days + 1 > max_days:
        raise Invalid(
            f"The range is longer than {max_days} days",
            code="RANGE_TOO_LONG",
            details=[field_error("to", f"at most {max_days} days", max_days=max_days)],
        )


def person(row: Any) -> dict[str, Any]:
    """An employee reference on the wire: {id, code, name, name_ar}."""
    return {"id": row.id, "code": row.code, "name": row.name_en, "name_ar": row.name_ar}


async def names(
    session: AsyncSession,
    *,
    employees: set[int | None] = frozenset(),  # type: ignore[assignment]
    departments: set[int | None] = frozenset(),  # type: ignore[assignment]
    branches: set[int | None] = frozenset(),  # type: ignore[assignment]
    users: set[int | None] = frozenset(),  # type: ignore[assignment]
) -> dict[str, dict[int, dict[str, Any]]]:
    """References by id for the rows of one screen, in one query per kind (no N+1)."""
    out: dict[str, dict[int, dict[str, Any]]] = {
        "employees": {},
        "departments": {},
        "branches": {},
        "users": {},
    }
    ids = {
        k: {i for i in v if i is not None}
        for k, v in (("e", employees), ("d", departments), ("b", branches), ("u", users))
    }
    if ids["e"]:
        for r in await session.execute(
            select(Employee.id, Employee.code, Employee.name_en, Employee.name_ar).where(
                Employee.id.in_(ids["e"])
            )
        ):
            out["employees"][r.id] = person(r)
    if ids["d"]:
        for d in await session.execute(
            select(Department.id, Department.name_en).where(Department.id.in_(ids["d"]))
        ):
            out["departments"][d.id] = {"id": d.id, "name": d.name_en}
    if ids["b"]:
        for b in await session.execute(select(Branch.id, Branch.name_en).where(Branch.id.in_(ids["b"]))):
            out["branches"][b.id] = {"id": b.id, "name": b.name_en}
    if ids["u"]:
        for u in await session.execute(select(User.id, User.name).where(User.id.in_(ids["u"]))):
            out["users"][u.id] = {"id": u.id, "name": u.name}
    return out


def after_id(after: dict[str, Any] | None) -> int | None:
    """The id of a cursor built as {"i": id} (422 for a cursor of another list)."""
    if after is None:
        return None
    try:
        return int(after["i"])
    except (KeyError, TypeError, ValueError):
        raise Invalid(
            "The cursor is not valid", details=[field_error("cursor", "not for this list")]
        ) from None


async def check_media(session: AsyncSession, actor: Actor, media_id: int | None, field: str) -> None:
    """422 unless `media_id` is an upload of the caller (a selfie, a medical note)."""
    if media_id is None:
        return
    found = await session.scalar(
        select(Media.id).where(Media.id == media_id, Media.uploaded_by_id == actor.user_id)
    )
    if found is None:
        raise Invalid("Unknown media", details=[field_error(field, "unknown media")])
