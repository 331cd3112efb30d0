"""Delta sync of products: every role, active products only, channel fields, deactivation tombstone."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from tests.bff.sync.client import sync
from tests.http import Api, demo
from tsh.domain.catalog.models import Category, Product

CONSUMER, PARTNER = demo("consumer"), demo("partner")


async def _active(api: Api) -> dict[int, Product]:
    async with api.db() as s:
        return {p.id: p for p in await s.scalars(select(Product).where(Product.is_active.is_(True)))}


async def _new_product(api: Api) -> int:
    tag = secrets.token_hex(4)
    async with api.db() as s:
        category = (await s.scalars(select(Category.id))).first()
        assert category is not None
        p = Product(
            sku=f"SYNC-{tag}", name_ar=f"منتج {tag}", name_en=f"Sync item {tag}", category_id=category
        )
        s.add(p)
        await s.commit()
        return p.id


async def _deactivate(api: Api, product_id: int) -> None:
    async with api.db() as s:
        (await s.get_one(Product, product_id)).is_active = False
        await s.commit()


async def test_snapshot_plus_deltas_equals_a_fresh_snapshot_and_the_active_catalogue(api: Api) -> None:
    local: dict[int, Any] = {}
    cursor = await sync(api, CONSUMER, "products", local, limit=1000)
    active = await _active(api)
    assert set(local) == set(active) and active
    sample = next(iter(active.values()))
    assert local[sample.id]["sku"] == sample.sku and local[sample.id]["_version"] == sample.version
    assert "pack_size" not in local[sample.id], "carton terms are not a consumer's"

    added, removed = await _new_product(api), await _new_product(api)
    cursor = await sync(api, CONSUMER, "products", local, since=cursor)
    assert added in local and removed in local
    await _deactivate(api, removed)
    r = await api.get(CONSUMER, "/api/bff/mobile/sync/products", since=cursor)
    gone = [c for c in r.json()["data"]["changes"] if c["id"] == removed]
    assert gone and gone[-1]["op"] == "delete" and gone[-1]["data"] is None
    await sync(api, CONSUMER, "products", local, since=cursor)
    fresh: dict[int, Any] = {}
    await sync(api, CONSUMER, "products", fresh, limit=1000)
    assert local == fresh and removed not in local and set(local) == set(await _active(api))
    await _deactivate(api, added)  # leave the catalogue as the other suites expect it


async def test_trade_roles_get_carton_terms(api: Api) -> None:
    local: dict[int, Any] = {}
    await sync(api, PARTNER, "products", local, limit=1000)
    row = next(iter(local.values()))
    assert {"pack_size", "carton_only", "wholesale_moq"} <= set(row)
