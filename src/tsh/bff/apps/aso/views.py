"""Response models of the ASO app (the documented shape of each screen's `data`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tsh.bff.views import Date, MoneyOut, Named, RowId, Timestamp, View


class CustomerRef(View):
    id: RowId
    name: str
    phone: str | None


class ProductRef(View):
    id: RowId
    sku: str
    name: str


class RequestRow(View):
    id: RowId
    number: str
    customer: CustomerRef
    product: ProductRef
    serial_number: str | None
    type: Literal["repair", "installation", "maintenance", "warranty_repair"]
    priority: Literal["low", "normal", "high", "urgent"]
    status: Literal["new", "scheduled", "in_progress", "completed", "closed", "cancelled"]
    sla_due_at: Timestamp
    overdue: bool
    technician: Named | None
    next_job_at: Timestamp | None
    created_at: Timestamp


class JobRow(View):
    id: RowId
    service_request_id: RowId
    technician_id: RowId
    kind: Literal["on_site", "workshop"]
    start: Timestamp
    duration_min: int
    status: Literal["scheduled", "en_route", "on_site", "completed", "cancelled"]
    note: str | None
    on_site_distance_m: float | None
    on_site_flagged: bool
    outcome: str | None
    labour_min: int | None
    charge: MoneyOut | None
    invoice_id: int | None


class PartLine(View):
    part_id: RowId
    qty: int


class PartRequestRow(View):
    id: RowId
    job_id: RowId
    status: str
    lines: list[PartLine]


class WarrantyRow(View):
    id: RowId
    serial_number: str
    product: ProductRef
    customer: CustomerRef | None
    starts_on: Date
    ends_on: Date
    status: Literal["active", "expired", "void"]
    claims_count: int


class SaleRef(View):
    type: Literal["order_line", "pos_line"]
    id: RowId


class Coverage(View):
    months: int
    void_reason: str | None
    replaces_id: int | None


class Claim(View):
    service_request_id: RowId
    number: str
    type: str
    status: str
    branch_id: RowId
    opened_at: Timestamp


class WarrantyDetail(WarrantyRow):
    sale: SaleRef | None
    coverage: Coverage
    claims: list[Claim]


class BranchStock(View):
    branch: Named
    available: int


class PartRow(View):
    id: RowId
    sku: str
    name: str
    compatible_products: list[ProductRef]
    price: MoneyOut
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    other_branches: list[BranchStock]


class ReturnRow(View):
    id: RowId
    number: str
    order_id: RowId
    customer: CustomerRef
    channel: Literal["consumer", "desk"]
    reasons: list[str]
    status: Literal["requested", "approved", "rejected", "refunded"]
    value: MoneyOut
    approved_amount: MoneyOut | None
    created_at: Timestamp


class RefundRow(View):
    id: RowId
    number: str
    return_id: RowId
    method: Literal["original", "credit_note", "bank_transfer"]
    amount: MoneyOut
    reference: str | None


class AddressOut(View):
    id: RowId
    label: str
    text: str
    lat: float | None
    lng: float | None


class WarrantyRef(View):
    id: RowId
    status: Literal["active", "expired", "void"]
    ends_on: Date


class DetailJob(View):
    id: RowId
    technician: Named
    kind: Literal["on_site", "workshop"]
    start: Timestamp
    duration_min: int
    status: Literal["scheduled", "en_route", "on_site", "completed", "cancelled"]
    outcome: str | None
    resolution: str | None
    labour_min: int | None
    on_site_flagged: bool


class PartUse(View):
    part: ProductRef
    reserved: int
    used: int


class Charge(View):
    job_id: RowId
    amount: MoneyOut
    invoice_id: int | None


class Note(View):
    at: str | None
    by: int | None
    text: str


class TimelineEvent(View):
    at: Timestamp
    event: str
    job_id: int | None


class RequestDetail(View):
    id: RowId
    number: str
    branch_id: RowId
    customer: CustomerRef
    address: AddressOut | None
    product: ProductRef
    serial_number: str | None
    warranty: WarrantyRef | None
    order_id: int | None
    type: Literal["repair", "installation", "maintenance", "warranty_repair"]
    priority: Literal["low", "normal", "high", "urgent"]
    status: Literal["new", "scheduled", "in_progress", "completed", "closed", "cancelled"]
    status_reason: str | None
    description: str
    sla_due_at: Timestamp
    preferred_date: Date | None
    jobs: list[DetailJob]
    parts: list[PartUse]
    charges: list[Charge]
    notes: list[Note]
    timeline: list[TimelineEvent]


class ReturnLineOut(View):
    order_line_id: RowId
    sku: str
    name: str
    delivered: int
    returned: int
    requested: int
    reason: str | None
    condition: Literal["sealed", "opened", "damaged"] | None
    restock: bool | None
    inspection_note: str | None


class DecisionOut(View):
    at: Timestamp
    by_id: int | None
    note: str | None
    restocking_fee: MoneyOut
    approved_amount: MoneyOut | None


class RefundOut(View):
    id: RowId
    number: str
    method: str
    amount: MoneyOut
    at: Timestamp


class ReturnDetail(View):
    id: RowId
    number: str
    order_id: RowId
    customer: CustomerRef
    channel: Literal["consumer", "desk"]
    status: Literal["requested", "approved", "rejected", "refunded"]
    note: str | None
    media_ids: list[int]
    value: MoneyOut
    lines: list[ReturnLineOut]
    decision: DecisionOut | None
    refund: RefundOut | None


class GeoOut(View):
    lat: float
    lng: float


class ScheduledJob(View):
    id: RowId
    service_request_id: RowId
    number: str
    type: Literal["repair", "installation", "maintenance", "warranty_repair"]
    kind: Literal["on_site", "workshop"]
    status: Literal["scheduled", "en_route", "on_site", "completed"]
    start: Timestamp
    end: Timestamp
    duration_min: int
    customer: str
    address: str | None
    geo: GeoOut | None


class Slot(View):
    start: Timestamp
    end: Timestamp


class ScheduleDay(View):
    date: Date
    available: bool
    unavailable_reason: Literal["day_off", "leave", "inactive"] | None
    jobs: list[ScheduledJob]
    free_slots: list[Slot]
    booked_min: int
    capacity_min: int
    load_pct: int


class TechnicianSchedule(View):
    technician: Named
    skills: list[str]
    work_start: str
    work_end: str
    days: list[ScheduleDay]


class Schedule(View):
    from_: Date = Field(alias="from")
    to: Date
    technicians: list[TechnicianSchedule]


class StatusCount(View):
    status: str
    count: int


class PriorityCount(View):
    priority: str
    count: int


class OpenRequests(View):
    total: int
    by_status: list[StatusCount]
    by_priority: list[PriorityCount]


class TechnicianDay(View):
    technician: Named
    jobs: int
    completed: int
    booked_min: int


class RefundTotals(View):
    count: int
    totals: list[MoneyOut]


class Dashboard(View):
    """The desk figures are null for a technician; `todays_jobs` and the desk figures are null
    when their section could not be had (metadata.sections: timeout or error, no last good value)."""

    date: Date
    open_requests: OpenRequests
    sla_breaches: int
    todays_jobs: list[TechnicianDay] | None
    returns_awaiting_decision: int | None
    refunds_this_week: RefundTotals | None
    warranties_expiring_30d: int | None
    parts_below_reorder: int | None


class TechnicianLabour(View):
    technician: Named
    jobs_completed: int
    labour_min: int


class PerformanceGroup(View):
    key: str
    label: str
    resolved: int
    sla_met_pct: float | None
    first_time_fix_pct: float | None


class ReasonCount(View):
    reason: str
    returns: int
    qty: int


class ProductCount(View):
    product: ProductRef
    returns: int
    qty: int


class Performance(View):
    from_: Date = Field(alias="from")
    to: Date
    requests_opened: int
    requests_closed: int
    requests_resolved: int
    sla_met_pct: float | None
    first_time_fix_pct: float | None
    mean_hours_to_resolve: float | None
    technicians: list[TechnicianLabour]
    group_by: Literal["technician", "type", "product"]
    groups: list[PerformanceGroup]
    returns_by_reason: list[ReasonCount]
    returns_by_product: list[ProductCount]
    refunds: RefundTotals
