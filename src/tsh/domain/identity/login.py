"""Login: blocked addresses, lockouts, credential check without account enumeration.

Unknown e-mail, wrong password and disabled user all answer the same 401 INVALID_CREDENTIALS after
the same Argon2 work. Lockouts are keyed by the e-mail tried, whether or not an account has it,
so a 429 says nothing about which accounts exist either.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.domain.events import raise_event
from tsh.domain.identity.audit import record_security_event
from tsh.domain.identity.detectors import detect_impossible_travel, detect_login_threats
from tsh.domain.identity.models import BlockedIp, Lockout, LoginAttempt, Role, User
from tsh.domain.identity.policies import LockoutPolicy, lockout_policy
from tsh.domain.identity.results import Rejection, TokenPair
from tsh.domain.identity.sessions import open_session
from tsh.platform.auth.passwords import hash_needs_update, hash_password, verify_password
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Forbidden, RateLimited, Unauthorized

FAILURE_RESULTS = ("bad_credentials", "disabled")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalise_email(email: str) -> str:
    return email.strip().lower()


def invalid_credentials() -> Unauthorized:
    return Unauthorized("Email or password is incorrect", code="INVALID_CREDENTIALS")


def ip_blocked() -> Forbidden:
    return Forbidden("Requests from this address are blocked", code="IP_BLOCKED")


# --- blocked addresses -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockedRange:
    id: int
    network: Network


async def active_blocked_ranges(session: AsyncSession, *, now: datetime | None = None) -> list[BlockedRange]:
    """Blocks in force. Small by nature (RANGE_TOO_WIDE keeps it so); a middleware may cache it."""
    now = now or utcnow()
    rows = await session.execute(
        select(BlockedIp.id, BlockedIp.cidr).where(
            BlockedIp.lifted_at.is_(None), or_(BlockedIp.expires_at.is_(None), BlockedIp.expires_at > now)
        )
    )
    ranges: list[BlockedRange] = []
    for block_id, cidr in rows:
        try:
            ranges.append(BlockedRange(block_id, ipaddress.ip_network(cidr, strict=False)))
        except ValueError:
            continue  # a malformed stored row must not take logins down
    return ranges


def matching_block(ip: str | None, ranges: list[BlockedRange]) -> BlockedRange | None:
    if not ip or not ranges:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return next((r for r in ranges if address.version == r.network.version and address in r.network), None)


async def count_block_hit(session: AsyncSession, block_id: int) -> None:
    await session.execute(
        update(BlockedIp)
        .where(BlockedIp.id == block_id)
        .values(hits=BlockedIp.hits + 1)
        .execution_options(synchronize_session=False)
    )


# --- lockouts ----------------------------------------------------------------------------------


async def _active_lockout(
    session: AsyncSession, *, email: str, ip: str | None, now: datetime
) -> Lockout | None:
    targets = [(Lockout.kind == "account") & (Lockout.email == email)]
    if ip:
        targets.append((Lockout.kind == "ip") & (Lockout.ip == ip))
    return await session.scalar(
        select(Lockout)
        .where(or_(*targets), Lockout.lifted_at.is_(None), Lockout.until > now)
        .order_by(Lockout.until.desc())
        .limit(1)
    )


async def _failures_since_reset(
    session: AsyncSession, *, email: str | None, ip: str | None, policy: LockoutPolicy, now: datetime
) -> int:
    """Failures of an account (by e-mail) or an address in the window since the counter was last
    reset: by a lockout starting, and for an account also by a successful login.

    Lifting a lockout (SEC-07) resets too: attempts between locking and lifting are `locked`,
    which never count.
    """
    window_start = now - policy.window
    if email is not None:
        key = LoginAttempt.email == email
        resets = [
            select(func.max(LoginAttempt.at)).where(
                key, LoginAttempt.result == "success", LoginAttempt.at > window_start
            ),
            select(func.max(Lockout.locked_at)).where(Lockout.kind == "account", Lockout.email == email),
        ]
    else:
        key = LoginAttempt.ip == ip
        resets = [select(func.max(Lockout.locked_at)).where(Lockout.kind == "ip", Lockout.ip == ip)]
    reset_times = (await session.execute(select(*(r.scalar_subquery() for r in resets)))).one()
    since = max([window_start, *(t for t in reset_times if t is not None)])
    count = await session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(key, LoginAttempt.at > since, LoginAttempt.result.in_(FAILURE_RESULTS))
    )
    return int(count or 0)


async def _lock_if_over_threshold(
    session: AsyncSession,
    *,
    email: str,
    user: User | None,
    ip: str | None,
    policy: LockoutPolicy,
    now: datetime,
) -> None:
    user_id = user.id if user else None
    # +1: this attempt is added to the session but not flushed yet.
    account_failures = await _failures_since_reset(session, email=email, ip=None, policy=policy, now=now) + 1
    if account_failures >= policy.threshold:
        session.add(
            Lockout(
                kind="account",
                user_id=user_id,
                email=email,
                ip=None,
                reason="too many failed logins",
                failed_count=account_failures,
                locked_at=now,
                until=now + policy.duration,
            )
        )
        record_security_event(
            session,
            type="lockout",
            severity="medium",
            user_id=user_id,
            ip=ip,
            details={"kind": "account", "email": email, "failed_count": account_failures},
        )
        if user_id is not None:
            raise_event(session, "UserChanged", users=[user_id], reason="lockout")
    if not ip:
        return
    ip_failures = await _failures_since_reset(session, email=None, ip=ip, policy=policy, now=now) + 1
    if ip_failures >= policy.ip_threshold:
        session.add(
            Lockout(
                kind="ip",
                user_id=None,
                email=None,
                ip=ip,
                reason="too many failed logins from this address",
                failed_count=ip_failures,
                locked_at=now,
                until=now + policy.duration,
            )
        )
        record_security_event(
            session,
            type="lockout",
            severity="high",
            ip=ip,
            details={"kind": "ip", "failed_count": ip_failures},
        )


# --- login -------------------------------------------------------------------------------------


async def login(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    app: str | None,
    device_id: str | None,
    device_name: str | None,
    ip: str | None,
    user_agent: str | None,
) -> TokenPair | Rejection:
    """Check the credentials and open a session.

    Every refusal is *returned* as a `Rejection`, never raised, because each one leaves records
    that must be committed: the LoginAttempt, the security event, a lockout, a block hit. The
    caller commits its unit of work and then raises `rejection.error` (`results.accepted`):
    403 IP_BLOCKED, 429 RATE_LIMITED (with Retry-After) while locked, 401 INVALID_CREDENTIALS.
    """
    now = utcnow()
    email = normalise_email(email)

    block = matching_block(ip, await active_blocked_ranges(session, now=now))
    if block is not None:
        await count_block_hit(session, block.id)
        return Rejection(ip_blocked())

    found = (
        await session.execute(
            select(User, Role.code).join(Role, Role.id == User.role_id).where(User.email == email)
        )
    ).first()
    user, role_code = (found[0], found[1]) if found else (None, None)

    def attempt(result: str) -> None:
        session.add(
            LoginAttempt(
                at=now,
                email=email,
                user_id=user.id if user else None,
                ip=ip,
                app=app,
                result=result,
                user_agent=user_agent,
            )
        )

    async def detect() -> int | None:
        # The detectors count the attempts in the database: this one must be in it.
        await session.flush()
        return await detect_login_threats(
            session, settings, email=email, user_id=user.id if user else None, ip=ip
        )

    lock = await _active_lockout(session, email=email, ip=ip, now=now)
    if lock is not None:
        attempt("locked")
        record_security_event(
            session,
            type="login_failed",
            severity="low",
            user_id=user.id if user else None,
            ip=ip,
            details={"email": email, "reason": "locked", "lockout_id": lock.id},
            threat_id=await detect(),
        )
        return Rejection(RateLimited(math.ceil((lock.until - now).total_seconds())))

    # Always verified, also for an unknown account (against a dummy hash): same time either way.
    password_ok = await verify_password(password, user.password_hash if user else None)
    if user is None or role_code is None or not password_ok or user.status != "active":
        result = "disabled" if user is not None and password_ok else "bad_credentials"
        attempt(result)
        # Lockout first: it counts this attempt as not yet flushed.
        await _lock_if_over_threshold(
            session, email=email, user=user, ip=ip, policy=await lockout_policy(session), now=now
        )
        record_security_event(
            session,
            type="login_failed",
            severity="low",
            user_id=user.id if user else None,
            ip=ip,
            details={"email": email, "reason": result},
            threat_id=await detect(),
        )
        return Rejection(invalid_credentials())

    await detect_impossible_travel(session, settings, user_id=user.id, ip=ip, now=now)
    attempt("success")
    user.last_login_at = now
    if user.password_hash and hash_needs_update(user.password_hash):
        user.password_hash = await hash_password(password)
    return await open_session(
        session,
        settings,
        user=user,
        role_code=role_code,
        app=app,
        device_id=device_id,
        device_name=device_name,
        ip=ip,
        user_agent=user_agent,
    )


def record_rate_limited_login(
    session: AsyncSession, *, email: str, ip: str | None, app: str | None, user_agent: str | None
) -> None:
    """A login refused by the request rate limit before any check ran (SEC-05 lists these)."""
    session.add(
        LoginAttempt(
            at=utcnow(),
            email=normalise_email(email),
            user_id=None,
            ip=ip,
            app=app,
            result="rate_limited",
            user_agent=user_agent,
        )
    )
