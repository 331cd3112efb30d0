"""Prometheus metrics, labelled by app and route template (never by raw path: ids would explode it).

With several worker processes set PROMETHEUS_MULTIPROC_DIR (see README) so /metrics aggregates
all of them; otherwise each process reports its own figures. In that mode prometheus_client's
process collector is gone (it reads only the scraped process), so each worker writes its own CPU
and memory into live-summed gauges of the same names, and a worker that exits marks its files dead.
"""

from __future__ import annotations

import atexit
import os
import resource
import time
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

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# Outside the default registry: in one process it already has these names (ProcessCollector); in
# multiprocess mode the values go to this worker's files, which MultiProcessCollector sums over the
# live workers. A worker that dies drops out of the sum, so rate() of the CPU sees a reset.
_PROCESS_CPU = Gauge(
    "process_cpu_seconds_total", "CPU seconds of the live workers", multiprocess_mode="livesum", registry=None
)
_PROCESS_MEMORY = Gauge(
    "process_resident_memory_bytes",
    "Resident memory of the live workers",
    multiprocess_mode="livesum",
    registry=None,
)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_refreshed = [0.0]


def refresh_process_metrics(*, every_s: float = 1.0) -> None:
    """This worker's CPU and resident memory into the multiprocess gauges, at most once per
    `every_s` (called per request and per scrape: cheap, no background task)."""
    if not MULTIPROCESS:
        return
    now = time.monotonic()
    if now - _refreshed[0] < every_s:
        return
    _refreshed[0] = now
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _PROCESS_CPU.set(usage.ru_utime + usage.ru_stime)
    try:
        with open("/proc/self/statm") as statm:
            _PROCESS_MEMORY.set(int(statm.read().split()[1]) * _PAGE)
    except OSError:  # not Linux: the peak instead of the current figure
        _PROCESS_MEMORY.set(usage.ru_maxrss * 1024)


def mark_worker_dead(pid: int | None = None) -> None:
    """Drop a worker's live gauges (in-flight requests, process figures) from the sums."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid or os.getpid())


def clear_multiprocess_dir() -> None:
    """Remove the previous run's files (a killed worker never marks itself dead): called by
    `tsh serve` before the workers start, as prometheus_client advises. One directory per instance."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


if MULTIPROCESS:
    atexit.register(mark_worker_dead)  # a worker stopped by uvicorn exits normally

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
    if MULTIPROCESS:
        refresh_process_metrics(every_s=0.0)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
