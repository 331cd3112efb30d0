"""The 15 fixed roles, the permission catalogue and the default role → permission sets.

Pure data, importable without a database: the seed migration inserts these rows, and the tests
check them. After seeding, the database is the source of truth for role permission sets (ADM-12
edits them) and for user overrides (ADM-09); this module only gives the defaults.

A permission is `module.function`, module = one of the 11 apps. Each permission covers a group of
BFF endpoints (listed by id, e.g. "SAL-01") that the app tables open to the same roles, so a route
checks exactly one permission and the default role sets reproduce the contract's role columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from tsh.domain.apps import APPS

Scope = Literal["own", "branch", "all"]


@dataclass(frozen=True, slots=True)
class RoleSpec:
    code: str
    description: str
    default_scope: Scope
    is_staff: bool


ROLES: tuple[RoleSpec, ...] = (
    RoleSpec("admin", "System administrator: every function, every branch", "all", True),
    RoleSpec("security_officer", "Threats, logins, lockouts, blocked IPs, sessions and audit", "all", True),
    RoleSpec("accountant", "Ledger, banking, tax, periods, payments and payroll payment", "all", True),
    RoleSpec("hr_manager", "Employees, attendance, leave, payroll and performance reviews", "all", True),
    RoleSpec("employee", "Staff member: own attendance, leave, payslips and reviews", "own", True),
    RoleSpec("inventory_manager", "Stock, transfers, adjustments and counts of every warehouse", "all", True),
    RoleSpec("warehouse_staff", "Stock moves and counts in their branch's warehouses", "branch", True),
    RoleSpec("salesperson", "Field sales: own customers, route, visits, orders and collections", "own", True),
    RoleSpec("cashier", "Point of sale: own shifts, drawer and sales", "own", True),
    RoleSpec("branch_manager", "Runs one branch: its sales, POS, stock, staff and service", "branch", True),
    RoleSpec("partner", "Reseller partner: own orders, customers, network and commissions", "own", False),
    RoleSpec("wholesale_client", "Wholesale customer: own orders, credit and invoices", "own", False),
    RoleSpec("technician", "Service technician: own jobs and part requests", "own", True),
    RoleSpec("service_agent", "After-sales desk: service requests, returns, warranties", "branch", True),
    RoleSpec("consumer", "Consumer app customer", "own", False),
)  # fmt: skip

ROLE_CODES: tuple[str, ...] = tuple(r.code for r in ROLES)
ROLES_BY_CODE: dict[str, RoleSpec] = {r.code: r for r in ROLES}
ADMIN = "admin"
# "employee" in the app tables: any user linked to an Employee record (core.md §0).
STAFF_ROLES: frozenset[str] = frozenset(r.code for r in ROLES if r.is_staff)

# A permission's module is the app whose endpoints it opens.
MODULES: tuple[str, ...] = APPS


@dataclass(frozen=True, slots=True)
class PermissionSpec:
    code: str
    description: str
    endpoints: tuple[str, ...]
    # Roles holding it by default, admin excluded (admin holds everything).
    roles: frozenset[str]

    @property
    def module(self) -> str:
        return module_of(self.code)


def module_of(code: str) -> str:
    return code.split(".", 1)[0]


def _ids(prefix: str, *numbers: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{n:02d}" for n in numbers)


def _p(code: str, description: str, endpoints: tuple[str, ...], *roles: str) -> PermissionSpec:
    return PermissionSpec(code, description, endpoints, frozenset(roles))


_STAFF = tuple(sorted(STAFF_ROLES - {ADMIN}))
_SAL, _BM, _CASH, _ACC = "salesperson", "branch_manager", "cashier", "accountant"
_IM, _WS, _HR, _SEC = "inventory_manager", "warehouse_staff", "hr_manager", "security_officer"
_SA, _TECH, _WC = "service_agent", "technician", "wholesale_client"

PERMISSIONS: tuple[PermissionSpec, ...] = (
    # consumer app
    _p("consumer.catalog", "Browse home, products, categories, promotions and reviews",
       _ids("CON", 1, 2, 3, 4, 5, 6, 7, 28), "consumer"),
    _p("consumer.cart", "Manage the shopping cart", _ids("CON", 8, 9, 10, 11, 12), "consumer"),
    _p("consumer.wishlist", "Manage the wishlist", _ids("CON", 13, 14, 15), "consumer"),
    _p("consumer.profile", "Own profile, password, push token and account closure",
       _ids("CON", 16, 17, 18, 19, 20), "consumer"),
    _p("consumer.addresses", "Manage delivery addresses", _ids("CON", 21, 22, 23, 24), "consumer"),
    _p("consumer.orders", "Checkout, place, pay, cancel and reorder own orders",
       _ids("CON", 25, 26, 27, 33, 34, 35, 36), "consumer"),
    _p("consumer.reviews", "Write, edit, delete, vote on reviews", _ids("CON", 29, 30, 31, 32), "consumer"),
    _p("consumer.returns", "Request a return of an order", _ids("CON", 37), "consumer"),
    # salesperson app
    _p("salesperson.dashboard", "Sales dashboard", _ids("SAL", 1), _SAL, _BM),
    _p("salesperson.customers", "Customer list, detail and creation", _ids("SAL", 2, 3, 4), _SAL, _BM),
    _p("salesperson.route", "View and plan the daily route", _ids("SAL", 5, 6), _SAL, _BM),
    _p("salesperson.visits", "Check in to and out of visits", _ids("SAL", 7, 8), _SAL),
    _p("salesperson.catalog", "Product catalogue with prices and stock", _ids("SAL", 9), _SAL),
    _p("salesperson.order_entry", "Take an order for a customer", _ids("SAL", 10), _SAL),
    _p("salesperson.orders", "Order history", _ids("SAL", 11), _SAL, _BM),
    _p("salesperson.collections", "Collection history", _ids("SAL", 12), _SAL, _BM),
    _p("salesperson.collect", "Record a customer payment", _ids("SAL", 13), _SAL),
    # pos app
    _p("pos.dashboard", "POS dashboard", _ids("POS", 1), _CASH, _BM),
    _p("pos.sell", "Ring up, pay, discard and look up sales",
       _ids("POS", 2, 9, 10, 11, 12, 13, 15), _CASH, _BM),
    _p("pos.shifts", "Open, view and close shifts", _ids("POS", 3, 4, 5, 6), _CASH, _BM),
    _p("pos.cash_drawer", "Cash drawer and its movements", _ids("POS", 7, 8), _CASH, _BM),
    _p("pos.refunds", "Refund a completed sale", _ids("POS", 14), _CASH, _BM),
    _p("pos.sales_report", "POS sales report", _ids("POS", 16), _BM, _ACC),
    # admin app (admin only)
    _p("admin.dashboard", "System dashboard", _ids("ADM", 1)),
    _p("admin.users", "Create, edit, enable, disable and reset users", _ids("ADM", 2, 3, 4, 5, 6, 7)),
    _p("admin.access", "Roles, role permissions, user roles and overrides",
       _ids("ADM", 8, 9, 10, 11, 12, 13)),
    _p("admin.branches", "Branches, warehouses and delivery zones", _ids("ADM", 14, 15, 16, 17, 18, 19, 20)),
    _p("admin.activity_log", "Business activity log", _ids("ADM", 21, 22)),
    _p("admin.operations", "System health, usage and cache invalidation", _ids("ADM", 23, 24, 25)),
    # inventory app
    _p("inventory.dashboard", "Inventory dashboard", _ids("INV", 1), _IM, _WS, _BM),
    _p("inventory.stock", "Stock levels and movements", _ids("INV", 2, 3, 4), _IM, _WS, _BM),
    _p("inventory.reorder", "Reorder suggestions", _ids("INV", 5), _IM, _BM),
    _p("inventory.transfers", "Request, view and cancel transfers", _ids("INV", 6, 7, 8, 11), _IM, _WS, _BM),
    _p("inventory.transfer_shipping", "Dispatch and receive transfers", _ids("INV", 9, 10), _IM, _WS),
    _p("inventory.adjustments", "Adjustment history", _ids("INV", 12), _IM, _WS, _BM),
    _p("inventory.adjust", "Post a stock adjustment", _ids("INV", 13), _IM, _BM),
    _p("inventory.counts", "View counts, enter counted quantities", _ids("INV", 14, 16, 17), _IM, _WS, _BM),
    _p("inventory.count_control", "Start and complete counts", _ids("INV", 15, 18), _IM, _BM),
    _p("inventory.valuation", "Stock valuation and aging", _ids("INV", 19, 20), _IM, _BM, _ACC),
    # accounting app
    _p("accounting.dashboard", "Finance dashboard", _ids("ACC", 1), _ACC, _BM),
    _p("accounting.statements", "Trial balance, balance sheet, income statement, aged receivables",
       _ids("ACC", 11, 12, 13, 15), _ACC, _BM),
    _p("accounting.accounts", "Chart of accounts", _ids("ACC", 2, 3, 4, 5), _ACC),
    _p("accounting.journal", "Journal entries and reversals", _ids("ACC", 6, 7, 8, 9), _ACC),
    _p("accounting.ledger_reports", "General ledger and cash flow", _ids("ACC", 10, 14), _ACC),
    _p("accounting.customer_payments", "Record customer payments", _ids("ACC", 16), _ACC),
    _p("accounting.banking", "Bank accounts, statements, matching and reconciliation",
       _ids("ACC", 17, 18, 19, 20, 21, 22), _ACC),
    _p("accounting.tax", "Tax rates, tax report and returns", _ids("ACC", 23, 24, 25, 26), _ACC),
    _p("accounting.periods", "Fiscal periods and closing", _ids("ACC", 27, 28), _ACC),
    _p("accounting.exchange_rates", "Exchange rates", _ids("ACC", 29, 30), _ACC),
    # hr app
    _p("hr.dashboard", "HR dashboard", _ids("HR", 1), _HR, _BM),
    _p("hr.self_service", "Own HR home", _ids("HR", 2), *_STAFF),
    _p("hr.employees", "Employee list and detail", _ids("HR", 3, 4), _HR, _BM),
    _p("hr.hiring", "Hire and update employees", _ids("HR", 5, 6), _HR),
    _p("hr.attendance", "Check in and out, attendance history", _ids("HR", 7, 8), *_STAFF),
    _p("hr.attendance_team", "Today's team attendance and corrections", _ids("HR", 9, 10), _HR, _BM),
    _p("hr.leave", "Leave requests, decisions and balances", _ids("HR", 11, 12, 13, 14), *_STAFF),
    _p("hr.payroll", "Payroll runs", _ids("HR", 15, 16), _HR, _ACC),
    _p("hr.payroll_run", "Calculate and approve payroll", _ids("HR", 17, 18), _HR),
    _p("hr.payroll_payment", "Pay an approved payroll run", _ids("HR", 19), _ACC),
    _p("hr.payslips", "Payslips", _ids("HR", 20, 21), *_STAFF),
    _p("hr.review_cycles", "Open review cycles", _ids("HR", 22), _HR),
    _p("hr.reviews", "Performance reviews", _ids("HR", 23, 24, 25), *_STAFF),
    # security app
    _p("security.dashboard", "Live security dashboard", _ids("SEC", 1), _SEC),
    _p("security.threats", "Threats and their handling", _ids("SEC", 2, 3, 4), _SEC),
    _p("security.logins", "Login attempts and lockouts", _ids("SEC", 5, 6, 7), _SEC),
    _p("security.blocked_ips", "Blocked IP ranges", _ids("SEC", 8, 9, 10), _SEC),
    _p("security.sessions", "Sessions and their revocation", _ids("SEC", 11, 12, 13), _SEC),
    _p("security.audit", "Audit trail and access denials", _ids("SEC", 14, 15, 16), _SEC),
    _p("security.permissions", "Permissions matrix and user permissions", _ids("SEC", 17, 18), _SEC),
    _p("security.policies", "Password, lockout and session policies", _ids("SEC", 19, 20), _SEC),
    # partner app
    _p("partner.dashboard", "Partner dashboard and performance", _ids("PAR", 1, 15), "partner"),
    _p("partner.profile", "Own partner profile", _ids("PAR", 2, 3), "partner"),
    _p("partner.orders", "Catalogue and own orders", _ids("PAR", 4, 5, 6, 7, 8), "partner"),
    _p("partner.commissions", "Commissions and payout requests", _ids("PAR", 9, 10), "partner"),
    _p("partner.network", "Customers and sub-partners", _ids("PAR", 11, 12, 13, 14), "partner"),
    # wholesale app
    _p("wholesale.dashboard", "Wholesale dashboard and purchase report", _ids("WHO", 1, 18), _WC),
    _p("wholesale.catalog", "Wholesale catalogue", _ids("WHO", 2, 3), _WC),
    _p("wholesale.cart", "Wholesale cart", _ids("WHO", 4, 5, 6, 7), _WC),
    _p("wholesale.orders", "Place, view and repeat orders", _ids("WHO", 8, 9, 10, 11), _WC),
    _p("wholesale.credit", "Credit position and credit requests", _ids("WHO", 12, 13), _WC),
    _p("wholesale.invoices", "Invoices, payments and statement", _ids("WHO", 14, 15, 16, 17), _WC),
    # aso app
    _p("aso.dashboard", "After-sales dashboard", _ids("ASO", 1), _SA, _TECH, _BM),
    _p("aso.service_requests", "Service requests and schedule", _ids("ASO", 2, 3, 6), _SA, _TECH, _BM),
    _p("aso.service_desk", "Open and update service requests, schedule jobs",
       _ids("ASO", 4, 5, 7), _SA, _BM),
    _p("aso.jobs", "Update jobs", _ids("ASO", 8), _SA, _TECH, _BM),
    _p("aso.job_completion", "Complete jobs", _ids("ASO", 9), _TECH, _SA),
    _p("aso.returns", "Returns: intake, decision and refund", _ids("ASO", 10, 11, 12, 13, 14), _SA, _BM),
    _p("aso.warranties", "Warranty lookup", _ids("ASO", 15, 16), _SA, _TECH, _BM),
    _p("aso.warranty_claims", "Open warranty claims", _ids("ASO", 17), _SA, _BM),
    _p("aso.parts", "Spare-parts stock", _ids("ASO", 18), _SA, _TECH, _BM, _IM),
    _p("aso.part_requests", "Request parts for a job", _ids("ASO", 19), _TECH, _SA),
    _p("aso.performance", "Service performance report", _ids("ASO", 20), _SA, _BM),
)  # fmt: skip

PERMISSIONS_BY_CODE: dict[str, PermissionSpec] = {p.code: p for p in PERMISSIONS}
ALL_PERMISSIONS: frozenset[str] = frozenset(PERMISSIONS_BY_CODE)
ENDPOINT_PERMISSION: dict[str, str] = {e: p.code for p in PERMISSIONS for e in p.endpoints}


def _default_role_permissions() -> dict[str, frozenset[str]]:
    sets: dict[str, set[str]] = {code: set() for code in ROLE_CODES}
    for perm in PERMISSIONS:
        for role in perm.roles:
            sets[role].add(perm.code)
    sets[ADMIN] = set(ALL_PERMISSIONS)
    return {code: frozenset(perms) for code, perms in sets.items()}


ROLE_PERMISSIONS: dict[str, frozenset[str]] = _default_role_permissions()


def permission_for_endpoint(endpoint_id: str) -> str:
    """The permission a BFF endpoint ("SAL-01") checks. KeyError for an unknown id."""
    return ENDPOINT_PERMISSION[endpoint_id]


def effective_permissions(
    role_permissions: Iterable[str],
    overrides: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    *,
    role_code: str | None = None,
) -> frozenset[str]:
    """Role permissions + grants − denials; a denial beats a role grant. admin holds everything.

    `overrides` maps permission code → "grant" | "deny" (or is a list of such pairs).
    """
    if role_code == ADMIN:
        return ALL_PERMISSIONS
    pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
    granted = set(role_permissions)
    denied: set[str] = set()
    for code, effect in pairs:
        if effect == "grant":
            granted.add(code)
        elif effect == "deny":
            denied.add(code)
    return frozenset(granted - denied)
