"""HR-05 hire and HR-06 change / terminate: rows written, users created or linked, rules with
nothing changed on refusal."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import func, select

from tests.bff.hr.conftest import BM1, EMP1, HR1, employee_of
from tests.http import Api
from tsh.domain.hr.models import Employee, PayrollRun
from tsh.domain.identity.models import Notification, PasswordResetToken, Role, User


def _body(base: Employee, **extra: Any) -> dict[str, Any]:
    return {
        "name_ar": "سامر الربيعي",
        "name_en": "Samer Al-Rubaie",
        "national_id": f"T{secrets.randbelow(10**10):010d}",
        "phone": "+9647701234567",
        "department_id": base.department_id,
        "branch_id": base.branch_id,
        "job_title": "Storekeeper",
        "hire_date": str(dt.date.today()),
        "base_salary": {"amount": "900000", "currency": "IQD"},
        "work_schedule": {"start": "09:00", "end": "17:00", "weekly_off_days": [5, 6]},
        **extra,
    }


async def test_hire_with_a_new_staff_user(hr: Api) -> None:
    base = await employee_of(hr, EMP1)
    email = f"new-{secrets.token_hex(4)}@tsh.iq"
    body = _body(base, manager_id=base.manager_id, create_user={"email": email, "role": "warehouse_staff"})
    r = await hr.send(HR1, "POST", "/employees", body)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["setup_token"] and data["user_id"]
    async with hr.db() as s:
        e = await s.get(Employee, data["employee"]["id"])
        assert e is not None and e.national_id == body["national_id"] and e.user_id == data["user_id"]
        assert e.work_start == dt.time(9, 0) and e.weekly_off_days == [5, 6]
        user = await s.get(User, data["user_id"])
        assert user is not None and user.email == email and user.password_hash is None
        role = await s.scalar(select(Role.code).where(Role.id == user.role_id))
        assert role == "warehouse_staff"
        tokens = await s.scalar(
            select(func.count())
            .select_from(PasswordResetToken)
            .where(PasswordResetToken.user_id == user.id, PasswordResetToken.purpose == "setup")
        )
        assert tokens == 1
        # Through ADM-04's service: the setup link waits in the notification outbox too.
        notes = (await s.scalars(select(Notification).where(Notification.user_id == user.id))).all()
        assert [(n.template, n.recipient, n.status) for n in notes] == [("account_setup", email, "pending")]
        assert data["setup_token"] in notes[0].payload["link"]
    assert data["employee"]["salary"]["base_salary"] == {"amount": "900000.00", "currency": "IQD"}


async def test_hire_refusals_change_nothing(hr: Api) -> None:
    base = await employee_of(hr, EMP1)
    before = await hr.count(Employee), await hr.count(User)
    cases = [
        (_body(base, national_id=base.national_id), 409, "NATIONAL_ID_TAKEN"),
        (_body(base, user_id=base.user_id), 409, "USER_ALREADY_LINKED"),
        (_body(base, create_user={"email": "x1@tsh.iq", "role": "consumer"}), 422, "ROLE_NOT_STAFF"),
        (_body(base, create_user={"email": "x2@tsh.iq", "role": "admin"}), 403, "FORBIDDEN"),
        (
            _body(base, create_user={"email": "hr_manager1@demo.tsh.iq", "role": "cashier"}),
            409,
            "EMAIL_TAKEN",
        ),
        (_body(base, department_id=999999), 422, "VALIDATION_ERROR"),
        (_body(base, base_salary={"amount": "-5", "currency": "IQD"}), 422, None),
        (_body(base, unknown=1), 422, None),
    ]
    consumer_id = await hr.user_id("consumer1@demo.tsh.iq")
    cases.append((_body(base, user_id=consumer_id), 422, "ROLE_NOT_STAFF"))
    for body, status, code in cases:
        r = await hr.send(HR1, "POST", "/employees", body)
        assert r.status_code == status, (body, r.text)
        if code:
            assert r.json()["error_code"] == code
    assert (await hr.count(Employee), await hr.count(User)) == before
    assert (await hr.send(BM1, "POST", "/employees", _body(base))).status_code == 403


async def _hire(hr: Api, base: Employee, **extra: Any) -> int:
    r = await hr.send(HR1, "POST", "/employees", _body(base, **extra))
    assert r.status_code == 201, r.text
    return int(r.json()["data"]["employee"]["id"])


async def test_change_job_salary_and_manager_rules(hr: Api) -> None:
    base = await employee_of(hr, EMP1)
    boss = await _hire(hr, base)
    worker = await _hire(hr, base, manager_id=boss)
    r = await hr.send(HR1, "PATCH", f"/employees/{boss}", {"manager_id": worker})
    assert r.status_code == 422 and r.json()["error_code"] == "MANAGER_CYCLE"
    r = await hr.send(HR1, "PATCH", f"/employees/{boss}", {"manager_id": boss})
    assert r.status_code == 422 and r.json()["error_code"] == "MANAGER_CYCLE"
    effective = dt.date.today().replace(day=1)
    r = await hr.send(
        HR1,
        "PATCH",
        f"/employees/{worker}",
        {
            "base_salary": {"amount": "1100000", "currency": "IQD"},
            "salary_effective_from": str(effective),
            "job_title": "Lead",
        },
    )
    assert r.status_code == 200, r.text
    async with hr.db() as s:
        e = await s.get(Employee, worker)
        assert e is not None and e.base_salary == 1_100_000 and e.previous_base_salary == 900_000
        assert e.salary_effective_from == effective and e.job_title == "Lead" and e.manager_id == boss
        paid = await s.scalar(
            select(PayrollRun)
            .where(PayrollRun.status == "paid")
            .order_by(PayrollRun.year, PayrollRun.month)
            .limit(1)
        )
    assert paid is not None
    r = await hr.send(
        HR1,
        "PATCH",
        f"/employees/{worker}",
        {
            "base_salary": {"amount": "1", "currency": "IQD"},
            "salary_effective_from": f"{paid.year}-{paid.month:02d}-10",
        },
    )
    assert r.status_code == 422 and r.json()["error_code"] == "EFFECTIVE_IN_PROCESSED_MONTH"
    async with hr.db() as s:
        e = await s.get(Employee, worker)
        assert e is not None and e.base_salary == 1_100_000


async def test_termination_disables_the_user_today_or_later(hr: Api) -> None:
    base = await employee_of(hr, EMP1)
    now_id = await _hire(
        hr, base, create_user={"email": f"t-{secrets.token_hex(4)}@tsh.iq", "role": "cashier"}
    )
    later_id = await _hire(
        hr, base, create_user={"email": f"t-{secrets.token_hex(4)}@tsh.iq", "role": "cashier"}
    )
    r = await hr.send(
        HR1,
        "PATCH",
        f"/employees/{now_id}",
        {"status": "terminated", "termination_date": str(dt.date.today())},
    )
    assert r.status_code == 422  # date and reason go together
    ok = {"status": "terminated", "termination_date": str(dt.date.today()), "termination_reason": "Resigned"}
    r = await hr.send(HR1, "PATCH", f"/employees/{now_id}", ok)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "terminated"
    later = {**ok, "termination_date": str(dt.date.today() + dt.timedelta(days=10))}
    assert (await hr.send(HR1, "PATCH", f"/employees/{later_id}", later)).status_code == 200
    async with hr.db() as s:
        gone = await s.get(Employee, now_id)
        staying = await s.get(Employee, later_id)
        assert gone is not None and staying is not None
        assert (await s.get(User, gone.user_id)).status == "disabled"  # type: ignore[union-attr]
        assert staying.status == "active" and staying.termination_date == dt.date.today() + dt.timedelta(
            days=10
        )
        assert (await s.get(User, staying.user_id)).status == "active"  # type: ignore[union-attr]
    r = await hr.send(HR1, "PATCH", f"/employees/{now_id}", ok)
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_TERMINATED"
    r = await hr.send(HR1, "PATCH", f"/employees/{later_id}", ok)
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_TERMINATED"


async def test_scheduled_termination_job_applies_on_the_date(hr: Api) -> None:
    from tsh.domain.hr.hiring import apply_due_terminations
    from tsh.platform.db.uow import unit_of_work

    base = await employee_of(hr, EMP1)
    eid = await _hire(hr, base, create_user={"email": f"j-{secrets.token_hex(4)}@tsh.iq", "role": "cashier"})
    day = dt.date.today() + dt.timedelta(days=3)
    body = {"status": "terminated", "termination_date": str(day), "termination_reason": "Contract ended"}
    assert (await hr.send(HR1, "PATCH", f"/employees/{eid}", body)).status_code == 200
    async with unit_of_work(hr.ctx.db, hr.ctx.bus) as s:
        assert eid not in await apply_due_terminations(s, today=day - dt.timedelta(days=1))
    async with unit_of_work(hr.ctx.db, hr.ctx.bus) as s:
        assert eid in await apply_due_terminations(s, today=day)
    async with hr.db() as s:
        e = await s.get(Employee, eid)
        assert e is not None and e.status == "terminated"
        assert (await s.get(User, e.user_id)).status == "disabled"  # type: ignore[union-attr]
