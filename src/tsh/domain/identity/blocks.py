"""Lockouts (SEC-06/07) and blocked IP ranges (SEC-08/09/10).

A block takes effect on the next request: the IpGuard of this process reloads its list on the
SecurityEventRecorded these actions raise, other processes within its refresh interval.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.identity.audit import record_security_event
from tsh.domain.identity.listing import iso, older_than
from tsh.domain.identity.login import Network
from tsh.domain.identity.models import BlockedIp, Lockout, User, UserSession
from tsh.domain.identity.sessions import revoke_session
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

MIN_PREFIX = {4: 16, 6: 48}


# -- lockouts ----------------------------------------------------------------------------------


def _active_lockout(now: datetime) -> Any:
    return (Lockout.lifted_at.is_(None)) & (Lockout.until > now)


async def list_lockouts(
    session: AsyncSession, actor: Actor, *, limit: int, after: dict[str, Any] | None, kind: str | None
) -> list[dict[str, Any]]:
    """Lockouts in force, newest first (limit+1 rows)."""
    now = utcnow()
    stmt = select(Lockout, User.name).outerjoin(User, User.id == Lockout.user_id).where(_active_lockout(now))
    if kind:
        stmt = stmt.where(Lockout.kind == kind)
    cond = older_than(Lockout.locked_at, Lockout.id, after)
    if cond is not None:
        stmt = stmt.where(cond)
    rows = await session.execute(stmt.order_by(Lockout.locked_at.desc(), Lockout.id.desc()).limit(limit + 1))
    return [
        {
            "id": lock.id,
            "kind": lock.kind,
            "email": lock.email,
            "ip": lock.ip,
            "user": {"id": lock.user_id, "name": name} if lock.user_id is not None else None,
            "reason": lock.reason,
            "failed_count": lock.failed_count,
            "locked_at": iso(lock.locked_at),
            "locked_until": iso(lock.until),
        }
        for lock, name in rows
    ]


async def lift_lockout(session: AsyncSession, actor: Actor, *, lockout_id: int, reason: str) -> Lockout:
    """Lift a lockout in force. The failure counter restarts from the lift (login.py counts only
    failures after the last lockout began, and attempts while locked never count).

    404 for an unknown, expired or already lifted lockout. UserChanged for an account lockout.
    """
    now = utcnow()
    lock = await session.scalar(
        select(Lockout).where(Lockout.id == lockout_id, _active_lockout(now)).with_for_update()
    )
    if lock is None:
        raise NotFound("No such lockout in force")
    lock.lifted_at, lock.lifted_by_id, lock.updated_at = now, actor.user_id, now
    record_security_event(
        session,
        type="lockout_lifted",
        severity="low",
        user_id=lock.user_id,
        ip=lock.ip,
        details={"lockout_id": lock.id, "kind": lock.kind, "by": actor.user_id, "reason": reason},
    )
    if lock.kind == "account" and lock.user_id is not None:
        raise_event(session, "UserChanged", users=[lock.user_id], reason="lockout_lifted")
    return lock


# -- blocked IPs -------------------------------------------------------------------------------


def parse_range(cidr: str) -> Network:
    """422 INVALID_CIDR for text that is no address or range, RANGE_TOO_WIDE above /16 or /48."""
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        raise Invalid(
            "Not an IP address or CIDR range",
            code="INVALID_CIDR",
            details=[field_error("cidr", "not an IP address or CIDR range")],
        ) from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise Invalid(
            "The range is too wide",
            code="RANGE_TOO_WIDE",
            details=[field_error("cidr", f"prefix must be /{MIN_PREFIX[network.version]} or longer")],
        )
    return network


def _in_force(now: datetime) -> Any:
    return BlockedIp.lifted_at.is_(None) & or_(BlockedIp.expires_at.is_(None), BlockedIp.expires_at > now)


def _contains(network: Network, ip: str | None) -> bool:
    """Whether an address (text, maybe empty or malformed) lies inside the range."""
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return address.version == network.version and address in network


def _covers(existing: Network, network: Network) -> bool:
    """Whether `existing` already blocks every address of `network`."""
    return existing.version == network.version and network.subnet_of(existing)  # type: ignore[arg-type]


async def list_blocks(
    session: AsyncSession, actor: Actor, *, limit: int, after: dict[str, Any] | None, active_only: bool
) -> list[dict[str, Any]]:
    """Blocks newest first, lifted and expired ones too unless `active_only` (limit+1 rows)."""
    now = utcnow()
    stmt = select(BlockedIp, User.name).outerjoin(User, User.id == BlockedIp.created_by_id)
    if active_only:
        stmt = stmt.where(_in_force(now))
    cond = older_than(BlockedIp.created_at, BlockedIp.id, after)
    if cond is not None:
        stmt = stmt.where(cond)
    rows = await session.execute(
        stmt.order_by(BlockedIp.created_at.desc(), BlockedIp.id.desc()).limit(limit + 1)
    )
    return [block_row(block, name, now) for block, name in rows]


def block_row(block: BlockedIp, blocked_by: str | None, now: datetime) -> dict[str, Any]:
    active = block.lifted_at is None and (block.expires_at is None or block.expires_at > now)
    return {
        "id": block.id,
        "cidr": block.cidr,
        "reason": block.reason,
        "blocked_by": {"id": block.created_by_id, "name": blocked_by or ""}
        if block.created_by_id is not None
        else None,
        "blocked_at": iso(block.created_at),
        "until": iso(block.expires_at),
        "active": active,
        "lifted_at": iso(block.lifted_at),
        "lift_reason": block.lift_reason,
        "requests_refused": block.hits,
    }


async def block_ip(
    session: AsyncSession,
    actor: Actor,
    *,
    cidr: str,
    reason: str,
    expires_at: datetime | None,
    revoke_sessions: bool,
    caller_ip: str | None,
) -> dict[str, Any]:
    """Block an address or range on every API; optionally revoke the sessions last seen in it.

    Returns the block as SEC-08 lists it, with `sessions_revoked`. Errors: 422 INVALID_CIDR,
    422 RANGE_TOO_WIDE, 422 SELF_BLOCK (the caller's own address is inside), 409 ALREADY_BLOCKED
    (a block in force already covers the range), 422 VALIDATION_ERROR for an expiry in the past.
    """
    network = parse_range(cidr)
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise Invalid(details=[field_error("expires_at", "must be in the future")])
    if _contains(network, caller_ip):
        raise Invalid(
            "The range contains your own address",
            code="SELF_BLOCK",
            details=[field_error("cidr", "contains the caller's address", ip=caller_ip)],
        )
    # Serialise concurrent blocks of one range: lock the active rows being compared with.
    active = list(await session.scalars(select(BlockedIp).where(_in_force(now)).with_for_update()))
    for other in active:
        try:
            existing = ipaddress.ip_network(other.cidr, strict=False)
        except ValueError:
            continue
        if _covers(existing, network):
            raise Conflict(
                f"An active block ({other.cidr}) already covers this range",
                code="ALREADY_BLOCKED",
                details=[field_error("cidr", "inside an active block", block_id=other.id)],
            )
    block = BlockedIp(
        cidr=str(network),
        reason=reason,
        created_by_id=actor.user_id,
        expires_at=expires_at,
        hits=0,
    )
    session.add(block)
    await session.flush()
    revoked = 0
    if revoke_sessions:
        live = await session.execute(
            select(UserSession.id, UserSession.ip).where(
                UserSession.revoked_at.is_(None), UserSession.expires_at > now, UserSession.ip.is_not(None)
            )
        )
        for session_id, ip in live:
            if _contains(network, ip) and await revoke_session(
                session, session_id=session_id, reason="ip_blocked"
            ):
                revoked += 1
    record_security_event(
        session,
        type="ip_blocked",
        severity="medium",
        user_id=actor.user_id,
        details={"block_id": block.id, "cidr": block.cidr, "sessions_revoked": revoked, "reason": reason},
    )
    by = await session.scalar(select(User.name).where(User.id == actor.user_id))
    return {**block_row(block, by, now), "sessions_revoked": revoked}


async def lift_block(session: AsyncSession, actor: Actor, *, block_id: int, reason: str) -> BlockedIp:
    """Lift a block in force; the row stays for the history. 404 for unknown, lifted or expired."""
    now = utcnow()
    block = await session.scalar(
        select(BlockedIp).where(BlockedIp.id == block_id, _in_force(now)).with_for_update()
    )
    if block is None:
        raise NotFound("No such block in force")
    block.lifted_at, block.lifted_by_id, block.lift_reason, block.updated_at = now, actor.user_id, reason, now
    record_security_event(
        session,
        type="ip_unblocked",
        severity="low",
        user_id=actor.user_id,
        details={"block_id": block.id, "cidr": block.cidr, "reason": reason},
    )
    return block
