"""Declarations of the back-office master data (core.md §2.2): one row per resource.

Reads: master data every staff role uses is readable by all staff; the rest by the roles of the
matching back-office screens, branch roles limited to their branch. Writes are plain master-data
writes only; business commands (order status, payments, receipts, journals, payouts, credit
decisions, fiscal periods, exchange rates, sessions) are declared with their records in the other
tables; the spare-parts receipt is `part_receipts`.
"""

from __future__ import annotations

from sqlalchemy import select

from tsh.api.legacy import hooks
from tsh.api.legacy.access import Access, in_branch, via_branch
from tsh.api.legacy.ledger_commands import ACCOUNT_CREATE, ACCOUNT_UPDATE
from tsh.api.legacy.nesting import Expansion, many, one, via
from tsh.api.legacy.resource import Op, Resource
from tsh.domain.accounting.models import Account, BankAccount, TaxRate
from tsh.domain.aftersales.models import Part, Technician, Warranty
from tsh.domain.catalog.models import (
    Category,
    PriceList,
    PriceListItem,
    Product,
    Promotion,
    Review,
    promotion_categories,
    promotion_products,
)
from tsh.domain.customers.models import Partner
from tsh.domain.hr.models import Department, Employee, LeaveBalance, PublicHoliday, ReviewCycle
from tsh.domain.inventory.models import StockLevel, Supplier
from tsh.domain.organisation.models import Branch, DeliveryZone, Warehouse
from tsh.domain.pos.models import PosTerminal
from tsh.platform.auth.principal import Scope

STAFF = Access(roles={"staff": "all"})
CRUD: frozenset[Op] = frozenset({"list", "get", "create", "update"})


def only(*roles: str) -> Access:
    return Access(roles=dict.fromkeys(roles, "all"))


def all_(*roles: str) -> dict[str, Scope]:
    return dict.fromkeys(roles, "all")


BACKOFFICE: tuple[Resource, ...] = (
    Resource(
        "branches", Branch, STAFF, CRUD, {"status": "status", "city": "city"}, events=("BranchChanged",)
    ),
    Resource(
        "warehouses",
        Warehouse,
        STAFF,
        CRUD,
        {"branch_id": "branch_id", "type": "type"},
        events=("BranchChanged",),
    ),
    Resource(
        "delivery-zones",
        DeliveryZone,
        STAFF,
        CRUD | {"delete"},
        {"branch_id": "branch_id", "status": "status"},
        events=("BranchChanged",),
    ),
    Resource(
        "pos-terminals",
        PosTerminal,
        Access(
            roles={"branch_manager": "branch", "cashier": "branch"}, branch=in_branch(PosTerminal.branch_id)
        ),
        CRUD,
        {"branch_id": "branch_id", "warehouse_id": "warehouse_id", "status": "status"},
        write_roles={"branch_manager": "branch"},
        events=("BranchChanged",),
        hook=hooks.terminal_warehouse,
    ),
    Resource(
        "categories",
        Category,
        STAFF,
        CRUD,
        {"parent_id": "parent_id", "is_active": "is_active"},
        write_roles=all_("inventory_manager"),
        events=("ProductChanged",),
    ),
    Resource(
        "products",
        Product,
        STAFF,
        CRUD,
        {n: n for n in ("category_id", "brand", "is_active", "sku", "barcode")},
        expansion=Expansion((one("category", Category, "category_id"),)),
        write_roles=all_("inventory_manager"),
        events=("ProductChanged",),
    ),
    Resource(
        "price-lists",
        PriceList,
        STAFF,
        CRUD,
        {n: n for n in ("channel", "currency", "branch_id", "partner_tier_id")},
        expansion=Expansion((many("items", PriceListItem, "price_list_id"),)),
        write_roles=all_("accountant"),
        events=("PriceChanged",),
    ),
    Resource(
        "promotions",
        Promotion,
        STAFF,
        CRUD,
        {"code": "code", "type": "type", "is_featured": "is_featured"},
        order=(("starts_at", True),),
        expansion=Expansion(
            (
                via(
                    "products",
                    Product,
                    lambda ids: select(
                        promotion_products.c.promotion_id, promotion_products.c.product_id
                    ).where(promotion_products.c.promotion_id.in_(ids)),
                ),
                via(
                    "categories",
                    Category,
                    lambda ids: select(
                        promotion_categories.c.promotion_id, promotion_categories.c.category_id
                    ).where(promotion_categories.c.promotion_id.in_(ids)),
                ),
            )
        ),
        write_roles={"branch_manager": "all"},  # narrowed to the own branch by the hook
        events=("PriceChanged",),
        hook=hooks.promotion_branch,
    ),
    Resource(
        "reviews",
        Review,
        only(),
        frozenset({"list", "get", "update"}),
        {n: n for n in ("product_id", "customer_id", "status", "rating")},
        order=(("created_at", True),),
        writable=("status",),
        choices=(("status", ("published", "hidden")),),
        events=("ReviewChanged",),
    ),
    Resource(
        "partners",
        Partner,
        Access(roles={"branch_manager": "branch", "accountant": "all"}, branch=in_branch(Partner.branch_id)),
        CRUD,
        {n: n for n in ("branch_id", "tier_id", "parent_partner_id", "status")},
        write_roles={"branch_manager": "branch"},
        events=("PartnerChanged",),
    ),
    Resource(
        "stock-levels",
        StockLevel,
        Access(
            roles={"inventory_manager": "all", "warehouse_staff": "branch", "branch_manager": "branch"},
            branch=via_branch(StockLevel.warehouse_id, Warehouse),
        ),
        frozenset({"list", "get", "update"}),
        {"product_id": "product_id", "warehouse_id": "warehouse_id"},
        write_roles=all_("inventory_manager"),
        writable=("reorder_point", "reorder_qty"),
        events=("StockChanged",),
    ),
    Resource(
        "suppliers",
        Supplier,
        only("inventory_manager", "accountant"),
        CRUD,
        {"is_active": "is_active"},
        write_roles=all_("inventory_manager", "accountant"),
    ),
    Resource(
        "accounts",
        Account,
        only("accountant"),
        CRUD,
        {n: n for n in ("type", "parent_id", "is_postable", "is_active")},
        order=(("code", False),),
        write_roles=all_("accountant"),
        events=("LedgerSetupChanged",),
        commands={"create": ACCOUNT_CREATE, "update": ACCOUNT_UPDATE},
    ),
    Resource(
        "bank-accounts",
        BankAccount,
        only("accountant"),
        CRUD,
        {"account_id": "account_id", "currency": "currency"},
        expansion=Expansion((one("account", Account, "account_id"),)),
        write_roles=all_("accountant"),
        events=("LedgerSetupChanged",),
    ),
    Resource(
        "tax-rates",
        TaxRate,
        STAFF,
        frozenset({"list", "get", "create"}),
        {"code": "code", "kind": "kind"},
        write_roles=all_("accountant"),
        events=("LedgerSetupChanged", "PriceChanged"),
    ),
    Resource(
        "departments",
        Department,
        STAFF,
        CRUD,
        {"parent_id": "parent_id", "branch_id": "branch_id"},
        write_roles=all_("hr_manager"),
        events=("EmployeeChanged",),
    ),
    Resource(
        "employees",
        Employee,
        Access(roles={"hr_manager": "all", "branch_manager": "branch"}, branch=in_branch(Employee.branch_id)),
        CRUD,
        {n: n for n in ("department_id", "branch_id", "status", "user_id", "manager_id")},
        expansion=Expansion((one("department", Department, "department_id"),)),
        write_roles=all_("hr_manager"),
        events=("EmployeeChanged",),
    ),
    Resource(
        "technicians",
        Technician,
        Access(
            roles={"hr_manager": "all", "branch_manager": "branch", "service_agent": "branch"},
            branch=in_branch(Technician.branch_id),
        ),
        CRUD,
        {"branch_id": "branch_id", "employee_id": "employee_id", "is_active": "is_active"},
        expansion=Expansion((one("employee", Employee, "employee_id"),)),
        write_roles={"hr_manager": "all", "branch_manager": "branch"},
        events=("EmployeeChanged",),
    ),
    Resource(
        "public-holidays",
        PublicHoliday,
        STAFF,
        frozenset({"list", "create", "delete"}),
        {"branch_id": "branch_id"},
        order=(("date", False),),
        write_roles=all_("hr_manager"),
        events=("LeaveChanged",),
    ),
    Resource(
        "leave-balances",
        LeaveBalance,
        Access(
            roles={"hr_manager": "all", "branch_manager": "branch"},
            branch=via_branch(LeaveBalance.employee_id, Employee),
        ),
        frozenset({"list", "update"}),
        {"employee_id": "employee_id", "year": "year", "type": "type"},
        write_roles=all_("hr_manager"),
        writable=("entitled", "carried_over"),
        events=("LeaveChanged",),
    ),
    Resource(
        "review-cycles",
        ReviewCycle,
        only("hr_manager"),
        frozenset({"list", "get", "update"}),
        {"status": "status", "branch_id": "branch_id", "department_id": "department_id"},
        write_roles=all_("hr_manager"),
        writable=("status",),
        choices=(("status", ("closed",)),),
        events=("ReviewCycleChanged",),
        hook=hooks.close_cycle,
    ),
    Resource(
        "warranties",
        Warranty,
        only("branch_manager", "service_agent", "technician"),
        frozenset({"list", "get", "update"}),
        {n: n for n in ("product_id", "customer_id", "serial_number", "status")},
        write_roles=all_("branch_manager"),
        writable=("status", "void_reason"),
        choices=(("status", ("void",)),),
        events=("WarrantyChanged",),
        hook=hooks.void_warranty,
    ),
    Resource(
        "parts",
        Part,
        STAFF,
        CRUD,
        {"sku": "sku", "is_active": "is_active"},
        write_roles=all_("inventory_manager"),
        events=("PartsChanged",),
    ),
)
