"""ADM-02..09: users, their status, password reset, role and permission overrides."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from tsh.bff.apps.admin import ADMINS, app
from tsh.bff.apps.hr.people import EmployeeIn
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Id, Page, Phone, Text, decode_cursor, page
from tsh.bff.views import Named, RowId, Timestamp, View
from tsh.bff.views import Page as PageOf
from tsh.domain.administration.staff import create_user_with_employee
from tsh.domain.identity.admin_views import list_position, user_detail, user_list
from tsh.domain.identity.administration import (
    IssuedLink,
    admin_password_reset,
    change_role,
    create_user,
    replace_overrides,
    set_status,
    update_user,
)
from tsh.domain.identity.rbac import ROLE_CODES

RoleCode = Literal[ROLE_CODES]  # type: ignore[valid-type]
Language = Literal["ar", "en"]
Reason = Field(min_length=1, max_length=500)
# The same shape the sign-up accepts (tsh.api.auth); the service lower-cases it.
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", max_length=254)]
USER_EVENTS = ("UserChanged", "UserRoleChanged")


class UserRow(View):
    id: RowId
    name: str
    email: str
    phone: str | None
    role: str
    branch: Named | None
    status: Literal["active", "disabled"]
    locked: bool
    last_login_at: Timestamp | None


class UsersQuery(Page):
    q: str | None = Field(default=None, min_length=1, max_length=100)
    role: RoleCode | None = None
    branch_id: Id | None = None
    status: Literal["active", "disabled"] | None = None


@app.screen(
    "ADM-02",
    "/users",
    roles=ADMINS,
    scope="all",
    cache="people",
    events=USER_EVENTS,
    response=PageOf[UserRow],
)
async def users(call: Call, *, query: UsersQuery) -> dict[str, Any]:
    """User list: name, email, role, branch, status, locked flag, last login."""
    rows = await user_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        role=query.role,
        branch_id=query.branch_id,
        status=query.status,
    )
    return page(rows, query.limit, lambda r: list_position("users", n=r["name"], i=r["id"]))


class RoleRef(View):
    id: RowId
    code: str
    description: str


class EffectivePermission(View):
    code: str
    module: str
    source: Literal["role", "override"]


class OverrideOut(View):
    permission_code: str
    effect: Literal["grant", "deny"]


class Links(View):
    employee: Named | None
    customer: Named | None
    partner: Named | None


class ActionRow(View):
    id: RowId
    at: Timestamp
    app: str | None
    action: str
    entity_type: str | None
    entity_id: int | None


class RoleChange(View):
    at: Timestamp
    by: Named | None
    from_role: str | None
    to_role: str | None
    reason: str | None


class UserDetail(View):
    id: RowId
    name: str
    email: str
    phone: str | None
    language: str
    status: Literal["active", "disabled"]
    locked: bool
    created_at: Timestamp
    last_login_at: Timestamp | None
    role: RoleRef
    branch: Named | None
    permission_version: int
    permissions: list[EffectivePermission]
    overrides: list[OverrideOut]
    links: Links
    recent_actions: list[ActionRow]
    role_history: list[RoleChange]


@app.screen(
    "ADM-03",
    "/users/{id}",
    roles=ADMINS,
    scope="all",
    cache="people",
    events=USER_EVENTS,
    errors=("USER_NOT_FOUND",),
    response=UserDetail,
)
async def user(call: Call, *, id: int) -> dict[str, Any]:
    """User detail: profile, role, effective permissions with their source, links, last 20 actions."""
    return await user_detail(call.session, call.actor, user_id=id)


class NewUser(Body):
    name: Text
    email: Email
    phone: Phone | None = None
    role: RoleCode
    branch_id: Id | None = None
    language: Language | None = None
    employee_id: Id | None = None
    customer_id: Id | None = None
    partner_id: Id | None = None
    # HR-05's fields: hire the employee and create its user in one call (instead of employee_id).
    employee: EmployeeIn | None = None


class LinkOut(View):
    url: str
    channel: Literal["email", "sms"]
    notification_id: RowId
    valid_hours: int


class CreatedUser(View):
    user: UserDetail
    setup_link: LinkOut


def _link(link: IssuedLink) -> dict[str, Any]:
    return {
        "url": link.url,
        "channel": link.channel,
        "notification_id": link.notification_id,
        "valid_hours": 24,
    }


@app.action(
    "ADM-04",
    "POST",
    "/users",
    roles=ADMINS,
    scope="all",
    events=("UserChanged",),
    idempotency="required",
    audit_entity="user",
    errors=(
        "EMAIL_TAKEN",
        "BRANCH_REQUIRED",
        "BRANCH_NOT_FOUND",
        "LINK_REQUIRED",
        "ALREADY_LINKED",
        "NATIONAL_ID_TAKEN",
    ),
    response=CreatedUser,
)
async def create(call: Call, *, body: NewUser) -> Created:
    """Creates a user with role and branch and sends a one-time setup link.

    With `employee` (HR-05's fields) the employee is hired in the same call and linked.
    """
    fields = body.model_dump(exclude={"employee"})
    if body.employee is None:
        user, link = await create_user(call.session, call.actor, **fields)
    else:
        user, link = await create_user_with_employee(
            call.session, call.actor, employee=body.employee.hire_fields(), **fields
        )
    after = body.model_dump(mode="json", exclude_none=True)
    call.audit("user", user.id, after=after)
    # The link is shown once to the admin who asked (the outbox keeps it for the sender).
    return Created(
        {"user": await user_detail(call.session, call.actor, user_id=user.id), "setup_link": _link(link)}
    )


class UserChanges(Body):
    name: Text | None = None
    email: Email | None = None
    phone: Phone | None = None
    branch_id: Id | None = None
    language: Language | None = None


@app.action(
    "ADM-05",
    "PATCH",
    "/users/{id}",
    roles=ADMINS,
    scope="all",
    events=("UserChanged",),
    idempotency="optional",
    audit_entity="user",
    errors=("USER_NOT_FOUND", "EMAIL_TAKEN", "BRANCH_REQUIRED", "BRANCH_NOT_FOUND"),
    response=UserDetail,
)
async def update(call: Call, *, body: UserChanges, id: int) -> dict[str, Any]:
    """Updates a user's name, email, phone, branch or language."""
    changes = body.model_dump(include=body.model_fields_set)
    user, before = await update_user(call.session, call.actor, user_id=id, changes=changes)
    call.audit("user", user.id, before=before, after={k: changes[k] for k in before})
    return await user_detail(call.session, call.actor, user_id=user.id)


class StatusChange(Body):
    status: Literal["active", "disabled"]
    reason: str = Reason


@app.action(
    "ADM-06",
    "PUT",
    "/users/{id}/status",
    roles=ADMINS,
    scope="all",
    events=("UserChanged", "SessionChanged"),
    idempotency="optional",
    audit_entity="user",
    errors=("USER_NOT_FOUND", "SELF_DISABLE", "LAST_ADMIN"),
    response=UserDetail,
)
async def status(call: Call, *, body: StatusChange, id: int) -> dict[str, Any]:
    """Enables or disables a user; disabling revokes every session at once."""
    user, old = await set_status(call.session, call.actor, user_id=id, status=body.status, reason=body.reason)
    call.audit("user", user.id, before={"status": old}, after={"status": user.status, "reason": body.reason})
    return await user_detail(call.session, call.actor, user_id=user.id)


class ResetRequest(Body):
    channel: Literal["email", "sms"]


class ResetOut(View):
    user_id: RowId
    sessions_revoked: int
    reset_link: LinkOut


@app.action(
    "ADM-07",
    "POST",
    "/users/{id}/password-reset",
    roles=ADMINS,
    scope="all",
    events=("UserChanged", "SessionChanged"),
    idempotency="required",
    audit_entity="user",
    errors=("USER_NOT_FOUND", "USER_DISABLED"),
    response=ResetOut,
)
async def password_reset(call: Call, *, body: ResetRequest, id: int) -> dict[str, Any]:
    """Invalidates the password, revokes all sessions and sends a one-time reset link valid 24 hours."""
    user, link, revoked = await admin_password_reset(
        call.session, call.actor, user_id=id, channel=body.channel
    )
    call.audit(
        "user", user.id, after={"password": "reset", "channel": body.channel, "sessions_revoked": revoked}
    )
    return {"user_id": user.id, "sessions_revoked": revoked, "reset_link": _link(link)}


class RoleChangeBody(Body):
    role: RoleCode
    branch_id: Id | None = None
    reason: str = Reason


@app.action(
    "ADM-08",
    "PUT",
    "/users/{id}/role",
    roles=ADMINS,
    scope="all",
    events=("UserRoleChanged", "SessionChanged"),
    idempotency="optional",
    audit_entity="user",
    errors=(
        "USER_NOT_FOUND",
        "LAST_ADMIN",
        "SELF_ROLE_CHANGE",
        "LINK_REQUIRED",
        "BRANCH_REQUIRED",
        "BRANCH_NOT_FOUND",
        "ALREADY_LINKED",
    ),
    response=UserDetail,
)
async def role(call: Call, *, body: RoleChangeBody, id: int) -> dict[str, Any]:
    """Changes a user's role (and branch if needed); the user's sessions are revoked."""
    user, before = await change_role(
        call.session,
        call.actor,
        user_id=id,
        role=body.role,
        branch_id=body.branch_id,
        branch_given="branch_id" in body.model_fields_set,
        reason=body.reason,
    )
    after = {"role": body.role, "branch_id": user.branch_id, "reason": body.reason}
    call.audit("user", user.id, before=before, after=after)
    return await user_detail(call.session, call.actor, user_id=user.id)


class OverrideIn(Body):
    permission_code: str = Field(min_length=1, max_length=64)
    effect: Literal["grant", "deny"]


class OverridesBody(Body):
    overrides: list[OverrideIn] = Field(max_length=200)
    reason: str = Reason


@app.action(
    "ADM-09",
    "PUT",
    "/users/{id}/permissions",
    roles=ADMINS,
    scope="all",
    events=("UserRoleChanged",),
    idempotency="optional",
    audit_entity="user",
    errors=("USER_NOT_FOUND", "UNKNOWN_PERMISSION", "ADMIN_HAS_ALL"),
    response=UserDetail,
)
async def permissions(call: Call, *, body: OverridesBody, id: int) -> dict[str, Any]:
    """Replaces a user's permission overrides (grants or denials on top of the role)."""
    pairs = [(o.permission_code, o.effect) for o in body.overrides]
    user, before = await replace_overrides(
        call.session, call.actor, user_id=id, overrides=pairs, reason=body.reason
    )
    after = {
        "overrides": [{"permission_code": c, "effect": e} for c, e in sorted(pairs)],
        "reason": body.reason,
    }
    call.audit("user", user.id, before={"overrides": before}, after=after)
    return await user_detail(call.session, call.actor, user_id=user.id)
