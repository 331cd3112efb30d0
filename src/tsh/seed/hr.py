"""HR: public holidays, attendance of the last 30 days, leave requests and balances, monthly payroll
runs (paid, the last one approved) with payslips and their ledger entries, and review cycles.

Demo users get no attendance record for today, so checking in can be tried in the tests.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tsh.seed import names
from tsh.seed.context import ZERO, SeedContext, money, month_end, month_starts
from tsh.seed.ledger import Ledger
from tsh.seed.people import Staff
from tsh.seed.sales import Registry

FIXED_HOLIDAYS = (
    (1, 1, "New Year's Day"),
    (1, 6, "Army Day"),
    (3, 21, "Nowruz"),
    (5, 1, "Labour Day"),
    (7, 14, "Republic Day"),
    (10, 3, "National Day"),
    (12, 10, "Victory Day"),
    (12, 25, "Christmas"),
)
LUNAR_HOLIDAYS = {
    2025: (
        (3, 31, "Eid al-Fitr"),
        (4, 1, "Eid al-Fitr"),
        (6, 6, "Eid al-Adha"),
        (6, 7, "Eid al-Adha"),
        (7, 6, "Ashura"),
        (9, 4, "Prophet's Birthday"),
    ),
    2026: (
        (3, 20, "Eid al-Fitr"),
        (3, 22, "Eid al-Fitr"),
        (5, 27, "Eid al-Adha"),
        (5, 28, "Eid al-Adha"),
        (6, 26, "Ashura"),
        (8, 25, "Prophet's Birthday"),
    ),
    2027: (
        (3, 10, "Eid al-Fitr"),
        (3, 11, "Eid al-Fitr"),
        (5, 17, "Eid al-Adha"),
        (5, 18, "Eid al-Adha"),
        (6, 15, "Ashura"),
        (8, 14, "Prophet's Birthday"),
    ),
}
CRITERIA = [
    {"code": "quality", "title": "Quality of work", "weight": 30},
    {"code": "productivity", "title": "Productivity", "weight": 25},
    {"code": "teamwork", "title": "Teamwork", "weight": 20},
    {"code": "customer", "title": "Customer focus", "weight": 25},
]


def plan_payroll(ctx: SeedContext) -> dict[tuple[int, int], tuple[int, dt.datetime]]:
    """Run ids per month (allocated early: commissions paid by payroll point at them)."""
    months = month_starts(ctx.history_start, ctx.today)[1:-1]
    runs: dict[tuple[int, int], tuple[int, dt.datetime]] = {}
    for m in months:
        approved = ctx.at(month_end(m) + dt.timedelta(days=2), 11)
        rid = ctx.ids.next("payroll_runs")
        runs[(m.year, m.month)] = (rid, approved)
        # Written now (commissions point at it) and completed by generate() once the payslips exist.
        ctx.writer.add(
            "payroll_runs",
            {
                "id": rid,
                "year": m.year,
                "month": m.month,
                "branch_id": None,
                "status": "calculated",
                "employee_count": 0,
            },
        )
    ctx.refs["payroll_runs"] = runs
    return runs


def holidays(ctx: SeedContext) -> set[dt.date]:
    out: dict[dt.date, str] = {}
    for year in range(ctx.history_start.year, ctx.today.year + 2):
        for month, day, name in (*FIXED_HOLIDAYS, *LUNAR_HOLIDAYS.get(year, ())):
            out.setdefault(dt.date(year, month, day), name)
    for day, name in sorted(out.items()):
        ctx.writer.add(
            "public_holidays",
            {"id": ctx.ids.next("public_holidays"), "date": day, "name": name, "branch_id": None},
        )
    kurdistan = ctx.refs["branches"]["ERB"]
    for year in range(ctx.history_start.year, ctx.today.year + 2):
        day = dt.date(year, 3, 11)
        ctx.writer.add(
            "public_holidays",
            {
                "id": ctx.ids.next("public_holidays"),
                "date": day,
                "name": "Kurdistan Uprising Day",
                "branch_id": kurdistan,
            },
        )
    days = set(out)
    ctx.refs["holidays"] = days
    return days


def _working(day: dt.date, off: set[dt.date]) -> bool:
    return day.isoweekday() != 5 and day not in off


def generate(ctx: SeedContext, reg: Registry, ledger: Ledger) -> list[dict[str, Any]]:
    """Returns the updates that complete the payroll runs written by plan_payroll()."""
    off = holidays(ctx)
    staff: list[Staff] = ctx.refs["staff"]
    leave_days = _leave(ctx, staff, off)
    _attendance(ctx, staff, off, leave_days)
    updates = _payroll(ctx, staff, reg, ledger, off)
    _reviews(ctx, staff)
    _exits(ctx, staff)
    return updates


def _exits(ctx: SeedContext, staff: list[Staff]) -> None:
    """Two former employees without a login: one left before the history starts (so no payroll
    or attendance of the shown months misses them), one hired this month and let go during
    probation (an exit this month on the HR dashboard)."""
    bgd = ctx.refs["branches"]["BGD"]
    manager = next(s for s in staff if s.role == "branch_manager" and s.branch_id == bgd)
    month_start = ctx.today.replace(day=1)
    left = ctx.history_start - dt.timedelta(days=30)
    probation_end = max(month_start, ctx.today - dt.timedelta(days=1))
    people = (
        ("Hassan Al-Karbalai", "Showroom Sales Assistant", 750_000, left - dt.timedelta(days=3 * 365), left,
         "Resigned: moved to another city"),
        ("Mahdi Al-Najafi", "Warehouse Worker", 700_000, month_start, probation_end, "Probation not passed"),
    )  # fmt: skip
    for k, (name, title, salary, hired, ended, reason) in enumerate(people, start=1):
        eid = ctx.ids.next("employees")
        ctx.writer.add(
            "employees",
            {
                "id": eid,
                "code": f"EMP-{len(staff) + k:04d}",
                "user_id": None,
                "name_en": name,
                "name_ar": names.arabic(name),
                "national_id": f"{199_700_000_000 + eid * 7919}",
                "phone": names.phone(50_000 + eid),
                "department_id": manager.department_id,
                "branch_id": bgd,
                "job_title": title,
                "manager_id": manager.employee_id,
                "hire_date": hired,
                "termination_date": ended,
                "termination_reason": reason,
                "status": "terminated",
                "base_salary": Decimal(salary),
                "currency": "IQD",
                "salary_effective_from": hired,
                "previous_base_salary": None,
                "field_staff": False,
                "work_start": dt.time(8, 0),
                "work_end": dt.time(16, 0),
                "weekly_off_days": [5],
                "annual_leave_days": 21,
                "created_at": ctx.at(hired, 9),
                "updated_at": ctx.at(ended, 15),
            },
        )


def _count(start: dt.date, end: dt.date, off: set[dt.date]) -> int:
    return sum(1 for i in range((end - start).days + 1) if _working(start + dt.timedelta(days=i), off))


def _leave(ctx: SeedContext, staff: list[Staff], off: set[dt.date]) -> dict[int, set[dt.date]]:
    rng, w, today = ctx.rng, ctx.writer, ctx.today
    year = today.year
    users = ctx.refs["users"]
    hr = users["hr_manager1"]
    on_leave: dict[int, set[dt.date]] = {}
    for k, s in enumerate(staff):
        taken: dict[str, Decimal] = {"annual": ZERO, "sick": ZERO, "emergency": ZERO, "unpaid": ZERO}
        pending: dict[str, Decimal] = {"annual": ZERO, "sick": ZERO, "emergency": ZERO, "unpaid": ZERO}
        requests: list[tuple[str, dt.date, dt.date, str]] = []
        if rng.random() < 0.45 or s.user_id == users.get("employee1"):
            start = today - dt.timedelta(days=rng.randint(35, max(36, (today - dt.date(year, 1, 1)).days)))
            requests.append(("annual", start, start + dt.timedelta(days=rng.randint(1, 4)), "approved"))
        if rng.random() < 0.15:
            start = today - dt.timedelta(days=rng.randint(3, 25))
            requests.append(("sick", start, start + dt.timedelta(days=rng.randint(0, 1)), "approved"))
        if s.user_id == users.get("employee2") or (k % 11 == 3 and s.user_id != users.get("employee1")):
            start = today + dt.timedelta(days=rng.randint(10, 30))
            requests.append(("annual", start, start + dt.timedelta(days=rng.randint(1, 3)), "pending"))
        if k % 17 == 5:
            start = today + dt.timedelta(days=rng.randint(5, 15))
            requests.append(("emergency", start, start, "rejected"))
        for kind, start, end, status in requests:
            if start.year != year:
                continue
            days = Decimal(_count(start, end, off))
            if days <= 0:
                continue
            if status == "approved":
                taken[kind] += days
                on_leave.setdefault(s.employee_id, set()).update(
                    start + dt.timedelta(days=i) for i in range((end - start).days + 1)
                )
            elif status == "pending":
                pending[kind] += days
            created = ctx.at(start - dt.timedelta(days=rng.randint(3, 20)), 10)
            if created > ctx.now:
                created = ctx.now - dt.timedelta(hours=5)
            decider = None if status == "pending" else (ctx.refs["branch_managers"].get(s.branch_id) or hr)
            w.add(
                "leave_requests",
                {
                    "id": ctx.ids.next("leave_requests"),
                    "employee_id": s.employee_id,
                    "type": kind,
                    "from_date": start,
                    "to_date": end,
                    "half_day": False,
                    "days": days,
                    "reason": {"annual": "Family trip", "sick": "Flu", "emergency": "Family emergency"}.get(
                        kind
                    ),
                    "media_id": None,
                    "status": status,
                    "decided_by_id": decider if decider != s.user_id else hr,
                    "decided_at": None if status == "pending" else created + dt.timedelta(days=1),
                    "note": "Please settle open tasks first" if status == "rejected" else None,
                    "created_at": created,
                    "updated_at": created,
                },
            )
        entitled = {
            "annual": Decimal(21 if s.base_salary < 2_000_000 else 30),
            "sick": Decimal(15),
            "emergency": Decimal(5),
            "unpaid": ZERO,
        }
        for kind, ent in entitled.items():
            w.add(
                "leave_balances",
                {
                    "id": ctx.ids.next("leave_balances"),
                    "employee_id": s.employee_id,
                    "year": year,
                    "type": kind,
                    "entitled": ent,
                    "carried_over": Decimal(rng.randint(0, 5)) if kind == "annual" else ZERO,
                    "taken": taken[kind],
                    "pending": pending[kind],
                },
            )
    return on_leave


def _attendance(
    ctx: SeedContext, staff: list[Staff], off: set[dt.date], on_leave: dict[int, set[dt.date]]
) -> None:
    rng, w, today = ctx.rng, ctx.writer, ctx.today
    binfo = ctx.refs["branch_info"]
    demo_users = {uid for key, uid in ctx.refs["users"].items() if key[-1:] in ("1", "2")}
    rows = []
    for s in staff:
        b = binfo[s.branch_id]
        for back in range(30, -1, -1):
            day = today - dt.timedelta(days=back)
            if not _working(day, off) or day < s.hire_date:
                continue
            if back == 0 and (s.user_id in demo_users or ctx.now < ctx.at(day, 8, 30)):
                continue
            row: dict[str, Any] = {
                "id": ctx.ids.next("attendance_records"),
                "employee_id": s.employee_id,
                "date": day,
                "flags": [],
                "created_at": ctx.at(day, 8),
                "updated_at": ctx.at(day, 17),
            }
            if day in on_leave.get(s.employee_id, ()):
                row.update(status="on_leave")
            elif back > 0 and rng.random() < 0.03:
                row.update(status="absent")
            else:
                late = rng.random() < 0.12
                check_in = ctx.at(day, 7, rng.randint(45, 59)) + dt.timedelta(minutes=rng.randint(0, 10))
                if late:
                    check_in = ctx.at(day, 8, rng.randint(6, 50))
                late_min = max(0, int((check_in - ctx.at(day, 8)).total_seconds() // 60) - 5) if late else 0
                spread = 0.02 if s.field_staff else 0.0004
                lat = round(b["lat"] + rng.uniform(-spread, spread), 6)
                lng = round(b["lng"] + rng.uniform(-spread, spread), 6)
                row.update(
                    status="late" if late else "present",
                    check_in_at=check_in,
                    check_in_lat=lat,
                    check_in_lng=lng,
                    check_in_accuracy_m=round(rng.uniform(5, 30), 1),
                    check_in_distance_m=round(rng.uniform(5, 2000 if s.field_staff else 60), 1),
                    check_in_device_time=check_in,
                    late_min=late_min,
                )
                if back > 0:
                    check_out = ctx.at(day, 16, rng.randint(0, 20)) + dt.timedelta(
                        minutes=rng.choice([0, 0, 0, 45, 90])
                    )
                    worked = int((check_out - check_in).total_seconds() // 60)
                    row.update(
                        check_out_at=check_out,
                        check_out_lat=lat,
                        check_out_lng=lng,
                        check_out_accuracy_m=12.0,
                        check_out_distance_m=20.0,
                        check_out_device_time=check_out,
                        worked_min=worked,
                        overtime_min=max(0, int((check_out - ctx.at(day, 16)).total_seconds() // 60) - 15),
                    )
                if rng.random() < 0.01:
                    row["flags"] = ["clock_skew"]
            rows.append(row)
    w.add_many("attendance_records", rows)


def _payroll(
    ctx: SeedContext, staff: list[Staff], reg: Registry, ledger: Ledger, off: set[dt.date]
) -> list[dict[str, Any]]:
    rng, w = ctx.rng, ctx.writer
    updates: list[dict[str, Any]] = []
    users = ctx.refs["users"]
    calc_by, approve_by, pay_by = users["hr_manager2"], users["hr_manager1"], users["accountant1"]
    runs: dict[tuple[int, int], tuple[int, dt.datetime]] = ctx.refs["payroll_runs"]
    last = max(runs) if runs else None
    hq = ctx.refs["branches"]["BGD"]
    for (year, month), (run_id, approved_at) in sorted(runs.items()):
        start = dt.date(year, month, 1)
        end = month_end(start)
        calculated_at = ctx.at(end - dt.timedelta(days=3), 10)
        approved = approved_at <= ctx.now
        paid = approved and (year, month) != last and ctx.at(end + dt.timedelta(days=5), 12) <= ctx.now
        paid_at = ctx.at(end + dt.timedelta(days=5), 12)
        working_days = _count(start, end, off)
        gross_t = net_t = commission_t = deduction_t = ZERO
        count = 0
        for s in staff:
            if s.hire_date > end:
                continue
            count += 1
            commission = reg.payroll_commission.get((run_id, s.user_id), ZERO) if s.user_id else ZERO
            ot_min = rng.choice([0, 0, 0, 60, 120, 240, 480])
            hourly = s.base_salary / Decimal(working_days * 8)
            overtime = money(hourly * Decimal("1.5") * ot_min / 60)
            allowances = Decimal(100_000 if s.field_staff else 75_000)
            absent = 1 if rng.random() < 0.05 else 0
            deductions = money(s.base_salary / working_days * absent) if absent else ZERO
            gross = s.base_salary + overtime + commission + allowances
            net = gross - deductions
            lines = [
                {"code": "BASE", "label": "Basic salary", "amount": str(s.base_salary)},
                {"code": "ALLOW", "label": "Transport allowance", "amount": str(allowances)},
            ]
            if overtime:
                lines.append({"code": "OT", "label": "Overtime", "amount": str(overtime)})
            if commission:
                lines.append({"code": "COMM", "label": "Sales commission", "amount": str(commission)})
            if deductions:
                lines.append({"code": "ABS", "label": "Absence deduction", "amount": str(-deductions)})
            w.add(
                "payslips",
                {
                    "id": ctx.ids.next("payslips"),
                    "run_id": run_id,
                    "employee_id": s.employee_id,
                    "currency": "IQD",
                    "base": s.base_salary,
                    "overtime": overtime,
                    "commission": commission,
                    "allowances": allowances,
                    "deductions": deductions,
                    "gross": gross,
                    "net": net,
                    "working_days": working_days - absent,
                    "overtime_min": ot_min,
                    "leave_days": ZERO,
                    "lines": lines,
                    "warnings": [],
                    "published_at": paid_at if paid else None,
                    "created_at": calculated_at,
                    "updated_at": calculated_at,
                },
            )
            gross_t += gross
            net_t += net
            commission_t += commission
            deduction_t += deductions
        accrual = payment = None
        if approved:
            accrual = ledger.post(
                journal="PAY",
                at=ctx.at(end, 20),
                currency="IQD",
                source_type="payroll_run",
                source_id=run_id,
                memo=f"Payroll accrual {start:%B %Y}",
                branch_id=hq,
                posted_by_id=approve_by,
                summary=False,
                lines=[
                    ("salaries_expense", gross_t - commission_t - deduction_t, ZERO, hq, None, None),
                    ("commission_expense", commission_t, ZERO, hq, None, None),
                    ("salaries_payable", ZERO, net_t, hq, None, None),
                ],
            )
        if paid:
            payment = ledger.post(
                journal="PAY",
                at=paid_at,
                currency="IQD",
                source_type="payroll_run",
                source_id=run_id,
                memo=f"Salaries paid {start:%B %Y}",
                branch_id=hq,
                posted_by_id=pay_by,
                summary=False,
                lines=[
                    ("salaries_payable", net_t, ZERO, hq, None, None),
                    ("bank_iqd", ZERO, net_t, hq, None, None),
                ],
            )
        status = "paid" if paid else ("approved" if approved else "calculated")
        updates.append(
            {
                "id": run_id,
                "status": status,
                "employee_count": count,
                "gross_iqd": gross_t,
                "net_iqd": net_t,
                "gross_usd": ZERO,
                "net_usd": ZERO,
                "calculated_by_id": calc_by,
                "calculated_at": calculated_at,
                "approved_by_id": approve_by if approved else None,
                "approved_at": approved_at if approved else None,
                "paid_by_id": pay_by if paid else None,
                "paid_at": paid_at if paid else None,
                "paid_on": paid_at.date() if paid else None,
                "reference": f"RAFB-SAL-{year}{month:02d}" if paid else None,
                "note": None,
                "accrual_entry_id": accrual,
                "payment_entry_id": payment,
                "created_at": calculated_at,
                "updated_at": paid_at if paid else calculated_at,
            }
        )
    return updates


def _reviews(ctx: SeedContext, staff: list[Staff]) -> None:
    rng, w, today = ctx.rng, ctx.writer, ctx.today
    users = ctx.refs["users"]
    hr = users["hr_manager1"]
    by_employee = {s.employee_id: s for s in staff}
    half = 1 if today.month <= 6 else 7
    cur_from = dt.date(today.year, half, 1)
    cur_to = month_end(dt.date(today.year, half + 5, 1))
    prev_from = dt.date(today.year - 1, 7, 1) if half == 1 else dt.date(today.year, 1, 1)
    prev_to = month_end(dt.date(prev_from.year, prev_from.month + 5, 1))
    for closed, start, end in ((True, prev_from, prev_to), (False, cur_from, cur_to)):
        cid = ctx.ids.next("review_cycles")
        opened_at = (
            ctx.at(end - dt.timedelta(days=40), 9) if not closed else ctx.at(end + dt.timedelta(days=5), 9)
        )
        if opened_at > ctx.now:
            opened_at = ctx.now - dt.timedelta(days=10)
        self_due = today + dt.timedelta(days=7) if not closed else end + dt.timedelta(days=20)
        w.add(
            "review_cycles",
            {
                "id": cid,
                "name": f"{'H1' if start.month == 1 else 'H2'} {start.year} performance review",
                "period_from": start,
                "period_to": end,
                "criteria": CRITERIA,
                "self_due": self_due,
                "manager_due": self_due + dt.timedelta(days=14),
                "department_id": None,
                "branch_id": None,
                "status": "closed" if closed else "open",
                "opened_by_id": hr,
                "closed_by_id": hr if closed else None,
                "closed_at": ctx.at(self_due + dt.timedelta(days=20), 12) if closed else None,
                "created_at": opened_at,
                "updated_at": opened_at,
            },
        )
        for s in staff:
            if s.hire_date > start:
                continue
            manager = by_employee.get(s.manager_id) if s.manager_id else None
            reviewer_user = manager.user_id if manager and manager.user_id else hr
            if reviewer_user == s.user_id:
                reviewer_user = hr
            if closed:
                status = "completed"
            elif s.user_id == users.get("employee1"):
                status = "awaiting_self"
            elif s.user_id == users.get("employee2"):
                status = "awaiting_manager"
            elif s.user_id is None:
                status = rng.choice(["awaiting_manager", "completed"])
            else:
                status = rng.choice(["awaiting_self", "awaiting_self", "awaiting_manager", "completed"])
            self_scores = (
                []
                if status == "awaiting_self" or s.user_id is None
                else [
                    {"code": c["code"], "score": rng.randint(3, 5), "comment": "Met my objectives"}
                    for c in CRITERIA
                ]
            )
            mgr_scores = (
                [
                    {"code": c["code"], "score": rng.randint(2, 5), "comment": "Solid contribution"}
                    for c in CRITERIA
                ]
                if status == "completed"
                else []
            )
            overall = None
            if mgr_scores:
                total = sum(
                    (
                        Decimal(str(sc["score"])) * int(str(c["weight"]))
                        for sc, c in zip(mgr_scores, CRITERIA, strict=True)
                    ),
                    Decimal(0),
                )
                overall = (total / 100).quantize(Decimal("0.01"))
            done_at = opened_at + dt.timedelta(days=rng.randint(5, 20))
            w.add(
                "performance_reviews",
                {
                    "id": ctx.ids.next("performance_reviews"),
                    "cycle_id": cid,
                    "employee_id": s.employee_id,
                    "reviewer_id": manager.employee_id if manager else None,
                    "reviewer_user_id": reviewer_user,
                    "status": status,
                    "self_scores": self_scores,
                    "manager_scores": mgr_scores,
                    "self_summary": "A productive half with good customer feedback." if self_scores else None,
                    "summary": "Reliable team member; keep developing product knowledge."
                    if mgr_scores
                    else None,
                    "overall_score": overall,
                    "self_submitted_at": done_at if self_scores else None,
                    "completed_at": done_at + dt.timedelta(days=3) if status == "completed" else None,
                    "created_at": opened_at,
                    "updated_at": done_at if status != "awaiting_self" else opened_at,
                },
            )
