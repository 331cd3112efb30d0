"""Helpers of the wholesale-app tests: the demo accounts and database reads about them.

wholesale_client1 (Baghdad) and wholesale_client2 (Basra) are two different accounts; their rows
must never cross.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.http import Api, demo
from tsh.domain.customers.models import Customer
from tsh.domain.identity.models import User

W1, W2 = demo("wholesale_client", 1), demo("wholesale_client", 2)
CONSUMER, ADMIN = demo("consumer", 1), demo("admin", 1)


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


def money(value: Decimal | int | str, currency: str = "IQD") -> dict[str, str]:
    return {"amount": str(Decimal(value).quantize(Decimal("0.01"))), "currency": currency}


async def customer_of(api: Api, email: str) -> Customer:
    async with api.db() as s:
        return (
            await s.execute(
                select(Customer).join(User, User.customer_id == Customer.id).where(User.email == email)
            )
        ).scalar_one()


async def set_customer(api: Api, customer_id: int, **values: Any) -> None:
    """Change an account directly (what the back office would do) for a test's setup."""
    async with api.db() as s:
        customer = await s.get(Customer, customer_id)
        assert customer is not None
        for k, v in values.items():
            setattr(customer, k, v)
        await s.commit()


@pytest.fixture
def who(api: Api) -> Api:
    return api.app("wholesale")
