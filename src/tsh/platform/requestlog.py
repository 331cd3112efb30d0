"""Per-minute request aggregates (clarifications: request log), kept in memory until written.

Each process counts its requests per (minute, app, route template, status class): calls, cache
hits, latency sum and a fixed latency histogram, plus the distinct users of the minute. A flusher
(tsh.context) writes every finished minute as one row per key, so the table grows with minutes
and routes, never with requests. Prometheus stays the operator's view; the admin screens read
the table (ADM-01, ADM-23, ADM-24).
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Upper bounds (ms) of the latency buckets; the last one catches everything slower.
BUCKETS_MS: tuple[float, ...] = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, math.inf)
Key = tuple[datetime, str, str, str]


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def bucket_of(latency_ms: float) -> int:
    for i, bound in enumerate(BUCKETS_MS):
        if latency_ms <= bound:
            return i
    return len(BUCKETS_MS) - 1


def percentile_ms(buckets: Sequence[int], q: float) -> float | None:
    """The bucket bound under which a share `q` of the calls fell (the slowest bucket answers
    with the bound before it, as "above"); None without calls. Resolution is the bucket grid."""
    total = sum(buckets)
    if not total:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(buckets):
        seen += n
        if seen >= rank:
            bound = BUCKETS_MS[i]
            return BUCKETS_MS[i - 1] if math.isinf(bound) else bound
    return BUCKETS_MS[-2]


@dataclass
class Tally:
    count: int = 0
    cached: int = 0
    latency_sum_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS_MS))
    users: set[int] = field(default_factory=set)


class RequestLog:
    """Thread-safe counters of the current process; `take` hands finished minutes to the writer."""

    def __init__(self) -> None:
        self.instance = uuid.uuid4().hex[:12]
        self._open: dict[Key, Tally] = {}
        self._lock = threading.Lock()

    def record(
        self,
        *,
        app: str,
        route: str,
        status: int,
        latency_ms: float,
        cached: bool,
        user_id: int | None,
        now: datetime | None = None,
    ) -> None:
        minute = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        key = (minute, app, route[:255], status_class(status))
        with self._lock:
            tally = self._open.get(key)
            if tally is None:
                tally = self._open[key] = Tally()
            tally.count += 1
            tally.cached += int(cached)
            tally.latency_sum_ms += latency_ms
            tally.buckets[bucket_of(latency_ms)] += 1
            if user_id is not None:
                tally.users.add(user_id)

    def take(self, *, everything: bool = False, now: datetime | None = None) -> dict[Key, Tally]:
        """Remove and return the finished minutes (all of them with `everything`)."""
        current = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        with self._lock:
            done = {k: v for k, v in self._open.items() if everything or k[0] < current}
            for k in done:
                del self._open[k]
        return done

    def put_back(self, tallies: dict[Key, Tally]) -> None:
        """A failed write keeps its counts for the next attempt (merged with newer ones)."""
        with self._lock:
            for key, old in tallies.items():
                tally = self._open.setdefault(key, Tally())
                tally.count += old.count
                tally.cached += old.cached
                tally.latency_sum_ms += old.latency_sum_ms
                tally.buckets = [a + b for a, b in zip(tally.buckets, old.buckets, strict=True)]
                tally.users |= old.users
