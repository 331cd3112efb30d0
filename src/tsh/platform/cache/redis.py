"""Redis screen cache with an in-process layer in front of it.

Why not a library cache wrapper: the BFF stores pre-encoded bytes with an ETag under keys it
builds itself, tags entries with scope-aware tags and must refuse a fill that raced an
invalidation. That is a handful of Redis commands (two Lua scripts below) on top of redis-py,
which *is* the maintained library here; cashews was tried and its tag registry (regex key
templates, one round trip per tag) did not fit. See docs/decisions.md.

Cross-process behaviour:
- every invalidation bumps a global generation in Redis, deletes the tagged keys and publishes
  the tags; each process's listener drops the same tags from its local layer;
- while the listener is not connected, the local layer is bypassed (it could be stale);
- when Redis fails, calls raise CacheError fast (a 1 s circuit breaker) and invalidations
  that could not be delivered are retried before the next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tsh.platform.cache.backend import CacheError, Entry, LocalStore

log = logging.getLogger("tsh.cache")
T = TypeVar("T")


def _close(awaitable: Any) -> None:
    if hasattr(awaitable, "close"):
        awaitable.close()


PREFIX = "tsh:"
GEN_KEY = PREFIX + "gen"
CHANNEL = PREFIX + "invalidate"
TAG_TTL_S = 3600

# KEYS[1] = generation key, KEYS[2] = entry key; ARGV = expected gen, value, ttl, tag keys...
_SET_IF_GENERATION = """
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', tonumber(ARGV[3]))
for i = 4, #ARGV do
  redis.call('SADD', ARGV[i], KEYS[2])
  redis.call('EXPIRE', ARGV[i], TAG_TTL)
end
return 1
""".replace("TAG_TTL", str(TAG_TTL_S))

# KEYS[1] = generation key; ARGV = tag keys
_INVALIDATE = """
redis.call('INCR', KEYS[1])
local n = 0
for i = 1, #ARGV do
  local keys = redis.call('SMEMBERS', ARGV[i])
  for j = 1, #keys, 500 do
    n = n + redis.call('DEL', unpack(keys, j, math.min(j + 499, #keys)))
  end
  redis.call('DEL', ARGV[i])
end
return n
"""


def _encode(entry: Entry, tags: list[str]) -> bytes:
    # Tags travel with the value so a process that reads the entry can index it locally.
    return f"{entry.stored_at:.6f}|{entry.etag}|{','.join(tags)}|".encode() + entry.value


def _decode(raw: bytes) -> tuple[Entry, list[str]]:
    stored_at, etag, tags, value = raw.split(b"|", 3)
    entry = Entry(value=value, stored_at=float(stored_at), etag=etag.decode())
    return entry, tags.decode().split(",") if tags else []


class RedisCache:
    name = "redis"

    def __init__(self, url: str, *, pool_size: int = 64, local_ttl_s: float = 5.0) -> None:
        self._redis = Redis.from_url(
            url,
            max_connections=pool_size,
            socket_connect_timeout=0.25,
            socket_timeout=0.5,
            health_check_interval=30,
        )
        # Pub/sub is server-wide, not per database: two deployments (or test runs) sharing one
        # Redis on different databases must not drop each other's local entries.
        self._channel = f"{CHANNEL}:{self._redis.connection_pool.connection_kwargs.get('db', 0)}"
        self._local = LocalStore()
        self._local_ttl_s = local_ttl_s
        self._local_generation = 0
        self._listening = False
        self._listener: asyncio.Task[None] | None = None
        self._down_until = 0.0
        self._pending: set[str] = set()
        self._set_script = self._redis.register_script(_SET_IF_GENERATION)
        self._invalidate_script = self._redis.register_script(_INVALIDATE)

    @property
    def client(self) -> Redis:
        return self._redis

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen_forever(), name="tsh-cache-invalidations")

    async def close(self) -> None:
        if self._listener:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        self._local.clear()
        await self._redis.aclose()

    # -- reads and writes -------------------------------------------------------------

    async def get(self, key: str) -> Entry | None:
        now = time.time()
        if self._listening:
            entry = self._local.get(key, now)
            if entry is not None:
                return entry
        await self._flush_pending()
        local_gen = self._local_generation
        raw = await self._call(self._redis.get(PREFIX + "c:" + key))
        if raw is None:
            return None
        entry, tags = _decode(raw if isinstance(raw, bytes) else raw.encode())
        if self._listening and local_gen == self._local_generation:
            self._local.put(key, entry, now + self._local_ttl_s, tags)
        return entry

    async def generation(self) -> int:
        raw = await self._call(self._redis.get(GEN_KEY))
        return int(raw or 0)

    async def set(self, key: str, entry: Entry, ttl_s: int, tags: Iterable[str], generation: int) -> bool:
        tag_list = list(tags)
        local_gen = self._local_generation
        stored = await self._call(
            self._set_script(
                keys=[GEN_KEY, PREFIX + "c:" + key],
                args=[
                    str(generation),
                    _encode(entry, tag_list),
                    ttl_s,
                    *(PREFIX + "t:" + t for t in tag_list),
                ],
            )
        )
        if stored and self._listening and local_gen == self._local_generation:
            self._local.put(key, entry, time.time() + min(ttl_s, self._local_ttl_s), tag_list)
        return bool(stored)

    async def invalidate(self, tags: Iterable[str]) -> None:
        tag_list = list(tags)
        self._local_generation += 1
        self._local.drop_tags(tag_list)
        try:
            await self._deliver(tag_list)
        except CacheError:
            # Keep them: they are retried before the next read so no stale entry survives.
            self._pending.update(tag_list)
            raise

    def backlog(self) -> int:
        return len(self._pending)

    async def ping(self) -> None:
        try:
            await asyncio.wait_for(self._redis.ping(), timeout=0.5)
        except (RedisError, OSError, TimeoutError) as exc:
            raise CacheError(str(exc)) from exc

    async def count_distinct(self, key: str, members: Iterable[str], window_s: int) -> int:
        bucket = int(time.time() // window_s)
        current, previous = f"tsh:distinct:{key}:{bucket}", f"tsh:distinct:{key}:{bucket - 1}"
        values = list(members)
        pipe = self._redis.pipeline(transaction=False)
        if values:
            pipe.pfadd(current, *values)
            pipe.expire(current, window_s * 2)
        pipe.pfcount(current, previous)
        results = await self._call(pipe.execute())
        return int(results[-1])

    async def try_lock(self, key: str, ttl_ms: int = 3000) -> bool:
        return bool(await self._call(self._redis.set(PREFIX + "l:" + key, b"1", nx=True, px=ttl_ms)))

    async def unlock(self, key: str) -> None:
        with contextlib.suppress(CacheError):
            await self._call(self._redis.delete(PREFIX + "l:" + key))

    # -- internals -------------------------------------------------------------------

    async def _deliver(self, tag_list: list[str]) -> None:
        await self._call(self._invalidate_script(keys=[GEN_KEY], args=[PREFIX + "t:" + t for t in tag_list]))
        await self._call(self._redis.publish(self._channel, orjson.dumps(tag_list)))

    async def _flush_pending(self) -> None:
        if self._pending:
            pending, self._pending = list(self._pending), set()
            try:
                await self._deliver(pending)
            except CacheError:
                self._pending.update(pending)
                raise

    async def _call(self, awaitable: Awaitable[T]) -> T:
        if time.monotonic() < self._down_until:
            _close(awaitable)
            raise CacheError("redis marked down")
        try:
            return await awaitable
        except (RedisError, OSError, TimeoutError) as exc:
            # Fail fast for a second instead of paying a timeout on every request.
            self._down_until = time.monotonic() + 1.0
            self._local.clear()
            raise CacheError(type(exc).__name__) from exc

    def _on_message(self, data: bytes) -> None:
        try:
            tags = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        self._local_generation += 1
        self._local.drop_tags(tags)

    async def _listen_forever(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._local.clear()
                self._listening = True
                async for message in pubsub.listen():
                    if message and message.get("type") == "message":
                        self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: bypass the local layer until back
                log.warning("cache invalidation listener down: %s", type(exc).__name__)
            finally:
                self._listening = False
                self._local.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(0.5)
