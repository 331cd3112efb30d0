"""User administration (ADM-04..09, ADM-12; the legacy `PATCH /api/users/{id}`).

Every change that alters what a user may do takes effect on that user's very next request:
disabling and role changes revoke the sessions (the principal check refuses a revoked session or
a disabled user), role, override and role-permission changes bump `permission_version`, which
access tokens carry and the principal check compares (401 TOKEN_EXPIRED, the app refreshes and
gets a token with the new permissions). The events drop the cached principal in every process.

Rules in the contract's order; the caller's unit of work commits. Only admin reaches these
services (scope `all`); a narrower actor is answered as if the user did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.identity.accounts import issue_password_token, normalise_phone
from tsh.domain.identity.links import branches, customers, employee_records, partners
from tsh.domain.identity.login import normalise_email
from tsh.domain.identity.models import (
    Notification,
    Permission,
    Role,
    RolePermission,
    User,
    UserPermissionOverride,
)
from tsh.domain.identity.rbac import ADMIN, STAFF_ROLES
from tsh.domain.identity.sessions import revoke_user_sessions
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

# Where a one-time link points: the app opens it and asks for the new password.
LINK_BASE = "https://app.tsh.iq/account/"


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A setup or reset link, returned once to the admin who asked (clarifications: notifications)."""

    url: str
    channel: str
    notification_id: int
    # The raw token inside `url` (stored only as a hash): HR-05 hands it over on its own.
    token: str


def require_admin(actor: Actor, what: str = "user") -> None:
    if not (actor.sees_all and (actor.is_admin or actor.is_system)):
        raise NotFound(f"No such {what}", code="USER_NOT_FOUND" if what == "user" else "ROLE_NOT_FOUND")


async def lock_user(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """The user row, locked for the change; 404 USER_NOT_FOUND."""
    require_admin(actor)
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound("No such user", code="USER_NOT_FOUND")
    return user


async def _role_by_code(session: AsyncSession, code: str) -> Role:
    role = await session.scalar(select(Role).where(Role.code == code))
    if role is None:
        raise Invalid("Unknown role", details=[field_error("role", "not one of the 15 roles")])
    return role


async def _role_code(session: AsyncSession, role_id: int) -> str:
    return str(await session.scalar(select(Role.code).where(Role.id == role_id)))


async def _check_branch(session: AsyncSession, role: str, branch_id: int | None) -> None:
    """422 BRANCH_REQUIRED for staff roles; 404 BRANCH_NOT_FOUND for an id no branch has."""
    if branch_id is None:
        if role in STAFF_ROLES:
            raise Invalid(
                "Staff roles need a branch",
                code="BRANCH_REQUIRED",
                details=[field_error("branch_id", "required for this role")],
            )
        return
    if await session.scalar(select(branches.c.id).where(branches.c.id == branch_id)) is None:
        raise NotFound("No such branch", code="BRANCH_NOT_FOUND")


def _link_required(field: str, issue: str) -> Invalid:
    return Invalid(
        "The role needs its linked record", code="LINK_REQUIRED", details=[field_error(field, issue)]
    )


def _already_linked(field: str) -> Conflict:
    return Conflict(
        "The record already has a user", code="ALREADY_LINKED", details=[field_error(field, "has a user")]
    )


async def _check_links(
    session: AsyncSession,
    *,
    role: str,
    user_id: int | None,
    employee_id: int | None,
    customer_id: int | None,
    partner_id: int | None,
) -> None:
    """422 LINK_REQUIRED (partner → partner_id, wholesale_client → a wholesale customer, staff
    roles other than admin → employee_id), then 409 ALREADY_LINKED when the record has a user."""
    if role == "partner" and partner_id is None:
        raise _link_required("partner_id", "required for the partner role")
    if role == "wholesale_client":
        kind = None
        if customer_id is not None:
            kind = await session.scalar(select(customers.c.type).where(customers.c.id == customer_id))
        if kind != "wholesale":
            raise _link_required("customer_id", "must be a wholesale customer")
    if role in STAFF_ROLES and role != ADMIN and employee_id is None:
        raise _link_required("employee_id", "required for staff roles")

    if employee_id is not None:
        holder = (
            await session.execute(
                select(employee_records.c.id, employee_records.c.user_id)
                .where(employee_records.c.id == employee_id)
                .with_for_update()
            )
        ).first()
        if holder is None:
            raise _link_required("employee_id", "no such employee")
        if holder.user_id is not None and holder.user_id != user_id:
            raise _already_linked("employee_id")
    if partner_id is not None:
        if await session.scalar(select(partners.c.id).where(partners.c.id == partner_id)) is None:
            raise _link_required("partner_id", "no such partner")
        if await _has_other_user(session, User.partner_id == partner_id, user_id):
            raise _already_linked("partner_id")
    if customer_id is not None:
        if await session.scalar(select(customers.c.id).where(customers.c.id == customer_id)) is None:
            raise _link_required("customer_id", "no such customer")
        if await _has_other_user(session, User.customer_id == customer_id, user_id):
            raise _already_linked("customer_id")


async def _has_other_user(session: AsyncSession, where: Any, user_id: int | None) -> bool:
    stmt = select(User.id).where(where)
    if user_id is not None:
        stmt = stmt.where(User.id != user_id)
    return await session.scalar(stmt.limit(1)) is not None


async def _email_free(session: AsyncSession, email: str, user_id: int | None) -> None:
    if await _has_other_user(session, User.email == email, user_id):
        raise Conflict("Another user already has this email", code="EMAIL_TAKEN")


async def _other_active_admins(session: AsyncSession, user_id: int) -> int:
    """Active admins besides `user_id`, their rows locked so two demotions cannot both pass."""
    ids = await session.scalars(
        select(User.id)
        .join(Role, Role.id == User.role_id)
        .where(Role.code == ADMIN, User.status == "active", User.id != user_id)
        .order_by(User.id)
        .with_for_update(of=User)
    )
    return len(list(ids))


def _changed(session: AsyncSession, user: User, *, role: bool = False) -> None:
    raise_event(
        session, "UserRoleChanged" if role else "UserChanged", users=[user.id], branches=[user.branch_id]
    )
    if role:
        raise_event(session, "UserChanged", users=[user.id], branches=[user.branch_id])


async def _issue_link(session: AsyncSession, user: User, *, purpose: str, channel: str) -> IssuedLink:
    token = await issue_password_token(session, user_id=user.id, purpose=purpose)
    url = f"{LINK_BASE}{purpose}?token={token}"
    recipient = user.email if channel == "email" else (user.phone or "")
    if not recipient:
        raise Invalid(
            "The user has no phone number for an SMS",
            details=[field_error("channel", "the user has no phone number")],
        )
    # The outbox keeps what the sender needs; the token is in the link only (stored as a hash).
    note = Notification(
        user_id=user.id,
        channel=channel,
        recipient=recipient,
        template=f"account_{purpose}",
        payload={"name": user.name, "link": url, "valid_hours": 24},
        status="pending",
    )
    session.add(note)
    await session.flush()
    return IssuedLink(url=url, channel=channel, notification_id=note.id, token=token)


async def create_user(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    email: str,
    phone: str | None,
    role: str,
    branch_id: int | None,
    language: str | None,
    employee_id: int | None,
    customer_id: int | None,
    partner_id: int | None,
) -> tuple[User, IssuedLink]:
    """ADM-04: a user without a password and a one-time setup link (24 h).

    409 EMAIL_TAKEN; 422 BRANCH_REQUIRED; 404 BRANCH_NOT_FOUND; 422 LINK_REQUIRED; 409 ALREADY_LINKED.
    """
    require_admin(actor)
    return await register_user(
        session,
        name=name,
        email=email,
        phone=phone,
        role=role,
        branch_id=branch_id,
        language=language,
        employee_id=employee_id,
        customer_id=customer_id,
        partner_id=partner_id,
    )


async def register_user(
    session: AsyncSession,
    *,
    name: str,
    email: str,
    phone: str | None,
    role: str,
    branch_id: int | None,
    language: str | None,
    employee_id: int | None,
    customer_id: int | None,
    partner_id: int | None,
) -> tuple[User, IssuedLink]:
    """The rules of ADM-04 without the caller check: the one way a user comes to exist with a
    setup link. ADM-04 calls it for an admin; HR-05 (`tsh.domain.hr.hiring`) for the employee
    it hires, so a staff user is created the same way from both apps (clarifications: staff users).

    Error codes as `create_user`.
    """
    email = normalise_email(email)
    await _email_free(session, email, None)
    role_row = await _role_by_code(session, role)
    await _check_branch(session, role, branch_id)
    await _check_links(
        session,
        role=role,
        user_id=None,
        employee_id=employee_id,
        customer_id=customer_id,
        partner_id=partner_id,
    )
    user = User(
        name=name.strip(),
        email=email,
        phone=normalise_phone(phone) if phone else None,
        password_hash=None,
        role_id=role_row.id,
        branch_id=branch_id,
        customer_id=customer_id,
        partner_id=partner_id,
        language=language or "en",
        status="active",
        permission_version=1,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("Another user already has this email", code="EMAIL_TAKEN") from None
    if employee_id is not None:
        await session.execute(
            update(employee_records).where(employee_records.c.id == employee_id).values(user_id=user.id)
        )
        raise_event(session, "EmployeeChanged", users=[user.id], branches=[branch_id])
    link = await _issue_link(session, user, purpose="setup", channel="email")
    _changed(session, user)
    return user, link


async def update_user(
    session: AsyncSession, actor: Actor, *, user_id: int, changes: dict[str, Any]
) -> tuple[User, dict[str, Any]]:
    """ADM-05: name, email, phone, branch_id, language; returns the user and the old values.

    404 USER_NOT_FOUND; 409 EMAIL_TAKEN; 422 BRANCH_REQUIRED (clearing a staff user's branch);
    404 BRANCH_NOT_FOUND. A branch change applies on the user's next request (the principal
    reads the branch from the user row and its cached copy is dropped by UserChanged).
    """
    user = await lock_user(session, actor, user_id)
    before: dict[str, Any] = {}
    if "email" in changes and changes["email"] is not None:
        changes["email"] = normalise_email(changes["email"])
        await _email_free(session, changes["email"], user.id)
    if "phone" in changes and changes["phone"] is not None:
        changes["phone"] = normalise_phone(changes["phone"])
    if "name" in changes and changes["name"] is not None:
        changes["name"] = changes["name"].strip()
    for field in ("name", "email", "language"):
        if field in changes and changes[field] is None:
            raise Invalid(details=[field_error(field, "cannot be empty")])
    if "branch_id" in changes:
        await _check_branch(session, await _role_code(session, user.role_id), changes["branch_id"])
    old_branch = user.branch_id
    for field, value in changes.items():
        if getattr(user, field) != value:
            before[field] = getattr(user, field)
            setattr(user, field, value)
    if before:
        try:
            await session.flush()
        except IntegrityError:
            raise Conflict("Another user already has this email", code="EMAIL_TAKEN") from None
        _changed(session, user)
        if "branch_id" in before:
            raise_event(session, "UserChanged", branches=[old_branch])
    return user, before


async def set_status(
    session: AsyncSession, actor: Actor, *, user_id: int, status: str, reason: str
) -> tuple[User, str]:
    """ADM-06: enable or disable; disabling revokes every session at once. Returns the old status.

    404 USER_NOT_FOUND; 409 SELF_DISABLE; 409 LAST_ADMIN.
    """
    user = await lock_user(session, actor, user_id)
    old = user.status
    if status == old:
        return user, old
    if status == "disabled":
        if user.id == actor.user_id:
            raise Conflict("You cannot disable yourself", code="SELF_DISABLE")
        if await _role_code(session, user.role_id) == ADMIN and not await _other_active_admins(
            session, user.id
        ):
            raise Conflict("The last active admin cannot be disabled", code="LAST_ADMIN")
        user.status = "disabled"
        await revoke_user_sessions(session, user_id=user.id, reason="user_disabled")
    else:
        user.status = "active"
    await session.flush()
    _changed(session, user)
    return user, old


async def admin_password_reset(
    session: AsyncSession, actor: Actor, *, user_id: int, channel: str
) -> tuple[User, IssuedLink, int]:
    """ADM-07: clear the password, revoke every session, send a reset link valid 24 h.

    Returns the user, the link and the number of sessions revoked. 404 USER_NOT_FOUND;
    409 USER_DISABLED; 422 VALIDATION_ERROR for an SMS to a user without a phone number.
    """
    user = await lock_user(session, actor, user_id)
    if user.status != "active":
        raise Conflict("The user is disabled", code="USER_DISABLED")
    user.password_hash = None
    revoked = await revoke_user_sessions(session, user_id=user.id, reason="admin_password_reset")
    link = await _issue_link(session, user, purpose="reset", channel=channel)
    raise_event(session, "UserChanged", users=[user.id], reason="password")
    return user, link, revoked


async def change_role(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int,
    role: str,
    branch_id: int | None,
    branch_given: bool,
    reason: str,
) -> tuple[User, dict[str, Any]]:
    """ADM-08: a new role (and branch); sessions revoked, permission version bumped.

    404 USER_NOT_FOUND; 409 SELF_ROLE_CHANGE; 409 LAST_ADMIN (demoting the last admin);
    422 BRANCH_REQUIRED and LINK_REQUIRED as on creation; 409 ALREADY_LINKED.
    Returns the user and the old {role, branch_id}.
    """
    user = await lock_user(session, actor, user_id)
    if user.id == actor.user_id:
        raise Conflict("You cannot change your own role", code="SELF_ROLE_CHANGE")
    old_role = await _role_code(session, user.role_id)
    new_branch = branch_id if branch_given else user.branch_id
    demoting = old_role == ADMIN and role != ADMIN and user.status == "active"
    if demoting and not await _other_active_admins(session, user.id):
        raise Conflict("The last active admin cannot be demoted", code="LAST_ADMIN")
    role_row = await _role_by_code(session, role)
    await _check_branch(session, role, new_branch)
    employee_id = await session.scalar(
        select(employee_records.c.id).where(employee_records.c.user_id == user.id).limit(1)
    )
    await _check_links(
        session,
        role=role,
        user_id=user.id,
        employee_id=employee_id,
        customer_id=user.customer_id,
        partner_id=user.partner_id,
    )
    before = {"role": old_role, "branch_id": user.branch_id}
    old_branch = user.branch_id
    user.role_id = role_row.id
    user.branch_id = new_branch
    user.permission_version = user.permission_version + 1
    await session.flush()
    await revoke_user_sessions(session, user_id=user.id, reason="role_changed")
    _changed(session, user, role=True)
    if old_branch != new_branch:
        raise_event(session, "UserChanged", branches=[old_branch])
    return user, before


async def _permission_ids(session: AsyncSession, codes: Iterable[str], field: str) -> dict[str, int]:
    wanted = list(dict.fromkeys(codes))
    found = dict(
        (await session.execute(select(Permission.code, Permission.id).where(Permission.code.in_(wanted))))
        .tuples()
        .all()
    )
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise Invalid(
            "Unknown permission codes",
            code="UNKNOWN_PERMISSION",
            details=[field_error(field, "not in the catalogue", permission_code=c) for c in unknown],
        )
    return found


async def replace_overrides(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int,
    overrides: Sequence[tuple[str, str]],
    reason: str,
) -> tuple[User, list[dict[str, str]]]:
    """ADM-09: the user's grants and denials replaced as a whole; permission version bumped.

    404 USER_NOT_FOUND; 422 ADMIN_HAS_ALL for an admin user; 422 UNKNOWN_PERMISSION;
    422 VALIDATION_ERROR when one code is listed twice. Returns the user and the old overrides.
    """
    user = await lock_user(session, actor, user_id)
    if await _role_code(session, user.role_id) == ADMIN:
        raise Invalid("An admin holds every permission", code="ADMIN_HAS_ALL")
    codes = [c for c, _ in overrides]
    if len(set(codes)) != len(codes):
        raise Invalid(details=[field_error("overrides", "a permission is listed twice")])
    ids = await _permission_ids(session, codes, "overrides")
    before = await user_overrides(session, user.id)
    await session.execute(delete(UserPermissionOverride).where(UserPermissionOverride.user_id == user.id))
    for code, effect in overrides:
        session.add(
            UserPermissionOverride(
                user_id=user.id,
                permission_id=ids[code],
                effect=effect,
                reason=reason,
                set_by_id=actor.user_id or None,
            )
        )
    user.permission_version = user.permission_version + 1
    await session.flush()
    _changed(session, user, role=True)
    return user, before


async def user_overrides(session: AsyncSession, user_id: int) -> list[dict[str, str]]:
    rows = await session.execute(
        select(Permission.code, UserPermissionOverride.effect)
        .join(UserPermissionOverride, UserPermissionOverride.permission_id == Permission.id)
        .where(UserPermissionOverride.user_id == user_id)
        .order_by(Permission.code)
    )
    return [{"permission_code": c, "effect": e} for c, e in rows]


async def replace_role_permissions(
    session: AsyncSession, actor: Actor, *, role_id: int, codes: Sequence[str], reason: str
) -> tuple[Role, list[str], list[str]]:
    """ADM-12: a role's permission set replaced; every holder's permission version bumped.

    404 ROLE_NOT_FOUND; 409 ADMIN_ROLE_LOCKED; 422 UNKNOWN_PERMISSION.
    Returns the role, the old and the new codes.
    """
    require_admin(actor, "role")
    role = await session.scalar(select(Role).where(Role.id == role_id).with_for_update())
    if role is None:
        raise NotFound("No such role", code="ROLE_NOT_FOUND")
    if role.code == ADMIN:
        raise Conflict("The admin role always holds every permission", code="ADMIN_ROLE_LOCKED")
    ids = await _permission_ids(session, codes, "permission_codes")
    before = sorted(
        await session.scalars(
            select(Permission.code)
            .join(RolePermission, RolePermission.permission_id == Permission.id)
            .where(RolePermission.role_id == role.id)
        )
    )
    await session.execute(delete(RolePermission).where(RolePermission.role_id == role.id))
    for pid in sorted(ids.values()):
        session.add(RolePermission(role_id=role.id, permission_id=pid))
    await session.execute(
        update(User)
        .where(User.role_id == role.id)
        .values(permission_version=User.permission_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    # Every holder's cached principal and every screen listing role figures.
    raise_event(session, "UserRoleChanged", everyone=True, role=role.code)
    return role, before, sorted(ids)
