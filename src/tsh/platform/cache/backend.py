"""Screen cache: entries are encoded bytes with their ETag, stored under a key with tags.

Two back ends with the same behaviour: `MemoryCache` (the embedded default, one process) and
`RedisCache` (shared, with a short-lived in-process layer in front). Both guard against the
classic fill race: a computation that started before an invalidation must not store its (old)
result after it. `generation()` is read before computing and `set()` stores only if no
invalidation happened in between.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes
    stored_at: float  # epoch seconds
    etag: str

    @staticmethod
    def build(value: bytes) -> Entry:
        return Entry(value=value, stored_at=time.time(), etag=etag_of(value))

    def age_s(self) -> int:
        return max(0, int(time.time() - self.stored_at))


def etag_of(value: bytes) -> str:
    return '"' + hashlib.blake2b(value, digest_size=12).hexdigest() + '"'


class CacheError(Exception):
    """The cache back end failed; callers fall back to the database and count it."""


class CacheBackend(Protocol):
    name: str

    async def get(self, key: str) -> Entry | None: ...

    async def generation(self) -> int: ...

    async def set(self, key: str, entry: Entry, ttl_s: int, tags: Iterable[str], generation: int) -> bool: ...

    async def invalidate(self, tags: Iterable[str]) -> None: ...

    async def ping(self) -> None: ...

    async def count_distinct(self, key: str, members: Iterable[str], window_s: int) -> int:
        """Add `members` under `key` and return how many distinct members it holds over the
        current and the previous `window_s` bucket (a sliding window of one to two windows;
        approximate with Redis, a HyperLogLog, about 1 % off). For detectors, not for money."""
        ...

    def backlog(self) -> int:
        """Invalidation tags not yet delivered (back end down at the time), queued for retry."""
        ...

    async def close(self) -> None: ...


class LocalStore:
    """A bounded in-process key → entry map with a tag index (used alone, or in front of Redis)."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._data: dict[str, tuple[Entry, float, tuple[str, ...]]] = {}
        self._by_tag: dict[str, set[str]] = {}

    def get(self, key: str, now: float) -> Entry | None:
        item = self._data.get(key)
        if item is None:
            return None
        entry, expires, _tags = item
        if expires <= now:
            self._drop(key)
            return None
        return entry

    def put(self, key: str, entry: Entry, expires: float, tags: Iterable[str]) -> None:
        if key in self._data:
            self._drop(key)
        elif len(self._data) >= self.max_entries:
            # Dicts keep insertion order: evict the oldest tenth in one go.
            for old in list(self._data)[: max(1, self.max_entries // 10)]:
                self._drop(old)
        tag_tuple = tuple(tags)
        self._data[key] = (entry, expires, tag_tuple)
        for tag in tag_tuple:
            self._by_tag.setdefault(tag, set()).add(key)

    def drop_tags(self, tags: Iterable[str]) -> int:
        dropped = 0
        for tag in tags:
            for key in self._by_tag.pop(tag, ()):
                if self._drop(key):
                    dropped += 1
        return dropped

    def clear(self) -> None:
        self._data.clear()
        self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._data)

    def _drop(self, key: str) -> bool:
        item = self._data.pop(key, None)
        if item is None:
            return False
        for tag in item[2]:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]
        return True


class MemoryCache:
    """The embedded default: one process, no network; invalidation is immediate."""

    name = "memory"

    def __init__(self, max_entries: int = 50_000) -> None:
        self._store = LocalStore(max_entries)
        self._generation = 0
        self._distinct: dict[str, dict[int, set[str]]] = {}
        self._distinct_bucket = 0

    async def get(self, key: str) -> Entry | None:
        return self._store.get(key, time.time())

    async def generation(self) -> int:
        return self._generation

    async def set(self, key: str, entry: Entry, ttl_s: int, tags: Iterable[str], generation: int) -> bool:
        if generation != self._generation:
            return False
        self._store.put(key, entry, time.time() + ttl_s, tags)
        return True

    async def invalidate(self, tags: Iterable[str]) -> None:
        self._generation += 1
        self._store.drop_tags(tags)

    async def ping(self) -> None:
        return None

    async def count_distinct(self, key: str, members: Iterable[str], window_s: int) -> int:
        bucket = int(time.time() // window_s)
        if bucket != self._distinct_bucket:  # a new window: forget what no window still needs
            self._distinct_bucket = bucket
            for k in list(self._distinct):
                kept = {b: v for b, v in self._distinct[k].items() if b >= bucket - 1}
                if kept:
                    self._distinct[k] = kept
                else:
                    del self._distinct[k]
        buckets = self._distinct.setdefault(key, {})
        buckets.setdefault(bucket, set()).update(members)
        return len(buckets.get(bucket, set()) | buckets.get(bucket - 1, set()))

    def backlog(self) -> int:
        return 0  # in-process: an invalidation cannot fail to arrive

    async def close(self) -> None:
        self._store.clear()
