"""Small derived values (ids, flags) kept in the screen cache under event tags.

For lookups that would otherwise run on every request, even on a cache hit: a screen's cache key
may depend on them (the consumer's serving branch). A back-end failure computes the value.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable

from tsh.platform.cache.backend import CacheBackend, CacheError, Entry


async def cached_value(
    cache: CacheBackend, key: str, *, ttl_s: int, tags: Iterable[str], compute: Callable[[], Awaitable[str]]
) -> str:
    try:
        entry = await cache.get(key)
        if entry is not None:
            return entry.value.decode()
        generation: int | None = await cache.generation()
    except CacheError:
        generation = None
    value = await compute()
    if generation is not None:
        with contextlib.suppress(CacheError):
            await cache.set(key, Entry(value.encode(), time.time(), ""), ttl_s, tags, generation)
    return value
