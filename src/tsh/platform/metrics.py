"""Prometheus metrics, labelled by app and route template (never by raw path: ids would explode it).

With several worker processes set PROMETHEUS_MULTIPROC_DIR (see README) so /metrics aggregates
all of them; otherwise each process reports its own figures.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# Fine enough for ms-level p50/p95/p99 of cached screens and slow enough ones for cold screens;
# up to 30 s (nginx's proxy_read_timeout is 30 s) so a stuck request during an outage
# lands in a bucket rather than only in +Inf.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05,
    0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0,
)  # fmt: skip

REQUESTS = Counter("tsh_http_requests_total", "HTTP requests", ["app", "route", "method", "status"])
LATENCY = Histogram(
    "tsh_http_request_duration_seconds", "Request latency", ["app", "route"], buckets=LATENCY_BUCKETS
)
# Requests being served now, summed over the live workers (a dead worker's count is dropped).
IN_FLIGHT = Gauge("tsh_http_requests_in_flight", "Requests being served", multiprocess_mode="livesum")
CACHE = Counter("tsh_cache_requests_total", "Screen cache lookups", ["category", "outcome"])
INVALIDATIONS = Counter("tsh_cache_invalidations_total", "Invalidations by domain event", ["event"])
SECTION_LATENCY = Histogram(
    "tsh_screen_section_duration_seconds",
    "Time per aggregated source",
    ["endpoint", "section"],
    buckets=LATENCY_BUCKETS,
)
SECTIONS = Counter(
    "tsh_screen_sections_total",
    "Sections of partial screens by outcome (ok, stale, timeout, error)",
    ["endpoint", "section", "status"],
)
IDEMPOTENT_REPLAYS = Counter(
    "tsh_idempotent_replays_total", "Responses replayed for a repeated key", ["endpoint"]
)
RATE_LIMITED = Counter("tsh_rate_limited_total", "Requests refused by a rate limit", ["limit"])
DB_POOL_IN_USE = Gauge("tsh_db_pool_connections_in_use", "Database connections checked out", ["pool"])
DB_POOL_SIZE = Gauge("tsh_db_pool_size", "Database pool size", ["pool"])
# Scheduled jobs (tsh.platform.scheduler): outcome ok, skipped (another instance held the lock), failed.
JOB_RUNS = Counter("tsh_job_runs_total", "Scheduled job runs", ["job", "outcome"])
JOB_LAST_SUCCESS = Gauge(
    "tsh_job_last_success_timestamp_seconds", "When a job last succeeded", ["job"], multiprocess_mode="max"
)

PoolProbe = Callable[[], dict[str, tuple[int, int]]]
_pool_probe: PoolProbe | None = None


def set_pool_probe(probe: PoolProbe | None) -> None:
    """Register how to read (checked_out, size) per pool at scrape time."""
    global _pool_probe
    _pool_probe = probe


def render() -> tuple[bytes, str]:
    if _pool_probe is not None:
        for name, (in_use, size) in _pool_probe().items():
            DB_POOL_IN_USE.labels(name).set(in_use)
            DB_POOL_SIZE.labels(name).set(size)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
