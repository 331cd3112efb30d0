"""PAR-02 profile, PAR-05 orders, PAR-06 order detail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from tsh.bff.apps.partner import PARTNER, app
from tsh.bff.call import Call, Created, Section
from tsh.bff.schemas import (
    Body,
    DateIn,
    Geo,
    Id,
    LongText,
    Money,
    Page,
    Phone,
    Qty,
    Query,
    Text,
    decode_cursor,
    page,
)
from tsh.bff.views import DecimalText, MoneyOut, Named, RowId, Timestamp, View
from tsh.bff.views import Page as PageOf
from tsh.domain.partners import catalog as partner_catalog
from tsh.domain.partners import dashboard as partner_dashboard
from tsh.domain.partners import orders as partner_orders
from tsh.domain.partners import payouts as partner_payouts
from tsh.domain.partners import performance as partner_performance
from tsh.domain.partners import reads as partner_self
from tsh.domain.partners import writes as partner_writes


class Tier(View):
    id: RowId
    code: str
    name: str
    rank: int


class Upline(View):
    id: RowId
    code: str
    name: str


class Profile(View):
    id: RowId
    code: str
    name: str
    tier: Tier | None
    commission_rate: DecimalText
    override_rate: DecimalText
    can_recruit: bool
    territory: str | None
    status: str
    phone: str
    email: str | None
    address: str | None
    city: str | None
    payout_method: str | None
    payout_account: str | None
    payout_locked_until: Timestamp | None
    joined_at: Timestamp | None
    upline: Upline | None


@app.screen(
    "PAR-02",
    "/profile",
    roles=PARTNER,
    scope="own",
    cache="people",
    events=("PartnerChanged",),
    errors=("PARTNER_PROFILE_MISSING",),
    response=Profile,
)
async def profile(call: Call) -> dict[str, Any]:
    """Partner record: code, tier, rates, recruitment right, territory, status, contact, payout, upline."""
    return await partner_self.profile(call.session, call.actor)


class OrderRow(View):
    id: RowId
    number: str
    customer: Named
    placed_at: Timestamp
    status: str
    total: MoneyOut
    commission: MoneyOut


class OrdersQuery(Page):
    status: Literal["pending", "confirmed", "shipped", "delivered", "cancelled"] | None = None
    customer_id: Id | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


@app.screen(
    "PAR-05",
    "/orders",
    exports="orders",
    roles=PARTNER,
    scope="own",
    cache="orders",
    events=("OrderCreated", "OrderChanged", "CommissionChanged"),
    errors=("PARTNER_PROFILE_MISSING",),
    response=PageOf[OrderRow],
)
async def orders(call: Call, *, query: OrdersQuery) -> dict[str, Any]:
    """Orders the partner placed: number, customer, date, status, total, commission."""
    rows = await partner_self.order_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        customer_id=query.customer_id,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, partner_self.order_position)


class Line(View):
    id: RowId
    product_id: RowId
    sku: str
    name: str
    qty: int
    unit_price: MoneyOut
    line_total: MoneyOut


class Address(View):
    label: str | None
    city: str | None
    district: str | None
    street: str | None
    landmark: str | None
    phone: str | None


class Step(View):
    status: str
    at: Timestamp


class InvoiceLink(View):
    id: RowId
    number: str
    status: str
    balance: MoneyOut


class CommissionLine(View):
    id: RowId
    kind: str
    rate: DecimalText
    base_amount: MoneyOut
    amount: MoneyOut
    status: str


class OrderDetail(View):
    id: RowId
    number: str
    customer: Named
    status: str
    payment_status: str
    placed_at: Timestamp
    lines: list[Line]
    subtotal: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    delivery_fee: MoneyOut
    total: MoneyOut
    address: Address | None
    timeline: list[Step]
    invoice: InvoiceLink | None
    commissions: list[CommissionLine]


@app.screen(
    "PAR-06",
    "/orders/{id}",
    roles=PARTNER,
    scope="own",
    cache="orders",
    events=("OrderChanged", "PaymentReceived", "CommissionChanged"),
    errors=("PARTNER_PROFILE_MISSING", "ORDER_NOT_FOUND"),
    response=OrderDetail,
)
async def order(call: Call, *, id: int) -> dict[str, Any]:
    """Order detail: lines, totals, address, timeline, invoice and payment status, commission lines."""
    return await partner_self.order_detail(call.session, call.actor, order_id=id)


class NetworkRow(View):
    kind: str
    id: RowId
    name: str
    city: str | None
    status: str
    tier: str | None
    last_order_at: Timestamp | None
    sales_this_month: list[MoneyOut]
    override_earned: list[MoneyOut] | None


class NetworkQuery(Page):
    kind: Literal["customer", "sub_partner"] | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)
    status: str | None = Field(default=None, min_length=1, max_length=16)


@app.screen(
    "PAR-11",
    "/network",
    exports="customers",
    roles=PARTNER,
    scope="own",
    cache="customers",
    events=("CustomerChanged", "PartnerChanged", "OrderCreated", "OrderChanged", "CommissionChanged"),
    errors=("PARTNER_PROFILE_MISSING",),
    response=PageOf[NetworkRow],
)
async def network(call: Call, *, query: NetworkQuery) -> dict[str, Any]:
    """Network: own customers and direct sub-partners with this month's sales and override earned."""
    rows = await partner_self.network(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        kind=query.kind,
        q=query.q,
        status=query.status,
    )
    return page(rows, query.limit, partner_self.network_position)


class CustomerAddress(View):
    id: RowId
    label: str
    city: str
    district: str | None
    street: str | None
    landmark: str | None
    is_default: bool


class CustomerOrder(View):
    id: RowId
    number: str
    placed_at: Timestamp
    status: str
    total: MoneyOut


class NetworkCustomer(View):
    id: RowId
    code: str
    name: str
    shop_name: str | None
    phone: str | None
    email: str | None
    city: str | None
    status: str
    addresses: list[CustomerAddress]
    orders: list[CustomerOrder]
    order_count: int
    sales_total: list[MoneyOut]
    commission_earned: list[MoneyOut]


@app.screen(
    "PAR-12",
    "/customers/{id}",
    roles=PARTNER,
    scope="own",
    cache="customers",
    events=("CustomerChanged", "OrderCreated", "OrderChanged", "CommissionChanged"),
    errors=("PARTNER_PROFILE_MISSING", "CUSTOMER_NOT_FOUND"),
    response=NetworkCustomer,
)
async def network_customer(call: Call, *, id: int) -> dict[str, Any]:
    """Network customer: contact, addresses, order history with totals, commission earned on it."""
    return await partner_self.network_customer(call.session, call.actor, customer_id=id)


class PayoutBody(Body):
    amount: Money


class PayoutOut(View):
    id: RowId
    amount: MoneyOut
    status: str
    method: str | None
    requested_at: Timestamp
    payable_balance: MoneyOut


@app.action(
    "PAR-10",
    "POST",
    "/payout-requests",
    roles=PARTNER,
    scope="own",
    events=("CommissionChanged",),
    idempotency="required",
    audit_entity="commission_payout",
    errors=(
        "PARTNER_PROFILE_MISSING",
        "INSUFFICIENT_BALANCE",
        "BELOW_MINIMUM_PAYOUT",
        "PAYOUT_PENDING",
        "PAYOUT_DETAILS_COOLDOWN",
        "PARTNER_SUSPENDED",
    ),
    response=PayoutOut,
)
async def request_payout(call: Call, *, body: PayoutBody) -> Created:
    """Requests a payout of payable commission; approved and paid in the back office."""
    payout = await partner_payouts.request_payout(
        call.session, call.actor, amount=body.amount.amount, currency=body.amount.currency
    )
    call.audit(
        "commission_payout", payout.id, after={"amount": str(payout.amount), "currency": payout.currency}
    )
    return Created(await partner_payouts.payout_view(call.session, payout))


class OrderRef(View):
    id: RowId
    number: str


class CommissionRow(View):
    id: RowId
    order: OrderRef
    kind: str
    rate: DecimalText
    base_amount: MoneyOut
    amount: MoneyOut
    status: str
    accrued_at: Timestamp
    payable_at: Timestamp | None
    paid_at: Timestamp | None
    reversed_at: Timestamp | None


class StatusTotal(View):
    status: str
    amounts: list[MoneyOut]


class PayoutRow(View):
    id: RowId
    amount: MoneyOut
    status: str
    requested_at: Timestamp
    paid_at: Timestamp | None


class Ledger(View):
    items: list[CommissionRow]
    next_cursor: str | None
    balance_available: list[MoneyOut]
    totals: list[StatusTotal]
    payouts: list[PayoutRow]


class LedgerQuery(Page):
    status: Literal["accrued", "payable", "paid", "reversed"] | None = None
    kind: Literal["direct", "override"] | None = None
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")


@app.screen(
    "PAR-09",
    "/commissions",
    roles=PARTNER,
    scope="own",
    cache="financial",
    events=("CommissionChanged",),
    errors=("PARTNER_PROFILE_MISSING",),
    response=Ledger,
)
async def commissions(call: Call, *, query: LedgerQuery) -> dict[str, Any]:
    """Commission ledger: accruals (direct and override), reversals, payouts, balance, period totals."""
    data = await partner_self.commission_ledger(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        kind=query.kind,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return {**data, **page(data["items"], query.limit, partner_self.commission_position)}


class PartnerProduct(View):
    id: RowId
    sku: str
    name: str
    image_url: str | None
    pack_size: int
    partner_price: MoneyOut
    suggested_consumer_price: MoneyOut | None
    commission_per_unit: MoneyOut
    availability: str


class ProductsQuery(Page):
    q: str | None = Field(default=None, min_length=1, max_length=100)
    category_id: Id | None = None
    in_stock: bool | None = None


async def _follow_branch(call: Call) -> None:
    """Stock and price events name the supplying branch, not the partner: listen to both."""
    branch = await partner_self.supplying_branch(call.session, call.actor)
    if branch is not None:
        call.also_cached_under(f"branch:{branch}")


@app.screen(
    "PAR-04",
    "/products",
    roles=PARTNER,
    scope="own",
    cache="catalog",
    events=("ProductChanged", "PriceChanged", "StockChanged", "PartnerChanged"),
    errors=("PARTNER_PROFILE_MISSING", "NO_PRICE_LIST", "NO_MAIN_WAREHOUSE"),
    response=PageOf[PartnerProduct],
    vary_by_language=True,
)
async def products(call: Call, *, query: ProductsQuery) -> dict[str, Any]:
    """Catalogue at the tier partner price with suggested consumer price, commission per unit, band."""
    await _follow_branch(call)
    rows = await partner_catalog.partner_products(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        q=query.q,
        category_id=query.category_id,
        in_stock=query.in_stock,
    )
    return page(rows, query.limit, partner_catalog.position)


EmailText = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class ProfileChanges(Body):
    phone: Phone | None = None
    email: EmailText | None = None
    address: LongText | None = None
    payout_method: Literal["zain_cash", "bank_transfer", "cash_at_branch"] | None = None
    payout_account: str | None = Field(default=None, min_length=3, max_length=100)


@app.action(
    "PAR-03",
    "PATCH",
    "/profile",
    roles=PARTNER,
    scope="own",
    events=("PartnerChanged",),
    audit_entity="partner",
    errors=("PARTNER_PROFILE_MISSING", "PHONE_TAKEN"),
    response=Profile,
)
async def update_profile(call: Call, *, body: ProfileChanges) -> dict[str, Any]:
    """Updates own contact data and payout details (a payout change blocks payouts for 48 hours)."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("phone", "") is None:  # the phone is required: null leaves it unchanged
        del changes["phone"]
    partner = await partner_writes.update_profile(call.session, call.actor, changes=changes)
    call.audit("partner", partner.id, after={"changed": sorted(changes)})
    return await partner_self.profile(call.session, call.actor)


class NewCustomer(Body):
    name: Text
    phone: Phone
    city: Text
    address: Text
    geo: Geo | None = None


class CustomerCreated(View):
    id: RowId
    code: str
    name: str
    phone: str | None
    city: str | None


@app.action(
    "PAR-13",
    "POST",
    "/customers",
    roles=PARTNER,
    scope="own",
    events=("CustomerChanged", "PartnerChanged"),
    audit_entity="customer",
    errors=("PARTNER_PROFILE_MISSING", "CUSTOMER_EXISTS", "NO_PRICE_LIST"),
    response=CustomerCreated,
)
async def register_customer(call: Call, *, body: NewCustomer) -> Created:
    """Registers a new customer in the partner's network."""
    c = await partner_writes.register_customer(
        call.session,
        call.actor,
        name=body.name,
        phone=body.phone,
        city=body.city,
        address=body.address,
        lat=body.geo.lat if body.geo else None,
        lng=body.geo.lng if body.geo else None,
        accuracy_m=body.geo.accuracy_m if body.geo else None,
    )
    call.audit("customer", c.id, after={"name": c.name})
    return Created({"id": c.id, "code": c.code, "name": c.name, "phone": c.phone, "city": c.city})


class Invitation(Body):
    name: Text
    phone: Phone
    city: Text
    note: LongText | None = None


class Invited(View):
    id: RowId
    code: str
    name: str
    phone: str
    city: str | None
    status: str


@app.action(
    "PAR-14",
    "POST",
    "/sub-partners",
    roles=PARTNER,
    scope="own",
    events=("PartnerChanged",),
    audit_entity="partner",
    errors=("PARTNER_PROFILE_MISSING", "TIER_NOT_ALLOWED", "NETWORK_DEPTH", "PHONE_TAKEN"),
    response=Invited,
)
async def invite(call: Call, *, body: Invitation) -> Created:
    """Invites a sub-partner into the caller's network; the back office vets it and creates the login."""
    p = await partner_writes.invite_sub_partner(
        call.session, call.actor, name=body.name, phone=body.phone, city=body.city, note=body.note
    )
    call.audit("partner", p.id, after={"status": p.status, "parent_partner_id": p.parent_partner_id})
    return Created(
        {"id": p.id, "code": p.code, "name": p.name, "phone": p.phone, "city": p.city, "status": p.status}
    )


class PartnerOrderLineIn(Body):
    product_id: Id
    qty: Qty


class PlaceOrder(Body):
    customer_id: Id
    address_id: Id
    lines: list[PartnerOrderLineIn] = Field(min_length=1, max_length=100)
    expected_total: Money
    note: LongText | None = None


@app.action(
    "PAR-07",
    "POST",
    "/orders",
    roles=PARTNER,
    scope="own",
    events=(
        "OrderCreated",
        "StockChanged",
        "InvoiceIssued",
        "CreditChanged",
        "CommissionChanged",
        "JournalPosted",
    ),
    idempotency="required",
    audit_entity="order",
    errors=(
        "PARTNER_PROFILE_MISSING",
        "CUSTOMER_NOT_FOUND",
        "ADDRESS_NOT_FOUND",
        "DUPLICATE_LINE",
        "PRODUCT_NOT_AVAILABLE",
        "INSUFFICIENT_STOCK",
        "CUSTOMER_ON_HOLD",
        "PRICE_CHANGED",
        "PARTNER_SUSPENDED",
        "BELOW_MIN_ORDER",
        "NO_PRICE_LIST",
        "NO_MAIN_WAREHOUSE",
    ),
    response=OrderDetail,
)
async def place_order(call: Call, *, body: PlaceOrder) -> Created:
    """Places and confirms an order for a network customer at partner prices; commission accrues."""
    order = await partner_orders.place_partner_order(
        call.session,
        call.actor,
        customer_id=body.customer_id,
        address_id=body.address_id,
        lines=[(ln.product_id, ln.qty) for ln in body.lines],
        expected_total=body.expected_total.amount,
        expected_currency=body.expected_total.currency,
        note=body.note,
    )
    call.audit("order", order.id, after={"number": order.number, "total": str(order.total)})
    return Created(await partner_self.order_detail(call.session, call.actor, order_id=order.id))


class Cancellation(Body):
    reason: Text


@app.action(
    "PAR-08",
    "POST",
    "/orders/{id}/cancellation",
    roles=PARTNER,
    scope="own",
    events=("OrderChanged", "StockChanged", "CreditChanged", "CommissionChanged", "JournalPosted"),
    idempotency="required",
    audit_entity="order",
    errors=("PARTNER_PROFILE_MISSING", "ORDER_NOT_FOUND", "ORDER_NOT_CANCELLABLE"),
    response=OrderDetail,
)
async def cancel_order(call: Call, *, id: int, body: Cancellation) -> dict[str, Any]:
    """Cancels an own order that has not shipped and reverses its commission."""
    order = await partner_orders.cancel_partner_order(
        call.session, call.actor, order_id=id, reason=body.reason
    )
    call.audit("order", order.id, before={"status": "open"}, after={"status": order.status})
    return await partner_self.order_detail(call.session, call.actor, order_id=order.id)


class MonthFigures(View):
    sales: list[MoneyOut]
    orders: int
    last_month_sales: list[MoneyOut]
    last_month_orders: int


class CommissionFigures(View):
    accrued: list[MoneyOut]
    payable: list[MoneyOut]
    paid: list[MoneyOut]


class StatusCount(View):
    status: str
    count: int


class NetworkSize(View):
    customers: int
    sub_partners: int


class TargetProgress(View):
    revenue_target: MoneyOut
    revenue: MoneyOut
    progress_pct: DecimalText | None
    orders_target: int
    orders: int


class Activity(View):
    order_id: RowId
    number: str
    status: str
    at: Timestamp
    total: MoneyOut
    customer: str


class PartnerDashboard(View):
    """`commission`, `orders_by_status`, `network` and `activity` are null when their section could
    not be had (metadata.sections: timeout or error without a last good value)."""

    month: MonthFigures
    commission: CommissionFigures | None
    orders_by_status: list[StatusCount] | None
    network: NetworkSize | None
    target: TargetProgress | None
    activity: list[Activity] | None


@app.screen(
    "PAR-01",
    "/dashboard",
    roles=PARTNER,
    scope="own",
    cache="dashboard",
    events=("OrderCreated", "OrderChanged", "CommissionChanged", "PartnerChanged", "CustomerChanged"),
    errors=("PARTNER_PROFILE_MISSING", "SECTION_TIMEOUT"),
    response=PartnerDashboard,
)
async def dashboard(call: Call) -> dict[str, Any]:
    """Partner dashboard: month vs last month, commission, orders by status, network, target, activity.

    Sections: `month` (this month against last, target; required), `commission`, `network`
    (orders by status, network size), `activity`: a late or failed one is its last good value
    (stale) or null.
    """
    parts = await partner_dashboard.dashboard_parts(call.session, call.actor)
    got = await call.sections(
        {
            "month": Section(parts["month"], budget_ms=5000, required=True),
            "commission": Section(parts["commission"], budget_ms=1000),
            "network": Section(parts["network"], budget_ms=1000),
            "activity": Section(parts["activity"], budget_ms=1000),
        }
    )
    data: dict[str, Any] = got["month"]
    data |= got["commission"] or {"commission": None}
    data |= got["network"] or {"orders_by_status": None, "network": None}
    data |= got["activity"] or {"activity": None}
    return data


class MonthRow(View):
    month: int
    sales: MoneyOut
    orders: int
    target: MoneyOut | None


class TopProduct(View):
    product_id: RowId
    name: str
    qty: int
    sales: MoneyOut


class Rank(View):
    position: int | None
    of: int
    tier: str | None


class NextTier(View):
    name: str
    min_monthly_sales: MoneyOut
    this_month_sales: MoneyOut


class Performance(View):
    year: int
    months: list[MonthRow]
    orders: int
    sales: MoneyOut
    average_order_value: MoneyOut
    active_customers: int
    top_products: list[TopProduct]
    rank: Rank
    next_tier: NextTier | None


class PerformanceQuery(Query):
    year: int | None = Field(default=None, ge=2000, le=2100)


@app.screen(
    "PAR-15",
    "/performance",
    roles=PARTNER,
    scope="own",
    cache="dashboard",
    events=("OrderCreated", "OrderChanged", "CommissionChanged", "PartnerChanged"),
    errors=("PARTNER_PROFILE_MISSING",),
    response=Performance,
)
async def performance(call: Call, *, query: PerformanceQuery) -> dict[str, Any]:
    """Performance: 12 months vs target, orders, average value, customers, top products, rank, next tier."""
    return await partner_performance.performance(call.session, call.actor, year=query.year)
