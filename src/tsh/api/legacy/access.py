"""Who may read a resource and which rows: one scope rule per resource kind (core.md §0, §2).

`Access.roles` maps a role (or `staff` = every staff role) to its scope; admin always reads
with scope `all`. A role not listed gets 403; a row outside the caller's scope is 404, and so is a
filter naming an owner outside it (core.md §0 "scope").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.identity.models import Role, User
from tsh.domain.identity.rbac import STAFF_ROLES
from tsh.platform.auth.principal import Principal, Scope
from tsh.platform.errors import Forbidden, NotFound

OwnRule = Callable[[Principal], ColumnElement[bool]]
BranchRule = Callable[[int], ColumnElement[bool]]


@dataclass(frozen=True)
class Access:
    roles: Mapping[str, Scope] = field(default_factory=dict)
    own: OwnRule | None = None
    branch: BranchRule | None = None
    # The users FK that owner filters (e.g. ?salesperson_id=) name; checked against the scope.
    owner: str | None = None
    # The role a user must hold to be set as that owner by a write (customers: a salesperson).
    owner_role: str | None = None
    owner_code: str = "NOT_FOUND"

    def scope_for(self, principal: Principal) -> Scope:
        if principal.is_admin:
            return "all"
        scope = self.roles.get(principal.role)
        if scope is None and principal.role in STAFF_ROLES:
            scope = self.roles.get("staff")
        if scope is None:
            scope = self.roles.get("*")
        if scope is None:
            raise Forbidden()
        return scope

    def clause(self, principal: Principal, scope: Scope) -> ColumnElement[bool] | None:
        if scope == "all":
            return None
        if scope == "own":
            assert self.own is not None, "an own scope needs an own rule"
            return self.own(principal)
        assert self.branch is not None, "a branch scope needs a branch rule"
        return false() if principal.branch_id is None else self.branch(principal.branch_id)

    async def check_owner(
        self, session: AsyncSession, principal: Principal, scope: Scope, owner_id: int
    ) -> None:
        """404 when a filter names an owner (a user) outside the caller's scope."""
        if scope == "own" and owner_id != principal.user_id:
            raise NotFound()
        if scope == "branch":
            branch = await session.scalar(select(User.branch_id).where(User.id == owner_id))
            if principal.branch_id is None or branch != principal.branch_id:
                raise NotFound()

    async def check_owner_write(
        self, session: AsyncSession, principal: Principal, scope: Scope, data: dict[str, Any]
    ) -> None:
        """404 when a write names as owner a user outside the caller's write scope, or one who
        does not hold the owner role: a write may not move a row into a list the caller does not
        see (the same answer as SAL-04's salesperson_id)."""
        owner_id = data.get(self.owner) if self.owner is not None else None
        if owner_id is None:
            return
        found = (
            await session.execute(
                select(User.branch_id, Role.code)
                .join(Role, Role.id == User.role_id)
                .where(User.id == owner_id)
            )
        ).one_or_none()
        refused = (
            found is None
            or (self.owner_role is not None and found.code != self.owner_role)
            or (scope == "own" and owner_id != principal.user_id)
            or (scope == "branch" and (principal.branch_id is None or found.branch_id != principal.branch_id))
        )
        if refused:
            raise NotFound("The named owner was not found", code=self.owner_code)


# -- rule builders ---------------------------------------------------------------------------


def is_caller(column: Any) -> OwnRule:
    """Rows whose `column` is the calling user."""
    return lambda p: column == p.user_id


def in_branch(column: Any) -> BranchRule:
    """Rows whose own `column` is the branch."""
    return lambda b: column == b


def via_branch(column: Any, target: type[Any]) -> BranchRule:
    """Rows whose `column` points to a `target` row of the branch (e.g. a warehouse, a user)."""
    return lambda b: column.in_(select(target.id).where(target.branch_id == b))


def either(*rules: BranchRule) -> BranchRule:
    """Rows matching any of the branch rules (a transfer of the branch at either end)."""
    return lambda b: or_(*(rule(b) for rule in rules))


def is_employee(column: Any) -> OwnRule:
    """Rows of the caller's own Employee record (`employee` rows of the HR app); none without one."""
    return lambda p: false() if p.employee_id is None else column == p.employee_id
