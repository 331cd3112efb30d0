"""Small derived values (a principal, a serving branch) kept in the screen cache under event tags.

For lookups that would otherwise run on every request, even on a screen cache hit. A back-end
failure computes the value and is counted under `category`, never an error.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from tsh.platform.cache.backend import CacheBackend, CacheError, Entry
from tsh.platform.metrics import CACHE


async def cached_value(
    cache: CacheBackend,
    key: str,
    *,
    ttl_s: int,
    tags: Iterable[str],
    compute: Callable[[], Awaitable[str]],
    category: str = "value",
) -> str:
    try:
        entry = await cache.get(key)
        if entry is not None:
            return entry.value.decode()
        generation: int | None = await cache.generation()
    except CacheError:
        CACHE.labels(category, "error").inc()
        generation = None
    value = await compute()
    if generation is not None:
        try:
            await cache.set(key, Entry(value.encode(), time.time(), ""), ttl_s, tags, generation)
        except CacheError:
            CACHE.labels(category, "error").inc()
    return value
