"""SEC-17 permissions matrix, SEC-18 a user's permissions, SEC-19/20 security policies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.security import OFFICERS, app
from tsh.bff.call import Call
from tsh.bff.schemas import Body, Query
from tsh.bff.views import RowId, Timestamp, View
from tsh.domain.identity.permission_views import permissions_matrix, user_permissions
from tsh.domain.identity.policy_changes import all_policies, replace_policy


class MatrixQuery(Query):
    module: str | None = Field(default=None, max_length=32)


class RoleRef(View):
    id: RowId
    code: str


class MatrixPermission(View):
    code: str
    description: str
    grants: dict[str, bool]
    user_overrides: int


class MatrixModule(View):
    module: str
    permissions: list[MatrixPermission]


class Matrix(View):
    roles: list[RoleRef]
    modules: list[MatrixModule]


@app.screen(
    "SEC-17",
    "/permissions-matrix",
    roles=OFFICERS,
    scope="all",
    cache="reference",
    events=("UserRoleChanged",),
    response=Matrix,
)
async def matrix(call: Call, *, query: MatrixQuery) -> dict[str, Any]:
    """Roles × permissions grouped by module, with the number of user overrides per permission."""
    return await permissions_matrix(call.session, call.actor, module=query.module)


class UserRef(View):
    id: RowId
    name: str
    email: str
    status: str


class Granted(View):
    code: str
    module: str
    source: Literal["role", "override"]
    reason: str | None


class RoleChange(View):
    at: Timestamp
    by: int | None
    from_role: str | None
    to_role: str | None


class UserPermissions(View):
    user: UserRef
    role: str
    permission_version: int
    permissions: list[Granted]
    denied_by_override: list[Granted]
    role_history: list[RoleChange]
    last_permission_change_at: Timestamp | None


@app.screen(
    "SEC-18",
    "/users/{id}/permissions",
    roles=OFFICERS,
    scope="all",
    cache="reference",
    events=("UserRoleChanged", "UserChanged"),
    errors=("USER_NOT_FOUND",),
    response=UserPermissions,
)
async def of_user(call: Call, *, id: int) -> dict[str, Any]:
    """A user's effective permissions with their source, role history and last change."""
    return await user_permissions(call.session, call.actor, user_id=id)


class Section(View):
    values: dict[str, Any]
    updated_at: Timestamp | None
    updated_by_id: int | None


class SessionSection(Section):
    effective: dict[str, int]


class Policies(View):
    password: Section
    lockout: Section
    session: SessionSection


@app.screen("SEC-19", "/policies", roles=OFFICERS, scope="all", cache="none", response=Policies)
async def policies(call: Call) -> dict[str, Any]:
    """Password, lockout and session policies, with what the server applies."""
    return await all_policies(call.session, call.actor, call.ctx.settings)


class PolicyReplacement(Body):
    section: Literal["password", "lockout", "session"]
    values: dict[str, Any] = Field(max_length=20)


class Replaced(Policies):
    sessions_revoked: int


@app.action(
    "SEC-20",
    "PUT",
    "/policies",
    roles=OFFICERS,
    scope="all",
    events=("SecurityEventRecorded", "SessionChanged"),
    idempotency="optional",
    audit_entity="security_policy",
    errors=("POLICY_TOO_WEAK",),
    response=Replaced,
)
async def replace(call: Call, *, body: PolicyReplacement) -> dict[str, Any]:
    """Replaces one policy section; applies to new logins at once, shorter limits revoke sessions."""
    before = await all_policies(call.session, call.actor, call.ctx.settings)
    revoked = await replace_policy(
        call.session, call.actor, call.ctx.settings, section=body.section, values=body.values
    )
    after = await all_policies(call.session, call.actor, call.ctx.settings)
    call.audit(
        "security_policy",
        None,
        before={"section": body.section, **before[body.section]["values"]},
        after={"section": body.section, **after[body.section]["values"], "sessions_revoked": revoked},
    )
    return {**after, "sessions_revoked": revoked}
