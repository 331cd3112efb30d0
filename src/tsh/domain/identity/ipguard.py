"""Blocked IP ranges, refused before anything else on every API request.

The list is tiny and read on every request, so it is kept in process memory and reloaded at
most every REFRESH_S seconds, or at once when this process sees a SecurityEventRecorded (which
SEC actions emit when they block or lift a range). Other processes catch up within REFRESH_S.
Hits on blocked requests are not counted per request: that would turn an attack into writes.
"""

from __future__ import annotations

import asyncio
import time

from tsh.domain.identity.login import BlockedRange, active_blocked_ranges, matching_block
from tsh.platform.db.engine import Database
from tsh.platform.events import DomainEvent

REFRESH_S = 10.0


class IpGuard:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._ranges: list[BlockedRange] = []
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def is_blocked(self, ip: str | None) -> bool:
        if time.monotonic() - self._loaded_at > REFRESH_S:
            await self._reload()
        return matching_block(ip, self._ranges) is not None

    async def on_events(self, events: list[DomainEvent]) -> None:
        if any(ev.name == "SecurityEventRecorded" for ev in events):
            self._loaded_at = float("-inf")

    async def _reload(self) -> None:
        async with self._lock:
            if time.monotonic() - self._loaded_at <= REFRESH_S:
                return
            try:
                async with self._db.read_session() as session:
                    self._ranges = await active_blocked_ranges(session)
            except Exception:
                # The database being down is answered by the request itself (503); keep the
                # last known list instead of failing every request here.
                pass
            self._loaded_at = time.monotonic()
