"""The `prices` delta-sync collection (mobile.md §1): the items of the price lists that apply to
the caller. It lives here, at the top of the domain, because it needs every channel's rule: the
consumer's serving branch (catalog), the wholesale account's list (wholesale) and the partner's
tier (partners).

Which lists apply: consumer: the consumer list of the serving branch; wholesale_client: the
account's own list, else its branch's wholesale list; partner: the partner list of its tier and
branch; staff: every list of their branch plus the company-wide ones (every list without a branch).
The list ids are the collection's scope key, so a caller whose lists change (a new tier, another
account list) gets 410 and re-syncs instead of keeping another list's prices.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.catalog import pricing
from tsh.domain.catalog.models import PriceList, PriceListItem
from tsh.domain.catalog.queries import serving_branch
from tsh.domain.customers.models import Customer
from tsh.domain.partners.reads import partner_of
from tsh.domain.sync.feed import Collection
from tsh.domain.wholesale.cart import account_price_list
from tsh.platform.errors import NotFound


async def price_lists_of(session: AsyncSession, actor: Actor) -> list[int]:
    """The ids of the price lists that apply to the caller.

    Errors: NO_PRICE_LIST (409), PARTNER_PROFILE_MISSING, ACCOUNT_MISSING, BRANCH_NOT_FOUND (404).
    """
    if actor.role == "consumer":
        serving = await serving_branch(session, branch_id=None, customer_id=actor.customer_id)
        return [serving.price_list_id] if serving.price_list_id is not None else []
    if actor.role == "wholesale_client":
        customer = await session.get(Customer, actor.customer_id) if actor.customer_id is not None else None
        if customer is None:
            raise NotFound("This user has no wholesale account", code="ACCOUNT_MISSING")
        return [(await account_price_list(session, customer)).id]
    if actor.role == "partner":
        partner = await partner_of(session, actor)
        found = await pricing.price_list_for(
            session, channel="partner", branch_id=partner.branch_id, partner_tier_id=partner.tier_id
        )
        return [found.id]
    stmt = select(PriceList.id).order_by(PriceList.id)
    if actor.branch_id is not None:
        stmt = stmt.where(or_(PriceList.branch_id.is_(None), PriceList.branch_id == actor.branch_id))
    return list(await session.scalars(stmt))


async def _scope_key(session: AsyncSession, actor: Actor) -> str:
    return ",".join(map(str, await price_lists_of(session, actor)))


def _row(item: PriceListItem) -> tuple[int, dict[str, Any]]:
    return item.id, {
        "version": item.version,
        "data": {
            "id": item.id,
            "price_list_id": item.price_list_id,
            "product_id": item.product_id,
            "min_qty": item.min_qty,
            "unit_price": str(item.unit_price),
            "valid_from": item.valid_from.isoformat() if item.valid_from else None,
            "valid_to": item.valid_to.isoformat() if item.valid_to else None,
        },
    }


async def _rows(session: AsyncSession, actor: Actor, ids: list[int]) -> dict[int, dict[str, Any]]:
    lists = await price_lists_of(session, actor)
    found = await session.scalars(
        select(PriceListItem).where(PriceListItem.id.in_(ids), PriceListItem.price_list_id.in_(lists))
    )
    return dict(_row(item) for item in found)


async def _snapshot(
    session: AsyncSession, actor: Actor, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    lists = await price_lists_of(session, actor)
    found = await session.scalars(
        select(PriceListItem)
        .where(PriceListItem.id > after, PriceListItem.price_list_id.in_(lists))
        .order_by(PriceListItem.id)
        .limit(limit)
    )
    return [_row(item) for item in found]


PRICES = Collection(
    name="prices", entity="price_list_item", rows=_rows, snapshot=_snapshot, scope_key=_scope_key
)
