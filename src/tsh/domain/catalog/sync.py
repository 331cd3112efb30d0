"""The `products` delta-sync collection (mobile.md §1): active products with the catalogue fields
of the caller's channel. A deactivated product leaves every scope, so it arrives as a tombstone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog.models import Product
from tsh.domain.sync.feed import Collection

# Consumers buy single pieces at shelf prices: carton and wholesale terms are not theirs to see.
_RETAIL_ONLY = frozenset({"consumer"})


def _row(p: Product, actor: Actor) -> tuple[int, dict[str, Any]]:
    data: dict[str, Any] = {
        "id": p.id,
        "sku": p.sku,
        "barcode": p.barcode,
        "name_ar": p.name_ar,
        "name_en": p.name_en,
        "category_id": p.category_id,
        "brand": p.brand,
        "unit": p.unit,
        "image": p.images[0] if p.images else None,
        "is_serialised": p.is_serialised,
        "warranty_months": p.warranty_months,
    }
    if actor.role not in _RETAIL_ONLY:
        data |= {"pack_size": p.pack_size, "carton_only": p.carton_only, "wholesale_moq": p.wholesale_moq}
    return p.id, {"version": p.version, "data": data}


async def _rows(session: AsyncSession, actor: Actor, ids: list[int]) -> dict[int, dict[str, Any]]:
    found = await session.scalars(select(Product).where(Product.id.in_(ids), Product.is_active.is_(True)))
    return dict(_row(p, actor) for p in found)


async def _snapshot(
    session: AsyncSession, actor: Actor, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    found = await session.scalars(
        select(Product)
        .where(Product.id > after, Product.is_active.is_(True))
        .order_by(Product.id)
        .limit(limit)
    )
    return [_row(p, actor) for p in found]


PRODUCTS = Collection(name="products", entity="product", rows=_rows, snapshot=_snapshot)
