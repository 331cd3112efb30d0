"""From a verified access token to the caller: the per-request session and permission check.

Runs on every authenticated request, so it is two indexed queries: the session with its user,
role and employee link, then the permission codes (skipped for admin, who holds them all).
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.identity.links import employees
from tsh.domain.identity.models import (
    Permission,
    Role,
    RolePermission,
    User,
    UserPermissionOverride,
    UserSession,
)
from tsh.domain.identity.rbac import ADMIN, ALL_PERMISSIONS, effective_permissions
from tsh.platform.auth.principal import Principal
from tsh.platform.auth.tokens import AccessClaims
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Unauthorized


async def load_permissions(
    session: AsyncSession, *, user_id: int, role_id: int, role_code: str
) -> frozenset[str]:
    """Effective permissions from the stored role set and the user's overrides (ADM-09, ADM-12)."""
    if role_code == ADMIN:
        return ALL_PERMISSIONS
    role_part = (
        select(Permission.code, literal("role").label("source"))
        .join(RolePermission, RolePermission.permission_id == Permission.id)
        .where(RolePermission.role_id == role_id)
    )
    override_part = (
        select(Permission.code, UserPermissionOverride.effect.label("source"))
        .join(UserPermissionOverride, UserPermissionOverride.permission_id == Permission.id)
        .where(UserPermissionOverride.user_id == user_id)
    )
    rows = (await session.execute(role_part.union_all(override_part))).all()
    from_role = [code for code, source in rows if source == "role"]
    overrides = [(code, source) for code, source in rows if source != "role"]
    return effective_permissions(from_role, overrides, role_code=role_code)


async def resolve_principal(session: AsyncSession, settings: Settings, claims: AccessClaims) -> Principal:
    """The caller of a request, from current database state rather than the token's snapshot.

    401 SESSION_REVOKED when the session is unknown, revoked or expired, or the user disabled;
    401 TOKEN_EXPIRED when the permission version moved on (role, override or role-permission
    change), so the app refreshes and gets a token with the new permissions. Role and branch come
    from the user row, so a branch change applies on the next request (ADM-05).
    """
    employee_id = select(employees.c.id).where(employees.c.user_id == User.id).limit(1).scalar_subquery()
    row = (
        await session.execute(
            select(
                UserSession.revoked_at,
                UserSession.expires_at,
                UserSession.app,
                User.status,
                User.permission_version,
                User.branch_id,
                User.language,
                User.customer_id,
                User.partner_id,
                User.role_id,
                Role.code,
                employee_id,
            )
            .join(User, User.id == UserSession.user_id)
            .join(Role, Role.id == User.role_id)
            .where(UserSession.id == claims.session_id, UserSession.user_id == claims.user_id)
        )
    ).first()
    if row is None:
        raise Unauthorized("The session has been revoked", code="SESSION_REVOKED")
    (
        revoked_at,
        expires_at,
        app,
        status,
        permission_version,
        branch_id,
        language,
        customer_id,
        partner_id,
        role_id,
        role_code,
        employee,
    ) = row
    if revoked_at is not None or expires_at <= utcnow() or status != "active":
        raise Unauthorized("The session has been revoked", code="SESSION_REVOKED")
    if claims.permission_version != permission_version:
        raise Unauthorized("Permissions changed; refresh the access token", code="TOKEN_EXPIRED")

    return Principal(
        user_id=claims.user_id,
        role=role_code,
        branch_id=branch_id,
        session_id=claims.session_id,
        permission_version=permission_version,
        permissions=await load_permissions(
            session, user_id=claims.user_id, role_id=role_id, role_code=role_code
        ),
        language=language,
        customer_id=customer_id,
        partner_id=partner_id,
        employee_id=employee,
        app=app,
    )
