"""Read side of the admin app's identity screens (ADM-02, 03, 10, 11, 13, 21, 22): plain dicts.

Set-based: each screen is a fixed number of queries whatever the page size (no N+1). Keyset
positions carry the list's name, so a cursor of another list is a 422, not a wrong page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.identity.links import branches, customers, employee_records, partners
from tsh.domain.identity.models import (
    AuditLog,
    Lockout,
    Permission,
    Role,
    RolePermission,
    User,
    UserPermissionOverride,
)
from tsh.domain.identity.rbac import ADMIN
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, NotFound

ROLE_HISTORY_ACTIONS = ("ADM-08",)
STATUS_ACTIONS = ("ADM-06", "api.users.update")


def _need_all(actor: Actor, code: str = "USER_NOT_FOUND") -> None:
    if not actor.sees_all:
        raise NotFound(code=code)


def list_position(kind: str, **values: Any) -> dict[str, Any]:
    return {"l": kind, **values}


def _after(after: dict[str, Any] | None, kind: str, *fields: str) -> tuple[Any, ...] | None:
    if after is None:
        return None
    if after.get("l") != kind or any(f not in after for f in fields):
        raise Invalid(
            "The cursor is not valid", details=[{"field": "cursor", "issue": "belongs to another list"}]
        )
    return tuple(after[f] for f in fields)


def _locked_now() -> Any:
    now = utcnow()
    return exists().where(
        Lockout.kind == "account",
        or_(Lockout.user_id == User.id, Lockout.email == User.email),
        Lockout.until > now,
        Lockout.lifted_at.is_(None),
    )


def _branch(row_id: int | None, name_en: str | None) -> dict[str, Any] | None:
    return None if row_id is None else {"id": row_id, "name": name_en or ""}


async def user_list(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    q: str | None,
    role: str | None,
    branch_id: int | None,
    status: str | None,
) -> list[dict[str, Any]]:
    """ADM-02: users by name, limit+1 rows for the cursor."""
    _need_all(actor)
    stmt = (
        select(
            User.id,
            User.name,
            User.email,
            User.phone,
            Role.code,
            User.branch_id,
            branches.c.name_en,
            User.status,
            _locked_now().label("locked"),
            User.last_login_at,
        )
        .join(Role, Role.id == User.role_id)
        .outerjoin(branches, branches.c.id == User.branch_id)
    )
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(func.lower(User.name).like(like), User.email.like(like), User.phone.like(f"%{q}%"))
        )
    if role:
        stmt = stmt.where(Role.code == role)
    if branch_id is not None:
        stmt = stmt.where(User.branch_id == branch_id)
    if status:
        stmt = stmt.where(User.status == status)
    key = _after(after, "users", "n", "i")
    if key is not None:
        stmt = stmt.where(or_(User.name > key[0], and_(User.name == key[0], User.id > key[1])))
    rows = await session.execute(stmt.order_by(User.name, User.id).limit(limit + 1))
    return [
        {
            "id": r[0],
            "name": r[1],
            "email": r[2],
            "phone": r[3],
            "role": r[4],
            "branch": _branch(r[5], r[6]),
            "status": r[7],
            "locked": bool(r[8]),
            "last_login_at": r[9],
        }
        for r in rows
    ]


async def _permissions_with_source(session: AsyncSession, user_id: int, role_id: int, role_code: str) -> Any:
    catalogue = (
        await session.execute(select(Permission.code, Permission.module).order_by(Permission.code))
    ).all()
    from_role = set(
        await session.scalars(
            select(Permission.code)
            .join(RolePermission, RolePermission.permission_id == Permission.id)
            .where(RolePermission.role_id == role_id)
        )
    )
    overrides = dict(
        (
            await session.execute(
                select(Permission.code, UserPermissionOverride.effect)
                .join(UserPermissionOverride, UserPermissionOverride.permission_id == Permission.id)
                .where(UserPermissionOverride.user_id == user_id)
            )
        )
        .tuples()
        .all()
    )
    effective = []
    for code, module in catalogue:
        if role_code == ADMIN:
            effective.append({"code": code, "module": module, "source": "role"})
        elif overrides.get(code) == "grant" and code not in from_role:
            effective.append({"code": code, "module": module, "source": "override"})
        elif code in from_role and overrides.get(code) != "deny":
            effective.append({"code": code, "module": module, "source": "role"})
    listed = [{"permission_code": c, "effect": e} for c, e in sorted(overrides.items())]
    return effective, listed


async def user_detail(session: AsyncSession, actor: Actor, *, user_id: int) -> dict[str, Any]:
    """ADM-03: profile, role, effective permissions with their source, links, last actions."""
    _need_all(actor)
    row = (
        await session.execute(
            select(User, Role, branches.c.name_en, _locked_now().label("locked"))
            .join(Role, Role.id == User.role_id)
            .outerjoin(branches, branches.c.id == User.branch_id)
            .where(User.id == user_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such user", code="USER_NOT_FOUND")
    user, role, branch_name, locked = row
    effective, overrides = await _permissions_with_source(session, user.id, role.id, role.code)
    employee = (
        await session.execute(
            select(employee_records.c.id, employee_records.c.name_en).where(
                employee_records.c.user_id == user.id
            )
        )
    ).first()
    customer = None
    if user.customer_id is not None:
        name = await session.scalar(select(customers.c.name).where(customers.c.id == user.customer_id))
        customer = {"id": user.customer_id, "name": name or ""}
    partner = None
    if user.partner_id is not None:
        name = await session.scalar(select(partners.c.name).where(partners.c.id == user.partner_id))
        partner = {"id": user.partner_id, "name": name or ""}
    actions = await session.execute(
        select(
            AuditLog.id, AuditLog.at, AuditLog.app, AuditLog.action, AuditLog.entity_type, AuditLog.entity_id
        )
        .where(AuditLog.actor_id == user.id, AuditLog.decision == "allowed")
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(20)
    )
    history = await session.execute(
        select(AuditLog.at, AuditLog.actor_id, User.name, AuditLog.before, AuditLog.after)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(
            AuditLog.entity_type == "user",
            AuditLog.entity_id == user.id,
            AuditLog.action.in_(ROLE_HISTORY_ACTIONS),
            AuditLog.decision == "allowed",
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(20)
    )
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "language": user.language,
        "status": user.status,
        "locked": bool(locked),
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
        "role": {"id": role.id, "code": role.code, "description": role.description},
        "branch": _branch(user.branch_id, branch_name),
        "permission_version": user.permission_version,
        "permissions": effective,
        "overrides": overrides,
        "links": {
            "employee": None if employee is None else {"id": employee[0], "name": employee[1] or ""},
            "customer": customer,
            "partner": partner,
        },
        "recent_actions": [
            {"id": a[0], "at": a[1], "app": a[2], "action": a[3], "entity_type": a[4], "entity_id": a[5]}
            for a in actions
        ],
        "role_history": [
            {
                "at": h[0],
                "by": None if h[1] is None else {"id": h[1], "name": h[2] or ""},
                "from_role": (h[3] or {}).get("role"),
                "to_role": (h[4] or {}).get("role"),
                "reason": (h[4] or {}).get("reason"),
            }
            for h in history
            if (h[4] or {}).get("role")
        ],
    }


async def _counts_by_role(session: AsyncSession) -> tuple[dict[int, int], dict[int, int], int]:
    users = dict(
        (await session.execute(select(User.role_id, func.count()).group_by(User.role_id))).tuples().all()
    )
    perms = dict(
        (await session.execute(select(RolePermission.role_id, func.count()).group_by(RolePermission.role_id)))
        .tuples()
        .all()
    )
    total = int(await session.scalar(select(func.count()).select_from(Permission)) or 0)
    return users, perms, total


async def role_list(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """ADM-10: the 15 fixed roles with their number of users and permissions."""
    _need_all(actor, "ROLE_NOT_FOUND")
    users, perms, total = await _counts_by_role(session)
    roles = await session.scalars(select(Role).order_by(Role.id))
    return [
        {
            "id": r.id,
            "code": r.code,
            "description": r.description,
            "default_scope": r.default_scope,
            "users": users.get(r.id, 0),
            # admin always holds every permission, whatever its stored rows say.
            "permissions": total if r.code == ADMIN else perms.get(r.id, 0),
        }
        for r in roles
    ]


async def role_detail(session: AsyncSession, actor: Actor, *, role_id: int) -> dict[str, Any]:
    """ADM-11: granted permissions grouped by module, default scope, first 50 holders."""
    _need_all(actor, "ROLE_NOT_FOUND")
    role = await session.get(Role, role_id)
    if role is None:
        raise NotFound("No such role", code="ROLE_NOT_FOUND")
    stmt = select(Permission.code, Permission.module, Permission.description).order_by(
        Permission.module, Permission.code
    )
    if role.code != ADMIN:
        stmt = stmt.join(RolePermission, RolePermission.permission_id == Permission.id).where(
            RolePermission.role_id == role.id
        )
    modules: dict[str, list[dict[str, str]]] = {}
    for code, module, description in await session.execute(stmt):
        modules.setdefault(module, []).append({"code": code, "description": description})
    holders = await session.execute(
        select(User.id, User.name, User.email, User.status, User.branch_id, branches.c.name_en)
        .outerjoin(branches, branches.c.id == User.branch_id)
        .where(User.role_id == role.id)
        .order_by(User.name, User.id)
        .limit(50)
    )
    total = int(
        await session.scalar(select(func.count()).select_from(User).where(User.role_id == role.id)) or 0
    )
    return {
        "id": role.id,
        "code": role.code,
        "description": role.description,
        "default_scope": role.default_scope,
        "locked": role.code == ADMIN,
        "modules": [{"module": m, "permissions": p} for m, p in modules.items()],
        "users_total": total,
        "users": [
            {"id": h[0], "name": h[1], "email": h[2], "status": h[3], "branch": _branch(h[4], h[5])}
            for h in holders
        ],
    }


async def permission_catalogue(
    session: AsyncSession, actor: Actor, *, module: str | None
) -> list[dict[str, Any]]:
    """ADM-13: every permission with the roles holding it (admin holds them all)."""
    _need_all(actor)
    stmt = select(Permission.id, Permission.code, Permission.module, Permission.description).order_by(
        Permission.module, Permission.code
    )
    if module:
        stmt = stmt.where(Permission.module == module)
    rows = (await session.execute(stmt)).all()
    holders: dict[int, list[str]] = {}
    held = await session.execute(
        select(RolePermission.permission_id, Role.code)
        .join(Role, Role.id == RolePermission.role_id)
        .where(Role.code != ADMIN)
        .order_by(Role.id)
    )
    for pid, code in held:
        holders.setdefault(pid, []).append(code)
    return [
        {"code": r[1], "module": r[2], "description": r[3], "roles": [ADMIN, *holders.get(r[0], [])]}
        for r in rows
    ]


async def activity_log(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    after: dict[str, Any] | None,
    user_id: int | None,
    app: str | None,
    action: str | None,
    entity_type: str | None,
    entity_id: int | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> list[dict[str, Any]]:
    """ADM-21: allowed business actions, newest first (denials are the security app's, SEC-14)."""
    _need_all(actor)
    stmt = (
        select(
            AuditLog.id,
            AuditLog.at,
            AuditLog.actor_id,
            User.name,
            AuditLog.app,
            AuditLog.action,
            AuditLog.entity_type,
            AuditLog.entity_id,
        )
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.decision == "allowed")
    )
    for column, value in (
        (AuditLog.actor_id, user_id),
        (AuditLog.app, app),
        (AuditLog.action, action),
        (AuditLog.entity_type, entity_type),
        (AuditLog.entity_id, entity_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if date_from is not None:
        stmt = stmt.where(AuditLog.at >= date_from)
    if date_to is not None:
        stmt = stmt.where(AuditLog.at < date_to)
    key = _after(after, "activity", "t", "i")
    if key is not None:
        try:
            at = datetime.fromisoformat(str(key[0]))
            last_id = int(key[1])
        except (TypeError, ValueError):
            raise Invalid(details=[{"field": "cursor", "issue": "not issued by the server"}]) from None
        stmt = stmt.where(or_(AuditLog.at < at, and_(AuditLog.at == at, AuditLog.id < last_id)))
    rows = await session.execute(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit + 1))
    return [
        {
            "id": r[0],
            "at": r[1],
            "user": None if r[2] is None else {"id": r[2], "name": r[3] or ""},
            "app": r[4],
            "action": r[5],
            "entity_type": r[6],
            "entity_id": r[7],
        }
        for r in rows
    ]


async def activity_entry(session: AsyncSession, actor: Actor, *, entry_id: int) -> dict[str, Any]:
    """ADM-22: one allowed entry with its request metadata and before/after values."""
    _need_all(actor)
    row = (
        await session.execute(
            select(AuditLog, User.name)
            .outerjoin(User, User.id == AuditLog.actor_id)
            .where(AuditLog.id == entry_id, AuditLog.decision == "allowed")
        )
    ).first()
    if row is None:
        raise NotFound("No such log entry")
    entry, name = row
    return {
        "id": entry.id,
        "at": entry.at,
        "user": None if entry.actor_id is None else {"id": entry.actor_id, "name": name or ""},
        "app": entry.app,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
        "request": {"ip": entry.ip, "app": entry.app, "request_id": entry.request_id},
    }


async def user_counts(session: AsyncSession, since: datetime) -> dict[str, Any]:
    """ADM-01 figures: users by role and status, created and disabled since `since`."""
    by = (
        await session.execute(
            select(Role.code, User.status, func.count())
            .join(Role, Role.id == User.role_id)
            .group_by(Role.code, User.status)
            .order_by(Role.code, User.status)
        )
    ).all()
    created = int(
        await session.scalar(select(func.count()).select_from(User).where(User.created_at >= since)) or 0
    )
    # A disabling is an ADM-06 (or legacy users update) audit row whose `after` says disabled: the
    # user row keeps no date. A week of status changes is a handful of rows, filtered here.
    changes = await session.execute(
        select(AuditLog.entity_id, AuditLog.after).where(
            AuditLog.action.in_(STATUS_ACTIONS),
            AuditLog.entity_type == "user",
            AuditLog.decision == "allowed",
            AuditLog.at >= since,
        )
    )
    disabled = len({uid for uid, after in changes if (after or {}).get("status") == "disabled"})
    return {
        "by_role": [{"role": r, "status": s, "count": c} for r, s, c in by],
        "created_this_week": created,
        "disabled_this_week": disabled,
    }


async def recent_admin_actions(session: AsyncSession, limit: int = 10) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            AuditLog.id,
            AuditLog.at,
            AuditLog.actor_id,
            User.name,
            AuditLog.action,
            AuditLog.entity_type,
            AuditLog.entity_id,
        )
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.app == "admin", AuditLog.decision == "allowed")
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": r[0],
            "at": r[1],
            "user": None if r[2] is None else {"id": r[2], "name": r[3] or ""},
            "action": r[4],
            "entity_type": r[5],
            "entity_id": r[6],
        }
        for r in rows
    ]
