"""Response models of the consumer app (the `data` of CON-01..37); names carry `Con` so they stay
unique in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tsh.bff.views import (
    Currency,
    Decimal2,
    DecimalText,
    DeliveryOption,
    InvoiceStatus,
    MoneyOut,
    Named,
    OrderPaymentMethod,
    OrderPaymentStatus,
    OrderStatus,
    Page,
    PaymentMethod,
    ProductSpecs,
    RefundMethod,
    RowId,
    Timestamp,
    View,
)

ReviewStatus = Literal["published", "hidden"]
ReturnStatus = Literal["requested", "approved", "rejected", "refunded"]


# -- catalogue ---------------------------------------------------------------------------


class ConProductCard(View):
    """A product tile: tax-inclusive price and promotion price at the serving branch."""

    id: RowId
    name: str
    image_url: str | None
    price: MoneyOut
    promo_price: MoneyOut | None
    in_stock: bool
    rating_avg: DecimalText | None
    rating_count: int


class ConPromotionBrief(View):
    id: RowId
    title: str
    banner_url: str | None
    type: Literal["percent", "amount"]
    # A percentage (decimal string) for `percent`, an amount of money for `amount`.
    value: DecimalText | MoneyOut
    ends_at: Timestamp
    code: str | None
    is_featured: bool


class ConPromotionCard(ConPromotionBrief):
    eligible_products: int


class ConCategoryTile(View):
    id: RowId
    name: str
    icon_url: str | None


class ConHome(View):
    """CON-01: banners, featured, best sellers, new arrivals, top-level categories. A list is null
    when its section could not be had (metadata.sections: timeout or error without a last good
    value; `promotions` covers banners and featured)."""

    serving_branch_id: RowId
    banners: list[ConPromotionBrief] | None
    featured: list[ConProductCard] | None
    best_sellers: list[ConProductCard] | None
    new_arrivals: list[ConProductCard] | None
    categories: list[ConCategoryTile]


class ConCategoryFacet(View):
    id: RowId
    name: str
    count: int


class ConBrandFacet(View):
    brand: str
    count: int


class ConPriceBand(View):
    min: Decimal2
    max: Decimal2 | None
    count: int


class ConFacets(View):
    categories: list[ConCategoryFacet]
    brands: list[ConBrandFacet]
    price_bands: list[ConPriceBand]


class ConProductList(Page[ConProductCard]):
    """CON-02: product search and listing with facets."""

    total: int
    facets: ConFacets
    serving_branch_id: RowId


class ConAvailability(View):
    branch_id: RowId
    in_stock: bool
    available: int


class ConRatingDistribution(View):
    stars_5: int = Field(alias="5")
    stars_4: int = Field(alias="4")
    stars_3: int = Field(alias="3")
    stars_2: int = Field(alias="2")
    stars_1: int = Field(alias="1")


class ConRatingSummary(View):
    rating_avg: DecimalText | None
    rating_count: int
    distribution: ConRatingDistribution


class ConReview(View):
    """A review as its author sees it (CON-29/30)."""

    id: RowId
    product_id: RowId
    rating: int = Field(ge=1, le=5)
    title: str
    body: str | None
    status: ReviewStatus
    created_at: Timestamp
    edited_at: Timestamp | None
    helpful_count: int
    verified_purchase: bool


class ConPublishedReview(ConReview):
    author: str


class ConProductPage(View):
    """CON-03: one product with price, promotion, availability, ratings and related cards."""

    id: RowId
    sku: str
    barcode: str | None
    name: str
    name_ar: str
    name_en: str
    description: str | None
    brand: str | None
    category_id: RowId
    images: list[str]
    specs: ProductSpecs
    price: MoneyOut
    promo_price: MoneyOut | None
    promotion: ConPromotionBrief | None
    availability: ConAvailability
    warranty_months: int
    rating: ConRatingSummary
    reviews: list[ConPublishedReview]
    related: list[ConProductCard]


class ConSuggestions(View):
    """CON-04: type-ahead matches."""

    products: list[Named]
    categories: list[Named]
    brands: list[str]


class ConCategoryChild(View):
    id: RowId
    name: str
    icon_url: str | None
    product_count: int


class ConCategoryNode(ConCategoryChild):
    children: list[ConCategoryChild]


class ConPromotions(Page[ConPromotionCard]):
    """CON-06: running promotions for the serving branch."""

    serving_branch_id: RowId


class ConPromotionPage(ConPromotionCard):
    """CON-07: one promotion with its terms and a page of eligible product cards."""

    terms: str | None
    starts_at: Timestamp
    items: list[ConProductCard]
    next_cursor: str | None


class ConReviews(Page[ConPublishedReview]):
    """CON-28: a product's published reviews with the rating summary."""

    summary: ConRatingSummary


class ConHelpfulVote(View):
    review_id: RowId
    helpful_count: int


class ConReviewDeleted(View):
    id: RowId
    deleted: bool


# -- cart and checkout -------------------------------------------------------------------


class ConCartProduct(View):
    id: RowId
    name: str
    image_url: str | None


class ConLinePromotion(View):
    id: RowId
    title: str
    code: str | None


class ConStockWarning(View):
    code: Literal["INSUFFICIENT_STOCK", "OUT_OF_STOCK"]
    available: int


class ConCartLine(View):
    """A cart line; an unavailable product (no longer listed) has no price, tax or discount."""

    id: RowId
    product: ConCartProduct
    qty: int
    unavailable: bool
    unit_price: MoneyOut | None
    line_total: MoneyOut | None
    promotion: ConLinePromotion | None
    stock_warning: ConStockWarning | None
    discount: MoneyOut | None = None
    tax: MoneyOut | None = None


class ConCart(View):
    """CON-08 (and every cart action)."""

    lines: list[ConCartLine]
    promotions: list[ConLinePromotion]
    subtotal: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    estimated_total: MoneyOut
    item_count: int
    currency: Currency


class ConSkipped(View):
    product_id: RowId
    reason: Literal["out_of_stock", "unavailable"]


class ConReorder(ConCart):
    """CON-36: the cart after the reorder and the products that could not be added."""

    skipped: list[ConSkipped]


class ConGeo(View):
    lat: float
    lng: float
    accuracy_m: float | None


class ConDeliveryZone(View):
    id: RowId
    name: str
    fee: MoneyOut
    express_fee: MoneyOut
    min_order: MoneyOut
    active: bool


class ConAddress(View):
    id: RowId
    label: str
    city: str
    district: str | None
    street: str | None
    landmark: str | None
    phone: str | None
    geo: ConGeo | None
    is_default: bool
    delivery_zone: ConDeliveryZone | None
    delivery_fee: MoneyOut | None
    serving_branch: Named | None


class ConDeliveryChoice(View):
    option: DeliveryOption
    fee: MoneyOut


class ConPromo(View):
    code: str | None
    status: Literal["none", "applied", "invalid"]
    message: str | None
    # Only for an invalid code: the reason as an error code (PROMO_INVALID).
    error_code: str | None = None
    discount: MoneyOut | None = None


class ConCheckout(View):
    """CON-33: the checkout summary for the current cart and choices."""

    lines: list[ConCartLine]
    promotions: list[ConLinePromotion]
    addresses: list[ConAddress]
    address_id: RowId | None
    pickup_branch_id: RowId | None
    serving_branch_id: RowId
    delivery_option: DeliveryOption
    delivery_options: list[ConDeliveryChoice]
    payment_methods: list[OrderPaymentMethod]
    promo: ConPromo
    min_order: MoneyOut | None
    below_min_order: bool
    stock_ok: bool
    subtotal: MoneyOut
    discount: MoneyOut
    delivery_fee: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    item_count: int


# -- orders ------------------------------------------------------------------------------


class ConLineReview(View):
    can_review: bool
    review_id: RowId | None


class ConLineReturn(View):
    returnable_qty: int


class ConOrderLine(View):
    id: RowId
    product_id: RowId
    sku: str
    name: str
    image_url: str | None
    qty: int
    unit_price: MoneyOut
    discount_pct: DecimalText
    tax: MoneyOut
    line_total: MoneyOut
    qty_delivered: int
    qty_returned: int
    review: ConLineReview
    line_return: ConLineReturn = Field(alias="return")


class ConStatusChange(View):
    status: OrderStatus
    at: Timestamp


class ConOrderInvoice(View):
    id: RowId
    number: str
    status: InvoiceStatus
    total: MoneyOut
    paid: MoneyOut
    balance: MoneyOut


class ConPaymentOfOrder(View):
    """A payment allocated to the order (named so that no generated enum `ConOrderPaymentMethod`
    collides with `ConOrder.payment_method`)."""

    id: RowId
    number: str
    method: PaymentMethod
    amount: MoneyOut
    received_at: Timestamp
    provider_reference: str | None


class ConOrderRefund(View):
    id: RowId
    number: str
    amount: MoneyOut
    method: RefundMethod
    issued_at: Timestamp


class ConReturnLine(View):
    order_line_id: RowId
    qty: int
    reason: str = Field(examples=["defective"])


class ConOrderReturn(View):
    id: RowId
    number: str
    status: ReturnStatus
    created_at: Timestamp
    lines: list[ConReturnLine]


class ConAddressSnapshot(View):
    """The delivery address as it was when the order was placed."""

    address_id: RowId
    label: str
    city: str
    district: str | None
    street: str | None
    landmark: str | None
    phone: str | None
    lat: float | None
    lng: float | None
    delivery_zone_id: RowId | None


class ConOrder(View):
    """CON-26 (and CON-27, CON-34, CON-35, which answer the order as in CON-26)."""

    id: RowId
    number: str
    status: OrderStatus
    payment_status: OrderPaymentStatus
    payment_method: OrderPaymentMethod
    placed_at: Timestamp
    delivery_option: DeliveryOption
    address: ConAddressSnapshot | None
    pickup_branch_id: RowId | None
    note: str | None
    promo_code: str | None
    cancel_reason: str | None
    lines: list[ConOrderLine]
    subtotal: MoneyOut
    discount: MoneyOut
    delivery_fee: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    timeline: list[ConStatusChange]
    invoice: ConOrderInvoice | None
    payments: list[ConPaymentOfOrder]
    refunds: list[ConOrderRefund]
    return_requests: list[ConOrderReturn]


class ConOrderRow(View):
    id: RowId
    number: str
    placed_at: Timestamp
    status: OrderStatus
    payment_status: OrderPaymentStatus
    payment_method: OrderPaymentMethod
    item_count: int
    total: MoneyOut
    image_url: str | None


class ConReturnRequested(View):
    """CON-37: the return request created."""

    id: RowId
    number: str
    order_id: RowId
    status: ReturnStatus
    value: MoneyOut
    lines: list[ConReturnLine]


# -- account -----------------------------------------------------------------------------


class ConProfile(View):
    """CON-16 (and CON-17, which answers the profile as in CON-16)."""

    name: str
    phone: str | None
    email: str
    language: Literal["ar", "en"]
    marketing_opt_in: bool
    default_address: ConAddress | None
    member_since: Timestamp
    orders_count: int
    open_orders_count: int
    reviews_count: int


class ConPasswordChanged(View):
    password_changed: bool


class ConPushToken(View):
    session_id: RowId
    platform: str = Field(examples=["android", "ios"])
    registered: bool


class ConAccountClosed(View):
    closed: bool


class ConWishlistRow(ConProductCard):
    unavailable: bool
    added_at: Timestamp


class ConWishlistSaved(View):
    product_id: RowId
    saved: bool
