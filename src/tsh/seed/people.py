"""Staff: departments, the staff users (30 demo logins minus the customer-side roles, plus extras),
their Employee records with managers, salaries and schedules, and the technicians' service profiles.

Consumer, wholesale-client and partner users are created in customers.py, once their Customer or
Partner rows exist (users point at them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tsh.domain.identity.rbac import STAFF_ROLES
from tsh.seed import names
from tsh.seed.context import SeedContext
from tsh.seed.demo_users import BRANCH_OF_INDEX, demo_users

DEPARTMENTS = (
    # key, name_en, name_ar, parent key, branch code
    ("exec", "Executive Management", "الإدارة العامة", None, None),
    ("it", "IT and Security", "تقنية المعلومات والأمن", "exec", None),
    ("finance", "Finance", "المالية", "exec", None),
    ("hr", "Human Resources", "الموارد البشرية", "exec", None),
    ("ops", "Branch Operations", "عمليات الفروع", "exec", None),
    ("sales", "Sales", "المبيعات", "exec", None),
    ("sales_BGD", "Sales - Baghdad", "المبيعات - بغداد", "sales", "BGD"),
    ("sales_BSR", "Sales - Basra", "المبيعات - البصرة", "sales", "BSR"),
    ("sales_ERB", "Sales - Erbil", "المبيعات - أربيل", "sales", "ERB"),
    ("warehouse", "Warehouse and Logistics", "المخازن والخدمات اللوجستية", "exec", None),
    ("retail", "Retail Showrooms", "صالات العرض", "ops", None),
    ("service", "After-Sales Service", "خدمة ما بعد البيع", "exec", None),
)

# role -> (department key ("sales" = the branch sales department), job title, monthly base salary IQD)
JOBS: dict[str, tuple[str, str, int]] = {
    "admin": ("it", "System Administrator", 2_400_000),
    "security_officer": ("it", "Information Security Officer", 2_100_000),
    "accountant": ("finance", "Accountant", 1_700_000),
    "hr_manager": ("hr", "HR Manager", 2_300_000),
    "employee": ("ops", "Branch Administrative Officer", 950_000),
    "inventory_manager": ("warehouse", "Inventory Manager", 2_100_000),
    "warehouse_staff": ("warehouse", "Storekeeper", 850_000),
    "salesperson": ("sales", "Field Sales Representative", 1_050_000),
    "cashier": ("retail", "Cashier", 800_000),
    "branch_manager": ("ops", "Branch Manager", 3_200_000),
    "technician": ("service", "Service Technician", 1_150_000),
    "service_agent": ("service", "Service Desk Agent", 900_000),
}
EXTRA_JOBS = (
    ("warehouse", "Delivery Driver", 750_000, True),
    ("warehouse", "Warehouse Worker", 700_000, False),
    ("retail", "Showroom Sales Assistant", 750_000, False),
    ("ops", "Office Cleaner", 550_000, False),
    ("service", "Workshop Assistant", 700_000, False),
)
FIELD_ROLES = frozenset({"salesperson", "technician"})


@dataclass
class Staff:
    user_id: int | None
    employee_id: int
    role: str | None
    branch_id: int
    name: str
    base_salary: Decimal
    hire_date: dt.date
    manager_id: int | None
    field_staff: bool
    department_id: int


def generate(ctx: SeedContext, *, role_ids: dict[str, int], password_hash: str) -> None:
    w, rng = ctx.writer, ctx.rng
    branches: dict[str, int] = ctx.refs["branches"]
    dept_ids: dict[str, int] = {}
    for key, en, ar, parent, bcode in DEPARTMENTS:
        did = ctx.ids.next("departments")
        dept_ids[key] = did
        w.add(
            "departments",
            {
                "id": did,
                "name_en": en,
                "name_ar": ar,
                "parent_id": dept_ids.get(parent) if parent else None,
                "head_id": None,
                "branch_id": branches[bcode] if bcode else None,
                "is_active": True,
            },
        )
    users: dict[str, int] = {}
    user_rows: list[dict[str, Any]] = []
    staff: list[Staff] = []
    phone_n = [1_000]

    def add_user(email: str, name: str, role: str, branch: int | None, language: str) -> int:
        uid = ctx.ids.next("users")
        phone_n[0] += 1
        created = ctx.at(ctx.history_start - dt.timedelta(days=rng.randint(30, 400)), 10)
        recent = ctx.now - dt.timedelta(hours=rng.randint(2, 240))
        user_rows.append(
            {
                "id": uid,
                "name": name,
                "email": email,
                "phone": names.phone(phone_n[0]),
                "password_hash": password_hash,
                "role_id": role_ids[role],
                "branch_id": branch,
                "customer_id": None,
                "partner_id": None,
                "language": language,
                "status": "active",
                "permission_version": 1,
                "last_login_at": recent,
                "created_at": created,
                "updated_at": created,
            },
        )
        return uid

    emp_seq = [0]

    def add_employee(
        *,
        user_id: int | None,
        role: str | None,
        name_en: str,
        branch_code: str,
        job: tuple[str, str, int],
        field_staff: bool,
    ) -> Staff:
        emp_seq[0] += 1
        eid = ctx.ids.next("employees")
        dept_key, title, salary = job
        if dept_key == "sales":
            dept_key = f"sales_{branch_code}"
        salary_d = Decimal(salary + rng.randint(0, 8) * 50_000)
        hire = ctx.history_start - dt.timedelta(days=rng.randint(60, 2_900))
        s = Staff(
            user_id,
            eid,
            role,
            branches[branch_code],
            name_en,
            salary_d,
            hire,
            None,
            field_staff,
            dept_ids[dept_key],
        )
        s_row = {
            "id": eid,
            "code": f"EMP-{emp_seq[0]:04d}",
            "user_id": user_id,
            "name_en": name_en,
            "name_ar": names.arabic(name_en),
            "national_id": f"{199_700_000_000 + eid * 7919}",
            "phone": names.phone(50_000 + eid),
            "department_id": dept_ids[dept_key],
            "branch_id": branches[branch_code],
            "job_title": title,
            "hire_date": hire,
            "status": "active",
            "base_salary": salary_d,
            "currency": "IQD",
            "salary_effective_from": hire,
            "previous_base_salary": None,
            "field_staff": field_staff,
            "work_start": dt.time(8, 0),
            "work_end": dt.time(16, 0),
            "weekly_off_days": [5],
            "annual_leave_days": 21 if salary < 2_000_000 else 30,
            "created_at": ctx.at(hire, 9),
            "updated_at": ctx.at(hire, 9),
        }
        emp_rows.append(s_row)
        staff.append(s)
        return s

    emp_rows: list[dict[str, Any]] = []
    # The general manager has no login; every head of department reports to them.
    gm = add_employee(
        user_id=None,
        role=None,
        name_en="Jasim Al-Hashimi",
        branch_code="BGD",
        job=("exec", "General Manager", 6_500_000),
        field_staff=False,
    )
    for role, index, email, name in demo_users():
        if role not in STAFF_ROLES:
            continue
        bcode = BRANCH_OF_INDEX[index]
        uid = add_user(email, name, role, branches[bcode], "en" if index == 1 else "ar")
        users[f"{role}{index}"] = uid
        add_employee(
            user_id=uid,
            role=role,
            name_en=name,
            branch_code=bcode,
            job=JOBS[role],
            field_staff=role in FIELD_ROLES,
        )
    extra_codes = ("BGD", "BSR", "ERB")
    for k in range(ctx.profile.extra_salespeople):
        en, _ar = names.person(rng, female_share=0.1)
        bcode = extra_codes[k % 3]
        email = f"{en.lower().replace(' ', '.').replace('-', '')}.{k + 1}@tsh.iq"
        uid = add_user(email, en, "salesperson", branches[bcode], "ar" if k % 2 else "en")
        add_employee(
            user_id=uid,
            role="salesperson",
            name_en=en,
            branch_code=bcode,
            job=JOBS["salesperson"],
            field_staff=True,
        )
    for role, bcode, en in (
        ("branch_manager", "ERB", "Dilshad Barzani"),
        ("cashier", "BGD", "Hiba Al-Khafaji"),
        ("technician", "ERB", "Rebwar Talabani"),
        ("service_agent", "ERB", "Shilan Kareem"),
        ("warehouse_staff", "ERB", "Hiwa Talabani"),
    ):
        email = f"{en.lower().replace(' ', '.').replace('-', '')}@tsh.iq"
        uid = add_user(email, en, role, branches[bcode], "en")
        users[f"{role}_{bcode.lower()}"] = uid
        add_employee(
            user_id=uid,
            role=role,
            name_en=en,
            branch_code=bcode,
            job=JOBS[role],
            field_staff=role in FIELD_ROLES,
        )
    for k in range(ctx.profile.extra_employees):
        dept_key, title, salary, fld = EXTRA_JOBS[k % len(EXTRA_JOBS)]
        en, _ar = names.person(rng, female_share=0.2 if dept_key == "retail" else 0.05)
        add_employee(
            user_id=None,
            role=None,
            name_en=en,
            branch_code=extra_codes[k % 3],
            job=(dept_key, title, salary),
            field_staff=fld,
        )

    # Managers: heads report to the GM; branch staff to their branch manager; pairs to their user 1.
    by_role_branch: dict[tuple[str | None, int], Staff] = {}
    for s in staff:
        by_role_branch.setdefault((s.role, s.branch_id), s)
    branch_mgr = {bid: by_role_branch[("branch_manager", bid)] for bid in branches.values()}
    firsts: dict[str, Staff] = {}
    for s in staff:
        if s is gm:
            continue
        if s.role in ("admin", "security_officer", "accountant", "hr_manager", "inventory_manager"):
            first = firsts.setdefault(s.role, s)
            s.manager_id = gm.employee_id if first is s else first.employee_id
        elif s.role == "branch_manager":
            s.manager_id = gm.employee_id
        else:
            s.manager_id = branch_mgr[s.branch_id].employee_id
    manager_of = {s.employee_id: s.manager_id for s in staff}

    def depth(eid: int) -> int:
        d, m = 0, manager_of[eid]
        while m is not None:
            d, m = d + 1, manager_of[m]
        return d

    for row, s in zip(emp_rows, staff, strict=True):
        row["manager_id"] = s.manager_id
    w.add_many("users", user_rows)
    # Managers before their reports: SQLite checks the self-reference row by row.
    w.add_many("employees", sorted(emp_rows, key=lambda r: (depth(r["id"]), r["id"])))

    # Technician service profiles.
    technicians: list[dict[str, Any]] = []
    skills_cycle = (
        ["tv", "audio", "installation"],
        ["appliance", "cooling", "installation"],
        ["phone", "tablet", "laptop"],
    )
    for k, s in enumerate(x for x in staff if x.role == "technician"):
        tid = ctx.ids.next("technicians")
        technicians.append(
            {"id": tid, "user_id": s.user_id, "employee_id": s.employee_id, "branch_id": s.branch_id}
        )
        w.add(
            "technicians",
            {
                "id": tid,
                "employee_id": s.employee_id,
                "branch_id": s.branch_id,
                "skills": skills_cycle[k % 3] + ["repair"],
                "daily_capacity_min": 480,
                "is_active": True,
            },
        )
    heads = {
        "exec": gm.employee_id,
        "finance": firsts["accountant"].employee_id,
        "hr": firsts["hr_manager"].employee_id,
        "it": firsts["admin"].employee_id,
        "warehouse": firsts["inventory_manager"].employee_id,
    }
    ctx.refs.update(
        users=users,
        staff=staff,
        departments=dept_ids,
        department_heads=heads,
        technicians=technicians,
        salespeople=[s for s in staff if s.role == "salesperson"],
        branch_managers={bid: s.user_id for bid, s in branch_mgr.items()},
        password_hash=password_hash,
        phone_counter=phone_n,
    )
