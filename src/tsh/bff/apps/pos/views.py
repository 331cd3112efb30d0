"""Response models of the POS app (the `data` of POS-01..16); names carry `Pos` so they stay
unique in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tsh.bff.views import Date, DecimalText, MoneyByCurrency, MoneyOut, Page, RowId, Timestamp, View

TenderMethod = Literal["cash", "card", "zain_cash", "fastpay"]
RefundMethod = Literal["cash", "original"]
MovementType = Literal["opening", "sale", "pay_in", "change", "refund", "pay_out", "drop"]


class PosTerminalRef(View):
    id: RowId
    code: str = Field(examples=["BGD-POS-1"])
    name: str


class PosPersonRef(View):
    id: RowId
    name: str


class PosMethodTotal(View):
    method: TenderMethod | RefundMethod
    count: int
    amount: MoneyOut


class PosSalesFigures(View):
    count: int
    total: MoneyOut
    by_method: list[PosMethodTotal]


class PosCashMovements(View):
    pay_in: MoneyByCurrency
    pay_out: MoneyByCurrency
    drop: MoneyByCurrency


class PosShift(View):
    """A shift with its X figures (open) or frozen Z figures (closed): POS-03/04/05, POS-06 rows."""

    id: RowId
    status: Literal["open", "closed"]
    terminal: PosTerminalRef
    cashier: PosPersonRef
    branch_id: RowId
    opened_at: Timestamp
    closed_at: Timestamp | None
    opening_float: MoneyByCurrency
    sales: PosSalesFigures
    open_sales: int
    refunds: PosSalesFigures
    discounts: MoneyOut
    cash_movements: PosCashMovements
    expected_cash: MoneyByCurrency
    counted_cash: MoneyByCurrency | None
    variance: MoneyByCurrency | None
    note: str | None
    journal_entry_id: RowId | None


class PosBranchRef(View):
    id: RowId
    name_en: str
    name_ar: str


class PosProductRef(View):
    id: RowId
    sku: str = Field(examples=["CHG-ANK-00122"])
    name_en: str
    name_ar: str


class PosSaleLine(View):
    id: RowId
    product: PosProductRef
    is_serialised: bool
    qty: int
    unit_price: MoneyOut
    discount_pct: DecimalText
    tax: MoneyOut
    line_total: MoneyOut
    serial_number: str | None
    qty_refunded: int
    refundable_qty: int


class PosTender(View):
    id: RowId
    method: TenderMethod
    amount: MoneyOut
    exchange_rate: DecimalText
    amount_iqd: MoneyOut
    change: MoneyOut
    reference: str | None


class PosSaleRefund(View):
    id: RowId
    number: str
    amount: MoneyOut
    method: RefundMethod
    reason: str
    issued_at: Timestamp


class PosReceiptBranch(View):
    name_en: str
    name_ar: str
    address: str
    phone: str | None  # a branch may have no phone number on file


class PosReceipt(View):
    number: str = Field(examples=["R-BGD-261203-0003522"])
    issued_at: Timestamp
    branch: PosReceiptBranch
    terminal_code: str
    cashier_name: str


class PosSale(View):
    """One sale as in POS-10 (every sale action answers it)."""

    id: RowId
    status: Literal["open", "completed", "discarded"]
    shift_id: RowId
    receipt_number: str | None
    branch: PosBranchRef
    terminal: PosTerminalRef
    cashier: PosPersonRef
    customer: PosPersonRef | None
    lines: list[PosSaleLine]
    order_discount_pct: DecimalText
    subtotal: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    tenders: list[PosTender]
    paid: MoneyOut
    change: MoneyOut
    refunds: list[PosSaleRefund]
    refunded_total: MoneyOut
    completed_at: Timestamp | None
    discarded_at: Timestamp | None
    discard_reason: str | None
    receipt: PosReceipt | None


class PosRefundIssued(View):
    id: RowId
    number: str
    amount: MoneyOut
    method: RefundMethod
    restock: bool
    shift_id: RowId
    journal_entry_id: RowId
    issued_at: Timestamp


class PosRefundResult(View):
    """POS-14: the refund issued and the sale as in POS-10."""

    refund: PosRefundIssued
    sale: PosSale


class PosDrawerShift(View):
    id: RowId
    terminal_id: RowId
    cashier_id: RowId
    opened_at: Timestamp


class PosDrawerCurrency(View):
    opening_float: MoneyOut
    cash_sales: MoneyOut
    change_given: MoneyOut
    refunds: MoneyOut
    pay_ins: MoneyOut
    pay_outs: MoneyOut
    drops: MoneyOut
    expected: MoneyOut


class PosDrawerCurrencies(View):
    IQD: PosDrawerCurrency
    USD: PosDrawerCurrency


class PosDrawerMovement(View):
    id: RowId
    type: MovementType
    amount: MoneyOut
    reason: str | None
    transaction_id: RowId | None
    by: PosPersonRef
    at: Timestamp


class PosDrawer(View):
    """POS-07: the live drawer per currency and its last movements."""

    shift: PosDrawerShift
    currencies: PosDrawerCurrencies
    movements: list[PosDrawerMovement]


class PosMovementRecorded(View):
    id: RowId
    shift_id: RowId
    type: Literal["pay_in", "pay_out", "drop"]
    amount: MoneyOut
    reason: str
    journal_entry_id: RowId
    at: Timestamp


class PosMovementResult(View):
    """POS-08: the movement recorded and the drawer as in POS-07."""

    movement: PosMovementRecorded
    drawer: PosDrawer


class PosCompletedSale(View):
    id: RowId
    receipt_number: str
    completed_at: Timestamp
    shift_id: RowId
    cashier: PosPersonRef
    customer: PosPersonRef | None
    total: MoneyOut
    methods: list[TenderMethod]
    refunded: bool


class PosDashboardShift(View):
    id: RowId
    opened_at: Timestamp
    terminal: PosTerminalRef


class PosToday(View):
    date: Date
    sales_count: int
    sales_total: MoneyOut
    by_method: list[PosMethodTotal]
    refunds_count: int
    refunds_total: MoneyOut


class PosLastSale(View):
    id: RowId
    receipt_number: str
    completed_at: Timestamp
    total: MoneyOut


class PosTopProductRef(View):
    id: RowId
    sku: str
    name_en: str
    name_ar: str
    image: str | None


class PosTopProduct(View):
    product: PosTopProductRef
    qty: int
    revenue: MoneyOut


class PosDashboard(View):
    """POS-01: terminal home. `top_products` and `quick_tiles` are null when their section could
    not be had (metadata.sections: timeout or error without a last good value)."""

    shift: PosDashboardShift | None
    today: PosToday
    last_sales: list[PosLastSale]
    top_products: list[PosTopProduct] | None
    quick_tiles: list[PosTopProduct] | None


class PosCatalogueItem(View):
    id: RowId
    sku: str
    barcode: str | None
    name_en: str
    name_ar: str
    image: str | None
    category_id: RowId
    is_serialised: bool
    price: MoneyOut
    promo_price: MoneyOut | None
    available: int
    in_stock: bool


class PosCategoryTile(View):
    id: RowId
    name_en: str
    name_ar: str
    icon_url: str | None


class PosCatalogue(Page[PosCatalogueItem]):
    """POS-02: products of the terminal's warehouse, with the category tiles."""

    terminal: PosTerminalRef
    categories: list[PosCategoryTile]


class PosReportGroup(View):
    # An id (cashier, category, terminal), a date (day) or an hour, as group_by says.
    key: int | str
    label: str
    sales_count: int
    revenue: MoneyOut
    qty: int | None = Field(default=None, description="category groups only")


class PosReportMethod(View):
    method: TenderMethod
    sales_count: int
    amount: MoneyOut


class PosReportRefunds(View):
    count: int
    amount: MoneyOut


class PosUsdTendered(View):
    amount: MoneyOut
    amount_iqd: MoneyOut


class PosSalesReport(View):
    """POS-16: sales report for a period."""

    date_from: Date = Field(alias="from")
    date_to: Date = Field(alias="to")
    branch_id: RowId | None
    terminal_id: RowId | None
    group_by: Literal["day", "hour", "cashier", "category", "terminal"]
    sales_count: int
    revenue: MoneyOut
    net_revenue: MoneyOut
    tax: MoneyOut
    discounts: MoneyOut
    average_basket: MoneyOut
    groups: list[PosReportGroup]
    by_method: list[PosReportMethod]
    top_products: list[PosTopProduct]
    refunds: PosReportRefunds
    usd_tendered: PosUsdTendered
