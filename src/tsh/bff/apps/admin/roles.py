"""ADM-10..13: the 15 fixed roles, their permission sets and the permission catalogue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.admin import ADMINS, app
from tsh.bff.call import Call
from tsh.bff.schemas import Body, Query
from tsh.bff.views import Named, RowId, View
from tsh.domain.apps import APPS
from tsh.domain.identity.admin_views import permission_catalogue, role_detail, role_list
from tsh.domain.identity.administration import replace_role_permissions

ROLE_EVENTS = ("UserRoleChanged", "UserChanged")
Module = Literal[APPS]  # type: ignore[valid-type]


class RoleRow(View):
    id: RowId
    code: str
    description: str
    default_scope: Literal["own", "branch", "all"]
    users: int
    permissions: int


class RoleList(View):
    items: list[RoleRow]


@app.screen(
    "ADM-10", "/roles", roles=ADMINS, scope="all", cache="reference", events=ROLE_EVENTS, response=RoleList
)
async def roles(call: Call) -> dict[str, Any]:
    """The 15 fixed roles: code, description, number of users, number of permissions."""
    return {"items": await role_list(call.session, call.actor)}


class PermissionRef(View):
    code: str
    description: str


class ModulePermissions(View):
    module: str
    permissions: list[PermissionRef]


class Holder(View):
    id: RowId
    name: str
    email: str
    status: Literal["active", "disabled"]
    branch: Named | None


class RoleDetail(View):
    id: RowId
    code: str
    description: str
    default_scope: Literal["own", "branch", "all"]
    locked: bool
    modules: list[ModulePermissions]
    users_total: int
    users: list[Holder]


@app.screen(
    "ADM-11",
    "/roles/{id}",
    roles=ADMINS,
    scope="all",
    cache="reference",
    events=ROLE_EVENTS,
    errors=("ROLE_NOT_FOUND",),
    response=RoleDetail,
)
async def role(call: Call, *, id: int) -> dict[str, Any]:
    """Role detail: granted permissions grouped by module, default data scope, first 50 users."""
    return await role_detail(call.session, call.actor, role_id=id)


class RolePermissions(Body):
    permission_codes: list[str] = Field(max_length=500)
    reason: str = Field(min_length=1, max_length=500)


@app.action(
    "ADM-12",
    "PUT",
    "/roles/{id}/permissions",
    roles=ADMINS,
    scope="all",
    events=("UserRoleChanged",),
    idempotency="optional",
    audit_entity="role",
    errors=("ROLE_NOT_FOUND", "ADMIN_ROLE_LOCKED", "UNKNOWN_PERMISSION"),
    response=RoleDetail,
)
async def set_permissions(call: Call, *, body: RolePermissions, id: int) -> dict[str, Any]:
    """Replaces the permission set of a role; takes effect on the next request of every holder."""
    row, before, after = await replace_role_permissions(
        call.session, call.actor, role_id=id, codes=body.permission_codes, reason=body.reason
    )
    call.audit(
        "role",
        row.id,
        before={"permission_codes": before},
        after={"permission_codes": after, "reason": body.reason},
    )
    return await role_detail(call.session, call.actor, role_id=row.id)


class CatalogueQuery(Query):
    module: Module | None = None


class PermissionRow(View):
    code: str
    module: str
    description: str
    roles: list[str]


class Catalogue(View):
    items: list[PermissionRow]


@app.screen(
    "ADM-13",
    "/permissions",
    roles=ADMINS,
    scope="all",
    cache="reference",
    events=("UserRoleChanged",),
    response=Catalogue,
)
async def catalogue(call: Call, *, query: CatalogueQuery) -> dict[str, Any]:
    """Permission catalogue: code, module, description, roles holding it (not paginated)."""
    return {"items": await permission_catalogue(call.session, call.actor, module=query.module)}
