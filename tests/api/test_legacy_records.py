"""Read-only operational records of core.md §2.2 through HTTP, compared with the database."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from tests.api.helpers import ADMIN, CONSUMER, SP1, count, scalar, user
from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.api.legacy import RESOURCES
from tsh.context import AppContext
from tsh.domain.accounting.models import ExchangeRate, FiscalPeriod, JournalEntry, TaxReturn
from tsh.domain.aftersales.models import Job, Refund, ReturnRequest, ServiceRequest
from tsh.domain.hr.models import AttendanceRecord, LeaveRequest, PayrollRun, Payslip, PerformanceReview
from tsh.domain.identity.models import AuditLog, LoginAttempt, SecurityEvent, Threat, UserSession
from tsh.domain.inventory.models import Adjustment, Count, GoodsReceipt, StockMovement, Transfer
from tsh.domain.organisation.models import Warehouse
from tsh.domain.pos.models import PosTransaction, Shift
from tsh.domain.sales.models.field import CommissionPayout
from tsh.domain.wholesale.models import CreditRequest

SEC = "security_officer1@demo.tsh.iq"
ACC = "accountant1@demo.tsh.iq"
INV = "inventory_manager1@demo.tsh.iq"
HR = "hr_manager1@demo.tsh.iq"
WH = "warehouse_staff1@demo.tsh.iq"
CASHIER = "cashier1@demo.tsh.iq"

# path, model, a reader with scope all, a staff role that may not read it
ALL_READERS: list[tuple[str, Any, str, str]] = [
    ("sessions", UserSession, SEC, ACC),
    ("login-attempts", LoginAttempt, SEC, ACC),
    ("security-events", SecurityEvent, SEC, HR),
    ("threats", Threat, SEC, INV),
    ("audit-logs", AuditLog, SEC, SP1),
    ("pos-shifts", Shift, ADMIN, ACC),
    ("pos-transactions", PosTransaction, ADMIN, INV),
    ("stock-movements", StockMovement, INV, ACC),
    ("transfers", Transfer, INV, SP1),
    ("adjustments", Adjustment, INV, CASHIER),
    ("counts", Count, INV, HR),
    ("goods-receipts", GoodsReceipt, INV, SP1),
    ("journal-entries", JournalEntry, ACC, INV),
    ("fiscal-periods", FiscalPeriod, ACC, SP1),
    ("exchange-rates", ExchangeRate, ACC, SEC),
    ("tax-returns", TaxReturn, ACC, HR),
    ("credit-requests", CreditRequest, ACC, INV),
    ("commission-payouts", CommissionPayout, ACC, INV),
    ("attendance", AttendanceRecord, HR, CONSUMER),
    ("leave-requests", LeaveRequest, HR, CONSUMER),
    ("payroll-runs", PayrollRun, HR, SP1),
    ("payslips", Payslip, HR, CONSUMER),
    ("performance-reviews", PerformanceReview, HR, CONSUMER),
    ("service-requests", ServiceRequest, ADMIN, ACC),
    ("jobs", Job, ADMIN, ACC),
    ("returns", ReturnRequest, ADMIN, ACC),
    ("refunds", Refund, ACC, INV),
]


@pytest.mark.parametrize(("path", "model", "reader", "refused"), ALL_READERS, ids=[r[0] for r in ALL_READERS])
async def test_list_matches_database_and_roles(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext, path: str, model: Any, reader: str, refused: str
) -> None:
    r = await client.get(f"/api/{path}?limit=500", headers=await auth.headers(reader))
    assert r.status_code == 200, r.text
    total = await count(ctx, model)
    assert int(r.headers["x-total-count"]) == total
    records = r.json()
    assert len(records) == min(total, 500)
    ids = {rec["id"] for rec in records}
    assert ids <= set(await _ids(ctx, model))
    assert_error(await client.get(f"/api/{path}", headers=await auth.headers(refused)), 403, "FORBIDDEN")
    if records and "get" in RESOURCES[path].ops:  # stock movements and rates are list only
        one = await client.get(f"/api/{path}/{records[0]['id']}", headers=await auth.headers(reader))
        assert one.status_code == 200, one.text
        assert {k: one.json()[k] for k in records[0]} == records[0]


async def _ids(ctx: AppContext, model: Any) -> list[int]:
    async with ctx.db.session() as s:
        return list(await s.scalars(select(model.id)))


async def test_record_columns_equal_database(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    entry_id = await scalar(ctx, select(JournalEntry.id).order_by(JournalEntry.id).limit(1))
    r = await client.get(f"/api/journal-entries/{entry_id}", headers=await auth.headers(ACC))
    body = r.json()
    async with ctx.db.session() as s:
        row = await s.get(JournalEntry, entry_id)
        assert row is not None
        assert body["number"] == row.number and body["total"] == str(row.total)
    assert body["lines"] and sum(float(ln["debit"]) for ln in body["lines"]) == pytest.approx(
        float(row.total)
    )
    assert (
        "refresh_token_hash"
        not in ((await client.get("/api/sessions?limit=1", headers=await auth.headers(SEC))).json()[0])
    )


async def test_branch_scope_on_stock_records(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    staff = await user(ctx, WH)
    mine = select(Warehouse.id).where(Warehouse.branch_id == staff.branch_id)
    expected = await count(ctx, StockMovement, StockMovement.warehouse_id.in_(mine))
    r = await client.get("/api/stock-movements?limit=1", headers=await auth.headers(WH))
    assert int(r.headers["x-total-count"]) == expected < await count(ctx, StockMovement)
    other = await scalar(ctx, select(GoodsReceipt.id).where(GoodsReceipt.warehouse_id.not_in(mine)).limit(1))
    assert_error(
        await client.get(f"/api/goods-receipts/{other}", headers=await auth.headers(WH)), 404, "NOT_FOUND"
    )


async def test_own_scope_for_cashier_and_employee(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    cashier = await user(ctx, CASHIER)
    r = await client.get("/api/pos-shifts?limit=500", headers=await auth.headers(CASHIER))
    assert int(r.headers["x-total-count"]) == await count(ctx, Shift, Shift.cashier_id == cashier.id)
    assert all(s["cashier_id"] == cashier.id for s in r.json())
    other = await scalar(ctx, select(Shift.id).where(Shift.cashier_id != cashier.id).limit(1))
    assert_error(
        await client.get(f"/api/pos-shifts/{other}", headers=await auth.headers(CASHIER)), 404, "NOT_FOUND"
    )
    sp2 = await user(ctx, "salesperson2@demo.tsh.iq")
    assert_error(
        await client.get(f"/api/pos-shifts?cashier_id={sp2.id}", headers=await auth.headers(CASHIER)),
        404,
        "NOT_FOUND",
    )
    # any staff user reads only their own attendance
    r = await client.get("/api/attendance?limit=500", headers=await auth.headers(SP1))
    assert r.status_code == 200, r.text
    assert len({a["employee_id"] for a in r.json()}) <= 1
