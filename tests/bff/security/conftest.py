"""Helpers of the Security-app tests: officers, throw-away staff users, a client from another IP.

Tests create the users, sessions, lockouts and blocks they act on, so the shared demo data stays
valid whatever order the tests run in; policies changed by a test are restored by it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from tests.http import Api, demo

from tsh.context import AppContext
from tsh.domain.identity.models import Role, User
from tsh.platform.auth.passwords import hash_password

OFFICER, OFFICER2, ADMIN = demo("security_officer"), demo("security_officer", 2), demo("admin")
CASHIER, CONSUMER = demo("cashier"), demo("consumer")
PASSWORD = "Secur1ty-test"


async def new_user(api: Api, role: str = "employee", *, password: str = PASSWORD) -> tuple[int, str]:
    """A fresh active user of `role` (no employee record) who can log in; returns (id, email)."""
    email = f"sec-{uuid.uuid4().hex[:10]}@test.tsh.iq"
    async with api.db() as s:
        role_id = await s.scalar(select(Role.id).where(Role.code == role))
        user = User(
            name=f"Security test {role}",
            email=email,
            role_id=role_id,
            branch_id=None,
            password_hash=await hash_password(password),
            language="en",
            status="active",
        )
        s.add(user)
        await s.commit()
        return user.id, email


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


def bearer(token_data: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_data['access_token']}"}


@pytest.fixture
async def outsider(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from 192.0.2.10 (a documentation address), not 127.0.0.1."""
    transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 41000), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def sec(api: Api) -> Api:
    return api.app("security")


@pytest.fixture
def ctx_of(api: Api) -> AppContext:
    return api.ctx
