"""With a replica, /health/ready probes it: a down replica is `degraded` (200) and screens read the
primary; a down primary is 503. The dead servers are closed local ports (nothing listens on 1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from tests.http import Api, demo
from tsh.context import AppContext
from tsh.domain.identity.models import User
from tsh.platform.db.engine import Database

DEAD = "postgresql+asyncpg://postgres@127.0.0.1:1/none"


@asynccontextmanager
async def _database(ctx: AppContext, **urls: str) -> AsyncIterator[Database]:
    """`ctx.db` swapped for one on the given primary/replica URLs for the duration."""
    settings = ctx.settings.model_copy(update=urls)
    db, real = Database(settings), ctx.db
    ctx.db = db
    try:
        yield db
    finally:
        ctx.db = real
        await db.dispose()


async def test_a_down_replica_is_degraded_and_screens_read_the_primary(api: Api, ctx: AppContext) -> None:
    async with _database(ctx, database_url=ctx.settings.database_url, database_replica_url=DEAD) as db:
        assert db.has_replica and not db.replica_down
        ready = await api.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "degraded"
        assert body["checks"]["database"]["status"] == "ok"
        assert body["checks"]["replica"]["status"] == "down"
        assert db.replica_down
        # Screens now get the primary: the seeded users are there.
        async with db.read_session() as session:
            assert session.bind is db.engine
            assert await session.scalar(select(User.id).where(User.email == demo("cashier")))
        response = await api.get(demo("cashier"), "/api/bff/mobile/probe/me")
        assert response.status_code == 200, response.text


async def test_a_failing_replica_query_sends_the_next_screens_to_the_primary(ctx: AppContext) -> None:
    async with _database(ctx, database_url=ctx.settings.database_url, database_replica_url=DEAD) as db:
        session = db.read_session()
        assert session.bind is db.replica_engine
        try:
            with pytest.raises(OSError):  # connection refused
                await session.scalar(select(User.id).limit(1))
        finally:
            await session.close()
        assert db.replica_down
        assert db.read_session().bind is db.engine
        db.mark_replica(up=True)
        assert db.read_session().bind is db.replica_engine


async def test_a_down_primary_is_503(api: Api, ctx: AppContext) -> None:
    async with _database(ctx, database_url=DEAD, database_replica_url=ctx.settings.database_url):
        ready = await api.client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["status"] == "down"
        assert ready.json()["checks"]["replica"]["status"] == "ok"


async def test_without_a_replica_ready_has_no_replica_check(api: Api) -> None:
    ready = await api.client.get("/health/ready")
    assert ready.status_code == 200
    assert "replica" not in ready.json()["checks"]
