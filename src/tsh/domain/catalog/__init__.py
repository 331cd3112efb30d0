"""Catalog & pricing context: categories, products, price lists, promotions, reviews, wishlists."""

from tsh.domain.catalog.models import (
    PRICE_LIST_CHANNELS,
    PROMOTION_CHANNELS,
    PROMOTION_TYPES,
    REVIEW_STATUSES,
    Category,
    PriceList,
    PriceListItem,
    Product,
    Promotion,
    Review,
    ReviewVote,
    WishlistItem,
    promotion_categories,
    promotion_products,
)

__all__ = [
    "PRICE_LIST_CHANNELS",
    "PROMOTION_CHANNELS",
    "PROMOTION_TYPES",
    "REVIEW_STATUSES",
    "Category",
    "PriceList",
    "PriceListItem",
    "Product",
    "Promotion",
    "Review",
    "ReviewVote",
    "WishlistItem",
    "promotion_categories",
    "promotion_products",
]
