"""Scheduled jobs: the job type, running one job once across instances, and the timer (APScheduler).

A job is a function `(session, now) -> int` (how many things it changed) that writes through the
session and never commits. `run_job` is its unit of work: it takes the job's lock in the same
transaction, runs it, commits, then publishes the events the job raised, so cached screens are
invalidated exactly as after a request (tsh.platform.db.uow does the same for requests).

Once across instances:
- PostgreSQL: `pg_try_advisory_xact_lock` on a key derived from the job's name, taken first in the
  job's transaction and released by its commit or rollback. A second runner (another server
  process, or `tsh worker` beside a server) does not wait: it records `skipped`. Jobs are also
  idempotent (they select what is due inside the transaction, rows locked SKIP LOCKED where other
  writers race them), so a runner that starts right after another finished changes nothing.
- SQLite (embedded, one server process): no advisory locks exist, and none are needed: a command
  session begins with BEGIN IMMEDIATE (tsh.platform.db.engine), so any two job transactions, even
  from two processes, run one after the other, and the second finds nothing left to do.
Within one process a job never overlaps itself (APScheduler max_instances=1, and `run_job` skips a
job that is already running here, e.g. `--once` beside the timer).

Library: APScheduler 3.11 (docs/decisions.md): its in-memory job store and cron triggers only
decide *when* to try; the database lock above decides *who* runs, so no scheduler state is shared.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.platform import metrics
from tsh.platform.db.base import utcnow
from tsh.platform.db.engine import Database
from tsh.platform.events import EventBus, discard_events, take_events

log = logging.getLogger("tsh.jobs")

JobFn = Callable[[AsyncSession, datetime], Awaitable[int]]
Outcome = Literal["ok", "skipped", "failed"]


@dataclass(frozen=True)
class Job:
    name: str
    # Standard five-field crontab (minute hour day month weekday; avoid the weekday field:
    # APScheduler 3 numbers weekdays from Monday=0), evaluated in `timezone`.
    cron: str
    run: JobFn
    description: str
    timezone: str = "UTC"

    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))

    @property
    def lock_key(self) -> int:
        """A stable signed 64-bit advisory-lock key for the name (the same in every process)."""
        digest = hashlib.blake2b(f"tsh.job:{self.name}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class JobResult:
    job: str
    outcome: Outcome
    changed: int = 0
    error: str | None = None


_running_here: set[str] = set()


async def try_job_lock(session: AsyncSession, job: Job) -> bool:
    """Take the job's cross-instance lock for the session's transaction; False if another holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE serialises job transactions (module docstring)
    got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": job.lock_key})
    return bool(got)


async def run_job(job: Job, *, db: Database, bus: EventBus, now: datetime | None = None) -> JobResult:
    """Run `job` once as one transaction, unless it is running elsewhere (then `skipped`).

    A failure rolls back everything the job did and is reported (`failed`), never raised: the
    next tick tries again."""
    if job.name in _running_here:
        return _record(JobResult(job.name, "skipped"))
    _running_here.add(job.name)
    session = db.command_session()
    try:
        if not await try_job_lock(session, job):
            await session.rollback()
            return _record(JobResult(job.name, "skipped"))
        changed = await job.run(session, now or utcnow())
        await session.commit()
    except Exception as exc:
        discard_events(session)
        await session.rollback()
        log.exception("job %s failed", job.name)
        return _record(JobResult(job.name, "failed", error=f"{type(exc).__name__}: {exc}"))
    finally:
        await session.close()
        _running_here.discard(job.name)
    await bus.publish(take_events(session))
    if changed:
        log.info("job %s changed %d", job.name, changed)
    return _record(JobResult(job.name, "ok", changed=changed))


def _record(result: JobResult) -> JobResult:
    metrics.JOB_RUNS.labels(result.job, result.outcome).inc()
    if result.outcome == "ok":
        metrics.JOB_LAST_SUCCESS.labels(result.job).set(time.time())
    return result


class JobScheduler:
    """Tries every job on its cron schedule in this process's event loop, and once at start-up
    (each job is a catch-up of everything due so far, e.g. terminations dated while nothing ran)."""

    def __init__(self, jobs: Iterable[Job], *, db: Database, bus: EventBus) -> None:
        self.jobs = list(jobs)
        self._db, self._bus = db, bus
        self._scheduler = AsyncIOScheduler(timezone=ZoneInfo("UTC"))

    async def _tick(self, job: Job) -> None:
        await run_job(job, db=self._db, bus=self._bus)

    def start(self, *, catch_up: bool = True) -> None:
        for job in self.jobs:
            self._scheduler.add_job(
                self._tick,
                job.trigger(),
                args=[job],
                id=job.name,
                name=job.name,
                max_instances=1,
                # Ticks missed while the loop was busy or the machine asleep collapse into one run.
                coalesce=True,
                misfire_grace_time=300,
                **({"next_run_time": utcnow()} if catch_up else {}),
            )
        self._scheduler.start()
        log.info("scheduler started: %s", ", ".join(j.name for j in self.jobs))

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def run_until(self, stop: asyncio.Event) -> None:
        """`tsh worker`: run until `stop` is set (SIGINT/SIGTERM), then let running jobs finish."""
        self.start()
        try:
            await stop.wait()
        finally:
            self.stop()
            for _ in range(300):  # a job interrupted later only rolls back: it is retried anyway
                if not _running_here:
                    break
                await asyncio.sleep(0.1)
