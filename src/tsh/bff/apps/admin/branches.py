"""ADM-14..20: branches (with limits and delivery zones) and warehouses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.admin import ADMINS, app
from tsh.bff.call import Call, Created
from tsh.bff.schemas import (
    Body,
    Geo,
    Id,
    LongText,
    MoneyNonNegative,
    Page,
    Pct,
    Phone,
    Text,
    decode_cursor,
    page,
)
from tsh.bff.views import MoneyOut, Named, RowId, View
from tsh.bff.views import Page as PageOf
from tsh.domain.administration.branch_views import (
    branch_detail,
    branch_list,
    branch_position,
    warehouse_list,
    warehouse_position,
)
from tsh.domain.administration.branches import (
    Zone,
    create_branch,
    create_warehouse,
    update_branch,
    update_warehouse,
)

Status = Literal["active", "inactive"]
Code = Field(min_length=2, max_length=16, pattern=r"^[A-Za-z0-9-]+$")
# The values of tsh.domain.organisation.models.DELIVERY_PAYMENT_METHODS (a test checks they agree).
PaymentMethod = Literal["cash_on_delivery", "zain_cash", "fastpay", "card"]
BRANCH_EVENTS = ("BranchChanged", "UserChanged", "UserRoleChanged")


class BranchRow(View):
    id: RowId
    code: str
    name_en: str
    name_ar: str
    city: str
    status: Status
    manager: Named | None
    users: int
    warehouses: int
    terminals: int


class BranchesQuery(Page):
    status: Status | None = None
    city: str | None = Field(default=None, min_length=1, max_length=100)


@app.screen(
    "ADM-14",
    "/branches",
    roles=ADMINS,
    scope="all",
    cache="reference",
    events=BRANCH_EVENTS,
    response=PageOf[BranchRow],
)
async def branches(call: Call, *, query: BranchesQuery) -> dict[str, Any]:
    """Branches: code, names, city, manager, status, number of users, warehouses and terminals."""
    rows = await branch_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        city=query.city,
    )
    return page(rows, query.limit, branch_position)


class GeoOut(View):
    lat: float
    lng: float


class Limits(View):
    cashier_discount_pct: str
    salesperson_discount_pct: str
    refund_age_days: int | None
    payout_limit: MoneyOut | None
    refund_limit: MoneyOut | None
    cash_variance_tolerance: MoneyOut | None
    adjustment_value_limit: MoneyOut | None
    return_value_limit: MoneyOut | None


class WarehouseRef(View):
    id: RowId
    code: str
    name: str
    type: Literal["main", "shop", "returns"]
    status: Status


class TerminalRef(View):
    id: RowId
    code: str
    name: str
    warehouse_id: RowId
    status: Status


class ZoneOut(View):
    id: RowId
    name: str
    cities: list[str]
    fee: MoneyOut
    express_fee: MoneyOut | None
    min_order: MoneyOut
    payment_methods: list[str]
    status: Status


class StaffCount(View):
    role: str
    count: int


class Today(View):
    orders: int
    order_sales: list[MoneyOut]
    pos_sales_count: int
    pos_sales: MoneyOut


class BranchDetail(View):
    id: RowId
    code: str
    name_en: str
    name_ar: str
    is_default: bool
    city: str
    address: str
    geo: GeoOut | None
    geofence_radius_m: int
    phone: str | None
    default_currency: Literal["IQD", "USD"]
    status: Status
    manager: Named | None
    limits: Limits
    warehouses: list[WarehouseRef]
    terminals: list[TerminalRef]
    delivery_zones: list[ZoneOut]
    staff_by_role: list[StaffCount]
    today: Today
    stock_value: MoneyOut


@app.screen(
    "ADM-15",
    "/branches/{id}",
    roles=ADMINS,
    scope="all",
    cache="dashboard",
    events=(*BRANCH_EVENTS, "OrderCreated", "PosSaleCompleted", "StockChanged"),
    errors=("BRANCH_NOT_FOUND",),
    response=BranchDetail,
)
async def branch(call: Call, *, id: int) -> dict[str, Any]:
    """Branch detail: data, geo, manager, limits, warehouses, terminals, zones, staff, today's sales."""
    return await branch_detail(call.session, call.actor, branch_id=id)


class NewBranch(Body):
    code: str = Code
    name_ar: Text
    name_en: Text
    city: Text
    address: LongText
    geo: Geo
    geofence_radius_m: int = Field(default=150, ge=10, le=10_000)
    phone: Phone | None = None
    default_currency: Literal["IQD", "USD"] = "IQD"
    manager_user_id: Id | None = None


@app.action(
    "ADM-16",
    "POST",
    "/branches",
    roles=ADMINS,
    scope="all",
    events=("BranchChanged",),
    idempotency="required",
    audit_entity="branch",
    errors=("BRANCH_CODE_TAKEN", "MANAGER_NOT_ELIGIBLE", "WAREHOUSE_CODE_TAKEN"),
    response=BranchDetail,
)
async def create(call: Call, *, body: NewBranch) -> Created:
    """Creates a branch with its main warehouse."""
    row = await create_branch(
        call.session,
        call.actor,
        code=body.code,
        name_ar=body.name_ar,
        name_en=body.name_en,
        city=body.city,
        address=body.address,
        lat=body.geo.lat,
        lng=body.geo.lng,
        accuracy_m=body.geo.accuracy_m,
        geofence_radius_m=body.geofence_radius_m,
        phone=body.phone,
        default_currency=body.default_currency,
        manager_user_id=body.manager_user_id,
    )
    call.audit("branch", row.id, after=body.model_dump(mode="json", exclude_none=True))
    return Created(await branch_detail(call.session, call.actor, branch_id=row.id))


class LimitsIn(Body):
    cashier_discount_pct: Pct | None = None
    salesperson_discount_pct: Pct | None = None
    payout_limit: MoneyNonNegative | None = None
    refund_limit: MoneyNonNegative | None = None
    refund_age_days: int | None = Field(default=None, ge=0, le=3650)
    cash_variance_tolerance: MoneyNonNegative | None = None
    adjustment_value_limit: MoneyNonNegative | None = None
    return_value_limit: MoneyNonNegative | None = None


class ZoneIn(Body):
    name: Text
    cities: list[Text] = Field(min_length=1, max_length=100)
    fee: MoneyNonNegative
    express_fee: MoneyNonNegative | None = None
    min_order: MoneyNonNegative | None = None
    payment_methods: list[PaymentMethod] | None = Field(default=None, min_length=1)


class BranchChanges(Body):
    name_ar: Text | None = None
    name_en: Text | None = None
    city: Text | None = None
    address: LongText | None = None
    geo: Geo | None = None
    geofence_radius_m: int | None = Field(default=None, ge=10, le=10_000)
    phone: Phone | None = None
    manager_user_id: Id | None = None
    status: Status | None = None
    limits: LimitsIn | None = None
    delivery_zones: list[ZoneIn] | None = Field(default=None, max_length=50)


def _money(value: MoneyNonNegative | None) -> tuple[Any, str] | None:
    return None if value is None else (value.amount, value.currency)


def _branch_changes(body: BranchChanges) -> dict[str, Any]:
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    for field in ("name_ar", "name_en", "city", "address", "geofence_radius_m", "phone", "status"):
        if field in given:
            changes[field] = getattr(body, field)
    if "manager_user_id" in given:
        changes["manager_id"] = body.manager_user_id
    if body.geo is not None:
        changes.update(lat=body.geo.lat, lng=body.geo.lng, geo_accuracy_m=body.geo.accuracy_m)
    return changes


@app.action(
    "ADM-17",
    "PATCH",
    "/branches/{id}",
    roles=ADMINS,
    scope="all",
    events=("BranchChanged",),
    idempotency="optional",
    audit_entity="branch",
    errors=("BRANCH_NOT_FOUND", "MANAGER_NOT_ELIGIBLE", "BRANCH_HAS_OPEN_SHIFTS", "BRANCH_HAS_STOCK"),
    response=BranchDetail,
)
async def update(call: Call, *, body: BranchChanges, id: int) -> dict[str, Any]:
    """Updates branch data, manager, limits, delivery zones or status."""
    changes = _branch_changes(body)
    for field in ("name_ar", "name_en", "city", "address", "geofence_radius_m", "status"):
        if field in changes and changes[field] is None:
            changes.pop(field)  # these columns have no "empty" value: null means "unchanged"
    limits = None
    if body.limits is not None:
        limits = {
            name: (_money(value) if isinstance(value, MoneyNonNegative) else value)
            for name, value in ((n, getattr(body.limits, n)) for n in body.limits.model_fields_set)
        }
    zones = None
    if body.delivery_zones is not None:
        zones = [
            Zone(
                name=z.name,
                cities=z.cities,
                fee=(z.fee.amount, z.fee.currency),
                express_fee=_money(z.express_fee),
                min_order=_money(z.min_order),
                payment_methods=z.payment_methods,
            )
            for z in body.delivery_zones
        ]
    row, before, after = await update_branch(
        call.session, call.actor, branch_id=id, changes=changes, limits=limits, zones=zones
    )
    call.audit("branch", row.id, before=before, after=after)
    return await branch_detail(call.session, call.actor, branch_id=row.id)


class TerminalLink(View):
    id: RowId
    code: str


class WarehouseRow(View):
    id: RowId
    code: str
    name: str
    type: Literal["main", "shop", "returns"]
    status: Status
    branch: Named
    terminals: list[TerminalLink]


class WarehousesQuery(Page):
    branch_id: Id | None = None
    type: Literal["main", "shop", "returns"] | None = None
    status: Status | None = None


@app.screen(
    "ADM-18",
    "/warehouses",
    roles=ADMINS,
    scope="all",
    cache="reference",
    events=("BranchChanged",),
    response=PageOf[WarehouseRow],
)
async def warehouses(call: Call, *, query: WarehousesQuery) -> dict[str, Any]:
    """Warehouses of all branches: code, name, branch, type, status, linked terminals."""
    rows = await warehouse_list(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        branch_id=query.branch_id,
        type=query.type,
        status=query.status,
    )
    return page(rows, query.limit, warehouse_position)


class NewWarehouse(Body):
    branch_id: Id
    code: str = Code
    name: Text
    type: Literal["shop", "returns"]


def _warehouse(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name_en,
        "type": row.type,
        "status": row.status,
        "branch_id": row.branch_id,
    }


class WarehouseOut(View):
    id: RowId
    code: str
    name: str
    type: Literal["main", "shop", "returns"]
    status: Status
    branch_id: RowId


@app.action(
    "ADM-19",
    "POST",
    "/warehouses",
    roles=ADMINS,
    scope="all",
    events=("BranchChanged",),
    idempotency="required",
    audit_entity="warehouse",
    errors=("WAREHOUSE_CODE_TAKEN", "BRANCH_NOT_FOUND"),
    response=WarehouseOut,
)
async def create_wh(call: Call, *, body: NewWarehouse) -> Created:
    """Creates a warehouse in a branch (the main warehouse comes with its branch only)."""
    row = await create_warehouse(
        call.session, call.actor, branch_id=body.branch_id, code=body.code, name=body.name, type=body.type
    )
    call.audit("warehouse", row.id, after=_warehouse(row))
    return Created(_warehouse(row))


class WarehouseChanges(Body):
    name: Text | None = None
    status: Status | None = None


@app.action(
    "ADM-20",
    "PATCH",
    "/warehouses/{id}",
    roles=ADMINS,
    scope="all",
    events=("BranchChanged",),
    idempotency="optional",
    audit_entity="warehouse",
    errors=("WAREHOUSE_NOT_FOUND", "WAREHOUSE_NOT_EMPTY", "MAIN_WAREHOUSE"),
    response=WarehouseOut,
)
async def update_wh(call: Call, *, body: WarehouseChanges, id: int) -> dict[str, Any]:
    """Renames or deactivates a warehouse."""
    row, before, after = await update_warehouse(
        call.session, call.actor, warehouse_id=id, name=body.name, status=body.status
    )
    call.audit("warehouse", row.id, before=before, after=after)
    return _warehouse(row)
