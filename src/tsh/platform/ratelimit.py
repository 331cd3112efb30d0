"""Rate limits on the `limits` library: moving windows in process memory, or shared in Redis."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.limits import RateLimitItem

from tsh.platform.errors import RateLimited
from tsh.platform.metrics import RATE_LIMITED


class Limiter:
    def __init__(self, redis_url: str | None) -> None:
        storage: Storage
        if redis_url:
            # redis-py, not the default coredis client (see ../shared/design/STACK.md).
            storage = RedisStorage(
                redis_url.replace("redis://", "async+redis://", 1),
                implementation="redispy",
                key_prefix="tsh:rl",
            )
        else:
            storage = MemoryStorage()
        self.storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._parsed: dict[str, RateLimitItem] = {}
        self.enabled = True

    def _item(self, limit: str) -> RateLimitItem:
        item = self._parsed.get(limit)
        if item is None:
            item = self._parsed[limit] = parse(limit)
        return item

    async def hit(self, key: str, limit: str) -> None:
        """Count one request against `limit` for `key`; 429 with Retry-After when exhausted.

        A failing shared store must not take the API down with it: the limit is then not
        enforced for that request (fail open), which is the usual trade-off for rate limits.
        """
        if not self.enabled:
            return
        item = self._item(limit)
        try:
            allowed = await self._strategy.hit(item, key)
        except Exception:
            return
        if not allowed:
            RATE_LIMITED.labels(limit).inc()
            stats = await self._strategy.get_window_stats(item, key)
            raise RateLimited(math.ceil(max(1.0, stats.reset_time - time.time())))

    async def reset(self) -> None:
        await self.storage.reset()
