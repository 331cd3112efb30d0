"""Declarations of the HR, after-sales and credit records (core.md §2.2).

Reads follow the matching BFF screens: HR-08/11/15/20/23 (`employee` = any staff user for their
own Employee record), ASO-02/10 (technician: jobs assigned to them), WHO-13 credit requests and
the commission payouts of PAR-10 as the back office sees them. One scope rule per resource.
The only writes are the credit-request decision and the payout status, both domain services
(`services.CREDIT_DECISION`, `services.PAYOUT_DECISION`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from tsh.api.legacy import services
from tsh.api.legacy.access import Access, OwnRule, either, in_branch, is_caller, is_employee, via_branch
from tsh.api.legacy.nesting import Expansion, many, one
from tsh.api.legacy.resource import Resource
from tsh.domain.aftersales.models import Job, Refund, ReturnLine, ReturnRequest, ServiceRequest, Technician
from tsh.domain.customers.models import Customer, Partner
from tsh.domain.hr.models import (
    AttendanceRecord,
    Employee,
    LeaveRequest,
    PayrollRun,
    Payslip,
    PerformanceReview,
)
from tsh.domain.identity.models import User
from tsh.domain.sales.models.field import CommissionPayout
from tsh.domain.wholesale.models import CreditRequest


def hr_access(employee_column: Any, own: OwnRule | None = None) -> Access:
    """HR-08/11/23: hr_manager all, branch_manager the branch's employees, any staff their own."""
    return Access(
        roles={"hr_manager": "all", "branch_manager": "branch", "staff": "own"},
        own=own or is_employee(employee_column),
        branch=via_branch(employee_column, Employee),
    )


def own_jobs(p: Any) -> Any:
    """Jobs assigned to the calling technician (through their Employee record)."""
    mine = select(Technician.id).where(Technician.employee_id == p.employee_id)
    return Job.technician_id.in_(mine)


SERVICE_ROLES: dict[str, Any] = {"technician": "own", "service_agent": "branch", "branch_manager": "branch"}

PEOPLE: tuple[Resource, ...] = (
    # -- HR ------------------------------------------------------------------------------------------
    Resource(
        "attendance",
        AttendanceRecord,
        hr_access(AttendanceRecord.employee_id),
        filters={"employee_id": "employee_id", "date": "date", "status": "status"},
        order=(("date", True),),
    ),
    Resource(
        "leave-requests",
        LeaveRequest,
        hr_access(LeaveRequest.employee_id),
        filters={"employee_id": "employee_id", "type": "type", "status": "status"},
        order=(("from_date", True),),
    ),
    Resource(
        "payroll-runs",
        PayrollRun,
        Access(roles={"hr_manager": "all", "accountant": "all"}),
        filters={"year": "year", "month": "month", "branch_id": "branch_id", "status": "status"},
        order=(("year", True), ("month", True)),
    ),
    Resource(
        "payslips",
        Payslip,
        Access(roles={"hr_manager": "all", "staff": "own"}, own=is_employee(Payslip.employee_id)),
        filters={"run_id": "run_id", "employee_id": "employee_id"},
        order=(("run_id", True),),
    ),
    Resource(
        "performance-reviews",
        PerformanceReview,
        hr_access(
            PerformanceReview.employee_id,
            # as reviewee or as reviewer (HR-23)
            own=lambda p: or_(
                is_employee(PerformanceReview.employee_id)(p), PerformanceReview.reviewer_user_id == p.user_id
            ),
        ),
        filters={"cycle_id": "cycle_id", "employee_id": "employee_id", "status": "status"},
    ),
    # -- after-sales (ASO-*) ---------------------------------------------------------------------------
    Resource(
        "service-requests",
        ServiceRequest,
        Access(
            roles=SERVICE_ROLES,
            own=lambda p: ServiceRequest.id.in_(select(Job.service_request_id).where(own_jobs(p))),
            branch=in_branch(ServiceRequest.branch_id),
        ),
        filters={n: n for n in ("branch_id", "customer_id", "product_id", "order_id", "status")},
        order=(("created_at", True),),
        expansion=Expansion((many("jobs", Job, "service_request_id"),)),
    ),
    Resource(
        "jobs",
        Job,
        Access(roles=SERVICE_ROLES, own=own_jobs, branch=via_branch(Job.service_request_id, ServiceRequest)),
        filters={n: n for n in ("service_request_id", "technician_id", "status", "kind")},
        order=(("start", True),),
    ),
    Resource(
        "returns",
        ReturnRequest,
        Access(
            roles={"service_agent": "branch", "branch_manager": "branch"},
            branch=in_branch(ReturnRequest.branch_id),
        ),
        filters={n: n for n in ("branch_id", "customer_id", "order_id", "status")},
        order=(("created_at", True),),
        expansion=Expansion((many("lines", ReturnLine, "return_id"),)),
    ),
    Resource(
        "refunds",
        Refund,
        Access(
            roles={"service_agent": "branch", "branch_manager": "branch", "accountant": "all"},
            branch=in_branch(Refund.branch_id),
        ),
        filters={n: n for n in ("branch_id", "customer_id", "source", "source_id", "method", "shift_id")},
        order=(("issued_at", True),),
    ),
    # -- credit and commissions ----------------------------------------------------------------------
    Resource(
        "credit-requests",
        CreditRequest,
        Access(
            roles={"accountant": "all", "branch_manager": "branch"},
            branch=via_branch(CreditRequest.customer_id, Customer),
        ),
        ops=frozenset({"list", "get", "update"}),
        filters={"customer_id": "customer_id", "status": "status"},
        order=(("created_at", True),),
        expansion=Expansion((one("customer", Customer, "customer_id"),)),
        write_roles={"accountant": "all", "branch_manager": "branch"},
        commands={"update": services.CREDIT_DECISION},
    ),
    Resource(
        "commission-payouts",
        CommissionPayout,
        Access(
            roles={"salesperson": "own", "branch_manager": "branch", "accountant": "all"},
            own=is_caller(CommissionPayout.salesperson_id),
            branch=either(
                via_branch(CommissionPayout.salesperson_id, User),
                via_branch(CommissionPayout.partner_id, Partner),
            ),
            owner="salesperson_id",
        ),
        ops=frozenset({"list", "get", "update"}),
        filters={n: n for n in ("salesperson_id", "partner_id", "status", "method")},
        order=(("requested_at", True),),
        write_roles={"accountant": "all"},
        commands={"update": services.PAYOUT_DECISION},
        idempotency="required",
    ),
)
