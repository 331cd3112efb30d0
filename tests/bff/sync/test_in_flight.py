"""No change is skipped while paging: a change flushed (id allocated) before a later one commits,
but committed after the phone read past it, still reaches the phone (PostgreSQL only: SQLite lets
one writer at a time, so ids commit in order there)."""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.bff.sync.client import new_customer, sync
from tests.bff.sync.test_customers import SP1
from tests.http import Api
from tsh.domain.customers.models import Customer
from tsh.domain.sync.models import ChangeLog


@pytest.mark.skipif(os.environ.get("TSH_TEST_BACKEND") != "services", reason="needs concurrent writers")
async def test_a_change_committed_after_a_later_one_is_not_skipped(api: Api) -> None:
    slow_customer = await new_customer(api, SP1)
    local: dict[int, Any] = {}
    cursor = await sync(api, SP1, "customers", local)
    async with api.db() as slow:
        row = await slow.get_one(Customer, slow_customer)
        row.city = "Erbil " + secrets.token_hex(2)
        await slow.flush()  # the change-log id is allocated now, the commit comes later
        slow_id = await slow.scalar(select(func.max(ChangeLog.id)))
        fast_customer = await new_customer(api, SP1)  # a later id, committed first
        cursor = await sync(api, SP1, "customers", local, since=cursor)
        assert fast_customer in local and local[slow_customer]["city"] != row.city
        await slow.commit()
    async with api.db() as s:
        assert await s.scalar(select(ChangeLog.entity_id).where(ChangeLog.id == slow_id)) == slow_customer
    await sync(api, SP1, "customers", local, since=cursor)
    async with api.db() as s:
        city = (await s.get_one(Customer, slow_customer)).city
    assert local[slow_customer]["city"] == city
