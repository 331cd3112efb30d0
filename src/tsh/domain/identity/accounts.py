"""Accounts: consumer self sign-up, password reset and setup links, the caller's own profile."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.identity.links import branches, customers, employees, technicians
from tsh.domain.identity.login import normalise_email
from tsh.domain.identity.models import PasswordResetToken, Role, User, UserSession
from tsh.domain.identity.password_history import refuse_reused_password, replace_password
from tsh.domain.identity.policies import password_min_length
from tsh.domain.identity.results import TokenPair
from tsh.domain.identity.sessions import open_session, revoke_user_sessions
from tsh.domain.sync.changelog import record_bulk_changes
from tsh.platform.auth.passwords import hash_password, password_policy_issues
from tsh.platform.auth.tokens import hash_opaque_token, new_opaque_token
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, ServiceUnavailable, Unauthorized, field_error

PASSWORD_TOKEN_TTL = timedelta(hours=24)


def normalise_phone(phone: str) -> str:
    return "".join(ch for ch in phone.strip() if ch not in " -()")


async def check_new_password(session: AsyncSession, password: str, *, field: str = "password") -> None:
    """422 WEAK_PASSWORD, listing each unmet rule of the password policy (SEC-19) in `details`."""
    issues = password_policy_issues(password, min_length=await password_min_length(session))
    if issues:
        raise Invalid(
            "The password does not meet the password policy",
            code="WEAK_PASSWORD",
            details=[field_error(field, issue) for issue in issues],
        )


async def register(
    session: AsyncSession,
    settings: Settings,
    *,
    name: str,
    phone: str,
    email: str,
    password: str,
    language: str | None,
    device_id: str | None = None,
    device_name: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """Consumer self sign-up: a consumer User, its Customer (type consumer, default branch), a session.

    409 EMAIL_TAKEN / PHONE_TAKEN, 422 WEAK_PASSWORD. Nothing is kept on failure, so errors are
    raised directly.
    """
    email, phone, name = normalise_email(email), normalise_phone(phone), name.strip()
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists", code="EMAIL_TAKEN")
    phone_owner = await session.scalar(
        select(User.id)
        .where(User.phone == phone)
        .union_all(select(customers.c.id).where(customers.c.phone == phone))
    )
    if phone_owner is not None:
        raise Conflict("An account with this phone number already exists", code="PHONE_TAKEN")
    await check_new_password(session, password)

    role_id = await session.scalar(select(Role.id).where(Role.code == "consumer"))
    branch_id = await session.scalar(select(branches.c.id).where(branches.c.is_default.is_(True)).limit(1))
    if role_id is None or branch_id is None:
        # Reference data (roles, default branch) is seeded; without it nobody can sign up.
        raise ServiceUnavailable("Sign-up is not available right now")

    now = utcnow()
    password_hash = await hash_password(password)
    try:
        customer_id = await session.scalar(
            insert(customers)
            .values(
                code=f"C-{secrets.token_hex(5).upper()}",
                type="consumer",
                name=name,
                phone=phone,
                email=email,
                branch_id=branch_id,
                currency="IQD",
                credit_limit=Decimal("0.00"),
                payment_terms_days=0,
                on_hold=False,
                status="active",
                marketing_opt_in=False,
                version=1,
                created_at=now,
                updated_at=now,
            )
            .returning(customers.c.id)
        )
        # A Core insert bypasses the ORM hooks of the delta-sync feed: log it explicitly.
        record_bulk_changes(session, "customer", [customer_id], "insert")
        user = User(
            name=name,
            email=email,
            phone=phone,
            password_hash=password_hash,
            role_id=role_id,
            customer_id=customer_id,
            language=language or "en",
            status="active",
            permission_version=1,
            last_login_at=now,
        )
        session.add(user)
        await session.flush()
    except IntegrityError as exc:
        # Lost a race with a concurrent sign-up; the violated index names the field.
        if "phone" in str(exc.orig).lower():
            raise Conflict("An account with this phone number already exists", code="PHONE_TAKEN") from None
        raise Conflict("An account with this email already exists", code="EMAIL_TAKEN") from None

    raise_event(session, "UserChanged", users=[user.id], reason="registered")
    raise_event(session, "CustomerChanged", customers=[customer_id], branches=[branch_id])
    return await open_session(
        session,
        settings,
        user=user,
        role_code="consumer",
        app="consumer",
        device_id=device_id,
        device_name=device_name,
        ip=ip,
        user_agent=user_agent,
    )


async def issue_password_token(session: AsyncSession, *, user_id: int, purpose: str = "reset") -> str:
    """A one-time link token valid 24 h (reset: this flow and ADM-07; setup: ADM-04 and HR-05).

    Earlier unused links of the user stop working. Only the hash is stored; the raw token is
    returned for the sender (there is no mail delivery yet) and for tests.
    """
    now = utcnow()
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    token = new_opaque_token()
    session.add(
        PasswordResetToken(
            user_id=user_id,
            token_hash=hash_opaque_token(token),
            purpose=purpose,
            expires_at=now + PASSWORD_TOKEN_TTL,
        )
    )
    return token


async def request_password_reset(session: AsyncSession, *, email: str) -> str | None:
    """The raw token when an active account has this e-mail, else None. The HTTP answer is the
    same 202 either way; only tests (and a future mail sender) see the token."""
    user_id = await session.scalar(
        select(User.id).where(User.email == normalise_email(email), User.status == "active")
    )
    if user_id is None:
        return None
    return await issue_password_token(session, user_id=user_id, purpose="reset")


async def reset_password(session: AsyncSession, *, token: str, new_password: str) -> int:
    """Set the password from a reset or setup link and revoke every session; returns the user id.

    422 TOKEN_INVALID_OR_EXPIRED (unknown, used, expired, or the user is disabled), then 422
    WEAK_PASSWORD, in the contract's order.
    """
    now = utcnow()
    found = (
        await session.execute(
            select(PasswordResetToken, User)
            .join(User, User.id == PasswordResetToken.user_id)
            .where(PasswordResetToken.token_hash == hash_opaque_token(token))
        )
    ).first()
    if (
        found is None
        or found[0].used_at is not None
        or found[0].expires_at <= now
        or found[1].status != "active"
    ):
        raise Invalid("The link is invalid or has expired", code="TOKEN_INVALID_OR_EXPIRED")
    link, user = found
    await check_new_password(session, new_password, field="new_password")
    await refuse_reused_password(session, user=user, password=new_password, field="new_password")

    link.used_at = now
    await replace_password(session, user=user, new_password=new_password)
    await revoke_user_sessions(session, user_id=user.id, reason="password_reset")
    raise_event(session, "UserChanged", users=[user.id], reason="password")
    return user.id


async def me(session: AsyncSession, actor: Actor, *, session_id: int) -> dict[str, Any]:
    """GET /api/auth/me (core.md §1): profile, effective permissions, linked records, and the
    actor's login session `session_id`. 401 SESSION_REVOKED when that session is gone."""
    row = (
        await session.execute(
            select(
                User.id,
                User.name,
                User.email,
                User.phone,
                User.language,
                User.customer_id,
                User.partner_id,
                Role.code,
                branches.c.id,
                branches.c.name_en,
                branches.c.name_ar,
                employees.c.id,
                technicians.c.id,
                UserSession.id,
                UserSession.app,
                UserSession.created_at,
                UserSession.expires_at,
            )
            .select_from(User)
            .join(Role, Role.id == User.role_id)
            .join(UserSession, and_(UserSession.user_id == User.id, UserSession.id == session_id))
            .outerjoin(branches, branches.c.id == User.branch_id)
            .outerjoin(employees, employees.c.user_id == User.id)
            .outerjoin(technicians, technicians.c.employee_id == employees.c.id)
            .where(User.id == actor.user_id)
        )
    ).first()
    if row is None:
        # The session was checked a moment ago by resolve_principal; it can only have vanished.
        raise Unauthorized("The session has been revoked", code="SESSION_REVOKED")
    (
        uid,
        name,
        email,
        phone,
        language,
        customer_id,
        partner_id,
        role,
        branch_id,
        name_en,
        name_ar,
        employee_id,
        technician_id,
        sid,
        app,
        created_at,
        expires_at,
    ) = row
    branch = None
    if branch_id is not None:
        branch = {"id": branch_id, "name": (name_ar if language == "ar" else name_en) or name_en or name_ar}
    return {
        "user": {
            "id": uid,
            "name": name,
            "email": email,
            "phone": phone,
            "role": role,
            "branch": branch,
            "language": language,
        },
        "permissions": sorted(actor.permissions),
        "links": {
            "employee_id": employee_id,
            "customer_id": customer_id,
            "partner_id": partner_id,
            "technician_id": technician_id,
        },
        "session": {"id": sid, "app": app, "created_at": created_at, "expires_at": expires_at},
    }
