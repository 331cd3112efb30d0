"""Declarations of the people and sales resources, including the §2.1 dashboard reads.

`/api/users/{id}`, `/api/orders`, `/api/customers`, `/api/payments`, `/api/visits` and
`/api/targets` are the generic list/get of these rows with the nesting core.md §2.1 names.
"""

from __future__ import annotations

from sqlalchemy import select

from tsh.api.legacy import hooks, services
from tsh.api.legacy.access import Access, either, in_branch, is_caller, via_branch
from tsh.api.legacy.computed import customer_balances, target_achievements
from tsh.api.legacy.nesting import Expansion, back, many, one, via
from tsh.api.legacy.resource import Resource
from tsh.domain.catalog.models import Category, PriceList, Product
from tsh.domain.customers.models import Address, Customer, Partner
from tsh.domain.hr.models import Department, Employee
from tsh.domain.identity.models import Permission, Role, RolePermission, User
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models import (
    Commission,
    Invoice,
    Order,
    OrderLine,
    Payment,
    PaymentAllocation,
    Target,
    Visit,
)

CREDIT_FIELDS = frozenset({"credit_limit", "payment_terms_days", "on_hold"})

role_permissions = via(
    "permissions",
    Permission,
    lambda ids: select(RolePermission.role_id, RolePermission.permission_id).where(
        RolePermission.role_id.in_(ids)
    ),
)
order_payments = via(
    "payments",
    Payment,
    lambda ids: (
        select(Invoice.order_id, PaymentAllocation.payment_id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(Invoice.order_id.in_(ids))
    ),
    many("allocations", PaymentAllocation, "payment_id"),
)
customer_with_addresses = one("customer", Customer, "customer_id", many("addresses", Address, "customer_id"))

# Orders, customers and payments of salespeople: own = the salesperson, branch = its branch.
orders_access = Access(
    roles={
        "salesperson": "own",
        "branch_manager": "branch",
        "warehouse_staff": "branch",
        "accountant": "all",
    },
    own=is_caller(Order.salesperson_id),
    branch=in_branch(Order.branch_id),
    owner="salesperson_id",
)

SALES: tuple[Resource, ...] = (
    Resource(
        "users",
        User,
        Access(
            roles={"branch_manager": "branch", "*": "own"},
            own=is_caller(User.id),
            branch=in_branch(User.branch_id),
        ),
        filters={"role_id": "role_id", "branch_id": "branch_id", "status": "status"},
        expansion=Expansion(
            (
                one("role", Role, "role_id", role_permissions),
                one("branch", Branch, "branch_id"),
                back("employee", Employee, "user_id", one("department", Department, "department_id")),
            )
        ),
        # PATCH only, admin only, through the ADM-05/06/08 services (issue 18 item 1).
        ops=frozenset({"list", "get", "update"}),
        commands={"update": services.USER_UPDATE},
    ),
    Resource(
        "roles",
        Role,
        Access(roles={"security_officer": "all"}),
        expansion=Expansion((role_permissions,)),
    ),
    Resource(
        "permissions",
        Permission,
        Access(roles={"security_officer": "all"}),
        ops=frozenset({"list"}),
        filters={"module": "module"},
    ),
    Resource(
        "orders",
        Order,
        orders_access,
        filters={
            n: n for n in ("salesperson_id", "customer_id", "partner_id", "branch_id", "status", "channel")
        },
        order=(("placed_at", True),),
        exports="orders",
        ops=frozenset({"list", "get", "update"}),
        write_roles={"branch_manager": "branch", "warehouse_staff": "branch"},  # staff: shipped only
        commands={"update": services.ORDER_STATUS},
        idempotency="required",  # shipping moves stock, cancelling may refund
        expansion=Expansion(
            (
                customer_with_addresses,
                many(
                    "lines",
                    OrderLine,
                    "order_id",
                    one("product", Product, "product_id", one("category", Category, "category_id")),
                ),
                back("invoice", Invoice, "order_id"),
                order_payments,
            )
        ),
    ),
    Resource(
        "customers",
        Customer,
        Access(
            roles={
                "salesperson": "own",
                "branch_manager": "branch",
                "accountant": "all",
                "cashier": "branch",
                "service_agent": "branch",
            },
            own=is_caller(Customer.salesperson_id),
            branch=in_branch(Customer.branch_id),
            owner="salesperson_id",
            owner_role="salesperson",
            owner_code="SALESPERSON_NOT_FOUND",
        ),
        exports="customers",
        ops=frozenset({"list", "get", "create", "update"}),
        filters={
            n: n for n in ("salesperson_id", "partner_id", "branch_id", "type", "status", "on_hold", "phone")
        },
        expansion=Expansion(
            (
                many("addresses", Address, "customer_id"),
                one("price_list", PriceList, "price_list_id"),
                one("salesperson", User, "salesperson_id"),
            ),
            (customer_balances,),
        ),
        write_roles={"branch_manager": "branch", "accountant": "all"},
        field_limits={"accountant": CREDIT_FIELDS},
        events=("CustomerChanged", "CreditChanged"),
        event_fields={"CreditChanged": CREDIT_FIELDS | {"hold_reason"}},
    ),
    Resource(
        "payments",
        Payment,
        Access(
            roles={"salesperson": "own", "branch_manager": "branch", "accountant": "all"},
            own=is_caller(Payment.collected_by_id),
            branch=via_branch(Payment.customer_id, Customer),
            owner="collected_by_id",
        ),
        filters={
            "salesperson_id": "collected_by_id",
            "customer_id": "customer_id",
            "method": "method",
            "channel": "channel",
        },
        order=(("received_at", True),),
        ops=frozenset({"list", "get", "create"}),
        write_roles={"accountant": "all"},
        commands={"create": services.PAYMENT},
        idempotency="required",
        expansion=Expansion(
            (
                one("customer", Customer, "customer_id"),
                many("allocations", PaymentAllocation, "payment_id", one("invoice", Invoice, "invoice_id")),
            )
        ),
    ),
    Resource(
        "visits",
        Visit,
        Access(
            roles={"salesperson": "own", "branch_manager": "branch"},
            own=is_caller(Visit.salesperson_id),
            branch=via_branch(Visit.salesperson_id, User),
            owner="salesperson_id",
        ),
        filters={
            "user_id": "salesperson_id",
            "salesperson_id": "salesperson_id",
            "customer_id": "customer_id",
            "status": "status",
            "date": "date",
        },
        order=(("date", True), ("sequence", True)),
        expansion=Expansion((one("customer", Customer, "customer_id"),)),
    ),
    Resource(
        "targets",
        Target,
        Access(
            roles={"salesperson": "own", "branch_manager": "branch", "accountant": "all"},
            own=is_caller(Target.salesperson_id),
            branch=either(via_branch(Target.salesperson_id, User), via_branch(Target.partner_id, Partner)),
            owner="salesperson_id",
        ),
        ops=frozenset({"list", "get", "create", "update"}),
        filters={n: n for n in ("salesperson_id", "partner_id", "year", "month")},
        order=(("year", True), ("month", True)),
        expansion=Expansion((), (target_achievements,)),
        write_roles={"branch_manager": "branch"},
        writable=(
            "salesperson_id",
            "partner_id",
            "year",
            "month",
            "revenue_target_iqd",
            "revenue_target_usd",
            "orders_target",
            "new_customers_target",
        ),
        events=("CommissionChanged",),
        hook=hooks.set_by_caller,
    ),
    Resource(
        "invoices",
        Invoice,
        Access(
            roles={"salesperson": "own", "branch_manager": "branch", "accountant": "all"},
            own=lambda p: Invoice.customer_id.in_(
                select(Customer.id).where(Customer.salesperson_id == p.user_id)
            ),
            branch=in_branch(Invoice.branch_id),
        ),
        filters={n: n for n in ("customer_id", "order_id", "status", "branch_id")},
        order=(("issue_date", True),),
        expansion=Expansion((many("allocations", PaymentAllocation, "invoice_id"),)),
    ),
    Resource(
        "commissions",
        Commission,
        Access(
            roles={"salesperson": "own", "branch_manager": "branch", "accountant": "all"},
            own=is_caller(Commission.salesperson_id),
            branch=via_branch(Commission.salesperson_id, User),
            owner="salesperson_id",
        ),
        filters={n: n for n in ("salesperson_id", "partner_id", "order_id", "status")},
    ),
)
