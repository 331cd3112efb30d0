"""Delta sync of customers (mobile.md §1) through HTTP: snapshot + deltas = fresh snapshot, the
reassignment tombstone, 410 for a foreign cursor, 304, 403 and a bad cursor."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from tests.bff.sync.client import new_customer, sync
from tests.http import Api, demo
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import User

PATH = "/api/bff/mobile/sync/customers"
SP1, SP2 = demo("salesperson", 1), demo("salesperson", 2)


async def _sync(api: Api, email: str, local: dict[int, Any], since: str | None = None, limit: int = 7) -> str:
    return await sync(api, email, "customers", local, since, limit)


async def _owned(api: Api, email: str) -> dict[int, Customer]:
    uid = await api.user_id(email)
    async with api.db() as s:
        return {c.id: c for c in await s.scalars(select(Customer).where(Customer.salesperson_id == uid))}


async def _set(api: Api, customer_id: int, **values: Any) -> None:
    async with api.db() as s:
        c = await s.get_one(Customer, customer_id)
        for k, v in values.items():
            setattr(c, k, v)
        await s.commit()


async def test_full_sync_then_deltas_equals_a_fresh_snapshot(api: Api) -> None:
    local: dict[int, Any] = {}
    cursor = await _sync(api, SP1, local)
    db = await _owned(api, SP1)
    assert set(local) == set(db) and db, "the snapshot is the salesperson's customers"
    assert all(local[i]["_version"] == c.version and local[i]["name"] == c.name for i, c in db.items())

    created = await new_customer(api, SP1)
    renamed = next(iter(db))
    await _set(api, renamed, city="Basra " + secrets.token_hex(2))
    left = await new_customer(api, SP1)
    await _set(api, left, salesperson_id=await api.user_id(SP2))

    await _sync(api, SP1, local, since=cursor, limit=2)
    fresh: dict[int, Any] = {}
    await _sync(api, SP1, fresh)
    assert local == fresh
    db = await _owned(api, SP1)
    assert set(local) == set(db) and created in local and left not in local
    assert local[renamed]["city"] == db[renamed].city and local[renamed]["_version"] == db[renamed].version


async def test_reassignment_is_a_tombstone_for_the_old_owner_and_an_upsert_for_the_new(api: Api) -> None:
    moved = await new_customer(api, SP1)
    old: dict[int, Any] = {}
    new: dict[int, Any] = {}
    old_cursor = await _sync(api, SP1, old)
    new_cursor = await _sync(api, SP2, new)
    assert moved in old and moved not in new

    await _set(api, moved, salesperson_id=await api.user_id(SP2))
    r = await api.get(SP1, PATH, since=old_cursor)
    changes = [c for c in r.json()["data"]["changes"] if c["id"] == moved]
    assert [(c["op"], c["data"]) for c in changes] == [("delete", None)]
    r = await api.get(SP2, PATH, since=new_cursor)
    changes = [c for c in r.json()["data"]["changes"] if c["id"] == moved]
    assert [c["op"] for c in changes] == ["upsert"] and changes[0]["data"]["name"].startswith("Sync shop")
    async with api.db() as s:
        assert changes[0]["version"] == (await s.get_one(Customer, moved)).version


async def test_another_users_cursor_is_410(api: Api) -> None:
    cursor = await _sync(api, SP1, {})
    r = await api.get(SP2, PATH, since=cursor)
    assert r.status_code == 410 and r.json()["error_code"] == "SYNC_CURSOR_EXPIRED"
    # A cursor before the pruned horizon is 410 too: tests/domain/test_jobs.py (prune_change_log).
    assert (await api.get(SP1, PATH, since=cursor)).status_code == 200


async def test_an_unchanged_page_is_304(api: Api) -> None:
    cursor = await _sync(api, SP1, {})
    first = await api.get(SP1, PATH, since=cursor)
    assert first.status_code == 200 and first.json()["data"]["changes"] == []
    assert first.json()["data"]["next_cursor"] == cursor, "an unchanged position keeps its cursor"
    etag = first.headers["etag"]
    headers = await api.auth.headers(SP1, **{"If-None-Match": etag})
    again = await api.client.get(PATH, params={"since": cursor}, headers=headers)
    assert again.status_code == 304 and again.content == b""
    await new_customer(api, SP1)
    changed = await api.client.get(PATH, params={"since": cursor}, headers=headers)
    assert changed.status_code == 200 and changed.json()["data"]["changes"]


async def test_roles_the_collection_does_not_list_are_403(api: Api) -> None:
    for role in ("consumer", "accountant", "wholesale_client"):
        r = await api.get(demo(role), PATH)
        assert r.status_code == 403 and r.json()["error_code"] == "FORBIDDEN", role


async def test_a_cursor_the_server_did_not_issue_is_422_and_limit_is_bounded(api: Api) -> None:
    r = await api.get(SP1, PATH, since="not-a-cursor")
    assert r.status_code == 422 and r.json()["error_code"] == "VALIDATION_ERROR"
    r = await api.get(SP1, PATH, limit=1001)
    assert r.status_code == 422
    r = await api.get(SP1, PATH, limit=1)
    assert r.status_code == 200 and len(r.json()["data"]["changes"]) == 1


async def test_branch_scope_for_the_branch_manager(api: Api) -> None:
    local: dict[int, Any] = {}
    await _sync(api, demo("branch_manager"), local, limit=500)
    async with api.db() as s:
        branch = (await s.scalars(select(User.branch_id).where(User.email == demo("branch_manager")))).one()
        ids = set(await s.scalars(select(Customer.id).where(Customer.branch_id == branch)))
    assert set(local) == ids and ids
