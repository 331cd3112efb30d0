"""Sessions: opening one (tokens), refresh-token rotation with reuse detection, revocation.

One session is one refresh-token family. The session row holds the hash of the current refresh
token; a rotated-away token moves to `refresh_tokens`, so presenting it again is recognised as
theft and kills the family (core.md §1).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.events import raise_event
from tsh.domain.identity.audit import raise_threat, record_security_event
from tsh.domain.identity.models import ConsumedRefreshToken, Role, User, UserSession
from tsh.domain.identity.policies import session_policy
from tsh.domain.identity.results import Rejection, TokenPair
from tsh.platform.auth.tokens import encode_access_token, hash_refresh_token, new_refresh_token
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Unauthorized


def _session_changed(session: AsyncSession, user_id: int, reason: str) -> None:
    raise_event(session, "SessionChanged", users=[user_id], reason=reason)


async def open_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    role_code: str,
    app: str | None,
    device_id: str | None,
    device_name: str | None,
    ip: str | None,
    user_agent: str | None,
) -> TokenPair:
    """Create a session for an authenticated user and issue its first token pair."""
    policy = await session_policy(session, settings)
    now = utcnow()
    refresh_token = new_refresh_token()
    row = UserSession(
        user_id=user.id,
        app=app,
        device_id=device_id,
        device_name=device_name,
        ip=ip,
        user_agent=user_agent,
        refresh_token_hash=hash_refresh_token(refresh_token),
        refresh_generation=1,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=policy.refresh_ttl_s),
    )
    session.add(row)
    await session.flush()
    _session_changed(session, user.id, "opened")
    await revoke_beyond_limit(session, user_id=user.id, max_sessions=policy.max_sessions)
    return _token_pair(
        settings, row, user, role_code, refresh_token, policy.access_ttl_s, policy.refresh_ttl_s
    )


def _token_pair(
    settings: Settings,
    row: UserSession,
    user: User,
    role_code: str,
    refresh_token: str,
    access_ttl_s: int,
    refresh_ttl_s: int,
) -> TokenPair:
    access = encode_access_token(
        settings,
        user_id=user.id,
        role=role_code,
        branch_id=user.branch_id,
        session_id=row.id,
        permission_version=user.permission_version,
        ttl_s=access_ttl_s,
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=access_ttl_s,
        refresh_expires_in=refresh_ttl_s,
        session_id=row.id,
        user_id=user.id,
        user_name=user.name,
        role=role_code,
        branch_id=user.branch_id,
    )


async def refresh(
    session: AsyncSession,
    settings: Settings,
    *,
    refresh_token: str,
    ip: str | None,
    user_agent: str | None,
) -> TokenPair | Rejection:
    """Rotate the refresh token and issue a new pair carrying the user's current role and branch.

    Returns a `Rejection` (REFRESH_TOKEN_REUSED) when a consumed token is replayed: the family's
    revocation is in the session and must be committed before the error is raised (see
    `results`). Raises 401 INVALID_TOKEN (unknown token, or an access token sent here),
    SESSION_REVOKED and SESSION_EXPIRED directly: nothing to keep for those.
    """
    token_hash = hash_refresh_token(refresh_token)
    now = utcnow()
    found = (
        await session.execute(
            select(UserSession, User, Role.code)
            .join(User, User.id == UserSession.user_id)
            .join(Role, Role.id == User.role_id)
            .where(UserSession.refresh_token_hash == token_hash)
        )
    ).first()
    if found is None:
        return await _refuse_replay_or_unknown(session, token_hash, ip)
    row, user, role_code = found
    if row.revoked_at is not None or user.status != "active":
        raise Unauthorized("The session has been revoked", code="SESSION_REVOKED")
    if row.expires_at <= now:
        raise Unauthorized("The session has expired", code="SESSION_EXPIRED")

    policy = await session_policy(session, settings)
    if row.last_seen_at is not None and row.last_seen_at <= now - timedelta(seconds=policy.idle_s):
        # Idle past the policy's timeout: as dead as an expired one.
        raise Unauthorized("The session has expired", code="SESSION_EXPIRED")
    new_token = new_refresh_token()
    # Compare-and-swap on the current hash: of two concurrent refreshes with the same token,
    # exactly one rotates; the other finds the token consumed and is treated as a replay.
    swapped = await session.execute(
        update(UserSession)
        .where(UserSession.id == row.id, UserSession.refresh_token_hash == token_hash)
        .values(
            refresh_token_hash=hash_refresh_token(new_token),
            refresh_generation=UserSession.refresh_generation + 1,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=policy.refresh_ttl_s),
            ip=ip or row.ip,
            user_agent=user_agent or row.user_agent,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(swapped, "rowcount", 0) != 1:
        return await _refuse_replay_or_unknown(session, token_hash, ip)
    session.add(
        ConsumedRefreshToken(
            session_id=row.id, token_hash=token_hash, generation=row.refresh_generation, consumed_at=now
        )
    )
    return _token_pair(settings, row, user, role_code, new_token, policy.access_ttl_s, policy.refresh_ttl_s)


async def _refuse_replay_or_unknown(session: AsyncSession, token_hash: str, ip: str | None) -> Rejection:
    consumed = await session.scalar(
        select(ConsumedRefreshToken).where(ConsumedRefreshToken.token_hash == token_hash)
    )
    if consumed is None:
        raise Unauthorized("The refresh token is invalid", code="INVALID_TOKEN")
    family = await session.get(UserSession, consumed.session_id)
    assert family is not None  # FK
    if family.revoked_at is None:
        await revoke_session(session, session_id=family.id, reason="refresh_token_reused")
    threat = await raise_threat(session, type="token_reuse", severity="high", user_id=family.user_id, ip=ip)
    record_security_event(
        session,
        type="refresh_reuse",
        severity="high",
        user_id=family.user_id,
        session_id=family.id,
        ip=ip,
        details={"generation": consumed.generation},
        threat_id=threat.id,
    )
    return Rejection(
        Unauthorized(
            "The refresh token was already used; the session is revoked", code="REFRESH_TOKEN_REUSED"
        )
    )


async def revoke_session(session: AsyncSession, *, session_id: int, reason: str) -> bool:
    """Revoke one session (its whole refresh-token family). False when already revoked."""
    now = utcnow()
    user_id = await session.scalar(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason, push_token=None, updated_at=now)
        .returning(UserSession.user_id)
        .execution_options(synchronize_session=False)
    )
    if user_id is None:
        return False
    _session_changed(session, user_id, reason)
    return True


async def revoke_user_sessions(
    session: AsyncSession, *, user_id: int, reason: str, except_session_id: int | None = None
) -> int:
    """Revoke every live session of a user (password change, disabling, role change, security).

    Returns how many were revoked. Access tokens of those sessions die on their next request.
    """
    now = utcnow()
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if except_session_id is not None:
        stmt = stmt.where(UserSession.id != except_session_id)
    result = await session.execute(
        stmt.values(revoked_at=now, revoke_reason=reason, push_token=None, updated_at=now).execution_options(
            synchronize_session=False
        )
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        _session_changed(session, user_id, reason)
    return count


async def logout(session: AsyncSession, *, user_id: int, session_id: int, all_sessions: bool = False) -> int:
    """Revoke the calling session, or every session of the user; returns `sessions_revoked`."""
    if all_sessions:
        return await revoke_user_sessions(session, user_id=user_id, reason="logout_all")
    return 1 if await revoke_session(session, session_id=session_id, reason="logout") else 0


async def revoke_beyond_limit(session: AsyncSession, *, user_id: int, max_sessions: int) -> int:
    """Revoke a user's oldest live sessions beyond `max_sessions` (the policy's sessions per user)."""
    now = utcnow()
    live = list(
        await session.scalars(
            select(UserSession.id)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .order_by(UserSession.created_at.desc(), UserSession.id.desc())
        )
    )
    revoked = 0
    for session_id in live[max_sessions:]:
        if await revoke_session(session, session_id=session_id, reason="session_limit"):
            revoked += 1
    return revoked
