"""How long the change log is kept, and the horizon a sync cursor is checked against.

The nightly `prune_change_log` job deletes the oldest changes, always a prefix of ids: every id
below the oldest kept change is gone, so "the cursor has seen everything up to the horizon"
is one comparison. The newest change is never deleted, even past the retention: it is the
feed's high-water mark (a new snapshot starts from max(id); with an empty table it would start
from 0 and watch thousands of already-used ids as in-flight gaps).

A cursor that has served up to change `h` is still complete if nothing after `h` was pruned:
`h + 1 >= oldest kept id`. Otherwise its phone missed changes and must resync (410
SYNC_CURSOR_EXPIRED). A quiet collection's cursor stays valid however old it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.sync.models import ChangeLog


async def oldest_kept_change(session: AsyncSession) -> int | None:
    return await session.scalar(select(func.min(ChangeLog.id)))


def cursor_within_horizon(served_up_to: int, oldest_kept: int | None) -> bool:
    return oldest_kept is None or served_up_to + 1 >= oldest_kept


async def prune_change_log(session: AsyncSession, *, now: datetime, keep_days: int) -> int:
    """Delete changes older than `keep_days` (a prefix of ids, never the newest). Returns how many."""
    cutoff = now - timedelta(days=keep_days)
    newest = await session.scalar(select(func.max(ChangeLog.id)))
    # Ids follow flush order, `at` too within a few ms; the prefix ends at the last old change.
    last_old = await session.scalar(select(func.max(ChangeLog.id)).where(ChangeLog.at < cutoff))
    if newest is None or last_old is None:
        return 0
    upto = min(int(last_old), int(newest) - 1)
    if upto < 1:
        return 0
    result = await session.execute(delete(ChangeLog).where(ChangeLog.id <= upto))
    return int(getattr(result, "rowcount", 0) or 0)
