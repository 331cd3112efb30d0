"""The job runner (tsh.platform.scheduler): one transaction per run, events after commit, nothing
kept from a failed run, one runner at a time (in a process, and across instances on PostgreSQL),
metrics, and the timer's start-up run."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.config import Settings
from tsh.context import AppContext
from tsh.domain.events import raise_event
from tsh.domain.identity.models import Notification
from tsh.platform.events import DomainEvent, EventBus
from tsh.platform.scheduler import Job, JobScheduler, run_job

POSTGRES = os.environ.get("TSH_TEST_BACKEND") == "services"


def _recording_bus() -> tuple[EventBus, list[DomainEvent]]:
    bus, seen = EventBus(), []

    async def record(events: list[DomainEvent]) -> None:
        seen.extend(events)

    bus.subscribe(record)
    return bus, seen


def _note(tag: str) -> Notification:
    return Notification(
        channel="sms", recipient="+9647700000000", template=f"test_{tag}", payload={}, status="pending"
    )


async def _notes(ctx: AppContext, tag: str) -> int:
    async with ctx.db.session() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(Notification).where(Notification.template == f"test_{tag}")
            )
            or 0
        )


def _runs(job: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("tsh_job_runs_total", {"job": job, "outcome": outcome}) or 0.0


async def test_a_run_commits_once_and_then_publishes_its_events(ctx: AppContext) -> None:
    tag = secrets.token_hex(4)
    seen_at: list[datetime] = []

    async def work(session: AsyncSession, now: datetime) -> int:
        seen_at.append(now)
        session.add(_note(tag))
        raise_event(session, "UserChanged", users=[1])
        return 1

    job = Job(f"test_ok_{tag}", "* * * * *", work, "test")
    bus, events = _recording_bus()
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = await run_job(job, db=ctx.db, bus=bus, now=now)
    assert (result.outcome, result.changed, result.error) == ("ok", 1, None)
    assert seen_at == [now], "the job gets the `now` it is given"
    assert await _notes(ctx, tag) == 1
    assert [e.name for e in events] == ["UserChanged"] and events[0].scopes == frozenset({"user:1"})
    assert _runs(job.name, "ok") == 1
    assert (REGISTRY.get_sample_value("tsh_job_last_success_timestamp_seconds", {"job": job.name}) or 0) > 0


async def test_a_failed_run_keeps_nothing_and_publishes_nothing(ctx: AppContext) -> None:
    tag = secrets.token_hex(4)

    async def work(session: AsyncSession, now: datetime) -> int:
        session.add(_note(tag))
        await session.flush()
        raise_event(session, "UserChanged", users=[1])
        raise RuntimeError("boom")

    job = Job(f"test_fail_{tag}", "* * * * *", work, "test")
    bus, events = _recording_bus()
    result = await run_job(job, db=ctx.db, bus=bus)
    assert result.outcome == "failed" and result.error == "RuntimeError: boom"
    assert await _notes(ctx, tag) == 0 and events == []
    assert _runs(job.name, "failed") == 1 and _runs(job.name, "ok") == 0


async def test_a_job_already_running_in_this_process_is_skipped(ctx: AppContext) -> None:
    inside, release = asyncio.Event(), asyncio.Event()

    async def work(session: AsyncSession, now: datetime) -> int:
        inside.set()
        await release.wait()
        return 0

    job = Job(f"test_overlap_{secrets.token_hex(4)}", "* * * * *", work, "test")
    first = asyncio.create_task(run_job(job, db=ctx.db, bus=EventBus()))
    await asyncio.wait_for(inside.wait(), 30)
    second = await run_job(job, db=ctx.db, bus=EventBus())
    release.set()
    assert second.outcome == "skipped"
    assert (await first).outcome == "ok"


@pytest.mark.skipif(not POSTGRES, reason="advisory locks are PostgreSQL's (SQLite: BEGIN IMMEDIATE)")
async def test_another_instance_holding_the_lock_makes_this_runner_skip(ctx: AppContext) -> None:
    tag = secrets.token_hex(4)

    async def work(session: AsyncSession, now: datetime) -> int:
        session.add(_note(tag))
        return 1

    job = Job(f"test_lock_{tag}", "* * * * *", work, "test")
    # Another instance is running the job: its transaction holds the advisory lock.
    other = ctx.db.command_session()
    try:
        assert await other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": job.lock_key})
        result = await run_job(job, db=ctx.db, bus=EventBus())
        assert result.outcome == "skipped" and await _notes(ctx, tag) == 0
    finally:
        await other.rollback()
        await other.close()
    # Its transaction ended: the lock is free again and this runner does the work, once.
    assert (await run_job(job, db=ctx.db, bus=EventBus())).outcome == "ok"
    assert await _notes(ctx, tag) == 1


async def test_the_scheduler_runs_each_job_at_start_up(ctx: AppContext) -> None:
    ran = asyncio.Event()

    async def work(session: AsyncSession, now: datetime) -> int:
        ran.set()
        return 0

    # Once a year, so only the start-up catch-up can run it during the test.
    scheduler = JobScheduler(
        [Job(f"test_start_{secrets.token_hex(4)}", "0 0 1 1 *", work, "t")], db=ctx.db, bus=EventBus()
    )
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), 30)
    finally:
        scheduler.stop()


def test_jobs_run_in_the_server_by_default_only_in_dev() -> None:
    assert Settings(env="dev").runs_jobs_in_server
    assert not Settings(env="test").runs_jobs_in_server
    prod = {"env": "prod", "secret_key": "x" * 40, "metrics_token": "m" * 32}
    assert not Settings(**prod).runs_jobs_in_server
    assert Settings(**prod, jobs_in_server=True).runs_jobs_in_server
    assert not Settings(env="dev", jobs_in_server=False).runs_jobs_in_server


async def test_the_server_runs_the_jobs_when_told_to(seeded: Settings) -> None:
    from asgi_lifespan import LifespanManager

    from tsh.main import create_app

    before = _runs("purge_idempotency_keys", "ok") + _runs("purge_idempotency_keys", "skipped")
    app = create_app(seeded.model_copy(update={"jobs_in_server": True}))
    async with LifespanManager(app):
        for _ in range(300):  # the start-up catch-up runs every job once
            if _runs("purge_idempotency_keys", "ok") + _runs("purge_idempotency_keys", "skipped") > before:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the server started no job")
