"""Who is calling a domain service: the one type every service takes.

An `Actor` is the authenticated user (role, branch, the employee / customer / partner records
linked to it) together with the scope the endpoint grants that role: `own` (rows belonging to
the caller), `branch` (the caller's branch) or `all`. Services check scope first: a row outside it
is a 404, never a 403 (the role check happened before the service was called).

BFF handlers get it as `call.actor`, the legacy API builds it from the same principal, and jobs,
the seed and the CLI use `Actor.system()`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tsh.platform.auth.principal import Principal, Scope

SYSTEM_ROLE = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    role: str
    scope: Scope
    branch_id: int | None = None
    employee_id: int | None = None
    customer_id: int | None = None
    partner_id: int | None = None
    language: str = "en"
    permissions: frozenset[str] = frozenset()

    @classmethod
    def of(cls, principal: Principal, scope: Scope) -> Actor:
        return cls(
            user_id=principal.user_id,
            role=principal.role,
            scope=scope,
            branch_id=principal.branch_id,
            employee_id=principal.employee_id,
            customer_id=principal.customer_id,
            partner_id=principal.partner_id,
            language=principal.language,
            permissions=principal.permissions,
        )

    @classmethod
    def system(cls, user_id: int = 0) -> Actor:
        """Scheduled jobs, the seed and the CLI: company-wide, acting as `user_id` (0 = nobody)."""
        return cls(user_id=user_id, role=SYSTEM_ROLE, scope="all")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE

    @property
    def sees_all(self) -> bool:
        return self.scope == "all"

    def with_scope(self, scope: Scope) -> Actor:
        return replace(self, scope=scope)

    def in_branch(self, branch_id: int | None) -> bool:
        """Whether a row of `branch_id` is inside a `branch` (or wider) scope of this actor."""
        return self.scope == "all" or (branch_id is not None and branch_id == self.branch_id)
