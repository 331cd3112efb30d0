"""Consumer catalogue reads: serving branch, product cards, detail, reviews summary, home sections,
category tree, promotions and type-ahead suggestions.

Every function is set-based: a screen costs a handful of statements whatever the page size
(cards of a page are one query plus one `catalogue_prices` query). Products are "listed" for
consumers when they are active and have a base price (min_qty 1, valid now) in the consumer price
list of the serving branch; `in_stock` is availability (on hand − reserved) ≥ 1 in that branch's
main warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog.models import (
    Category,
    PriceListItem,
    Product,
    Promotion,
    Review,
    promotion_categories,
    promotion_products,
)
from tsh.domain.catalog.pricing import catalogue_prices, price_list_for
from tsh.domain.customers.models import Address
from tsh.domain.inventory.models import StockLevel
from tsh.domain.money import wire
from tsh.domain.organisation.models import Branch, DeliveryZone, Warehouse
from tsh.domain.sales.daily_sales import sold_qty
from tsh.platform.errors import NotFound

CHANNEL = "consumer"
SECTION_SIZE = 10
BEST_SELLER_DAYS = 30


@dataclass(frozen=True, slots=True)
class Serving:
    """The branch that serves a consumer request: its main warehouse and consumer price list."""

    branch_id: int
    warehouse_id: int | None
    price_list_id: int | None
    currency: str


async def serving_branch(session: AsyncSession, *, branch_id: int | None, customer_id: int | None) -> Serving:
    """`branch_id` if given (404 BRANCH_NOT_FOUND unless an active branch), else the branch of the
    default address's delivery zone, else the company default branch."""
    resolved: int | None = None
    if branch_id is not None:
        resolved = await session.scalar(
            select(Branch.id).where(Branch.id == branch_id, Branch.status == "active")
        )
        if resolved is None:
            raise NotFound("No such branch", code="BRANCH_NOT_FOUND")
    elif customer_id is not None:
        resolved = await session.scalar(
            select(DeliveryZone.branch_id)
            .join(Address, Address.delivery_zone_id == DeliveryZone.id)
            .join(Branch, Branch.id == DeliveryZone.branch_id)
            .where(
                Address.customer_id == customer_id,
                Address.is_default.is_(True),
                DeliveryZone.status == "active",
                Branch.status == "active",
            )
            .limit(1)
        )
    if resolved is None:
        resolved = await session.scalar(select(Branch.id).where(Branch.is_default.is_(True)).limit(1))
        if resolved is None:
            raise NotFound("No default branch is configured", code="BRANCH_NOT_FOUND")
    return await serving_of(session, resolved)


async def serving_of(session: AsyncSession, branch_id: int) -> Serving:
    """The main warehouse and consumer price list of a branch (409 NO_PRICE_LIST without one)."""
    warehouse_id = await session.scalar(
        select(Warehouse.id).where(Warehouse.branch_id == branch_id, Warehouse.type == "main")
    )
    price_list = await price_list_for(session, channel=CHANNEL, branch_id=branch_id)
    return Serving(branch_id, warehouse_id, price_list.id, price_list.currency)


# -- building blocks ---------------------------------------------------------------------------


def base_price_rows(price_list_id: int | None, at: datetime) -> Any:
    """(product_id, unit_price) of the base price (min_qty 1) valid at `at`, one row per product."""
    return (
        select(
            PriceListItem.product_id.label("product_id"),
            func.min(PriceListItem.unit_price).label("unit_price"),
        )
        .where(
            PriceListItem.price_list_id == (price_list_id or -1),
            PriceListItem.min_qty == 1,
            or_(PriceListItem.valid_from.is_(None), PriceListItem.valid_from <= at),
            or_(PriceListItem.valid_to.is_(None), PriceListItem.valid_to > at),
        )
        .group_by(PriceListItem.product_id)
        .subquery("base_price")
    )


def listed_products(serving: Serving, at: datetime) -> Select[Any]:
    """Ids of the products a consumer may see at the serving branch."""
    return select(Product.id).where(
        Product.is_active.is_(True), base_price_expr(serving.price_list_id, at).is_not(None)
    )


def base_price_expr(price_list_id: int | None, at: datetime) -> Any:
    """Correlated base price (min_qty 1, valid at `at`) of Product: one index probe of
    ix_price_list_items_lookup per candidate row, so filtered searches never aggregate the list."""
    return (
        select(func.min(PriceListItem.unit_price))
        .where(
            PriceListItem.price_list_id == (price_list_id or -1),
            PriceListItem.product_id == Product.id,
            PriceListItem.min_qty == 1,
            or_(PriceListItem.valid_from.is_(None), PriceListItem.valid_from <= at),
            or_(PriceListItem.valid_to.is_(None), PriceListItem.valid_to > at),
        )
        .correlate(Product)
        .scalar_subquery()
    )


def available_expr(serving: Serving) -> Any:
    """Correlated availability of Product in the serving main warehouse (0 when no row)."""
    return (
        select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0))
        .where(StockLevel.product_id == Product.id, StockLevel.warehouse_id == (serving.warehouse_id or -1))
        .scalar_subquery()
    )


def name_col(language: str) -> Any:
    return Product.name_ar if language == "ar" else Product.name_en


def first_image(images: Any) -> str | None:
    if isinstance(images, list) and images and isinstance(images[0], str):
        return images[0]
    return None


async def product_cards(
    session: AsyncSession,
    product_ids: Sequence[int],
    *,
    serving: Serving,
    language: str,
    at: datetime,
    include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """Product cards in the order of `product_ids` (two statements for any number of cards).

    With include_inactive, inactive products stay (flagged `unavailable`, no price)."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return []
    ratings = (
        select(
            Review.product_id.label("product_id"),
            func.avg(Review.rating).label("avg"),
            func.count().label("n"),
        )
        .where(Review.product_id.in_(ids), Review.status == "published")
        .group_by(Review.product_id)
        .subquery("ratings")
    )
    rows = (
        await session.execute(
            select(
                Product.id,
                name_col(language),
                Product.images,
                Product.is_active,
                available_expr(serving),
                ratings.c.avg,
                ratings.c.n,
            )
            .outerjoin(ratings, ratings.c.product_id == Product.id)
            .where(Product.id.in_(ids))
        )
    ).all()
    prices = (
        await catalogue_prices(
            session,
            price_list_id=serving.price_list_id,
            product_ids=ids,
            channel=CHANNEL,
            branch_id=serving.branch_id,
            at=at,
        )
        if serving.price_list_id is not None
        else {}
    )
    by_id: dict[int, dict[str, Any]] = {}
    for pid, name, images, active, available, avg, n in rows:
        price = prices.get(pid)
        if not include_inactive and (not active or price is None):
            continue
        card: dict[str, Any] = {
            "id": pid,
            "name": name,
            "image_url": first_image(images),
            "price": wire(price.price_incl_tax, price.currency) if price else None,
            "promo_price": (
                wire(price.promo_price_incl_tax, price.currency)
                if price and price.promo_price_incl_tax is not None
                else None
            ),
            "in_stock": bool(active) and int(available or 0) >= 1,
            "rating_avg": str(round(float(avg), 1)) if avg is not None else None,
            "rating_count": int(n or 0),
        }
        if include_inactive:
            card["unavailable"] = not active or price is None
        by_id[pid] = card
    return [by_id[i] for i in ids if i in by_id]


# -- promotions --------------------------------------------------------------------------------


async def running_promotions(session: AsyncSession, *, serving: Serving, at: datetime) -> list[Promotion]:
    """Promotions whose period includes `at`, for the consumer channel and the serving branch."""
    rows = (
        await session.scalars(
            select(Promotion)
            .where(Promotion.starts_at <= at, Promotion.ends_at > at)
            .order_by(Promotion.ends_at, Promotion.id)
        )
    ).all()
    return [
        p
        for p in rows
        if CHANNEL in (p.channels or []) and (not p.branch_ids or serving.branch_id in p.branch_ids)
    ]


def promotion_product_pairs(promotion_ids: Sequence[int]) -> Any:
    """(promotion_id, product_id) covered by the promotions: listed products plus every product
    of a listed category or of its sub-categories."""
    direct = select(
        promotion_products.c.promotion_id.label("promotion_id"),
        promotion_products.c.product_id.label("product_id"),
    ).where(promotion_products.c.promotion_id.in_(promotion_ids))
    by_category = (
        select(promotion_categories.c.promotion_id, Product.id)
        .join(
            Category,
            or_(
                Category.id == promotion_categories.c.category_id,
                Category.parent_id == promotion_categories.c.category_id,
            ),
        )
        .join(Product, Product.category_id == Category.id)
        .where(promotion_categories.c.promotion_id.in_(promotion_ids))
    )
    return union(direct, by_category).subquery("promo_products")


def promotion_brief(p: Promotion, language: str, eligible: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "title": p.title_ar if language == "ar" else p.title_en,
        "banner_url": p.banner_url,
        "type": p.type,
        "value": wire(p.value, p.currency) if p.type == "amount" and p.currency else str(p.value),
        "ends_at": p.ends_at,
        "code": p.code,
        "is_featured": p.is_featured,
    }
    if eligible is not None:
        out["eligible_products"] = eligible
    return out


async def eligible_counts(
    session: AsyncSession, promotion_ids: Sequence[int], *, serving: Serving, at: datetime
) -> dict[int, int]:
    if not promotion_ids:
        return {}
    pairs = promotion_product_pairs(promotion_ids)
    listed = listed_products(serving, at).subquery("listed")
    rows = await session.execute(
        select(pairs.c.promotion_id, func.count(func.distinct(pairs.c.product_id)))
        .join(listed, listed.c.id == pairs.c.product_id)
        .group_by(pairs.c.promotion_id)
    )
    return {int(pid): int(n) for pid, n in rows.all()}


async def promotion_product_ids(
    session: AsyncSession,
    promotion_ids: Sequence[int],
    *,
    serving: Serving,
    at: datetime,
    after_id: int = 0,
    limit: int = SECTION_SIZE,
) -> list[int]:
    """Listed products covered by the promotions, by id (keyset `after_id`)."""
    if not promotion_ids:
        return []
    pairs = promotion_product_pairs(promotion_ids)
    stmt = (
        listed_products(serving, at)
        .where(Product.id.in_(select(pairs.c.product_id)), Product.id > after_id)
        .order_by(Product.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


# -- home sections -----------------------------------------------------------------------------


async def best_seller_ids(
    session: AsyncSession, *, serving: Serving, at: datetime, limit: int = SECTION_SIZE
) -> list[int]:
    """Listed products by pieces sold in non-cancelled orders of the last 30 days."""
    sold = (await sold_qty(session, since=at - timedelta(days=BEST_SELLER_DAYS))).subquery("sold")
    stmt = (
        select(sold.c.product_id)
        .where(sold.c.product_id.in_(listed_products(serving, at)))
        .order_by(sold.c.qty.desc(), sold.c.product_id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def new_arrival_ids(
    session: AsyncSession, *, serving: Serving, at: datetime, limit: int = SECTION_SIZE
) -> list[int]:
    stmt = listed_products(serving, at).order_by(Product.created_at.desc(), Product.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


# -- categories --------------------------------------------------------------------------------


async def category_tree(session: AsyncSession, *, language: str) -> list[dict[str, Any]]:
    """Two-level tree of active categories with their number of active products (a parent counts
    its own products and its children's); nodes without active products are left out."""
    counts = (
        select(Product.category_id.label("category_id"), func.count().label("n"))
        .where(Product.is_active.is_(True))
        .group_by(Product.category_id)
        .subquery("counts")
    )
    rows = (
        await session.execute(
            select(
                Category.id,
                Category.parent_id,
                Category.name_ar if language == "ar" else Category.name_en,
                Category.icon_url,
                func.coalesce(counts.c.n, 0),
            )
            .outerjoin(counts, counts.c.category_id == Category.id)
            .where(Category.is_active.is_(True))
            .order_by(Category.sort, Category.id)
        )
    ).all()
    nodes = {
        cid: {"id": cid, "name": name, "icon_url": icon, "product_count": int(n), "children": []}
        for cid, _parent, name, icon, n in rows
    }
    roots: list[dict[str, Any]] = []
    for cid, parent, *_ in rows:
        node = nodes[cid]
        if parent is None:
            roots.append(node)
        elif parent in nodes:
            nodes[parent]["children"].append(node)
            nodes[parent]["product_count"] += node["product_count"]
    for root in roots:
        root["children"] = [c for c in root["children"] if c["product_count"] > 0]
        for child in root["children"]:
            del child["children"]
    return [r for r in roots if r["product_count"] > 0]


# -- product page ------------------------------------------------------------------------------


async def listed_product(session: AsyncSession, product_id: int) -> Product:
    product = await session.scalar(
        select(Product).where(Product.id == product_id, Product.is_active.is_(True))
    )
    if product is None:
        raise NotFound("No such product", code="PRODUCT_NOT_FOUND")
    return product


async def related_ids(
    session: AsyncSession, product: Product, *, serving: Serving, at: datetime, limit: int = SECTION_SIZE
) -> list[int]:
    """Listed products of the same category (then of the same brand), newest first."""
    conditions = [Product.category_id == product.category_id]
    if product.brand is not None:
        conditions.append(Product.brand == product.brand)
    same = or_(*conditions)
    stmt = (
        listed_products(serving, at)
        .where(same, Product.id != product.id)
        .order_by((Product.category_id != product.category_id), Product.created_at.desc(), Product.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def availability(session: AsyncSession, product_id: int, *, serving: Serving) -> int:
    value = await session.scalar(
        select(func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0)).where(
            StockLevel.product_id == product_id, StockLevel.warehouse_id == (serving.warehouse_id or -1)
        )
    )
    return int(value or 0)


# -- suggestions -------------------------------------------------------------------------------


def prefix_match(col: Any, q: str) -> Any:
    """`col` starts with q, or one of its words does (case-insensitive; trigram index on PG)."""
    needle = escape_like(q)
    return or_(col.ilike(f"{needle}%", escape="\\"), col.ilike(f"% {needle}%", escape="\\"))


def escape_like(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def suggestions(
    session: AsyncSession, *, q: str, language: str, serving: Serving, at: datetime
) -> dict[str, Any]:
    name = name_col(language)
    products = (
        await session.execute(
            listed_products(serving, at)
            .add_columns(name)
            .where(or_(prefix_match(Product.name_en, q), prefix_match(Product.name_ar, q)))
            .order_by(func.length(name), Product.id)
            .limit(8)
        )
    ).all()
    cat_name = Category.name_ar if language == "ar" else Category.name_en
    categories = (
        await session.execute(
            select(Category.id, cat_name)
            .where(
                Category.is_active.is_(True),
                or_(prefix_match(Category.name_en, q), prefix_match(Category.name_ar, q)),
            )
            .order_by(Category.sort, Category.id)
            .limit(3)
        )
    ).all()
    brands = (
        await session.scalars(
            select(Product.brand)
            .where(Product.is_active.is_(True), Product.brand.is_not(None), prefix_match(Product.brand, q))
            .group_by(Product.brand)
            .order_by(func.count().desc(), Product.brand)
            .limit(3)
        )
    ).all()
    return {
        "products": [{"id": pid, "name": n} for pid, n in products],
        "categories": [{"id": cid, "name": n} for cid, n in categories],
        "brands": list(brands),
    }


async def card_price(session: AsyncSession, product_id: int, *, serving: Serving, at: datetime) -> Any:
    """The card price of one product (with the id of the promotion giving the promo price)."""
    if serving.price_list_id is None:
        return None
    prices = await catalogue_prices(
        session,
        price_list_id=serving.price_list_id,
        product_ids=[product_id],
        channel=CHANNEL,
        branch_id=serving.branch_id,
        at=at,
    )
    return prices.get(product_id)


async def promotion_by_id(session: AsyncSession, promotion_id: int) -> Promotion | None:
    return await session.get(Promotion, promotion_id)
