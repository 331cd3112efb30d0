"""ADM-04 with HR-05's employee fields: the employee and its user created in one call, through
HR's and ADM-04's services; a refusal by either leaves neither."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select

from tests.bff.admin.conftest import ADMIN, Admin
from tsh.domain.hr.models import Department, Employee
from tsh.domain.identity.models import Notification, User


async def _employee_fields(adm: Admin, **extra: Any) -> dict[str, Any]:
    async with adm.db() as s:
        department = await s.scalar(select(Department.id).order_by(Department.id).limit(1))
    return {
        "name_ar": "ليث الجبوري",
        "name_en": "Laith Al-Jubouri",
        "national_id": f"A{secrets.randbelow(10**10):010d}",
        "phone": "+9647709876543",
        "department_id": department,
        "branch_id": 1,
        "job_title": "Cashier",
        "hire_date": str(dt.date.today()),
        "base_salary": {"amount": "850000", "currency": "IQD"},
        **extra,
    }


def _user(email: str, employee: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "Laith Al-Jubouri", "email": email, "role": "cashier", "employee": employee, **extra}


async def test_admin_hires_the_employee_and_creates_its_user_in_one_call(adm: Admin) -> None:
    email = f"laith-{secrets.token_hex(3)}@tsh.iq"
    employee = await _employee_fields(adm)
    r = await adm.send(ADMIN, "POST", "/users", _user(email, employee))
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    uid = data["user"]["id"]
    async with adm.db() as s:
        hired = await s.scalar(select(Employee).where(Employee.national_id == employee["national_id"]))
        assert hired is not None and hired.user_id == uid and hired.branch_id == 1
        assert hired.base_salary == 850000 and hired.job_title == "Cashier"
        user = await s.get(User, uid)
        assert user is not None and user.email == email and user.branch_id == 1
        assert user.password_hash is None
        note = await s.get(Notification, data["setup_link"]["notification_id"])
        assert note is not None and note.user_id == uid and note.template == "account_setup"
    assert data["user"]["links"]["employee"]["id"] == hired.id


async def test_a_refusal_by_either_service_leaves_neither(adm: Admin) -> None:
    before = await adm.count(Employee), await adm.count(User)
    async with adm.db() as s:
        taken = await s.scalar(select(Employee.national_id).limit(1))
        linked = await s.scalar(select(Employee.id).where(Employee.user_id.is_(None)).limit(1))
    cases = [
        # HR's rule: the national id is someone else's.
        (_user("n1@tsh.iq", await _employee_fields(adm, national_id=taken)), 409, "NATIONAL_ID_TAKEN"),
        # ADM-04's rule, checked after the hire ran: the email is taken -> the hire is rolled back.
        (_user(ADMIN, await _employee_fields(adm)), 409, "EMAIL_TAKEN"),
        (_user("n2@tsh.iq", await _employee_fields(adm), employee_id=linked), 422, "VALIDATION_ERROR"),
        (_user("n3@tsh.iq", await _employee_fields(adm), branch_id=2), 422, "VALIDATION_ERROR"),
        (_user("n4@tsh.iq", await _employee_fields(adm, hire_date="0")), 422, "VALIDATION_ERROR"),
    ]
    for body, status, code in cases:
        r = await adm.send(ADMIN, "POST", "/users", body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error_code"] == code, r.text
    assert (await adm.count(Employee), await adm.count(User)) == before
