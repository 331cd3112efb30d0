"""Response models of the wholesale screens (shapes of `data`)."""

from __future__ import annotations

from pydantic import Field

from tsh.bff.views import Date, MoneyOut, ProductSpecs, RowId, Timestamp, View


class HoldReason(View):
    code: str
    note: str | None


class Hold(View):
    on_hold: bool
    reasons: list[HoldReason]


class CreditRequestRow(View):
    id: RowId
    requested_limit: MoneyOut
    current_limit: MoneyOut
    reason: str
    status: str
    note: str | None
    requested_at: Timestamp
    decided_at: Timestamp | None


class AgingBucket(View):
    bucket: str
    amount: MoneyOut


class OverdueInvoice(View):
    id: RowId
    number: str
    issue_date: Date
    due_date: Date
    days_overdue: int
    total: MoneyOut
    balance: MoneyOut


class CreditPosition(View):
    currency: str
    credit_limit: MoneyOut
    credit_used: MoneyOut
    available: MoneyOut
    hold: Hold
    payment_terms_days: int
    aging: list[AgingBucket]
    overdue_invoices: list[OverdueInvoice]
    credit_requests: list[CreditRequestRow]


class InvoiceLink(View):
    id: RowId
    status: str


class OrderRow(View):
    id: RowId
    number: str
    po_number: str | None
    placed_at: Timestamp
    status: str
    payment_terms: str
    total: MoneyOut
    invoice: InvoiceLink | None


class OrderLineOut(View):
    id: RowId
    product_id: RowId
    sku: str
    name: str
    qty: int
    qty_delivered: int
    unit_price: MoneyOut
    tax: MoneyOut
    line_total: MoneyOut


class AddressOut(View):
    label: str | None
    city: str | None
    district: str | None
    street: str | None
    landmark: str | None
    phone: str | None


class BranchOut(View):
    id: RowId
    name: str


class Delivery(View):
    option: str
    address: AddressOut | None
    pickup_branch: BranchOut | None


class Step(View):
    status: str
    at: Timestamp


class OrderInvoice(View):
    id: RowId
    number: str
    status: str
    balance: MoneyOut


class OrderDetail(View):
    id: RowId
    number: str
    po_number: str | None
    status: str
    payment_terms: str
    payment_status: str
    placed_at: Timestamp
    note: str | None
    lines: list[OrderLineOut]
    subtotal: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    delivery_fee: MoneyOut
    total: MoneyOut
    delivery: Delivery
    timeline: list[Step]
    invoice: OrderInvoice | None


class InvoiceRow(View):
    id: RowId
    number: str
    issue_date: Date
    due_date: Date
    total: MoneyOut
    paid: MoneyOut
    balance: MoneyOut
    status: str


class InvoiceLine(View):
    product_id: RowId
    sku: str
    name: str
    qty: int
    unit_price: MoneyOut
    tax: MoneyOut
    line_total: MoneyOut


class OrderRef(View):
    id: RowId
    number: str | None


class AppliedPayment(View):
    id: RowId
    number: str
    method: str
    received_at: Timestamp
    amount: MoneyOut


class InvoiceDetail(InvoiceRow):
    order: OrderRef | None
    lines: list[InvoiceLine]
    subtotal: MoneyOut
    tax: MoneyOut
    payments: list[AppliedPayment]


class CartProduct(View):
    id: RowId
    sku: str
    name: str


class CartLine(View):
    id: RowId
    product: CartProduct
    qty: int
    unit: str
    pieces: int
    pack_size: int
    carton_only: bool
    moq: int
    unit_price: MoneyOut | None
    line_total: MoneyOut | None
    discount: MoneyOut | None
    tax: MoneyOut | None
    issues: list[str]


class CartOut(View):
    lines: list[CartLine]
    currency: str
    subtotal: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    credit_available: MoneyOut
    credit_available_after: MoneyOut
    can_order: bool


class Skipped(View):
    product_id: RowId
    name: str | None
    reason: str


class ReorderOut(CartOut):
    skipped: list[Skipped]


class VolumeBreak(View):
    min_qty: int
    unit_price: MoneyOut


class CatalogCard(View):
    id: RowId
    sku: str
    name: str
    brand: str | None
    category_id: RowId
    image_url: str | None
    pack_size: int
    carton_only: bool
    moq: int
    currency: str
    base_price: MoneyOut | None
    volume_breaks: list[VolumeBreak]
    availability: str


class Purchase(View):
    order_id: RowId
    order_number: str
    date: Timestamp
    qty: int
    unit_price: MoneyOut


class CatalogProduct(CatalogCard):
    description: str | None
    specs: ProductSpecs
    images: list[str]
    warranty_months: int
    last_purchases: list[Purchase]


class AllocationOut(View):
    invoice_id: RowId
    invoice_number: str
    amount: MoneyOut


class PaymentOut(View):
    id: RowId
    number: str
    method: str
    provider_reference: str | None
    amount: MoneyOut
    unallocated: MoneyOut
    received_at: Timestamp
    allocations: list[AllocationOut]
    credit_used: MoneyOut
    available: MoneyOut


class ReportGroup(View):
    key: str
    id: int | None
    label: str
    qty: int
    spend: MoneyOut


class TopProduct(View):
    product_id: RowId
    name: str
    qty: int
    spend: MoneyOut


class MonthQty(View):
    month: str
    qty: int


class Savings(View):
    amount: MoneyOut
    consumer_value: MoneyOut
    paid: MoneyOut


class PurchaseReport(View):
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    currency: str
    group_by: str
    total_spend: MoneyOut
    groups: list[ReportGroup]
    top_products: list[TopProduct]
    quantity_trend: list[MonthQty]
    savings: Savings


class CreditBrief(View):
    currency: str
    credit_limit: MoneyOut
    credit_used: MoneyOut
    available: MoneyOut
    hold: Hold


class Spend(View):
    this_month: MoneyOut
    last_month_same_days: MoneyOut
    last_month: MoneyOut


class QuickReorder(View):
    product_id: RowId
    name: str
    times_ordered: int
    last_ordered_at: Timestamp


class PriceChange(View):
    product_id: RowId
    name: str
    min_qty: int
    unit_price: MoneyOut
    valid_from: Timestamp | None
    valid_to: Timestamp | None
    changed_at: Timestamp


class Dashboard(View):
    """`spend`, `quick_reorder` and `price_changes` are null when their section could not be had
    (metadata.sections: timeout or error without a last good value)."""

    credit: CreditBrief
    overdue_amount: MoneyOut
    open_orders: int
    unpaid_invoices: int
    next_due_date: Date | None
    spend: Spend | None
    quick_reorder: list[QuickReorder] | None
    price_changes: list[PriceChange] | None


class StatementEntry(View):
    date: Date
    kind: str
    document_id: RowId
    number: str
    debit: MoneyOut
    credit: MoneyOut
    balance: MoneyOut


class Statement(View):
    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    currency: str
    opening_balance: MoneyOut
    closing_balance: MoneyOut
    items: list[StatementEntry]
    next_cursor: str | None
