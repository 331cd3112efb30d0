"""Product reviews: write (verified purchase only), edit, delete, helpful votes, and the list.

A review needs a delivered order line of the caller holding the product; one review per customer
and product (409 ALREADY_REVIEWED, backed by the unique index). Reviews are published at once;
moderation (back office) may hide them, which locks them. Every change emits ReviewChanged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.catalog.models import Product, Review, ReviewVote
from tsh.domain.customers.models import Customer
from tsh.domain.events import raise_event
from tsh.domain.sales.models.orders import Order, OrderLine
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound

EDIT_WINDOW = timedelta(days=30)
ReviewSort = Literal["newest", "helpful", "rating_high", "rating_low"]


def review_view(r: Review, *, author: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "product_id": r.product_id,
        "rating": r.rating,
        "title": r.title,
        "body": r.body,
        "status": r.status,
        "created_at": r.created_at,
        "edited_at": r.edited_at,
        "helpful_count": r.helpful_count,
        "verified_purchase": r.order_line_id is not None,
    }
    if author is not None:
        out["author"] = author
    return out


def first_name(name: str | None) -> str:
    parts = (name or "").split()
    return parts[0] if parts else ""


def _changed(session: AsyncSession, review: Review) -> None:
    raise_event(session, "ReviewChanged", customers=[review.customer_id])


async def delivered_line_id(session: AsyncSession, *, customer_id: int, product_id: int) -> int | None:
    return await session.scalar(
        select(OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.customer_id == customer_id,
            Order.status == "delivered",
            OrderLine.product_id == product_id,
            OrderLine.qty_delivered > 0,
        )
        .order_by(OrderLine.id.desc())
        .limit(1)
    )


async def write_review(
    session: AsyncSession,
    *,
    customer_id: int,
    product_id: int,
    rating: int,
    title: str | None,
    body: str | None,
) -> Review:
    """404 PRODUCT_NOT_FOUND, 422 NOT_A_VERIFIED_PURCHASE, 409 ALREADY_REVIEWED."""
    if (
        await session.scalar(select(Product.id).where(Product.id == product_id, Product.is_active.is_(True)))
        is None
    ):
        raise NotFound("No such product", code="PRODUCT_NOT_FOUND")
    line_id = await delivered_line_id(session, customer_id=customer_id, product_id=product_id)
    if line_id is None:
        raise Invalid("You can review only products delivered to you", code="NOT_A_VERIFIED_PURCHASE")
    exists = await session.scalar(
        select(Review.id).where(Review.customer_id == customer_id, Review.product_id == product_id)
    )
    if exists is not None:
        raise Conflict(
            "You already reviewed this product",
            code="ALREADY_REVIEWED",
            details=[{"field": "product_id", "issue": "already reviewed", "review_id": exists}],
        )
    review = Review(
        product_id=product_id,
        customer_id=customer_id,
        order_line_id=line_id,
        rating=rating,
        title=title,
        body=body,
        status="published",
        helpful_count=0,
    )
    try:
        async with session.begin_nested():
            session.add(review)
            await session.flush()
    except IntegrityError:
        raise Conflict("You already reviewed this product", code="ALREADY_REVIEWED") from None
    _changed(session, review)
    return review


async def own_review(session: AsyncSession, *, customer_id: int, review_id: int) -> Review:
    review = await session.scalar(
        select(Review).where(Review.id == review_id, Review.customer_id == customer_id).with_for_update()
    )
    if review is None:
        raise NotFound("No such review", code="REVIEW_NOT_FOUND")
    return review


async def edit_review(
    session: AsyncSession, *, customer_id: int, review_id: int, changes: dict[str, Any]
) -> Review:
    """409 REVIEW_LOCKED more than 30 days after creation or when hidden by moderation."""
    review = await own_review(session, customer_id=customer_id, review_id=review_id)
    now = utcnow()
    if review.status == "hidden" or now - review.created_at > EDIT_WINDOW:
        raise Conflict("This review can no longer be edited", code="REVIEW_LOCKED")
    for name in ("rating", "title", "body"):
        if name in changes:
            setattr(review, name, changes[name])
    review.edited_at = now
    _changed(session, review)
    return review


async def delete_review(session: AsyncSession, *, customer_id: int, review_id: int) -> None:
    review = await own_review(session, customer_id=customer_id, review_id=review_id)
    await session.execute(delete(ReviewVote).where(ReviewVote.review_id == review.id))
    await session.delete(review)
    _changed(session, review)


async def vote_helpful(session: AsyncSession, *, customer_id: int, review_id: int) -> Review:
    """404 REVIEW_NOT_FOUND (missing or hidden), 409 ALREADY_VOTED, 422 OWN_REVIEW."""
    review = await session.scalar(
        select(Review).where(Review.id == review_id, Review.status == "published").with_for_update()
    )
    if review is None:
        raise NotFound("No such review", code="REVIEW_NOT_FOUND")
    voted = await session.scalar(
        select(ReviewVote.id).where(ReviewVote.review_id == review.id, ReviewVote.customer_id == customer_id)
    )
    if voted is not None:
        raise Conflict("You already marked this review as helpful", code="ALREADY_VOTED")
    if review.customer_id == customer_id:
        raise Invalid("You cannot vote on your own review", code="OWN_REVIEW")
    try:
        async with session.begin_nested():
            session.add(ReviewVote(review_id=review.id, customer_id=customer_id))
            await session.flush()
    except IntegrityError:
        raise Conflict("You already marked this review as helpful", code="ALREADY_VOTED") from None
    await session.execute(
        update(Review).where(Review.id == review.id).values(helpful_count=Review.helpful_count + 1)
    )
    await session.refresh(review)
    _changed(session, review)
    return review


_SORTS: dict[str, tuple[Any, bool]] = {
    "newest": (Review.created_at, True),
    "helpful": (Review.helpful_count, True),
    "rating_high": (Review.rating, True),
    "rating_low": (Review.rating, False),
}


async def list_reviews(
    session: AsyncSession,
    *,
    product_id: int,
    rating: int | None,
    sort: ReviewSort,
    limit: int,
    after: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Published reviews of a product, keyset on (sort key, id); returns items and next position."""
    key, descending = _SORTS[sort]
    stmt = (
        select(Review, Customer.name)
        .join(Customer, Customer.id == Review.customer_id)
        .where(Review.product_id == product_id, Review.status == "published")
    )
    if rating is not None:
        stmt = stmt.where(Review.rating == rating)
    if after is not None:
        ck, cid = _position(after, sort)
        if descending:
            stmt = stmt.where(or_(key < ck, (key == ck) & (Review.id < cid)))
        else:
            stmt = stmt.where(or_(key > ck, (key == ck) & (Review.id > cid)))
    order = (key.desc(), Review.id.desc()) if descending else (key.asc(), Review.id.asc())
    rows = (await session.execute(stmt.order_by(*order).limit(limit + 1))).all()
    items = [review_view(r, author=first_name(name)) for r, name in rows[:limit]]
    position = None
    if len(rows) > limit:
        last: Review = rows[limit - 1][0]
        value: Any = last.created_at.isoformat() if sort == "newest" else getattr(last, key.key)
        position = {"s": sort, "k": value, "id": last.id}
    return items, position


def _position(after: dict[str, Any], sort: str) -> tuple[Any, int]:
    try:
        if after.get("s") != sort:
            raise ValueError("cursor of another sort")
        raw = after["k"]
        return (datetime.fromisoformat(raw) if sort == "newest" else int(raw)), int(after["id"])
    except (KeyError, TypeError, ValueError):
        raise Invalid(
            "The cursor is not valid", details=[{"field": "cursor", "issue": "does not match this query"}]
        ) from None


async def rating_summary(session: AsyncSession, product_id: int) -> dict[str, Any]:
    rows = (
        await session.execute(
            select(Review.rating, func.count())
            .where(Review.product_id == product_id, Review.status == "published")
            .group_by(Review.rating)
        )
    ).all()
    distribution = {str(r): 0 for r in range(5, 0, -1)}
    total = weighted = 0
    for rating, n in rows:
        distribution[str(int(rating))] = int(n)
        total += int(n)
        weighted += int(rating) * int(n)
    avg = str(round(weighted / total, 1)) if total else None
    return {"rating_avg": avg, "rating_count": total, "distribution": distribution}


async def newest_reviews(session: AsyncSession, *, product_id: int, limit: int = 3) -> list[dict[str, Any]]:
    items, _ = await list_reviews(
        session, product_id=product_id, rating=None, sort="newest", limit=limit, after=None
    )
    return items


async def review_count(session: AsyncSession, *, customer_id: int) -> int:
    return int(await session.scalar(select(func.count()).where(Review.customer_id == customer_id)) or 0)
