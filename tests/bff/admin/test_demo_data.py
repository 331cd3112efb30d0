"""After `tsh seed` every admin screen shows believable rows; a staff user is linked to an employee."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.bff.admin.conftest import ADMIN, Admin
from tsh.domain.hr.models import Employee
from tsh.domain.shared import business_today


async def test_seeded_admin_screens_have_rows(adm: Admin) -> None:
    disabled = (await adm.data(ADMIN, "/users", status="disabled", limit=100))["items"]
    assert len(disabled) >= 2 and all(u["status"] == "disabled" for u in disabled)
    assert all(not u["email"].endswith("@demo.tsh.iq") for u in disabled)
    moved = (await adm.data(ADMIN, "/users", q="Hiba Al-Khafaji"))["items"][0]
    history = (await adm.data(ADMIN, f"/users/{moved['id']}"))["role_history"]
    assert history and history[0]["from_role"] == "salesperson" and history[0]["to_role"] == "cashier"
    manager = (await adm.data(ADMIN, "/users", q="Dilshad Barzani"))["items"][0]
    detail = await adm.data(ADMIN, f"/users/{manager['id']}")
    assert {"permission_code": "accounting.ledger_reports", "effect": "grant"} in detail["overrides"]
    assert {"code": "accounting.ledger_reports", "module": "accounting", "source": "override"} in detail[
        "permissions"
    ]
    today = business_today()
    week = await adm.data(
        ADMIN, "/usage", **{"from": (today - timedelta(days=8)).isoformat(), "to": today.isoformat()}
    )
    assert len(week["items"]) >= 10 and sum(r["calls"] for r in week["items"]) > 100
    assert (await adm.data(ADMIN, "/activity-logs", action="ADM-06"))["items"]


async def test_staff_user_linked_to_an_existing_employee(adm: Admin) -> None:
    async with adm.db() as s:
        employee = await s.scalar(
            select(Employee).where(Employee.user_id.is_(None)).order_by(Employee.id).limit(1)
        )
    assert employee is not None
    created = await adm.new_user("technician", branch_id=employee.branch_id, employee_id=employee.id)
    assert created["user"]["links"]["employee"]["id"] == employee.id
    async with adm.db() as s:
        assert (
            await s.scalar(select(Employee.user_id).where(Employee.id == employee.id))
            == created["user"]["id"]
        )
    again = {
        "name": "Again",
        "email": "again@test.tsh.iq",
        "role": "technician",
        "branch_id": employee.branch_id,
        "employee_id": employee.id,
    }
    r = await adm.send(ADMIN, "POST", "/users", again)
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_LINKED"
