"""The password policy's history rule: a new password may not repeat the last N (N = `history`,
the current password included). Each replaced hash is kept in `password_history`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.identity.models import PasswordHistory, User
from tsh.domain.identity.policies import password_history_depth
from tsh.platform.auth.passwords import hash_password, verify_password
from tsh.platform.errors import Invalid, field_error


async def refuse_reused_password(session: AsyncSession, *, user: User, password: str, field: str) -> None:
    """422 WEAK_PASSWORD when `password` is one of the user's last N passwords."""
    depth = await password_history_depth(session)
    if depth == 0:
        return
    hashes = [user.password_hash] if user.password_hash else []
    hashes += list(
        await session.scalars(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
            .limit(max(depth - len(hashes), 0))
        )
    )
    for old in hashes[:depth]:
        if await verify_password(password, old):
            raise Invalid(
                "The password was used recently",
                code="WEAK_PASSWORD",
                details=[field_error(field, f"must differ from the last {depth} passwords")],
            )


async def replace_password(session: AsyncSession, *, user: User, new_password: str) -> None:
    """Set a new password, keeping the replaced hash for the history rule."""
    if user.password_hash:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    user.password_hash = await hash_password(new_password)
