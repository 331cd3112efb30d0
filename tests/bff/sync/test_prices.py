"""Delta sync of prices: the items of the lists that apply per channel, changes and deletions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from tests.bff.sync.client import sync
from tests.http import Api, demo
from tsh.domain.catalog.models import PriceList, PriceListItem
from tsh.domain.identity.models import User

CONSUMER, PARTNER, MANAGER = demo("consumer"), demo("partner"), demo("branch_manager")


async def _items(api: Api, *where: Any) -> dict[int, PriceListItem]:
    async with api.db() as s:
        rows = await s.scalars(select(PriceListItem).join(PriceList).where(*where))
        return {i.id: i for i in rows}


async def _channel_of(api: Api, list_ids: set[int]) -> set[str]:
    async with api.db() as s:
        return set(await s.scalars(select(PriceList.channel).where(PriceList.id.in_(list_ids))))


async def test_one_list_per_customer_channel(api: Api) -> None:
    for email, channel in ((CONSUMER, "consumer"), (PARTNER, "partner")):
        local: dict[int, Any] = {}
        await sync(api, email, "prices", local, limit=1000)
        lists = {row["price_list_id"] for row in local.values()}
        assert len(lists) == 1 and await _channel_of(api, lists) == {channel}, email
        db = await _items(api, PriceListItem.price_list_id.in_(lists))
        assert set(local) == set(db)
        some = next(iter(db.values()))
        assert Decimal(local[some.id]["unit_price"]) == some.unit_price


async def test_staff_get_their_branch_and_company_lists(api: Api) -> None:
    local: dict[int, Any] = {}
    await sync(api, MANAGER, "prices", local, limit=1000)
    async with api.db() as s:
        branch = (await s.scalars(select(User.branch_id).where(User.email == MANAGER))).one()
    db = await _items(api, or_(PriceList.branch_id.is_(None), PriceList.branch_id == branch))
    assert set(local) == set(db) and db


async def test_a_new_changed_and_deleted_item_reach_the_phone(api: Api) -> None:
    local: dict[int, Any] = {}
    cursor = await sync(api, CONSUMER, "prices", local, limit=1000)
    list_id = next(iter(local.values()))["price_list_id"]
    product_id = next(iter(local.values()))["product_id"]
    async with api.db() as s:
        item = PriceListItem(
            price_list_id=list_id, product_id=product_id, min_qty=99_999, unit_price=Decimal(1000)
        )
        s.add(item)
        await s.commit()
        item_id = item.id
    cursor = await sync(api, CONSUMER, "prices", local, since=cursor)
    assert local[item_id]["unit_price"] in ("1000", "1000.00") and local[item_id]["_version"] == 1

    async with api.db() as s:
        (await s.get_one(PriceListItem, item_id)).unit_price = Decimal(900)
        await s.commit()
    cursor = await sync(api, CONSUMER, "prices", local, since=cursor)
    assert Decimal(local[item_id]["unit_price"]) == 900 and local[item_id]["_version"] == 2

    async with api.db() as s:
        await s.delete(await s.get_one(PriceListItem, item_id))
        await s.commit()
    r = await api.get(CONSUMER, "/api/bff/mobile/sync/prices", since=cursor)
    assert [(c["op"], c["version"]) for c in r.json()["data"]["changes"] if c["id"] == item_id] == [
        ("delete", 3)
    ]
    await sync(api, CONSUMER, "prices", local, since=cursor)
    fresh: dict[int, Any] = {}
    await sync(api, CONSUMER, "prices", fresh, limit=1000)
    assert local == fresh and item_id not in local
