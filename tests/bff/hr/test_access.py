"""Who may call each HR row (apps/hr.md roles column): 403 for every other role, before any
validation or lookup, and nothing written. `employee` is any staff user linked to an Employee,
so those rows refuse only the customer-side roles."""

from __future__ import annotations

import pytest

from tests.bff.hr.conftest import ACC1, BM1, CASHIER1, CONSUMER, EMP1, HR1, PARTNER, SP1
from tests.http import Api, demo
from tsh.domain.hr.models import AttendanceRecord, Employee, LeaveRequest, PayrollRun, ReviewCycle

WHOLESALE = demo("wholesale_client", 1)
CUSTOMER_SIDE = (CONSUMER, PARTNER, WHOLESALE)

# (method, path, callers refused) for every row of the table.
ROWS = [
    ("GET", "/dashboard", (EMP1, CASHIER1, ACC1, SP1, *CUSTOMER_SIDE)),
    ("GET", "/me", CUSTOMER_SIDE),
    ("GET", "/employees", (EMP1, CASHIER1, ACC1, *CUSTOMER_SIDE)),
    ("GET", "/employees/1", (EMP1, CASHIER1, ACC1, *CUSTOMER_SIDE)),
    ("POST", "/employees", (BM1, EMP1, ACC1, *CUSTOMER_SIDE)),
    ("PATCH", "/employees/1", (BM1, EMP1, ACC1, *CUSTOMER_SIDE)),
    ("POST", "/attendance", CUSTOMER_SIDE),
    ("GET", "/attendance", CUSTOMER_SIDE),
    ("GET", "/attendance/today", (EMP1, CASHIER1, ACC1, *CUSTOMER_SIDE)),
    ("POST", "/attendance/corrections", (EMP1, CASHIER1, ACC1, *CUSTOMER_SIDE)),
    ("GET", "/leave-requests", CUSTOMER_SIDE),
    ("POST", "/leave-requests", CUSTOMER_SIDE),
    ("PUT", "/leave-requests/1/status", CUSTOMER_SIDE),
    ("GET", "/leave-balances", CUSTOMER_SIDE),
    ("GET", "/payroll-runs", (EMP1, BM1, CASHIER1, *CUSTOMER_SIDE)),
    ("GET", "/payroll-runs/1", (EMP1, BM1, CASHIER1, *CUSTOMER_SIDE)),
    ("POST", "/payroll-runs", (ACC1, BM1, EMP1, *CUSTOMER_SIDE)),
    ("POST", "/payroll-runs/1/approval", (ACC1, BM1, EMP1, *CUSTOMER_SIDE)),
    ("POST", "/payroll-runs/1/payment", (HR1, BM1, EMP1, *CUSTOMER_SIDE)),
    ("GET", "/payslips", CUSTOMER_SIDE),
    ("GET", "/payslips/1", CUSTOMER_SIDE),
    ("POST", "/review-cycles", (BM1, EMP1, ACC1, *CUSTOMER_SIDE)),
    ("GET", "/reviews", CUSTOMER_SIDE),
    ("GET", "/reviews/1", CUSTOMER_SIDE),
    ("PUT", "/reviews/1", CUSTOMER_SIDE),
]


@pytest.mark.parametrize(("method", "path", "refused"), ROWS, ids=[f"{m} {p}" for m, p, _ in ROWS])
async def test_other_roles_are_refused(hr: Api, method: str, path: str, refused: tuple[str, ...]) -> None:
    tables = (Employee, AttendanceRecord, LeaveRequest, PayrollRun, ReviewCycle)
    before = [await hr.count(t) for t in tables]
    for email in refused:
        if method == "GET":
            r = await hr.get(email, path)
        else:
            r = await hr.send(email, method, path, {"bogus": True})
        assert r.status_code == 403, (email, r.text)
        assert r.json()["error_code"] == "FORBIDDEN"
    assert [await hr.count(t) for t in tables] == before
    r = await hr.get(None, path) if method == "GET" else await hr.send(None, method, path, {})
    assert r.status_code == 401
