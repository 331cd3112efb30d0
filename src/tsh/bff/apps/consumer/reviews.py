"""Product reviews (CON-28 … CON-32)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from tsh.bff.apps.consumer.common import CONSUMER, app, cursor_position, customer_id, next_cursor
from tsh.bff.apps.consumer.views import ConHelpfulVote, ConReview, ConReviewDeleted, ConReviews
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, Page
from tsh.domain.catalog import reviews
from tsh.domain.catalog.queries import listed_product

Title = Annotated[str, StringConstraints(max_length=200)]
ReviewText = Annotated[str, StringConstraints(max_length=2000)]


class ReviewsQuery(Page):
    rating: int | None = Field(default=None, ge=1, le=5)
    sort: Literal["newest", "helpful", "rating_high", "rating_low"] = "newest"


class NewReview(Body):
    rating: int = Field(ge=1, le=5)
    title: Title | None = None
    body: ReviewText | None = None


class ReviewChanges(Body):
    rating: int | None = Field(default=None, ge=1, le=5)
    title: Title | None = None
    body: ReviewText | None = None


@app.screen(
    "CON-28",
    "/products/{id}/reviews",
    roles=CONSUMER,
    scope="all",
    cache="catalog",
    events=("ReviewChanged",),
    errors=("PRODUCT_NOT_FOUND",),
    response=ConReviews,
)
async def product_reviews(call: Call, *, id: int, query: ReviewsQuery) -> dict[str, Any]:
    """Product reviews: rating average and distribution, published reviews."""
    await listed_product(call.session, id)
    items, position = await reviews.list_reviews(
        call.session,
        product_id=id,
        rating=query.rating,
        sort=query.sort,
        limit=query.limit,
        after=cursor_position(query.cursor),
    )
    return {
        "summary": await reviews.rating_summary(call.session, id),
        "items": items,
        "next_cursor": next_cursor(position),
    }


@app.action(
    "CON-29",
    "POST",
    "/products/{id}/reviews",
    roles=CONSUMER,
    scope="own",
    events=("ReviewChanged",),
    audit_entity="review",
    errors=("NOT_A_VERIFIED_PURCHASE", "ALREADY_REVIEWED"),
    response=ConReview,
)
async def write_review(call: Call, *, id: int, body: NewReview) -> Created:
    """Writes a review of a product the caller has received."""
    review = await reviews.write_review(
        call.session,
        customer_id=customer_id(call),
        product_id=id,
        rating=body.rating,
        title=body.title,
        body=body.body,
    )
    call.audit("review", review.id)
    return Created(reviews.review_view(review))


@app.action(
    "CON-30",
    "PATCH",
    "/reviews/{id}",
    roles=CONSUMER,
    scope="own",
    events=("ReviewChanged",),
    audit_entity="review",
    errors=("REVIEW_LOCKED", "REVIEW_NOT_FOUND"),
    response=ConReview,
)
async def edit_review(call: Call, *, id: int, body: ReviewChanges) -> dict[str, Any]:
    """Edits own review."""
    changes = {
        k: v for k, v in body.model_dump(exclude_unset=True).items() if not (k == "rating" and v is None)
    }
    review = await reviews.edit_review(
        call.session, customer_id=customer_id(call), review_id=id, changes=changes
    )
    return reviews.review_view(review)


@app.action(
    "CON-31",
    "DELETE",
    "/reviews/{id}",
    roles=CONSUMER,
    scope="own",
    events=("ReviewChanged",),
    audit_entity="review",
    errors=("REVIEW_NOT_FOUND",),
    response=ConReviewDeleted,
)
async def delete_review(call: Call, *, id: int) -> dict[str, Any]:
    """Deletes own review."""
    await reviews.delete_review(call.session, customer_id=customer_id(call), review_id=id)
    return {"id": id, "deleted": True}


@app.action(
    "CON-32",
    "POST",
    "/reviews/{id}/helpful-votes",
    roles=CONSUMER,
    scope="own",
    events=("ReviewChanged",),
    audit_entity="review",
    errors=("REVIEW_NOT_FOUND", "ALREADY_VOTED", "OWN_REVIEW"),
    response=ConHelpfulVote,
)
async def helpful_vote(call: Call, *, id: int) -> Created:
    """Marks another customer's review as helpful."""
    review = await reviews.vote_helpful(call.session, customer_id=customer_id(call), review_id=id)
    return Created({"review_id": review.id, "helpful_count": review.helpful_count})
