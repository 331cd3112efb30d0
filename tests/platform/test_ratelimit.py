"""The limiter: exact within a process, shared across processes through Redis."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest

from tsh.platform.errors import RateLimited
from tsh.platform.ratelimit import SYNC_EVERY_S, Limiter


async def test_limit_and_retry_after_in_one_process() -> None:
    limiter = Limiter(None)
    for _ in range(3):
        await limiter.hit("k", "3/minute")
    with pytest.raises(RateLimited) as err:
        await limiter.hit("k", "3/minute")
    assert err.value.headers is not None and 1 <= int(err.value.headers["Retry-After"]) <= 60
    await limiter.hit("other", "3/minute")  # keys are independent


@pytest.mark.skipif(
    not os.environ.get("TSH_TEST_REDIS_URL") or os.environ.get("TSH_TEST_BACKEND") != "services",
    reason="needs Redis (the services run)",
)
async def test_two_processes_share_one_limit_through_redis() -> None:
    url = os.environ["TSH_TEST_REDIS_URL"]
    a, b = Limiter(url), Limiter(url)
    key = f"shared-{uuid.uuid4().hex}"
    # The windows are fixed minutes: the ~1.5 s of hits below must not straddle one's end, or
    # the count starts again and the limit is (rightly) not reached.
    left = 60 - time.time() % 60
    if left < 5:
        await asyncio.sleep(left + 0.1)
    for _ in range(4):
        await a.hit(key, "6/minute")
        await asyncio.sleep(SYNC_EVERY_S + 0.05)  # let each hit reach Redis
    await b.hit(key, "6/minute")  # b learns a's four hits from this push
    await asyncio.sleep(SYNC_EVERY_S + 0.05)
    await b.hit(key, "6/minute")
    with pytest.raises(RateLimited):
        await b.hit(key, "6/minute")
