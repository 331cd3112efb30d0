"""The process-wide resources, built once (app lifespan or CLI) and passed explicitly."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tsh.config import Settings
from tsh.domain.identity.authenticator import Authenticator
from tsh.domain.identity.ipguard import IpGuard
from tsh.domain.sync.changelog import install_change_log
from tsh.platform.cache.backend import CacheBackend, MemoryCache
from tsh.platform.cache.redis import RedisCache
from tsh.platform.db.engine import Database
from tsh.platform.events import EventBus
from tsh.platform.idempotency import IdempotencyStore
from tsh.platform.ratelimit import Limiter
from tsh.platform.requestlog import RequestLog

log = logging.getLogger("tsh.requestlog")


@dataclass
class AppContext:
    settings: Settings
    db: Database
    bus: EventBus
    cache: CacheBackend
    limiter: Limiter
    idempotency: IdempotencyStore
    authenticator: Authenticator
    ip_guard: IpGuard
    # Filled only with `settings.check_contract` (tests): responses that broke their declaration.
    contract_violations: list[str] = field(default_factory=list)
    # Per-minute request aggregates of this process (ADM-01/23/24); the app passes its own in.
    request_log: RequestLog = field(default_factory=RequestLog)

    @classmethod
    async def build(cls, settings: Settings) -> AppContext:
        install_change_log()
        db = Database(settings)
        cache: CacheBackend
        if settings.redis_url:
            redis_cache = RedisCache(
                settings.redis_url, pool_size=settings.redis_pool_size, local_ttl_s=settings.local_cache_ttl_s
            )
            await redis_cache.start()
            cache = redis_cache
        else:
            cache = MemoryCache()
        ctx = cls(
            settings=settings,
            db=db,
            bus=EventBus(),
            cache=cache,
            limiter=Limiter(settings.redis_url),
            idempotency=IdempotencyStore(db),
            authenticator=Authenticator(settings, db, cache),
            ip_guard=IpGuard(db),
        )
        ctx.bus.subscribe(ctx.ip_guard.on_events)
        return ctx

    async def flush_request_log(self, *, everything: bool = False) -> int:
        """Write the finished minutes of the request log (all of them at shutdown and in tests).

        A failed write keeps the counts in memory for the next attempt; it never fails a request.
        """
        from tsh.domain.identity.request_log import write_rollups

        tallies = self.request_log.take(everything=everything)
        if not tallies:
            return 0
        try:
            async with self.db.command_session() as session:
                written = await write_rollups(session, instance=self.request_log.instance, tallies=tallies)
                await session.commit()
            return written
        except Exception:
            self.request_log.put_back(tallies)
            log.warning("request log write deferred", exc_info=True)
            return 0

    async def close(self) -> None:
        await self.cache.close()
        await self.db.dispose()
