"""Rate limits: fixed windows counted in process, shared through Redis without a round trip on
the request path.

Why not a Redis call per request: on these machines one redis-py round trip costs 0.2–0.3 ms of
CPU, about half of a cached screen's whole budget (docs/design/PERFORMANCE.md); a moving
window in Redis (a Lua script per request) halved the cached-screen throughput in
`bench/platform_bench.py`. So each process counts its own hits at once and pushes them to Redis
in the background (INCRBY through the `limits` library's storage) every 200 ms or every few
hits, learning the other processes' counts from the reply. A limit is therefore exact within a
process and shared across processes with at most ~200 ms of lag: the right trade for abuse
protection. Without Redis it is the same code with nothing to push.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from limits import parse
from limits.aio.storage import RedisStorage
from limits.limits import RateLimitItem

from tsh.platform.errors import RateLimited
from tsh.platform.metrics import RATE_LIMITED

SYNC_EVERY_S = 0.2
MAX_TRACKED = 50_000


@dataclass
class _Window:
    number: int  # which fixed window (time // period)
    pushed_total: int = 0  # all processes' hits in this window, as Redis last answered
    pending: int = 0  # this process's hits not yet pushed
    last_sync: float = 0.0
    syncing: bool = False


class Limiter:
    def __init__(self, redis_url: str | None) -> None:
        # redis-py, not the default coredis client (see docs/design/STACK.md).
        self._shared = (
            RedisStorage(
                redis_url.replace("redis://", "async+redis://", 1),
                implementation="redispy",
                key_prefix="tsh:rl",
            )
            if redis_url
            else None
        )
        self._parsed: dict[str, RateLimitItem] = {}
        self._windows: dict[str, _Window] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.enabled = True

    def _item(self, limit: str) -> RateLimitItem:
        item = self._parsed.get(limit)
        if item is None:
            item = self._parsed[limit] = parse(limit)
        return item

    async def hit(self, key: str, limit: str) -> None:
        """Count one request against `limit` ("N/minute") for `key`; 429 with Retry-After when spent."""
        if not self.enabled:
            return
        item = self._item(limit)
        period = item.get_expiry()
        now = time.time()
        number = int(now // period)
        wkey = f"{key}|{limit}"
        window = self._windows.get(wkey)
        if window is None or window.number != number:
            if len(self._windows) > MAX_TRACKED:
                self._forget_old(now)
            window = self._windows[wkey] = _Window(number)
        if window.pushed_total + window.pending >= item.amount:
            RATE_LIMITED.labels(limit).inc()
            raise RateLimited(math.ceil((number + 1) * period - now))
        window.pending += 1
        if self._shared is not None and not window.syncing and now - window.last_sync >= SYNC_EVERY_S:
            window.syncing = True
            task = asyncio.create_task(self._push(wkey, window, period))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _push(self, wkey: str, window: _Window, period: int) -> None:
        assert self._shared is not None
        try:
            count = window.pending
            total = await self._shared.incr(f"{wkey}|{window.number}", period, amount=count)
            window.pending -= count
            window.pushed_total = max(window.pushed_total, int(total))
        except Exception:
            # A failing shared store must not take the API down: the process keeps counting alone.
            pass
        finally:
            window.last_sync = time.time()
            window.syncing = False

    def _forget_old(self, now: float) -> None:
        for wkey, window in list(self._windows.items()):
            if window.number < int(now // self._item(wkey.rsplit("|", 1)[1]).get_expiry()):
                del self._windows[wkey]

    async def reset(self) -> None:
        self._windows.clear()
        if self._shared is not None:
            await self._shared.reset()
