"""Helpers of the ASO-app tests: demo logins, the ASO client, database picks.

Tests create the requests, jobs and claims they need, or pick seeded rows by state from the
database, and compare what it holds before and after, so they do not depend on each other's order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tests.http import Api, demo
from tsh.domain.aftersales.models import Technician
from tsh.domain.hr.models import Employee, LeaveRequest
from tsh.domain.identity.models import User
from tsh.domain.shared import BUSINESS_TZ

SA1, SA2 = demo("service_agent", 1), demo("service_agent", 2)  # Baghdad, Basra
TECH1, TECH2 = demo("technician", 1), demo("technician", 2)
BM1, BM2 = demo("branch_manager", 1), demo("branch_manager", 2)
IM, CASHIER, ADMIN = demo("inventory_manager"), demo("cashier"), demo("admin")


@pytest.fixture
def aso(api: Api) -> Api:
    return api.app("aso")


async def branch_of(api: Api, email: str) -> int:
    async with api.db() as s:
        branch = (await s.execute(select(User.branch_id).where(User.email == email))).scalar_one()
    assert branch is not None
    return branch


async def technician_of(api: Api, email: str) -> Technician:
    async with api.db() as s:
        return (
            await s.execute(
                select(Technician)
                .join(Employee, Employee.id == Technician.employee_id)
                .join(User, User.id == Employee.user_id)
                .where(User.email == email)
            )
        ).scalar_one()


async def free_slot(api: Api, tech: Technician, days_ahead: int) -> dt.datetime:
    """The technician's work start on the first working day, at least `days_ahead` days out, with
    no approved leave (far enough ahead that no seeded job is booked)."""
    async with api.db() as s:
        emp = await s.get(Employee, tech.employee_id)
        assert emp is not None
        day = dt.datetime.now(BUSINESS_TZ).date() + dt.timedelta(days=days_ahead)
        for _ in range(30):
            leave = await s.scalar(
                select(LeaveRequest.id).where(
                    LeaveRequest.employee_id == emp.id,
                    LeaveRequest.status == "approved",
                    LeaveRequest.from_date <= day,
                    LeaveRequest.to_date >= day,
                )
            )
            if day.isoweekday() not in emp.weekly_off_days and leave is None:
                return dt.datetime.combine(day, emp.work_start, BUSINESS_TZ)
            day += dt.timedelta(days=1)
    raise AssertionError("no working day found")


def ids(items: list[dict[str, Any]]) -> set[int]:
    return {i["id"] for i in items}
