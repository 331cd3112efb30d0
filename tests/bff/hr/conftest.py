"""Helpers of the HR-app tests: demo logins, the HR client, database reads of employees."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from sqlalchemy import select

from tests.http import Api, demo
from tsh.domain.hr.models import Employee
from tsh.domain.identity.models import User
from tsh.domain.organisation.models import Branch

HR1, HR2 = demo("hr_manager", 1), demo("hr_manager", 2)
BM1, BM2 = demo("branch_manager", 1), demo("branch_manager", 2)
EMP1, EMP2 = demo("employee", 1), demo("employee", 2)
ACC1, ADMIN = demo("accountant", 1), demo("admin", 1)
CASHIER1, SP1 = demo("cashier", 1), demo("salesperson", 1)
CONSUMER, PARTNER = demo("consumer", 1), demo("partner", 1)


@pytest.fixture
def hr(api: Api) -> Api:
    return api.app("hr")


async def employee_of(api: Api, email: str) -> Employee:
    """The Employee record linked to a demo user."""
    async with api.db() as s:
        row = await s.scalar(
            select(Employee).join(User, User.id == Employee.user_id).where(User.email == email)
        )
        assert row is not None, email
        return row


async def cached(api: Api, email: str, path: str, **params: Any) -> tuple[Any, bool]:
    """(data, served from cache) of a screen."""
    r = await api.get(email, path, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["data"], bool(body["metadata"]["cached"])


PASSWORD = "Field-Staff-2026"


async def new_staff(
    hr: Api,
    *,
    like: str = EMP1,
    role: str = "cashier",
    hire_date: dt.date | None = None,
    field_staff: bool = False,
    manager_id: int | None = None,
    **extra: Any,
) -> tuple[str, int]:
    """A freshly hired employee with a login (setup link completed): (email, employee id).

    Tests that change attendance, leave or reviews use their own people, so the demo users'
    records stay as seeded whatever the order the tests run in."""
    base = await employee_of(hr, like)
    email = f"{role}-{secrets.token_hex(5)}@staff.tsh.iq"
    body = {
        "name_ar": "موظف اختبار",
        "name_en": f"Test {secrets.token_hex(3)}",
        "national_id": f"N{secrets.randbelow(10**12):012d}",
        "phone": "+9647700000000",
        "department_id": base.department_id,
        "branch_id": base.branch_id,
        "job_title": "Test Officer",
        "hire_date": str(hire_date or dt.date.today() - dt.timedelta(days=400)),
        "base_salary": {"amount": "1000000", "currency": "IQD"},
        "field_staff": field_staff,
        "manager_id": manager_id if manager_id is not None else base.manager_id,
        "create_user": {"email": email, "role": role},
        **extra,
    }
    r = await hr.send(HR1, "POST", "/employees", body)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    done = await hr.client.post(
        "/api/auth/password-resets", json={"token": data["setup_token"], "new_password": PASSWORD}
    )
    assert done.status_code == 200, done.text
    await hr.auth.login(email, PASSWORD)
    return email, int(data["employee"]["id"])


async def branch_of(hr: Api, employee_id: int) -> Branch:
    async with hr.db() as s:
        e = await s.get(Employee, employee_id)
        assert e is not None
        branch = await s.get(Branch, e.branch_id)
        assert branch is not None
        return branch
