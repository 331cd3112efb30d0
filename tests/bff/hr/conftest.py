"""Helpers of the HR-app tests: demo logins, the HR client, database reads of employees."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.http import Api, demo
from tsh.domain.hr.models import Employee
from tsh.domain.identity.models import User

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
