"""Reading the change log as one collection's delta feed (mobile.md §1).

A collection (`Collection`) is defined by the context that owns its table (customers in
`tsh.domain.customers.sync`, …): which change-log entity it follows, how to read the current rows
of a caller's scope by id, and how to list them for a full snapshot. This module is the cursor
logic they share, so every collection pages, tombstones and expires the same way.

A position (what the BFF signs into `next_cursor`) is a plain dict:
  u: user id, c: collection, s: the caller's scope marker and the collection's `scope_key` (a cursor
  of another user, or of the same user whose scope or price lists changed, is 410: the rows the
  phone holds were chosen for another scope);
  h: the highest change id served; a: last row id of a snapshot in progress (None = delta mode);
  g: gaps, `[change id, first seen (epoch s)]` of ids at or below `h` that were not visible;
  d: the day (ordinal) the position was confirmed up to date (for windowed collections).

Expiry: a position whose `h` is before the change log's pruned horizon missed changes and is 410
(tsh.domain.sync.retention); an old position of a quiet collection stays good.

Why gaps: change ids are allocated at flush, not at commit, so a reader may see id 11 committed
while id 10 is still in flight. Ids below `h` that were missing are re-read on the next pages until
they appear (served then) or have been missing for GAP_WAIT_S (a rolled-back transaction). No
committed change is skipped, which a plain `id > h` cursor cannot promise on PostgreSQL.

Why tombstones for every changed row outside the scope: the server does not know what a phone
holds, so a row changed and now outside the caller's scope (reassigned, deactivated) is a
`delete` whether or not this phone ever had it. It carries only the id and version, never data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.sync.models import ChangeLog
from tsh.domain.sync.retention import cursor_within_horizon, oldest_kept_change
from tsh.platform.db.base import utcnow
from tsh.platform.errors import AppError

SCHEMA_VERSION = 1
GAP_WAIT_S = 60
# Ids below a new snapshot's high-water mark that are checked for in-flight transactions.
SNAPSHOT_GAP_WINDOW = 1000
MAX_GAPS = 200
DEFAULT_LIMIT, MAX_LIMIT = 200, 1000

# In-scope current rows by id: {id: {"version": int, "data": {...}}}; ids outside the scope are absent.
RowsById = Callable[[AsyncSession, Actor, list[int]], Awaitable[dict[int, dict[str, Any]]]]
# One snapshot page: rows of the scope with id > after, ordered by id, at most `limit`.
SnapshotPage = Callable[[AsyncSession, Actor, int, int], Awaitable[list[tuple[int, dict[str, Any]]]]]
# What else decides the caller's rows (e.g. the price lists that apply): a change ends the cursor.
ScopeKey = Callable[[AsyncSession, Actor], Awaitable[str]]
# Rows that left a day-aligned time window (orders of the last 90 days) between two days, as
# (id, version): they have no change of their own, so the feed tombstones them by date.
LeftWindow = Callable[[AsyncSession, Actor, date, date], Awaitable[list[tuple[int, int]]]]


@dataclass(frozen=True)
class Collection:
    name: str
    entity: str
    rows: RowsById
    snapshot: SnapshotPage
    scope_key: ScopeKey | None = None
    left_window: LeftWindow | None = None


async def current_version(
    session: AsyncSession, actor: Actor, collection: Collection, row_id: int
) -> dict[str, Any] | None:
    """The row as the caller's feed of `collection` shows it now, `{"version", "data"}`, or None
    when it is missing or outside the caller's scope (an order older than the feed's window too).
    The outbox compares it with an item's `if_version` (mobile.md §2)."""
    rows = await collection.rows(session, actor, [row_id])
    return rows.get(row_id)


def expired() -> AppError:
    return AppError(
        "The sync cursor expired or is not yours: sync again without `since`",
        code="SYNC_CURSOR_EXPIRED",
        status=410,
    )


async def scope_marker(session: AsyncSession, actor: Actor, collection: Collection) -> str:
    marker = f"{actor.role}:{actor.scope}:{actor.branch_id}:{actor.customer_id}:{actor.partner_id}"
    if collection.scope_key is not None:
        marker += "|" + await collection.scope_key(session, actor)
    return marker


async def read_feed(
    session: AsyncSession,
    actor: Actor,
    *,
    collection: Collection,
    position: dict[str, Any] | None,
    limit: int = DEFAULT_LIMIT,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One page of `collection` for `actor`: `{"changes", "position", "has_more"}`.

    Errors: SYNC_CURSOR_EXPIRED (410) for a position of another user, collection or scope, or one
    from before the change log's pruned horizon.
    """
    now = now or utcnow()
    today = now.date().toordinal()
    marker = await scope_marker(session, actor, collection)
    if position is None:
        position = await _start(session, actor, collection, marker, now)
    else:
        _check(position, actor, collection, marker)
        if not cursor_within_horizon(position["h"], await oldest_kept_change(session)):
            raise expired()
    if position["a"] is not None:
        # The snapshot reads today's window; `d` stays its start day so a snapshot crossing
        # midnight still tombstones what left the window on the way (below, once in delta mode).
        changes, position, has_more = await _snapshot_page(session, actor, collection, position, limit)
    else:
        changes, position, has_more = await _delta_page(session, actor, collection, position, limit, now)
        if collection.left_window is not None and position["d"] < today:
            left = await collection.left_window(session, actor, date.fromordinal(position["d"]), now.date())
            changes = [{"op": "delete", "id": i, "version": v, "data": None} for i, v in left] + changes
        position["d"] = today
    return {"changes": changes, "position": position, "has_more": has_more}


def _check(position: dict[str, Any], actor: Actor, collection: Collection, marker: str) -> None:
    try:
        ok = (
            position["u"] == actor.user_id
            and position["c"] == collection.name
            and position["s"] == marker
            and isinstance(position["h"], int)
            and isinstance(position["d"], int)
        )
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise expired()


async def _start(
    session: AsyncSession, actor: Actor, collection: Collection, marker: str, now: datetime
) -> dict[str, Any]:
    high = int(await session.scalar(select(func.max(ChangeLog.id))) or 0)
    # Ids below the oldest kept change were pruned, not in flight.
    oldest = int(await oldest_kept_change(session) or 1)
    gaps = await _missing(session, max(0, high - SNAPSHOT_GAP_WINDOW, oldest - 1), high)
    seen = int(now.timestamp())
    return {
        "u": actor.user_id,
        "c": collection.name,
        "s": marker,
        "h": high,
        "a": 0,
        "g": [[gap, seen] for gap in gaps][-MAX_GAPS:],
        "d": now.date().toordinal(),
    }


async def _missing(session: AsyncSession, low: int, high: int) -> list[int]:
    """Change ids in (low, high] that are not visible to this transaction (in flight or rolled back)."""
    if high <= low:
        return []
    in_range = (ChangeLog.id > low) & (ChangeLog.id <= high)
    present = int(await session.scalar(select(func.count()).select_from(ChangeLog).where(in_range)) or 0)
    if present == high - low:
        return []
    ids = set((await session.scalars(select(ChangeLog.id).where(in_range))).all())
    return [i for i in range(low + 1, high + 1) if i not in ids]


async def _snapshot_page(
    session: AsyncSession, actor: Actor, collection: Collection, position: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    rows = await collection.snapshot(session, actor, int(position["a"]), limit + 1)
    more_rows = len(rows) > limit
    rows = rows[:limit]
    changes = [_upsert(row_id, row) for row_id, row in rows]
    position = dict(position)
    if more_rows:
        position["a"] = rows[-1][0]
        return changes, position, True
    # Snapshot done: continue from its high-water mark; tell the client when deltas are waiting.
    position["a"] = None
    waiting = await session.scalar(select(ChangeLog.id).where(_pending(collection, position)).limit(1))
    return changes, position, waiting is not None


def _pending(collection: Collection, position: dict[str, Any]) -> Any:
    gaps = [gap for gap, _ in position["g"]]
    after = ChangeLog.id > position["h"]
    return (ChangeLog.entity == collection.entity) & (or_(after, ChangeLog.id.in_(gaps)) if gaps else after)


async def _delta_page(
    session: AsyncSession,
    actor: Actor,
    collection: Collection,
    position: dict[str, Any],
    limit: int,
    now: datetime,
) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    logged = (
        await session.execute(
            select(ChangeLog.id, ChangeLog.entity_id, ChangeLog.version)
            .where(_pending(collection, position))
            .order_by(ChangeLog.id)
            .limit(limit + 1)
        )
    ).all()
    has_more = len(logged) > limit
    logged = logged[:limit]
    # One change per row, at the place of its last change in this page; the current row decides.
    last: dict[int, tuple[int, int]] = {}
    for change_id, entity_id, version in logged:
        last.pop(entity_id, None)
        last[entity_id] = (change_id, version)
    current = await collection.rows(session, actor, list(last)) if last else {}
    changes = [
        _upsert(entity_id, current[entity_id])
        if entity_id in current
        else {"op": "delete", "id": entity_id, "version": version, "data": None}
        for entity_id, (_, version) in last.items()
    ]
    served = {change_id for change_id, _, _ in logged}
    old_high = int(position["h"])
    new_high = max([old_high, *served])
    gaps = await _next_gaps(session, collection, position["g"], served, now)
    seen = int(now.timestamp())
    gaps += [[gap, seen] for gap in await _missing(session, old_high, new_high)]
    position = dict(position, h=new_high, g=sorted(gaps)[-MAX_GAPS:])
    return changes, position, has_more


async def _next_gaps(
    session: AsyncSession, collection: Collection, gaps: list[list[int]], served: set[int], now: datetime
) -> list[list[int]]:
    """Gaps still to watch: not yet served ones of this entity, and invisible ones not yet too old."""
    if not gaps:
        return []
    ids = [gap for gap, _ in gaps]
    visible = dict(
        (await session.execute(select(ChangeLog.id, ChangeLog.entity).where(ChangeLog.id.in_(ids)))).all()
    )
    keep = []
    for gap, first_seen in gaps:
        if gap in served:
            continue
        if gap in visible:
            if visible[gap] == collection.entity:
                keep.append([gap, first_seen])  # visible but past this page's limit
            continue  # another collection's change: nothing for this one
        if now.timestamp() - first_seen < GAP_WAIT_S:
            keep.append([gap, first_seen])
    return keep


def _upsert(row_id: int, row: dict[str, Any]) -> dict[str, Any]:
    return {"op": "upsert", "id": row_id, "version": row["version"], "data": row["data"]}
