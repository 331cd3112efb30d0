"""Response models of the salesperson app (the `data` of SAL-01..13); names carry `Sal` so they
stay unique in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tsh.bff.views import (
    Date,
    Decimal2,
    DecimalText,
    InvoiceStatus,
    MoneyOut,
    Named,
    OrderPaymentStatus,
    OrderStatus,
    Page,
    PaymentMethod,
    PaymentTerms,
    RowId,
    Timestamp,
    View,
)

VisitStatus = Literal["planned", "checked_in", "completed", "skipped"]
VisitOutcome = Literal["order_taken", "payment_collected", "no_order", "shop_closed", "owner_absent"]
CustomerStatus = Literal["active", "inactive", "closed"]


class SalGeo(View):
    lat: float = Field(examples=[33.3128])
    lng: float = Field(examples=[44.3615])


class SalProfile(View):
    id: RowId
    name: str
    phone: str
    branch: Named


class SalVisitsToday(View):
    planned: int
    done: int
    in_progress: int
    unverified: int


class SalPeriod(View):
    range: Literal["today", "week", "month"]
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")


class SalOrderFigures(View):
    count: int
    previous_count: int
    change_pct: float | None = Field(description="null when the previous period had no orders")
    value: list[MoneyOut]
    previous_value: list[MoneyOut]


class SalPendingOrders(View):
    count: int
    value: list[MoneyOut]


class SalTopCustomer(View):
    id: RowId
    name: str
    orders: int
    value_iqd: MoneyOut


class SalTopProduct(View):
    id: RowId
    sku: str
    name: str
    qty: int
    value_iqd: MoneyOut


class SalPaymentsCollected(View):
    count: int
    amount: list[MoneyOut]


class SalReceivables(View):
    outstanding: list[MoneyOut]
    overdue: list[MoneyOut]


class SalRevenueTarget(View):
    target: MoneyOut
    achieved: MoneyOut
    progress_pct: float | None


class SalCountTarget(View):
    target: int
    achieved: int


class SalTarget(View):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-12"])
    revenue: list[SalRevenueTarget]
    orders: SalCountTarget
    new_customers: SalCountTarget


class SalDashboard(View):
    """SAL-01: the salesperson's day and period figures. The fields of an optional section that
    could not be had (metadata.sections: timeout or error without a last good value) are null:
    `top_lists` (top_customers, top_products) and `money` (payments_collected, receivables,
    commission_month)."""

    profile: SalProfile
    visits_today: SalVisitsToday
    period: SalPeriod
    orders: SalOrderFigures
    pending_orders: SalPendingOrders
    top_customers: list[SalTopCustomer] | None
    top_products: list[SalTopProduct] | None
    payments_collected: SalPaymentsCollected | None
    receivables: SalReceivables | None
    target: SalTarget
    commission_month: list[MoneyOut] | None


class SalCustomerRow(View):
    id: RowId
    code: str
    name: str
    shop_name: str
    phone: str
    city: str
    geo: SalGeo | None
    status: CustomerStatus
    on_hold: bool
    balance: MoneyOut
    overdue: MoneyOut
    last_visit_date: Date | None
    last_order_at: Timestamp | None


class SalCustomerProfile(View):
    id: RowId
    code: str
    name: str
    shop_name: str
    phone: str
    email: str | None
    city: str
    type: Literal["consumer", "retail_shop", "wholesale"]
    geo: SalGeo | None
    status: CustomerStatus
    on_hold: bool
    hold_reason: str | None
    notes: str | None
    currency: Literal["IQD", "USD"]
    payment_terms_days: int


class SalAddress(View):
    id: RowId
    label: str
    city: str
    district: str | None
    street: str
    landmark: str | None
    phone: str | None
    geo: SalGeo | None
    is_default: bool


class SalPriceListRef(View):
    id: RowId
    name: str
    currency: Literal["IQD", "USD"]


class SalCredit(View):
    limit: MoneyOut
    used: MoneyOut
    available: MoneyOut


class SalAging(View):
    days_0_30: MoneyOut = Field(alias="0_30")
    days_31_60: MoneyOut = Field(alias="31_60")
    days_61_90: MoneyOut = Field(alias="61_90")
    days_90_plus: MoneyOut = Field(alias="90_plus")


class SalOpenInvoice(View):
    id: RowId
    number: str
    issue_date: Date
    due_date: Date
    days_overdue: int
    status: InvoiceStatus
    total: MoneyOut
    balance: MoneyOut
    currency: Literal["IQD", "USD"]


class SalRecentOrder(View):
    id: RowId
    number: str
    placed_at: Timestamp
    status: OrderStatus
    payment_status: OrderPaymentStatus
    total: MoneyOut


class SalRecentPayment(View):
    id: RowId
    number: str
    received_at: Timestamp
    method: PaymentMethod
    amount: MoneyOut


class SalRecentVisit(View):
    id: RowId
    date: Date
    status: VisitStatus
    outcome: VisitOutcome | None
    verified: bool
    check_in_at: Timestamp | None


class SalCustomerDetail(View):
    """SAL-03 (and SAL-04, which answers the registered customer as in SAL-03)."""

    profile: SalCustomerProfile
    addresses: list[SalAddress]
    price_list: SalPriceListRef | None
    credit: SalCredit
    aging: SalAging
    open_invoices: list[SalOpenInvoice]
    last_orders: list[SalRecentOrder]
    last_payments: list[SalRecentPayment]
    last_visits: list[SalRecentVisit]


class SalRouteStart(View):
    branch_id: RowId
    lat: float
    lng: float


class SalStopCustomer(View):
    id: RowId
    name: str
    shop_name: str


class SalStop(View):
    visit_id: RowId
    sequence: int
    customer: SalStopCustomer
    geo: SalGeo | None
    planned_time: Timestamp | None
    status: VisitStatus
    verified: bool
    check_in_at: Timestamp | None
    distance_from_previous_m: int
    eta_from_previous_min: int


class SalDueCustomer(View):
    customer: SalStopCustomer
    geo: SalGeo | None
    last_visit_date: Date | None
    has_overdue: bool
    reason: Literal["not_visited_14_days", "overdue"]


class SalRoute(View):
    """SAL-05 (and SAL-06, which answers the new plan as in SAL-05)."""

    date: Date
    salesperson_id: RowId
    start: SalRouteStart | None
    stops: list[SalStop]
    total_distance_m: int
    total_eta_min: int
    assumed_speed_kmh: float
    due_customers: list[SalDueCustomer]


class SalVisit(View):
    """SAL-07 check-in and SAL-08 check-out."""

    id: RowId
    customer_id: RowId
    date: Date
    sequence: int
    status: VisitStatus
    check_in_at: Timestamp
    distance_m: float | None
    verified: bool
    check_out_at: Timestamp | None
    outcome: VisitOutcome | None
    notes: str | None


class SalProductRow(View):
    id: RowId
    sku: str
    barcode: str | None
    name: str
    pack_size: int
    category_id: RowId
    unit_price: MoneyOut
    price_incl_tax: MoneyOut
    promo_price_incl_tax: MoneyOut | None
    promotion_id: RowId | None
    available: int
    last_price: MoneyOut | None


class SalProducts(Page[SalProductRow]):
    """SAL-09: products at the customer's price list."""

    customer: SalPriceListRef


class SalOrderLine(View):
    product_id: RowId
    sku: str
    name: str
    qty: int
    unit_price: MoneyOut
    discount_pct: Decimal2
    tax: MoneyOut
    line_total: MoneyOut


class SalOrderInvoice(View):
    id: RowId
    number: str
    due_date: Date
    total: MoneyOut
    balance: MoneyOut


class SalOrderPlaced(View):
    """SAL-10: the order taken, with its invoice."""

    id: RowId
    number: str
    status: OrderStatus
    placed_at: Timestamp
    customer_id: RowId
    payment_terms: PaymentTerms
    payment_status: OrderPaymentStatus
    visit_id: RowId | None
    subtotal: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    lines: list[SalOrderLine]
    invoice: SalOrderInvoice | None


class SalOrderRow(View):
    id: RowId
    number: str
    placed_at: Timestamp
    status: OrderStatus
    payment_status: OrderPaymentStatus
    customer: Named
    total: MoneyOut
    invoice_balance: MoneyOut | None


class SalReceivableRow(View):
    id: RowId
    number: str
    issue_date: Date
    due_date: Date
    days_overdue: int
    status: InvoiceStatus
    total: MoneyOut
    balance: MoneyOut
    customer: Named
    overdue: bool


class SalCollectedToday(View):
    method: PaymentMethod
    count: int
    amount: MoneyOut


class SalCollections(Page[SalReceivableRow]):
    """SAL-12: open invoices of the caller's customers with totals and today's collections."""

    totals: SalReceivables
    collected_today: list[SalCollectedToday]


class SalAllocation(View):
    invoice_id: RowId
    invoice_number: str
    amount: MoneyOut
    invoice_balance: MoneyOut


class SalPaymentCollected(View):
    """SAL-13: the payment recorded and its allocations."""

    id: RowId
    number: str
    receipt_number: str
    customer_id: RowId
    amount: MoneyOut
    method: PaymentMethod
    reference: str | None
    received_at: Timestamp
    exchange_rate: DecimalText | None
    unallocated: MoneyOut
    visit_id: RowId | None
    allocations: list[SalAllocation]
