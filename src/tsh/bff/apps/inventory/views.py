"""Response models of the Inventory app (the documented shape of each screen's `data`)."""

from __future__ import annotations

from typing import Literal

from tsh.bff.views import Date, DecimalText, MoneyOut, Named, Page, RowId, Timestamp, View

StockStatus = Literal["ok", "low", "out"]


class WarehouseRef(View):
    id: RowId
    code: str
    name: str


class ProductRef(View):
    id: RowId
    sku: str
    barcode: str | None
    name: str


class SourceRef(View):
    type: str
    id: int | None


class Movement(View):
    id: RowId
    at: Timestamp
    product: ProductRef
    warehouse: WarehouseRef
    type: str
    qty: int
    unit_cost: MoneyOut
    on_hand_after: int
    source: SourceRef
    user: Named | None


class WarehouseStock(View):
    warehouse: WarehouseRef
    skus_in_stock: int
    value: MoneyOut
    low: int
    out: int


class AdjustmentsWeek(View):
    count: int
    value: MoneyOut


class Dashboard(View):
    """The transfer and count figures, and this week's adjustments and recent movements, are null
    when their section could not be had (metadata.sections: timeout or error without a last good
    value)."""

    total_value: MoneyOut
    by_warehouse: list[WarehouseStock]
    low_stock: int
    out_of_stock: int
    transfers_awaiting_dispatch: int | None
    transfers_awaiting_receipt: int | None
    open_counts: int | None
    adjustments_this_week: AdjustmentsWeek | None
    recent_movements: list[Movement] | None


class LevelFigures(View):
    on_hand: int
    reserved: int
    available: int
    in_transit_in: int
    reorder_point: int
    reorder_qty: int
    avg_cost: MoneyOut
    value: MoneyOut
    status: StockStatus


class StockRow(LevelFigures):
    id: RowId
    product: ProductRef
    warehouse: WarehouseRef


class CardWarehouse(LevelFigures):
    id: RowId
    warehouse: WarehouseRef


class CardProduct(ProductRef):
    category: Named | None
    brand: str | None
    pack_size: int
    lead_time_days: int
    is_active: bool


class CardTotals(View):
    on_hand: int
    reserved: int
    available: int
    in_transit_in: int
    value: MoneyOut
    avg_cost: MoneyOut


class InTransit(View):
    transfer_id: RowId
    number: str
    from_warehouse: WarehouseRef
    to_warehouse: WarehouseRef
    qty: int
    dispatched_at: Timestamp | None


class Velocity(View):
    days: int
    units_sold: int
    avg_daily: DecimalText


class StockCard(View):
    product: CardProduct
    totals: CardTotals
    warehouses: list[CardWarehouse]
    in_transit: list[InTransit]
    velocity: Velocity
    movements: list[Movement]


class Surplus(View):
    warehouse: WarehouseRef
    qty: int


class Suggestion(View):
    product: ProductRef
    warehouse: WarehouseRef
    on_hand: int
    reserved: int
    available: int
    in_transit_in: int
    reorder_point: int
    reorder_qty: int
    avg_daily_sales: DecimalText
    lead_time_days: int
    suggested_qty: int
    surplus: list[Surplus]


class TransferRow(View):
    id: RowId
    number: str
    from_warehouse: WarehouseRef
    to_warehouse: WarehouseRef
    status: Literal["requested", "dispatched", "received", "received_short", "cancelled"]
    line_count: int
    requested_at: Timestamp
    dispatched_at: Timestamp | None
    received_at: Timestamp | None


class TransferLine(View):
    product: ProductRef
    qty_requested: int
    qty_dispatched: int
    qty_received: int
    shortage: int
    unit_cost: MoneyOut | None


class TimelineStep(View):
    step: str
    at: Timestamp
    user: Named | None
    note: str | None


class TransferDetail(TransferRow):
    note: str | None
    receipt_note: str | None
    cancel_reason: str | None
    lines: list[TransferLine]
    timeline: list[TimelineStep]


class AdjustmentRow(View):
    id: RowId
    number: str
    warehouse: WarehouseRef
    reason: str
    source: Literal["manual", "count"]
    count_id: int | None
    line_count: int
    value: MoneyOut
    note: str | None
    user: Named
    created_at: Timestamp


class Progress(View):
    counted: int
    total: int


class CountRow(View):
    id: RowId
    number: str
    warehouse: WarehouseRef
    scope: Literal["full", "category", "products"]
    category: Named | None
    blind: bool
    status: Literal["open", "completed"]
    progress: Progress
    variance_value: MoneyOut | None
    adjustment_id: int | None
    started_by: Named | None
    started_at: Timestamp
    completed_by: Named | None
    completed_at: Timestamp | None


class CountLine(View):
    id: RowId
    product: ProductRef
    counted_qty: int | None
    counted_by: Named | None
    counted_at: Timestamp | None
    system_qty: int | None
    variance: int | None


class CountSheet(CountRow):
    shows_system_qty: bool
    note: str | None
    lines: Page[CountLine]


class Rate(View):
    iqd_per_usd: DecimalText


class Figures(View):
    qty: int
    value: MoneyOut
    value_usd: MoneyOut


class GroupKey(View):
    id: RowId
    code: str | None
    name: str


class Group(Figures):
    key: GroupKey


class TopProduct(Figures):
    product: ProductRef
    avg_cost: MoneyOut


class Valuation(View):
    as_of: Date
    group_by: Literal["warehouse", "category", "product"]
    rate: Rate
    total: Figures
    groups: list[Group]
    top_products: list[TopProduct]


class Bucket(View):
    bucket: Literal["0-30", "31-90", "91-180", "over_180"]
    qty: int
    value: MoneyOut


class ClassSummary(View):
    rows: int
    qty: int
    value: MoneyOut


class AgingRow(View):
    id: RowId
    product: ProductRef
    warehouse: WarehouseRef
    on_hand: int
    value: MoneyOut
    last_receipt_at: Timestamp | None
    last_sale_at: Timestamp | None
    days_since_receipt: int | None
    days_since_sale: int | None
    # slow: no sale in 90 days; dead: none in 180 (clarifications.md).
    movement_class: Literal["slow", "dead"]


class Aging(View):
    buckets: list[Bucket]
    slow_moving: ClassSummary
    dead: ClassSummary
    items: list[AgingRow]
    next_cursor: str | None
