"""Who may do what (SEC-17/18), read-only: derived from role permission sets and user overrides.

Only the admin app changes them (ADM-08/09/12); those actions raise UserRoleChanged, which drops
these cached screens. A user's role history is read from the audit trail (every role change is an
audited ADM-08 action with its before/after values), so no second history table can drift.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.identity.listing import iso
from tsh.domain.identity.models import (
    AuditLog,
    Permission,
    Role,
    RolePermission,
    User,
    UserPermissionOverride,
)
from tsh.domain.identity.rbac import ADMIN, ROLE_CODES
from tsh.platform.errors import NotFound

ROLE_CHANGE_ACTIONS = ("ADM-08",)
PERMISSION_CHANGE_ACTIONS = ("ADM-08", "ADM-09", "ADM-12")


async def permissions_matrix(session: AsyncSession, actor: Actor, *, module: str | None) -> dict[str, Any]:
    """Roles × permissions grouped by module; admin always holds every permission."""
    roles = list((await session.execute(select(Role.id, Role.code))).all())
    roles.sort(key=lambda r: ROLE_CODES.index(r[1]) if r[1] in ROLE_CODES else len(ROLE_CODES))
    perm_stmt = select(Permission.id, Permission.code, Permission.module, Permission.description)
    if module:
        perm_stmt = perm_stmt.where(Permission.module == module)
    permissions = list((await session.execute(perm_stmt.order_by(Permission.module, Permission.code))).all())
    grants: dict[int, set[str]] = {}
    granted = await session.execute(
        select(RolePermission.permission_id, Role.code).join(Role, Role.id == RolePermission.role_id)
    )
    for permission_id, role_code in granted:
        grants.setdefault(permission_id, set()).add(role_code)
    overrides = dict(
        (
            await session.execute(
                select(UserPermissionOverride.permission_id, func.count()).group_by(
                    UserPermissionOverride.permission_id
                )
            )
        ).all()
    )
    modules: dict[str, list[dict[str, Any]]] = {}
    for pid, code, mod, description in permissions:
        holders = grants.get(pid, set())
        modules.setdefault(mod, []).append(
            {
                "code": code,
                "description": description,
                "grants": {r[1]: (r[1] == ADMIN or r[1] in holders) for r in roles},
                "user_overrides": int(overrides.get(pid, 0)),
            }
        )
    return {
        "roles": [{"id": rid, "code": code} for rid, code in roles],
        "modules": [{"module": mod, "permissions": perms} for mod, perms in modules.items()],
    }


async def user_permissions(session: AsyncSession, actor: Actor, *, user_id: int) -> dict[str, Any]:
    """A user's effective permissions with their source. 404 USER_NOT_FOUND."""
    found = (
        await session.execute(
            select(User.id, User.name, User.email, User.status, User.permission_version, Role.id, Role.code)
            .join(Role, Role.id == User.role_id)
            .where(User.id == user_id)
        )
    ).first()
    if found is None:
        raise NotFound("No such user", code="USER_NOT_FOUND")
    uid, name, email, status, version, role_id, role_code = found
    all_perms = {
        code: module for code, module in await session.execute(select(Permission.code, Permission.module))
    }
    from_role = set(
        await session.scalars(
            select(Permission.code)
            .join(RolePermission, RolePermission.permission_id == Permission.id)
            .where(RolePermission.role_id == role_id)
        )
    )
    if role_code == ADMIN:
        from_role = set(all_perms)
    overrides = {
        code: (effect, reason)
        for code, effect, reason in await session.execute(
            select(Permission.code, UserPermissionOverride.effect, UserPermissionOverride.reason)
            .join(UserPermissionOverride, UserPermissionOverride.permission_id == Permission.id)
            .where(UserPermissionOverride.user_id == uid)
        )
    }
    effective: list[dict[str, Any]] = []
    denied: list[dict[str, Any]] = []
    for code in sorted(all_perms):
        effect, reason = overrides.get(code, (None, None))
        if role_code != ADMIN and effect == "deny":
            if code in from_role:
                denied.append(
                    {"code": code, "module": all_perms[code], "source": "override", "reason": reason}
                )
            continue
        if code in from_role:
            effective.append({"code": code, "module": all_perms[code], "source": "role", "reason": None})
        elif effect == "grant" and role_code != ADMIN:
            effective.append(
                {"code": code, "module": all_perms[code], "source": "override", "reason": reason}
            )
    history = await session.execute(
        select(AuditLog.at, AuditLog.actor_id, AuditLog.before, AuditLog.after)
        .where(
            AuditLog.entity_type == "user",
            AuditLog.entity_id == uid,
            AuditLog.action.in_(ROLE_CHANGE_ACTIONS),
            AuditLog.decision == "allowed",
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(50)
    )
    last_change = await session.scalar(
        select(func.max(AuditLog.at)).where(
            AuditLog.entity_type == "user",
            AuditLog.entity_id == uid,
            AuditLog.action.in_(PERMISSION_CHANGE_ACTIONS),
            AuditLog.decision == "allowed",
        )
    )
    return {
        "user": {"id": uid, "name": name, "email": email, "status": status},
        "role": role_code,
        "permission_version": version,
        "permissions": effective,
        "denied_by_override": denied,
        "role_history": [
            {
                "at": iso(at),
                "by": by,
                "from_role": (before or {}).get("role"),
                "to_role": (after or {}).get("role"),
            }
            for at, by, before, after in history
        ],
        "last_permission_change_at": iso(last_change),
    }
