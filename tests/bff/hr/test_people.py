"""HR-01 dashboard, HR-02 my HR, HR-03 directory, HR-04 employee file: data against the database,
scope (404 / 403), salary visibility, cache and invalidation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.bff.hr.conftest import ACC1, BM1, BM2, CASHIER1, CONSUMER, EMP1, EMP2, HR1, cached, employee_of
from tests.http import Api
from tsh.domain.hr.models import Employee, LeaveRequest
from tsh.domain.shared import business_today


async def test_dashboard_counts_match_the_database(hr: Api) -> None:
    data = await hr.data(HR1, "/dashboard")
    today = business_today()
    month_end = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    async with hr.db() as s:
        active = await s.scalar(
            select(func.count())
            .select_from(Employee)
            .where(Employee.status == "active", Employee.hire_date <= today)
        )
        pending = await s.scalar(
            select(func.count()).select_from(LeaveRequest).where(LeaveRequest.status == "pending")
        )
        exits = await s.scalar(
            select(func.count())
            .select_from(Employee)
            .where(Employee.termination_date >= today.replace(day=1), Employee.termination_date <= month_end)
        )
    assert data["headcount"] == active
    assert sum(d["count"] for d in data["by_department"]) == active
    assert sum(b["count"] for b in data["by_branch"]) == active
    assert data["pending_leave_requests"] == pending
    assert data["exits_this_month"] == exits >= 1  # the seed has an exit this month
    t = data["today"]
    assert t["present"] + t["late"] + t["absent"] + t["on_leave"] <= active
    assert data["payroll"] is not None and data["payroll"]["gross"]  # totals for hr_manager
    assert data["review_cycles"] and all(
        c["total"] == c["awaiting_self"] + c["awaiting_manager"] + c["completed"]
        for c in data["review_cycles"]
    )


async def test_dashboard_of_a_branch_manager_is_their_branch_without_pay(hr: Api) -> None:
    bm = await employee_of(hr, BM1)
    data = await hr.data(BM1, "/dashboard")
    async with hr.db() as s:
        active = await s.scalar(
            select(func.count())
            .select_from(Employee)
            .where(
                Employee.status == "active",
                Employee.branch_id == bm.branch_id,
                Employee.hire_date <= business_today(),
            )
        )
    assert data["headcount"] == active
    assert [b["branch"]["id"] for b in data["by_branch"]] == [bm.branch_id]
    assert data["payroll"] is None or data["payroll"]["gross"] is None
    for email in (EMP1, ACC1, CASHIER1, CONSUMER):
        assert (await hr.get(email, "/dashboard")).status_code == 403


async def test_me_is_the_callers_own_record(hr: Api) -> None:
    e1 = await employee_of(hr, EMP1)
    data = await hr.data(EMP1, "/me")
    assert data["profile"]["id"] == e1.id and data["profile"]["code"] == e1.code
    assert data["profile"]["job_title"] == e1.job_title
    assert "salary" not in data["profile"]
    assert {b["type"] for b in data["leave_balances"]} == {
        "annual",
        "sick",
        "unpaid",
        "emergency",
        "maternity",
    }
    async with hr.db() as s:
        pending = await s.scalar(
            select(func.count())
            .select_from(LeaveRequest)
            .where(LeaveRequest.employee_id == e1.id, LeaveRequest.status == "pending")
        )
    assert len(data["pending_requests"]) == pending
    # A cashier is staff linked to an employee: the `employee` row applies to them too.
    cashier = await employee_of(hr, CASHIER1)
    assert (await hr.data(CASHIER1, "/me"))["profile"]["id"] == cashier.id
    assert (await hr.get(CONSUMER, "/me")).status_code == 403


async def test_me_without_an_employee_record_is_404(hr: Api) -> None:
    async with hr.db() as s:
        from tsh.domain.identity.models import User

        admin_id = await s.scalar(select(User.id).where(User.email == "admin2@demo.tsh.iq"))
        linked = await s.scalar(select(Employee.id).where(Employee.user_id == admin_id))
    r = await hr.get("admin2@demo.tsh.iq", "/me")
    if linked is None:
        assert r.status_code == 404 and r.json()["error_code"] == "EMPLOYEE_PROFILE_MISSING"
    else:
        assert r.status_code == 200


async def test_directory_scope_filters_and_paging(hr: Api) -> None:
    bm = await employee_of(hr, BM1)
    page1 = await hr.data(BM1, "/employees", limit=5)
    seen = [r["id"] for r in page1["items"]]
    cursor = page1["next_cursor"]
    while cursor:
        nxt = await hr.data(BM1, "/employees", limit=5, cursor=cursor)
        seen += [r["id"] for r in nxt["items"]]
        cursor = nxt["next_cursor"]
    async with hr.db() as s:
        ids = list(
            await s.scalars(
                select(Employee.id).where(Employee.branch_id == bm.branch_id).order_by(Employee.id)
            )
        )
    assert seen == ids
    row = page1["items"][0]
    assert "salary" not in row and "base_salary" not in row
    terminated = await hr.data(HR1, "/employees", status="terminated", limit=100)
    assert terminated["items"] and all(r["status"] == "terminated" for r in terminated["items"])
    found = await hr.data(HR1, "/employees", q=bm.name_en.split()[0], limit=100)
    assert bm.id in [r["id"] for r in found["items"]]
    r = await hr.get(HR1, "/employees", status="fired")
    assert r.status_code == 422


async def test_employee_file_salary_only_for_hr_and_404_outside_branch(hr: Api) -> None:
    e1, e2 = await employee_of(hr, EMP1), await employee_of(hr, EMP2)
    full = await hr.data(HR1, f"/employees/{e1.id}")
    assert full["salary"]["base_salary"] == {"amount": f"{e1.base_salary:.2f}", "currency": e1.currency}
    assert full["payslips"] is not None and len(full["payslips"]) <= 3
    assert full["national_id"] == e1.national_id
    bm_view = await hr.data(BM1, f"/employees/{e1.id}")
    assert bm_view["salary"] is None and bm_view["payslips"] is None
    r = await hr.get(BM1, f"/employees/{e2.id}")
    assert r.status_code == 404 and r.json()["error_code"] == "EMPLOYEE_NOT_FOUND"
    assert (await hr.get(BM2, f"/employees/{e2.id}")).status_code == 200
    assert (await hr.get(HR1, "/employees/999999")).status_code == 404
    assert (await hr.get(EMP1, f"/employees/{e1.id}")).status_code == 403
    reports = await hr.data(HR1, f"/employees/{(await employee_of(hr, BM1)).id}")
    assert e1.id in [p["id"] for p in reports["direct_reports"]]


async def test_directory_cache_hit_and_invalidation_by_employee_change(hr: Api) -> None:
    e2 = await employee_of(hr, EMP2)
    await cached(hr, BM2, "/employees", limit=100)
    _, hit = await cached(hr, BM2, "/employees", limit=100)
    assert hit
    r = await hr.send(HR1, "PATCH", f"/employees/{e2.id}", {"job_title": "Senior Administrative Officer"})
    assert r.status_code == 200, r.text
    data, hit = await cached(hr, BM2, "/employees", limit=100)
    assert not hit
    assert [x["job_title"] for x in data["items"] if x["id"] == e2.id] == ["Senior Administrative Officer"]
