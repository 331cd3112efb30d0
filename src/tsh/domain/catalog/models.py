"""Catalog & pricing: categories, products, price lists, promotions, reviews, wishlists (domain.md §3)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tsh.platform.db.base import Base, JsonType, TimestampMixin, utcnow

CURRENCIES = ("IQD", "USD")
PRICE_LIST_CHANNELS = ("consumer", "pos", "salesperson", "wholesale", "partner")
PROMOTION_TYPES = ("percent", "amount")
PROMOTION_CHANNELS = ("consumer", "pos", "salesperson", "wholesale", "partner")
REVIEW_STATUSES = ("published", "hidden")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Category(TimestampMixin, Base):
    """Two-level product category tree used for browsing, facets and counts."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index("ix_categories_parent_id", "parent_id"),
    )

    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    icon_url: Mapped[str | None] = mapped_column(String(500))
    sort: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Category | None] = relationship(
        back_populates="children", remote_side="Category.id", lazy="raise"
    )
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", lazy="raise", order_by="(Category.sort, Category.id)"
    )


class Product(TimestampMixin, Base):
    """A sellable item (SKU) with its master data; prices live in price lists, stock in stock_levels."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("pack_size >= 1", name="pack_size"),
        CheckConstraint("wholesale_moq >= 1", name="wholesale_moq"),
        CheckConstraint("warranty_months >= 0", name="warranty_months"),
        CheckConstraint("lead_time_days >= 0 AND lead_time_days <= 365", name="lead_time_days_range"),
        Index("ix_products_category_id", "category_id"),
        Index("ix_products_brand", "brand"),
        Index("ix_products_barcode", "barcode"),
        Index("ix_products_is_active", "is_active"),
        Index("ix_products_created_at", "created_at"),
    )

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(64))
    name_ar: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    brand: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(16), default="piece")
    # Pieces per carton; quantities everywhere else are in pieces.
    pack_size: Mapped[int] = mapped_column(default=1)
    # Wholesale may buy only whole cartons (multiples of pack_size).
    carton_only: Mapped[bool] = mapped_column(default=False)
    # Minimum wholesale order quantity, in pieces.
    wholesale_moq: Mapped[int] = mapped_column(default=1)
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rates.id"))
    # Image URLs; the first one is the product card image.
    images: Mapped[list[str]] = mapped_column(JsonType, default=list)
    specs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_serialised: Mapped[bool] = mapped_column(default=False)
    warranty_months: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Days from ordering to receipt, for reorder suggestions (INV-05; clarifications.md: default 7).
    lead_time_days: Mapped[int] = mapped_column(default=7, server_default="7")
    # Delta-sync counter, bumped by the services on every change (not an optimistic lock).
    version: Mapped[int] = mapped_column(default=1)


class PriceList(TimestampMixin, Base):
    """A set of selling prices for one channel and currency (optionally one branch or partner tier)."""

    __tablename__ = "price_lists"
    __table_args__ = (
        CheckConstraint(_one_of("channel", PRICE_LIST_CHANNELS), name="channel"),
        CheckConstraint(_one_of("currency", CURRENCIES), name="currency"),
        Index("ix_price_lists_channel_branch_id", "channel", "branch_id"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), default="IQD")
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    partner_tier_id: Mapped[int | None] = mapped_column(ForeignKey("partner_tiers.id"))
    # Default list of its channel for its branch (or company-wide when branch_id is NULL).
    is_default: Mapped[bool] = mapped_column(default=False)

    items: Mapped[list[PriceListItem]] = relationship(
        back_populates="price_list",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="(PriceListItem.product_id, PriceListItem.min_qty)",
    )


class PriceListItem(TimestampMixin, Base):
    """One product price in a price list; several rows per product give volume breaks by min_qty."""

    __tablename__ = "price_list_items"
    __table_args__ = (
        CheckConstraint("min_qty >= 1", name="min_qty"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="validity"),
        Index("ix_price_list_items_lookup", "price_list_id", "product_id", "min_qty"),
        Index("ix_price_list_items_product_id", "product_id"),
    )

    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # Volume break in pieces; 1 = base price. The line price is the highest break <= ordered pieces.
    min_qty: Mapped[int] = mapped_column(default=1)
    # Tax-exclusive, in the price list's currency.
    unit_price: Mapped[Decimal]
    valid_from: Mapped[datetime | None]
    valid_to: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    price_list: Mapped[PriceList] = relationship(back_populates="items", lazy="raise")


promotion_products = Table(
    "promotion_products",
    Base.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_promotion_products_product_id", "product_id"),
)

promotion_categories = Table(
    "promotion_categories",
    Base.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_promotion_categories_category_id", "category_id"),
)


class Promotion(TimestampMixin, Base):
    """A time-boxed discount (automatic, or by promo code) on products and categories per channel/branch."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint(_one_of("type", PROMOTION_TYPES), name="type"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("type <> 'percent' OR value <= 100", name="percent_max"),
        # A percent promotion has no currency; an amount promotion must have one.
        CheckConstraint(
            "(type = 'percent' AND currency IS NULL)"
            " OR (type = 'amount' AND " + _one_of("currency", CURRENCIES) + ")",
            name="currency",
        ),
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("per_customer_limit IS NULL OR per_customer_limit >= 1", name="per_customer_limit"),
        Index("ix_promotions_period", "starts_at", "ends_at"),
    )

    # Public promo code; NULL = applied automatically to eligible lines.
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    title_ar: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    terms_ar: Mapped[str | None] = mapped_column(Text)
    terms_en: Mapped[str | None] = mapped_column(Text)
    banner_url: Mapped[str | None] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(16))
    # Percent (0-100] for type percent; money in `currency` for type amount.
    value: Mapped[Decimal]
    currency: Mapped[str | None] = mapped_column(String(3))
    # Subset of PROMOTION_CHANNELS.
    channels: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # Branch ids the promotion runs in; empty = every branch.
    branch_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    per_customer_limit: Mapped[int | None]
    is_featured: Mapped[bool] = mapped_column(default=False)

    # A promotion covers the listed products plus every product of the listed categories.
    products: Mapped[list[Product]] = relationship(secondary=promotion_products, lazy="raise")
    categories: Mapped[list[Category]] = relationship(secondary=promotion_categories, lazy="raise")


class Review(TimestampMixin, Base):
    """A customer's rating and text about a product, published at once and hidden by moderation."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating"),
        CheckConstraint(_one_of("status", REVIEW_STATUSES), name="status"),
        CheckConstraint("helpful_count >= 0", name="helpful_count"),
        CheckConstraint("body IS NULL OR length(body) <= 2000", name="body_length"),
        Index("ix_reviews_product_id_status_created_at", "product_id", "status", "created_at"),
    )

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # The delivered line that makes it a verified purchase; NULL = not verified.
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="published")
    # Denormalised count of review_votes, kept by the vote service for sorting by helpfulness.
    helpful_count: Mapped[int] = mapped_column(default=0)
    edited_at: Mapped[datetime | None]


class ReviewVote(TimestampMixin, Base):
    """One customer's "helpful" vote on another customer's review."""

    __tablename__ = "review_votes"
    __table_args__ = (
        UniqueConstraint("review_id", "customer_id"),
        Index("ix_review_votes_customer_id", "customer_id"),
    )

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))


class WishlistItem(TimestampMixin, Base):
    """A product a customer saved for later."""

    __tablename__ = "wishlist_items"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id"),
        Index("ix_wishlist_items_customer_id_added_at", "customer_id", "added_at"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
