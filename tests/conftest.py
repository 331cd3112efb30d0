"""Test fixtures: a fresh, migrated and seeded database per run, the app with its lifespan,
and an HTTP client. TSH_TEST_BACKEND=services runs on PostgreSQL + Redis (see run_suites.py)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

import tests.probe_app  # noqa: F401  (registers the test-only probe endpoints)
from tests.http import Api, Auth
from tsh.config import Settings
from tsh.context import AppContext

BACKEND = os.environ.get("TSH_TEST_BACKEND", "embedded")


async def _create_pg_database(server_url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    import asyncpg

    base = server_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"tsh_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(base)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(base)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    head, _, _ = server_url.rpartition("/")
    return f"{head}/{name}", drop


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture(scope="session")
async def settings() -> AsyncIterator[Settings]:
    common: dict[str, Any] = {
        "env": "test",
        "log_json": True,
        "access_log": False,
        "log_level": "WARNING",
        "rate_limit_default": "100000/minute",
        "rate_limit_login_ip": "100000/minute",
        "rate_limit_login_account": "100000/minute",
        # Every response is checked against its endpoint's declaration (see `contract_clean`).
        "check_contract": True,
    }
    if BACKEND == "services":
        db_url, drop = await _create_pg_database(os.environ["TSH_TEST_DATABASE_URL"])
        redis_url = os.environ["TSH_TEST_REDIS_URL"]
        await _flush_redis(redis_url)
        yield Settings(database_url=db_url, redis_url=redis_url, **common)
        await drop()
    else:
        with tempfile.TemporaryDirectory(prefix="tsh-test-") as tmp:
            yield Settings(
                database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'test.sqlite3'}", redis_url=None, **common
            )


@pytest.fixture(scope="session")
async def seeded(settings: Settings) -> Settings:
    from tsh.platform.db.migrate import upgrade
    from tsh.seed import run_seed

    await asyncio.to_thread(upgrade, settings.database_url)
    await run_seed(settings, profile="demo", reset=False, if_empty=False)
    return settings


@pytest.fixture(scope="session")
async def app(seeded: Settings) -> AsyncIterator[FastAPI]:
    from tsh.main import create_app

    application = create_app(seeded)
    async with LifespanManager(application):
        yield application


@pytest.fixture(scope="session")
def live_url(seeded: Settings) -> Any:
    """The base URL of a real HTTP server over the seeded database (tests/live/server.py)."""
    from tests.live.server import live_server

    with live_server(seeded) as url:
        yield url


@pytest.fixture(scope="session")
def ctx(app: FastAPI) -> AppContext:
    context: AppContext = app.state.ctx
    return context


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session")
def auth(client: httpx.AsyncClient) -> Auth:
    return Auth(client)


@pytest.fixture
def api(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> Api:
    return Api(client, auth, ctx)


@pytest.fixture(autouse=True)
def contract_clean(request: pytest.FixtureRequest) -> Any:
    """Fail the test whose requests answered outside their endpoint's declaration (an undeclared
    error code, or data that breaks the response model)."""
    if "client" not in request.fixturenames:
        yield
        return
    context: AppContext = request.getfixturevalue("ctx")
    seen = len(context.contract_violations)
    yield
    new = context.contract_violations[seen:]
    assert not new, "responses broke their declarations:\n" + "\n".join(new)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: runs after every other test (its writes disturb no later test)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the tests marked `last` (the fuzzer, which writes whatever the schema admits) to the end
    of the session, so that no test of the same run sees the rows it created."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """End every run with the contract rows still to build (row by row, never a failure)."""
    from tests.bff.test_registry_matches_contract import contract_gaps

    gaps = contract_gaps()
    if not gaps:
        terminalreporter.write_line("contract: every row of docs/contract/apps is built")
        return
    total = sum(len(v) for v in gaps.values())
    terminalreporter.write_sep("-", f"contract rows not built yet: {total}")
    for app, ids in gaps.items():
        terminalreporter.write_line(f"{app} ({len(ids)}): {', '.join(ids)}")
