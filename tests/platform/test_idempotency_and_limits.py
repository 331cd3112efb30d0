"""Idempotency-Key semantics and rate limits through HTTP."""

from __future__ import annotations

import asyncio
import uuid

import httpx2 as httpx
from sqlalchemy import func, select

from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.context import AppContext
from tsh.domain.identity.models import AuditLog

NOTES = "/api/bff/mobile/probe/notes"
SP1 = "salesperson1@demo.tsh.iq"


async def _notes_executed(ctx: AppContext, user_id: int) -> int:
    async with ctx.db.session() as s:
        n = await s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.actor_id == user_id, AuditLog.action == "PRB-04")
        )
    return int(n or 0)


async def test_missing_key_is_400_and_changes_nothing(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    user_id = (await auth.login(SP1))["user"]["id"]
    before = await _notes_executed(ctx, user_id)
    r = await client.post(NOTES, json={"text": "x", "amount": 1}, headers=await auth.headers(SP1))
    assert_error(r, 400, "IDEMPOTENCY_KEY_REQUIRED")
    assert await _notes_executed(ctx, user_id) == before


async def test_replay_returns_first_response_without_second_effect(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    user_id = (await auth.login(SP1))["user"]["id"]
    headers = await auth.headers(SP1, **{"Idempotency-Key": str(uuid.uuid4())})
    before = await _notes_executed(ctx, user_id)
    first = await client.post(NOTES, json={"text": "hello", "amount": 5}, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(NOTES, json={"amount": 5, "text": "hello"}, headers=headers)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await _notes_executed(ctx, user_id) == before + 1


async def test_reuse_with_another_body_is_422(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    user_id = (await auth.login(SP1))["user"]["id"]
    headers = await auth.headers(SP1, **{"Idempotency-Key": str(uuid.uuid4())})
    assert (await client.post(NOTES, json={"text": "a", "amount": 1}, headers=headers)).status_code == 201
    before = await _notes_executed(ctx, user_id)
    r = await client.post(NOTES, json={"text": "b", "amount": 1}, headers=headers)
    assert_error(r, 422, "IDEMPOTENCY_KEY_REUSED")
    assert await _notes_executed(ctx, user_id) == before


async def test_validation_failure_is_replayed_too(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth.headers(SP1, **{"Idempotency-Key": str(uuid.uuid4())})
    r = await client.post(NOTES, json={"text": "a", "amount": -1}, headers=headers)
    body = assert_error(r, 422, "VALIDATION_ERROR")
    assert body["details"][0]["field"] == "amount"


async def test_concurrent_duplicates_execute_once(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    user_id = (await auth.login(SP1))["user"]["id"]
    headers = await auth.headers(SP1, **{"Idempotency-Key": str(uuid.uuid4())})
    before = await _notes_executed(ctx, user_id)
    body = {"text": "slow", "amount": 2, "delay_ms": 300}
    results = await asyncio.gather(*(client.post(NOTES, json=body, headers=headers) for _ in range(3)))
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) == 1
    assert statuses.count(409) == 2
    for r in results:
        if r.status_code == 409:
            assert r.json()["error_code"] == "REQUEST_IN_PROGRESS"
    assert await _notes_executed(ctx, user_id) == before + 1


async def test_rate_limit_gives_429_with_retry_after(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = await auth.headers("salesperson2@demo.tsh.iq")
    statuses = [(await client.get("/api/bff/mobile/probe/limited", headers=headers)) for _ in range(4)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    assert_error(statuses[3], 429, "RATE_LIMITED")
    assert int(statuses[3].headers["retry-after"]) >= 1
