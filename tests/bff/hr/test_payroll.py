"""HR-15..21 payroll: calculation rules, approval (balanced accrual, commissions paid), payment
(balanced entry, payslips published), the refusals, idempotency, scope and cache.

The demo months Jan..Nov have company-wide runs (Nov approved, the others paid); Dec of last
year has none and its fiscal period is closed. The flow test calculates this December for the
Erbil branch through the service with a chosen "today" (the endpoint refuses before the 25th).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, or_, select

from tests.bff.hr.conftest import ACC1, BM1, EMP1, HR1, HR2, cached, employee_of
from tests.http import Api
from tsh.domain.accounting.models import Account, JournalEntry, JournalLine
from tsh.domain.actor import Actor
from tsh.domain.hr.models import PayrollRun, Payslip
from tsh.domain.hr.payroll import calculate_run
from tsh.domain.organisation.models import Branch
from tsh.domain.shared import business_today
from tsh.platform.db.uow import unit_of_work


def _amount(m: dict[str, str]) -> Decimal:
    return Decimal(m["amount"])


async def _balanced(hr: Api, run_id: int) -> list[JournalEntry]:
    async with hr.db() as s:
        entries = list(
            await s.scalars(
                select(JournalEntry).where(
                    JournalEntry.source_type == "payroll_run", JournalEntry.source_id == run_id
                )
            )
        )
        for e in entries:
            debit, credit = (
                await s.execute(
                    select(func.sum(JournalLine.debit), func.sum(JournalLine.credit)).where(
                        JournalLine.entry_id == e.id
                    )
                )
            ).one()
            assert debit == credit and debit > 0, e.number
        return entries


async def test_runs_list_and_detail_match_the_database(hr: Api) -> None:
    runs = await hr.data(ACC1, "/payroll-runs", limit=100)
    async with hr.db() as s:
        count = await s.scalar(select(func.count()).select_from(PayrollRun))
        first = await s.get(PayrollRun, runs["items"][0]["id"])
    assert len(runs["items"]) == count and first is not None
    assert _amount(runs["items"][0]["net"][0]) == first.net_iqd
    detail = await hr.data(HR1, f"/payroll-runs/{first.id}", limit=100)
    rows, cursor = list(detail["items"]), detail["next_cursor"]
    while cursor:
        nxt = await hr.data(HR1, f"/payroll-runs/{first.id}", limit=100, cursor=cursor)
        rows += nxt["items"]
        cursor = nxt["next_cursor"]
    assert len(rows) == first.employee_count
    for row in rows:
        assert _amount(row["net"]) == _amount(row["base"]) + _amount(row["overtime"]) + _amount(
            row["commission"]
        ) + _amount(row["allowances"]) - _amount(row["deductions"])
        assert _amount(row["deductions"]) == _amount(row["absence_deduction"]) + _amount(
            row["unpaid_leave_deduction"]
        )
    assert sum(_amount(r["net"]) for r in rows if r["net"]["currency"] == "IQD") == first.net_iqd
    warned = await hr.data(HR1, f"/payroll-runs/{first.id}", with_warnings="true", limit=100)
    assert all(r["warnings"] for r in warned["items"])
    assert (await hr.get(HR1, "/payroll-runs/999999")).status_code == 404
    for email in (EMP1, BM1):
        assert (await hr.get(email, "/payroll-runs")).status_code == 403


async def test_calculation_refusals(hr: Api) -> None:
    today = business_today()
    before = await hr.count(PayrollRun)
    r = await hr.send(HR1, "POST", "/payroll-runs", {"year": today.year, "month": today.month}, key=None)
    assert r.status_code == 400 and r.json()["error_code"] == "IDEMPOTENCY_KEY_REQUIRED"
    if today.day < 25:
        r = await hr.send(HR1, "POST", "/payroll-runs", {"year": today.year, "month": today.month})
        assert r.status_code == 422 and r.json()["error_code"] == "TOO_EARLY"
    async with hr.db() as s:
        approved = await s.scalar(
            select(PayrollRun)
            .where(PayrollRun.status.in_(("approved", "paid")), PayrollRun.branch_id.is_(None))
            .limit(1)
        )
        branch = await s.scalar(select(Branch.id).limit(1))
    assert approved is not None
    r = await hr.send(HR1, "POST", "/payroll-runs", {"year": approved.year, "month": approved.month})
    assert r.status_code == 409 and r.json()["error_code"] == "RUN_ALREADY_APPROVED"
    r = await hr.send(
        HR1, "POST", "/payroll-runs", {"year": approved.year, "month": approved.month, "branch_id": branch}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "RUN_OVERLAP"
    r = await hr.send(HR1, "POST", "/payroll-runs", {"year": approved.year, "month": 13})
    assert r.status_code == 422
    assert await hr.count(PayrollRun) == before
    assert (await hr.send(ACC1, "POST", "/payroll-runs", {"year": 2026, "month": 1})).status_code == 403


async def test_closed_month_calculates_but_cannot_be_approved(hr: Api) -> None:
    # Last December: no run in the demo data, its fiscal period is closed.
    year = business_today().year - 1
    key = uuid.uuid4().hex
    r = await hr.send(HR1, "POST", "/payroll-runs", {"year": year, "month": 12}, key=key)
    assert r.status_code == 201, r.text
    run = r.json()["data"]
    assert run["status"] == "calculated" and run["employee_count"] > 0
    again = await hr.send(HR1, "POST", "/payroll-runs", {"year": year, "month": 12}, key=key)
    assert again.status_code == 201 and again.json()["data"]["id"] == run["id"]
    async with hr.db() as s:
        assert (
            await s.scalar(select(func.count()).select_from(Payslip).where(Payslip.run_id == run["id"]))
            == run["employee_count"]
        )
    r = await hr.send(HR1, "POST", f"/payroll-runs/{run['id']}/approval", {})
    assert r.status_code == 403 and r.json()["error_code"] == "SELF_APPROVAL"
    r = await hr.send(HR2, "POST", f"/payroll-runs/{run['id']}/approval", {})
    assert r.status_code == 409 and r.json()["error_code"] == "PERIOD_CLOSED"
    async with hr.db() as s:
        row = await s.get(PayrollRun, run["id"])
        assert row is not None and row.status == "calculated"
    assert await _balanced(hr, run["id"]) == []
    r = await hr.send(
        ACC1,
        "POST",
        f"/payroll-runs/{run['id']}/payment",
        {"paid_on": str(business_today()), "accounts": [{"currency": "IQD", "account_id": 1}]},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "INVALID_STATE"


async def test_flow_calculate_approve_pay_publishes_payslips(hr: Api) -> None:
    today = business_today()
    async with hr.db() as s:
        erbil = await s.scalar(select(Branch.id).where(Branch.code == "ERB"))
        cash = await s.scalar(
            select(Account.id)
            .where(
                Account.cash_flow_class == "cash",
                Account.is_postable.is_(True),
                or_(Account.currency.is_(None), Account.currency == "IQD"),
            )
            .limit(1)
        )
        not_cash = await s.scalar(
            select(Account.id)
            .where(or_(Account.cash_flow_class.is_(None), Account.cash_flow_class != "cash"))
            .limit(1)
        )
    hr1 = await hr.user_id(HR1)
    async with unit_of_work(hr.ctx.db, hr.ctx.bus) as s:
        created = await calculate_run(
            s,
            year=today.year,
            month=today.month,
            branch_id=erbil,
            actor=Actor.system(hr1),
            today=today.replace(day=28),
        )
        run_id = created.id
    await cached(hr, ACC1, "/payroll-runs")
    _, hit = await cached(hr, ACC1, "/payroll-runs")
    assert hit
    r = await hr.send(HR2, "POST", f"/payroll-runs/{run_id}/approval", {"note": "Checked"}, key=None)
    assert r.status_code == 400
    r = await hr.send(HR2, "POST", f"/payroll-runs/{run_id}/approval", {"note": "Checked"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "approved"
    listed, hit = await cached(hr, ACC1, "/payroll-runs")
    assert not hit and [x["status"] for x in listed["items"] if x["id"] == run_id] == ["approved"]
    [accrual] = await _balanced(hr, run_id)
    r = await hr.send(HR2, "POST", f"/payroll-runs/{run_id}/approval", {})
    assert r.status_code == 409 and r.json()["error_code"] == "INVALID_STATE"
    pay = {
        "paid_on": str(today),
        "accounts": [{"currency": "IQD", "account_id": not_cash}],
        "reference": "TRF-77",
    }
    r = await hr.send(ACC1, "POST", f"/payroll-runs/{run_id}/payment", pay)
    assert r.status_code == 422 and r.json()["error_code"] == "NOT_A_CASH_ACCOUNT"
    assert (await hr.send(HR1, "POST", f"/payroll-runs/{run_id}/payment", pay)).status_code == 403
    r = await hr.send(
        ACC1,
        "POST",
        f"/payroll-runs/{run_id}/payment",
        {**pay, "accounts": [{"currency": "IQD", "account_id": cash}]},
    )
    assert r.status_code == 200, r.text
    entries = await _balanced(hr, run_id)
    assert len(entries) == 2 and accrual.id in [e.id for e in entries]
    async with hr.db() as s:
        slips = list(await s.scalars(select(Payslip).where(Payslip.run_id == run_id)))
    assert slips and all(p.published_at is not None for p in slips)
    slip = slips[0]
    detail = await hr.data(HR1, f"/payslips/{slip.id}")
    assert _amount(detail["net"]) == slip.net and detail["year"] == today.year
    assert _amount(detail["year_to_date"]["net"]) >= slip.net
    earned = sum(_amount(x["amount"]) for x in detail["earnings"])
    taken = sum(_amount(x["amount"]) for x in detail["deductions"])
    assert earned - taken == slip.net


async def test_payslips_are_own_and_published_only(hr: Api) -> None:
    e1 = await employee_of(hr, EMP1)
    mine = await hr.data(EMP1, "/payslips", limit=100)
    assert mine["items"] and all(x["employee"]["id"] == e1.id for x in mine["items"])
    async with hr.db() as s:
        published = await s.scalar(
            select(func.count())
            .select_from(Payslip)
            .where(Payslip.employee_id == e1.id, Payslip.published_at.is_not(None))
        )
        unpublished = await s.scalar(
            select(Payslip.id).where(Payslip.employee_id == e1.id, Payslip.published_at.is_(None)).limit(1)
        )
        foreign = await s.scalar(
            select(Payslip.id).where(Payslip.employee_id != e1.id, Payslip.published_at.is_not(None)).limit(1)
        )
    assert len(mine["items"]) == published
    r = await hr.get(EMP1, f"/payslips/{foreign}")
    assert r.status_code == 404 and r.json()["error_code"] == "PAYSLIP_NOT_FOUND"
    if unpublished is not None:
        assert (await hr.get(EMP1, f"/payslips/{unpublished}")).status_code == 404
    assert (await hr.get(HR1, f"/payslips/{foreign}")).status_code == 200
    # The accountant is staff with an employee record: the `employee` row gives own payslips only.
    acc = await employee_of(hr, ACC1)
    theirs = await hr.data(ACC1, "/payslips", limit=100)
    assert all(x["employee"]["id"] == acc.id for x in theirs["items"])
    assert (await hr.get("consumer1@demo.tsh.iq", "/payslips")).status_code == 403
